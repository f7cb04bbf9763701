"""A small docker-style (pflag) option parser: `-d`, `--detach`, `--name x`, `--name=x`, `-eK=V`, `-e=K=V`, `-ad`."""

from dataclasses import dataclass, field

from bot.grammar.errors import ParseError

# Flags people reach for that Shipmate refuses on purpose: they would hand a chat channel the host.
DANGEROUS_FLAGS = {
    "--privileged": "privileged containers",
    "-v": "host mounts",
    "--volume": "host mounts",
    "--mount": "host mounts",
    "--volumes-from": "other containers' volumes",
    "--network": "network selection",
    "--net": "network selection",
    "--pid": "host PID namespace",
    "--ipc": "host IPC namespace",
    "--uts": "host UTS namespace",
    "--userns": "user namespace changes",
    "--cap-add": "added capabilities",
    "--device": "host devices",
    "--security-opt": "security options",
    "--cgroup-parent": "cgroup changes",
    "-u": "choosing the user",
    "--user": "choosing the user",
    "--group-add": "extra groups",
    # Not dangerous, but impossible: a chat has no terminal. (`-t` stays unknown: in `logs`/`stop` it means other things.)
    "-i": "interactive sessions (a chat has no terminal)",
    "--interactive": "interactive sessions (a chat has no terminal)",
    "--tty": "a terminal (a chat has none)",
}


@dataclass(frozen=True)
class Flag:
    names: tuple[str, ...]  # e.g. ("-e", "--env"); the long name (last) is the canonical one
    takes_value: bool = False
    repeat: bool = False

    @property
    def key(self) -> str:
        return self.names[-1].lstrip("-").replace("-", "_")


HELP_FLAG = Flag(("-h", "--help"))
# Shipmate's own options, understood wherever a command's options are (bot.grammar refuses them on a read).
DRY_RUN_FLAG = Flag(("--dry-run",))
BREAK_GLASS_FLAG = Flag(("--break-glass",), takes_value=True)


@dataclass
class Parsed:
    values: dict[str, object] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    def flag(self, key: str) -> bool:
        return bool(self.values.get(key, False))

    def value(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    def many(self, key: str) -> list[str]:
        value = self.values.get(key, [])
        return value if isinstance(value, list) else []


_BOOL_WORDS = {"true": True, "1": True, "false": False, "0": False}


def _unknown(flag: str) -> ParseError:
    if flag in DANGEROUS_FLAGS:
        return ParseError(f"`{flag}` is not allowed: Shipmate never grants {DANGEROUS_FLAGS[flag]}")
    return ParseError(f"unknown flag `{flag}`")


class OptionParser:
    def __init__(self, flags: tuple[Flag, ...], interspersed: bool = True) -> None:
        # interspersed=False stops at the first argument, as `docker run` does (the rest is the container's command).
        self._flags = (*flags, HELP_FLAG, DRY_RUN_FLAG, BREAK_GLASS_FLAG)
        self._by_name = {name: flag for flag in self._flags for name in flag.names}
        self._interspersed = interspersed

    def parse(self, tokens: list[str]) -> Parsed:
        parsed = Parsed()
        rest = list(tokens)
        while rest:
            token = rest.pop(0)
            if token == "--":
                parsed.args.extend(rest)
                break
            if token.startswith("--"):
                self._long(token, rest, parsed)
            elif token.startswith("-") and len(token) > 1:
                self._short(token, rest, parsed)
            else:
                parsed.args.append(token)
                if not self._interspersed:
                    parsed.args.extend(rest)
                    break
        return parsed

    def _long(self, token: str, rest: list[str], parsed: Parsed) -> None:
        name, has_value, value = token.partition("=")
        flag = self._by_name.get(name)
        if flag is None:
            raise _unknown(name)
        if flag.takes_value:
            if not has_value:
                value = self._next_value(name, rest)
            self._store(flag, value, parsed)
        elif has_value:
            if value.lower() not in _BOOL_WORDS:
                raise ParseError(f"`{name}` takes no value (got `{value}`)")
            parsed.values[flag.key] = _BOOL_WORDS[value.lower()]
        else:
            parsed.values[flag.key] = True

    def _short(self, token: str, rest: list[str], parsed: Parsed) -> None:
        # "-adf" is three switches; "-eK=V" and "-e=K=V" are -e with a value.
        letters = token[1:]
        for index, letter in enumerate(letters):
            name = f"-{letter}"
            flag = self._by_name.get(name)
            if flag is None:
                raise _unknown(name)
            if not flag.takes_value:
                parsed.values[flag.key] = True
                continue
            attached = letters[index + 1 :]
            value = attached.removeprefix("=") if attached else self._next_value(name, rest)
            self._store(flag, value, parsed)
            return

    @staticmethod
    def _next_value(name: str, rest: list[str]) -> str:
        if not rest:
            raise ParseError(f"`{name}` needs a value")
        return rest.pop(0)

    @staticmethod
    def _store(flag: Flag, value: str, parsed: Parsed) -> None:
        if flag.repeat:
            parsed.values.setdefault(flag.key, [])
            parsed.values[flag.key].append(value)  # type: ignore[union-attr]
        else:
            parsed.values[flag.key] = value
