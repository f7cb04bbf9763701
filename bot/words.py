"""Did you mean …? for a mistyped name: a key of a settings file, an engine's name in `--context`."""


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    import difflib  # only when a name is wrong

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""
