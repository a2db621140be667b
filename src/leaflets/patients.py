"""Read a clinic's patient list the way spreadsheets export it; report bad rows by number, never by value.

Excel realities accepted: a byte-order mark, CRLF line ends, comma, semicolon or tab separators,
Windows-1252 text (with a warning), headers typed by people ("Date of Birth"), date-times, and
slashed dates once the clinic says which order they are in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, cast

from leaflets.errors import Issue, LeafletsError
from leaflets.model import PAPERS, Paper

COLUMNS = ("name", "date_of_birth", "record_number", "topic", "clinician", "appointment_date", "paper", "large_print")
REQUIRED = COLUMNS[:6]
DATE_COLUMNS = ("date_of_birth", "appointment_date")
MAX_FIELD = 200
DateOrder = Literal["dmy", "mdy"]
DATE_ORDERS: tuple[DateOrder, ...] = ("dmy", "mdy")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
_DELIMITERS = (",", ";", "\t")
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME)
_SLASHED = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})" + _TIME)
_PATTERN = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}


@dataclass(frozen=True)
class PatientRow:
    """One validated line of the patient list; `row` is its spreadsheet row number (the header is row 1)."""

    row: int
    name: str
    date_of_birth: dt.date
    record_number: str
    topic: str
    clinician: str
    appointment_date: dt.date
    paper: Paper
    large_print: bool

    @property
    def identity(self) -> tuple[str, str, str]:
        """What makes one packet: the record number, topic and appointment date."""
        return (self.record_number, self.topic, self.appointment_date.isoformat())

    @property
    def group(self) -> tuple[str, Paper, bool]:
        """The shared render this row's packet is filled from."""
        return (self.topic, self.paper, self.large_print)

    def values(self) -> dict[str, str]:
        """Every field as text, dates as YYYY-MM-DD, which no reader misreads."""
        return {f.name: _text(getattr(self, f.name)) for f in fields(self) if f.name != "row"}


@dataclass(frozen=True)
class PatientList:
    """The rows that can be built, and what happened to the others."""

    rows: tuple[PatientRow, ...]
    read: int
    failed: frozenset[int]
    duplicates: dict[int, int]  # a row built once already -> the row it repeats
    issues: tuple[Issue, ...]


def read_patients(
    path: Path,
    shown: str,
    topics: Iterable[str],
    default_paper: Paper,
    date_order: DateOrder | None = None,
    today: dt.date | None = None,
) -> PatientList:
    """Read and check the list; a file that cannot be read at all raises, a bad row is an issue."""
    text, issues = _decode(path, shown)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False))
    header, header_issues = _header(records[0] if records else [], shown)
    issues += header_issues
    data = [(number, _record(header, record)) for number, record in enumerate(records[1:], start=2)]
    data = [(n, values) for n, values in data if any(v for k, v in values.items() if k != "(extra)")]
    if not data:
        raise LeafletsError(f"{shown}: no patients found (expected a header row, then one row per patient)")
    failed: set[int] = set()
    for column in DATE_COLUMNS:
        issue = _ambiguous_dates(shown, column, data, date_order)
        if issue:
            issues.append(issue)
            failed.update(n for n, values in data if _SLASHED.fullmatch(values[column]))
    check = _RowCheck(shown, {t.casefold(): t for t in topics}, default_paper, date_order, today)
    rows = []
    for number, values in data:
        row, problems = check(number, values, skip_slashed=date_order is None)
        issues += problems
        if row is None or number in failed:
            failed.add(number)
        else:
            rows.append(row)
    unique, duplicates, conflicts = _find_duplicates(shown, rows)
    issues += conflicts
    failed.update(i.line for i in conflicts if i.severity == "error")
    return PatientList(tuple(unique), len(data), frozenset(failed), duplicates, tuple(issues))


def _decode(path: Path, shown: str) -> tuple[str, list[Issue]]:
    """Return the file's text: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252 with a warning."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LeafletsError(f"{shown}: cannot read the patient list: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise LeafletsError(f"{shown}: expected UTF-16 text after its byte-order mark, found other bytes") from exc
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise LeafletsError(
            f"{shown}:{line}: expected UTF-8 text, found other bytes (in Excel, save as 'CSV UTF-8')"
        ) from None
    warning = Issue(
        shown,
        line,
        "",
        "expected UTF-8 text, found Windows-1252 (Excel's 'CSV (Comma delimited)'); read it as that: "
        "check accented names in the packets, or save as 'CSV UTF-8'",
        "warning",
        "packets",
    )
    return text, [warning]


def _delimiter(text: str) -> str:
    """Return the separator the header line uses most (outside quotes): comma, semicolon or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def normalise_header(name: str) -> str:
    """Return the column name people mean: 'Date of Birth ' and 'date-of-birth' are 'date_of_birth'."""
    return "_".join(re.split(r"[\s_\-]+", name.replace("\ufeff", "").strip().casefold())).strip("_")


def _header(record: list[str], shown: str) -> tuple[list[str], list[Issue]]:
    header = [normalise_header(h) for h in record]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        hint = " (is it separated by commas, semicolons or tabs?)" if len(header) < 2 else ""
        raise LeafletsError(
            f"{shown}:1: expected columns {', '.join(COLUMNS)}, found none named {', '.join(missing)}{hint}"
        )
    twice = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
    if twice:
        raise LeafletsError(f"{shown}:1: expected each column once, found {', '.join(twice)} more than once")
    issues = []
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        message = f"ignored {_count(len(extra), 'unknown column')}"
        issues.append(Issue(shown, 1, "header", message, "warning", "packets"))
    return header, issues


