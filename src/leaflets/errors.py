"""The project's error types and the one record every problem is reported as."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "note"]  # a note informs and never fails a run


@dataclass(frozen=True, order=True)
class Issue:
    """One problem found in a file, at a line, in a named place."""

    path: str
    line: int
    where: str
    message: str
    severity: Severity = "error"
    rule: str = "schema"

    def __str__(self) -> str:
        place = f"{self.path}:{self.line}" if self.line else self.path
        where = f"{self.where}: " if self.where else ""
        return f"{place}: {where}{self.message}"


class LeafletsError(Exception):
    """A problem a user can cause and fix: reported as one line, never a traceback."""


class UsageError(LeafletsError):
    """A command asked for something that does not exist (an unknown topic or clinic): exit 2."""


class ContentError(LeafletsError):
    """Content, clinic or seed files that do not validate; carries every problem found."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class ResourceRefused(LeafletsError):
    """A document asked for a resource outside the project's own folders."""


class OutputError(LeafletsError):
    """The output folder or a file in it cannot be written."""


def display_path(path: Path, root: Path | None = None) -> str:
    """Return `path` relative to `root` when inside it, for short error lines."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ` (did you mean 'x'?)` for the closest of `choices`, or nothing when none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
