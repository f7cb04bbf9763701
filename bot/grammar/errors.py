"""The one error the grammar raises: what was wrong, and the usage to type instead."""


class ParseError(Exception):
    def __init__(self, reason: str, usage: str | None = None) -> None:
        # A reason may quote what was typed, and a quoted argument may hold line breaks; the answer stays one line.
        reason = " ".join(reason.splitlines())
        super().__init__(reason)
        self.reason = reason
        self.usage = usage

    def with_usage(self, usage: str) -> "ParseError":
        return self if self.usage else ParseError(self.reason, usage)

    def __str__(self) -> str:
        return f"{self.reason} — usage: {self.usage}" if self.usage else self.reason
