"""Reading a Kamal 2 configuration: YAML only (safe loading, no tags, no ERB run), bounded
in size and in how far its aliases expand, a destination file deep-merged over the base the
way Kamal merges it (mappings key by key, any other value replaced), and every problem named
with its key path and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MAX_BYTES = 512 * 1024
MAX_NODES = 50_000  # after aliases are expanded: a "billion laughs" stops here

Path = tuple[str | int, ...]


class KamalError(ValueError):
    """A configuration Kamal would reject, or the panel cannot read: where, and why."""

    def __init__(self, message: str, path: Path = (), line: int | None = None) -> None:
        self.path, self.line = path, line
        where = [f"line {line}"] if line else []
        where += [f"at {dotted(path)}"] if path else []
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


@dataclass
class Loaded:
    config: dict[str, Any]
    lines: dict[Path, int] = field(default_factory=dict)  # key path → its line, 1-based

    def line(self, path: Path) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def dotted(path: Path) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]


def load(text: str, destination: str = "", name: str = "deploy.yml") -> Loaded:
    """The base configuration, with the destination's merged over it."""
    base = _load_one(text, name)
    if not destination.strip():
        return base
    over = _load_one(destination, "the destination file")
    lines = {**base.lines, **over.lines}
    return Loaded(deep_merge(base.config, over.config), lines)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_one(text: str, name: str) -> Loaded:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise KamalError(f"{name} is larger than {MAX_BYTES // 1024} KiB")
    reader = YAML(typ="rt", pure=True)
    reader.allow_duplicate_keys = False
    try:
        document = reader.load(text)
    except MarkedYAMLError as failure:
        mark = failure.problem_mark or failure.context_mark
        line = mark.line + 1 if mark else None
        problem = (failure.problem or failure.context or "not valid YAML").strip()
        raise KamalError(f"{name} is not valid YAML: {problem}", line=line) from failure
    except (YAMLError, RecursionError, ValueError) as failure:
        raise KamalError(f"{name} is not valid YAML: {failure}") from failure
    if not isinstance(document, CommentedMap):
        raise KamalError(f"{name} must be a mapping of keys (service, image, servers…)", line=1)
    lines: dict[Path, int] = {}
    budget = [MAX_NODES]
    config = _plain(document, (), lines, budget)
    assert isinstance(config, dict)
    return Loaded(config, lines)


def _plain(node: Any, path: Path, lines: dict[Path, int], budget: list[int]) -> Any:
    """Plain dicts and lists; aliases expanded, within the budget."""
    budget[0] -= 1
    if budget[0] < 0:
        raise KamalError("the configuration expands to too much (aliases within aliases?)", path)
    if isinstance(node, CommentedMap):
        plain: dict[str, Any] = {}
        for key in node:
            line = _line_of(node, key)
            if not isinstance(key, str):
                raise KamalError(f"keys are names, not {type(key).__name__}", path, line)
            here = (*path, key)
            if line is not None:
                lines.setdefault(here, line)
            plain[key] = _plain(node[key], here, lines, budget)
        return plain
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            here = (*path, index)
            lines.setdefault(here, node.lc.item(index)[0] + 1)
            items.append(_plain(item, here, lines, budget))
        return items
    if node is None or isinstance(node, str | bool | int | float):
        return str(node) if isinstance(node, str) else node
    raise KamalError(f"{type(node).__name__} values are not read here", path)


def _line_of(node: CommentedMap, key: Any) -> int | None:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return None  # a key a merge (`<<: *base`) brought in