def _record(header: list[str], record: list[str]) -> dict[str, str]:
    """Return the row's known columns, whitespace collapsed; '(extra)' holds values past the header."""
    values = {c: "" for c in COLUMNS}
    for name, value in zip(header, record, strict=False):
        if name in values:
            values[name] = " ".join(value.split())
    values["(extra)"] = "".join(v.strip() for v in record[len(header) :])
    return values


def _ambiguous_dates(
    shown: str, column: str, data: list[tuple[int, dict[str, str]]], order: DateOrder | None
) -> Issue | None:
    """Report once for a column, not once a row, when slashed dates need --date-order."""
    if order is not None:
        return None
    slashed = [(n, m) for n, values in data if (m := _SLASHED.fullmatch(values[column]))]
    if not slashed:
        return None
    first_big = any(int(m.group(1)) > 12 for _, m in slashed)
    second_big = any(int(m.group(2)) > 12 for _, m in slashed)
    hint = " (some can only be DD/MM/YYYY)" if first_big and not second_big else ""
    hint = " (some can only be MM/DD/YYYY)" if second_big and not first_big else hint
    count = len(slashed)
    rows = f"all {_count(count, 'row')}" if count == len(data) else f"{_count(count, 'row')} of {len(data)}"
    return Issue(
        shown,
        slashed[0][0],
        f"column {column}",
        f"{rows}: dates look like DD/MM/YYYY or MM/DD/YYYY; use --date-order dmy or mdy{hint}",
        "error",
        "packets",
    )


@dataclass(frozen=True)
class _RowCheck:
    """Check one row's values: each problem named by row and column, never by the value."""

    shown: str
    topics: dict[str, str]
    default_paper: Paper
    date_order: DateOrder | None
    today: dt.date | None

    def __call__(
        self, number: int, values: dict[str, str], skip_slashed: bool
    ) -> tuple[PatientRow | None, list[Issue]]:
        problems: list[Issue] = []

        def bad(column: str, message: str) -> None:
            problems.append(Issue(self.shown, number, f"row {number}, column {column}", message, "error", "packets"))

        if values["(extra)"]:
            bad("(extra)", "expected one value per column, found more values than columns")
        for column in REQUIRED:
            if not values[column]:
                bad(column, "expected a value, found none")
            elif len(values[column]) > MAX_FIELD:
                bad(column, f"expected at most {MAX_FIELD} characters, found more")
        topic = self.topics.get(values["topic"].casefold())
        if values["topic"] and topic is None:
            bad("topic", f"expected one of {', '.join(sorted(self.topics.values()))}, found another")
        dates = {}
        for column in DATE_COLUMNS:
            text = values[column]
            if skip_slashed and _SLASHED.fullmatch(text):
                continue  # reported once for the whole column
            dates[column] = parse_date(text, self.date_order)
            if text and dates[column] is None:
                bad(column, self._date_expected(text))
        birth, appointment = dates.get("date_of_birth"), dates.get("appointment_date")
        if birth and appointment and birth >= appointment:
            bad("date_of_birth", "expected a date before the appointment date, found one on or after it")
        elif birth and self.today and birth > self.today:
            bad("date_of_birth", "expected a date that has passed, found one in the future")
        paper = values["paper"].casefold() or self.default_paper
        if paper not in PAPERS:
            bad("paper", f"expected one of {', '.join(PAPERS)} or empty, found another")
        large = values["large_print"].casefold()
        if large not in _YES | _NO:
            bad("large_print", "expected yes or no, found another")
        if problems or birth is None or appointment is None or topic is None:
            return None, problems
        row = PatientRow(
            number,
            values["name"],
            birth,
            values["record_number"],
            topic,
            values["clinician"],
            appointment,
            cast(Paper, paper),
            large in _YES,
        )
        return row, []

    def _date_expected(self, text: str) -> str:
        if self.date_order and _SLASHED.fullmatch(text):
            pattern = _PATTERN[self.date_order]
            return f"expected a real date written {pattern} (--date-order {self.date_order}), found something else"
        return "expected a real date written YYYY-MM-DD, found something else"


def parse_date(text: str, order: DateOrder | None) -> dt.date | None:
    """Return the date in `text` (YYYY-MM-DD, maybe with a time; slashed dates in `order`), or None."""
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif order and (match := _SLASHED.fullmatch(text)):
        first, second, year = (int(g) for g in match.groups())
        day, month = (first, second) if order == "dmy" else (second, first)
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _find_duplicates(shown: str, rows: list[PatientRow]) -> tuple[list[PatientRow], dict[int, int], list[Issue]]:
    """Keep the first of identical rows; rows for one packet that disagree are all errors."""
    groups: dict[tuple[str, str, str], list[PatientRow]] = {}
    for row in rows:
        groups.setdefault(row.identity, []).append(row)
    unique, duplicates, issues = [], {}, []
    for row in rows:
        group = groups[row.identity]
        mine = row.values()
        differ = sorted({k for other in group for k, v in other.values().items() if v != mine[k]})
        if differ:
            others = [str(o.row) for o in group if o is not row]
            named = f"row {others[0]}" if len(others) == 1 else f"rows {', '.join(others)}"
            issues.append(
                Issue(
                    shown,
                    row.row,
                    f"row {row.row}, column record_number",
                    f"expected one patient per record number, topic and appointment date, found {named} "
                    f"with the same but a different {', '.join(differ)}; none of them is built",
                    "error",
                    "packets",
                )
            )
        elif group[0] is not row:
            duplicates[row.row] = group[0].row
            issues.append(
                Issue(
                    shown,
                    row.row,
                    f"row {row.row}",
                    f"repeats row {group[0].row} exactly; its packet is built once",
                    "warning",
                    "packets",
                )
            )
        else:
            unique.append(row)
    return unique, duplicates, issues


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _count(n: int, word: str) -> str:
    """Return '1 row', '2 rows'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
