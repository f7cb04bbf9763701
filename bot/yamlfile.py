"""Reading a YAML settings file (policy, engines) as a node tree, so every mistake can name its line.

yaml.compose keeps each node's position, which plain data loses, and lets duplicate keys — which
yaml.safe_load silently merges — be reported as the mistakes they are.
"""

from pathlib import Path

import yaml

from bot.config import ConfigError

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"


class FileError(ConfigError):
    """A mistake in a settings file: `path, line N: what is wrong`."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}, line {line}: {message}" if line else f"{path}: {message}")


class NodeReader:
    """Walks the node tree, raising `error_type` at the offending node's line."""

    error_type: type[FileError] = FileError

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: yaml.Node | None, message: str) -> FileError:
        return self.error_type(self.path, node.start_mark.line + 1 if node is not None else None, message)

    def compose(self, text: str) -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problem = getattr(error, "problem", None) or str(error)
            hint = (
                ' — a lone * must be quoted: "*"'
                if "while scanning an alias" in str(getattr(error, "context", ""))
                else ""
            )
            raise self.error_type(
                self.path, mark.line + 1 if mark else None, f"not valid YAML: {problem}{hint}"
            ) from None

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.ScalarNode, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of `key: value` lines")
        seen: dict[str, int] = {}
        entries = []
        for key_node, value_node in node.value:
            key = self.string(key_node, f"a key in {what}")
            if key in seen:
                raise self.error(key_node, f"`{key}` appears twice in {what} (first on line {seen[key]})")
            seen[key] = key_node.start_mark.line + 1
            entries.append((key, key_node, value_node))
        return entries

    def sequence(self, node: yaml.Node, what: str, hint: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG:
            return [node]  # `admin: "*"` means `admin: ["*"]`
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list, e.g. `{hint}`")
        return list(node.value)

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG:
            shown = node.value if isinstance(node, yaml.ScalarNode) else type(node).__name__.removesuffix("Node")
            raise self.error(node, f"{what} must be a plain word, not `{shown}`")
        return node.value

    def number(self, node: yaml.Node, what: str) -> float:
        if isinstance(node, yaml.ScalarNode):
            try:
                return float(node.value)
            except ValueError:
                pass
        raise self.error(node, f"{what} must be a number")

    def read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise self.error_type(path, None, "is not UTF-8 text") from None
        except OSError as error:
            raise self.error_type(path, None, f"cannot be read ({error.strerror or error})") from None
