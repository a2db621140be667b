"""Read YAML files safely, keeping the line of every value so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leaflets.errors import Issue, display_path

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000

Location = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML file: its data, and the line of each value by its path."""

    path: Path
    shown: str
    data: Any = None
    lines: dict[Location, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: The text as written of each plain value YAML read as something other than text (a number, a
    #: date, true/false), so a message can say `01234567` rather than the number 342391 it became.
    written: dict[Location, str] = field(default_factory=dict)

    def line_of(self, loc: Location) -> int:
        """Return the line of `loc`, or of its nearest parent that has one."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def issue(self, loc: Location, message: str, **kw: Any) -> Issue:
        """Make an Issue for the value at `loc` in this file."""
        return Issue(self.shown, self.line_of(loc), format_loc(loc), message, **kw)


def format_loc(loc: Location) -> str:
    """Write a path like `statements[3].text.patient`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
)


class _Builder:
    """Turn a composed YAML node tree into plain data, refusing what content never needs."""

    def __init__(self, doc: YamlDoc):
        self.doc = doc
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, loc: Location) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node)
        if node.tag not in _PLAIN_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"expected plain YAML, found the tag {node.tag!r}", node.start_mark
            )
        self.doc.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        # A plain scalar (style None, or "" from libyaml) that YAML read as something other than text.
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:str" and not node.style:
            self.doc.written[loc] = node.value
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, loc: Location) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(
                    None, None, "expected plain keys, found a merge key '<<'", key_node.start_mark
                )
            key = self.constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                raise yaml.constructor.ConstructorError(
                    None, None, f"expected a text key, found {key!r}", key_node.start_mark
                )
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"expected each key once, found {key!r} again", key_node.start_mark
                )
            out[key] = self.build(value_node, (*loc, key))
            self.doc.lines[(*loc, key)] = key_node.start_mark.line + 1
        return out


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


def read_yaml(path: Path, root: Path | None = None) -> YamlDoc:
    """Read one YAML file; problems land in `doc.issues`, never as exceptions."""
    doc = YamlDoc(path=path, shown=display_path(path, root))
    text = _read_text(doc)
    if text is None:
        return doc
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        doc.issues.append(_yaml_issue(doc, exc))
        return doc
    if node is None:
        doc.issues.append(Issue(doc.shown, 1, "", "expected a YAML mapping, found an empty file"))
        return doc
    try:
        doc.data = _Builder(doc).build(node, ())
    except _TooLarge as exc:
        doc.issues.append(
            Issue(
                doc.shown,
                exc.node.start_mark.line + 1,
                "",
                f"expected at most {MAX_NODES} values, found more (anchors expanding?)",
            )
        )
    except yaml.YAMLError as exc:
        doc.issues.append(_yaml_issue(doc, exc))
    return doc


#: libyaml's parser where PyYAML was built with it (about 10x faster); the same safe resolver either way.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    """Parse `text` into nodes with their lines; a broken file is parsed again by the pure-Python
    parser, whose error carries the text around the problem (so a tab can be told apart)."""
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _read_text(doc: YamlDoc) -> str | None:
    try:
        size = doc.path.stat().st_size
        if size > MAX_FILE_BYTES:
            doc.issues.append(
                Issue(
                    doc.shown,
                    0,
                    "",
                    f"expected a file of at most {MAX_FILE_BYTES} bytes, found {size}",
                )
            )
            return None
        raw = doc.path.read_bytes()
    except OSError as exc:
        doc.issues.append(Issue(doc.shown, 0, "", f"cannot read the file: {exc.strerror}"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        doc.issues.append(
            Issue(
                doc.shown,
                line,
                "",
                f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x} ({_encoding_hint(raw)})",
            )
        )
        return None


def _encoding_hint(raw: bytes) -> str:
    """Name the encoding a file that is not UTF-8 was probably saved in, and the fix."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16: save it as UTF-8"
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "save the file as UTF-8"
    return "the file looks like Windows-1252 or Latin-1: save it as UTF-8"


def _yaml_issue(doc: YamlDoc, exc: yaml.YAMLError) -> Issue:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    column = f", column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None and "'\\t'" in problem:
        text = mark.buffer or ""
        start = text.rfind("\n", 0, mark.index) + 1
        if text[start : mark.index].strip(" \t") == "":
            problem = "found a tab in the indentation (use spaces to indent: YAML does not allow tabs there)"
        else:
            problem = "found a tab (use spaces: YAML does not allow tabs there)"
    return Issue(doc.shown, line, "", f"YAML error{column}: {problem}")
