"""Consent packets for a clinic list: one personalised PDF per patient, leaflet then consent sheet.

The recipe: read and check the patient list; for each topic x paper x print size in it, render the
shared packet once (in parallel); fill each patient's identifiers into it; write each packet
atomically; record it in packets.json. Patient data never reaches a log line: rows are named by
number and packets by an id derived from the record number, topic and appointment date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from leaflets.build import (
    clinic_logo_url,
    inputs_fingerprint,
    leaflet_ref,
    prepare_output,
    render_document,
    write_atomic,
)
from leaflets.content import Project, choose_clinic, load_project
from leaflets.errors import Issue, LeafletsError, display_path
from leaflets.model import PAPERS, Clinic, Paper
from leaflets.render import make_environment
from leaflets.select import DocumentSpec

log = logging.getLogger(__name__)

COLUMNS = ("name", "date_of_birth", "record_number", "topic", "clinician", "appointment_date", "paper", "large_print")
REQUIRED = COLUMNS[:6]
MANIFEST = "packets.json"
MAX_FIELD = 200
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class PatientRow:
    """One validated line of the patient list."""

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
    def packet_id(self) -> str:
        """A stable id that names no one: from record number, topic and appointment date."""
        key = "\x1f".join((self.record_number, self.topic, self.appointment_date.isoformat()))
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @property
    def group(self) -> tuple[str, Paper, bool]:
        return (self.topic, self.paper, self.large_print)


@dataclass(frozen=True)
class PacketsOptions:
    """What to build: the patient list, an optional topic filter, the clinic, where to."""

    patients: Path
    out: Path
    topics: tuple[str, ...] = ()
    clinic: Path | None = None
    templates: Path | None = None
    workers: int | None = None


@dataclass(frozen=True)
class PacketsReport:
    """What a run did."""

    built: tuple[str, ...]
    unchanged: tuple[str, ...]
    problems: tuple[Issue, ...]
    manifest: Path
    rows: int

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def read_patients(path: Path, project: Project, clinic: Clinic) -> tuple[list[PatientRow], list[Issue]]:
    """Read the CSV; report each bad row by number and column, never by value."""
    shown = display_path(path, project.root)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LeafletsError(f"{shown}: expected UTF-8 text, found other bytes") from None
    except OSError as exc:
        raise LeafletsError(f"{shown}: cannot read the patient list: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines(keepends=True), strict=False)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise LeafletsError(f"{shown}:1: expected columns {', '.join(COLUMNS)}, found none named {', '.join(missing)}")
    reader.fieldnames = header
    rows, issues = [], []
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        issues.append(Issue(shown, 1, "header", f"ignored {len(extra)} unknown column(s)", "warning", "packets"))
    for number, record in enumerate(reader, start=2):
        if not any((v or "").strip() for k, v in record.items() if k is not None):
            continue
        row, problems = _validate_row(shown, number, record, project, clinic)
        issues.extend(problems)
        if row is not None:
            rows.append(row)
    return rows, issues


def _validate_row(
    shown: str, number: int, record: dict, project: Project, clinic: Clinic
) -> tuple[PatientRow | None, list[Issue]]:
    problems: list[Issue] = []

    def bad(column: str, message: str) -> None:
        problems.append(Issue(shown, number, f"row {number}, column {column}", message, "error", "packets"))

    if record.get(None):
        bad("(extra)", "expected one value per column, found more values than columns")
    values = {c: " ".join(str(record.get(c) or "").split()) for c in COLUMNS}
    for column in REQUIRED:
        if not values[column]:
            bad(column, "expected a value, found none")
        elif len(values[column]) > MAX_FIELD:
            bad(column, f"expected at most {MAX_FIELD} characters, found more")
    if values["topic"] and values["topic"] not in project.topics:
        bad("topic", f"expected one of {', '.join(sorted(project.topics))}, found another")
    dates = {c: _date(values[c]) for c in ("date_of_birth", "appointment_date")}
    for column, value in dates.items():
        if values[column] and value is None:
            bad(column, "expected a real date written YYYY-MM-DD, found something else")
    paper = values["paper"].lower() or clinic.paper
    if paper not in PAPERS:
        bad("paper", f"expected one of {', '.join(PAPERS)} or empty, found another")
    large = values["large_print"].lower()
    if large not in _YES | _NO:
        bad("large_print", "expected yes or no, found another")
    if problems:
        return None, problems
    birth, appointment = dates["date_of_birth"], dates["appointment_date"]
    assert birth is not None and appointment is not None  # checked above
    row = PatientRow(
        number,
        values["name"],
        birth,
        values["record_number"],
        values["topic"],
        values["clinician"],
        appointment,
        cast(Paper, paper),
        large in _YES,
    )
    return row, []


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def make_packets(
    root: Path, options: PacketsOptions, progress: Callable[[Iterator[PatientRow]], Iterator[PatientRow]] | None = None
) -> PacketsReport:
    """Build one packet per valid row that is missing or changed; report every bad row."""
    project = load_project(root, extra_clinic=options.clinic)
    clinic = choose_clinic(project, options.clinic)
    rows, issues = read_patients(options.patients, project, clinic)
    if options.topics:
        unknown = sorted(set(options.topics) - set(project.topics))
        if unknown:
            raise LeafletsError(
                f"--topic: expected one of {', '.join(sorted(project.topics))}, found {', '.join(unknown)}"
            )
        rows = [r for r in rows if r.topic in options.topics]
    out = prepare_output(options.out)
    templates_dir = (options.templates or project.root / "templates").resolve()
    inputs = inputs_fingerprint(project, templates_dir, clinic)
    old = _read_manifest(out)
    entries = {k: v for k, v in old.items() if (out / v["file"]).is_file()}
    todo, unchanged = [], []
    for row in rows:
        previous = entries.get(row.packet_id)
        if (
            previous
            and previous["inputs"] == _row_inputs(inputs, row)
            and _sha256(out / previous["file"]) == previous["sha256"]
        ):
            unchanged.append(row.packet_id)
        else:
            todo.append(row)
    shared = _render_groups(project.root, templates_dir, options, sorted({r.group for r in todo}))
    built = []
    from leaflets.fill import FieldError, fill

    for row in progress(iter(todo)) if progress else todo:
        try:
            data = fill(shared[row.group], _values(row))
        except FieldError as exc:
            column, _, message = str(exc).partition(": ")
            issues.append(
                Issue(
                    display_path(options.patients, project.root),
                    row.row,
                    f"row {row.row}, column {column}",
                    message,
                    "error",
                    "packets",
                )
            )
            continue
        name = f"packet-{row.packet_id}.pdf"
        write_atomic(out / name, data)
        entries[row.packet_id] = {
            "packet": row.packet_id,
            "topic": row.topic,
            "paper": row.paper,
            "large_print": row.large_print,
            "inputs": _row_inputs(inputs, row),
            "sha256": hashlib.sha256(data).hexdigest(),
            "pages": shared[row.group].pages,
            "file": name,
        }
        built.append(row.packet_id)
        log.info("row %d: built packet %s", row.row, row.packet_id)
    manifest = _write_manifest(out, entries)
    errors = tuple(i for i in issues if i.severity == "error")
    return PacketsReport(tuple(built), tuple(unchanged), errors, manifest, len(rows))


def _values(row: PatientRow) -> dict[str, str]:
    """The identifiers written on the consent record; dates as YYYY-MM-DD, which no reader misreads."""
    return {
        "name": row.name,
        "date_of_birth": row.date_of_birth.isoformat(),
        "record_number": row.record_number,
        "clinician": row.clinician,
        "appointment_date": row.appointment_date.isoformat(),
    }


def _row_inputs(inputs: str, row: PatientRow) -> str:
    key = "\x1f".join(
        (
            inputs,
            row.name,
            row.date_of_birth.isoformat(),
            row.record_number,
            row.topic,
            row.clinician,
            row.appointment_date.isoformat(),
            row.paper,
            str(row.large_print),
        )
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(out: Path) -> dict[str, dict]:
    try:
        lines = (out / MANIFEST).read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return {e["packet"]: e for e in entries if isinstance(e, dict) and "packet" in e and "file" in e}
    except (OSError, ValueError):
        return {}


def _write_manifest(out: Path, entries: dict[str, dict]) -> Path:
    body = "".join(json.dumps(entries[k], sort_keys=True) + "\n" for k in sorted(entries))
    write_atomic(out / MANIFEST, body.encode("utf-8"))
    return out / MANIFEST


def _render_groups(root: Path, templates: Path, options: PacketsOptions, groups: list[tuple[str, Paper, bool]]) -> dict:
    if not groups:
        return {}
    workers = min(options.workers or os.cpu_count() or 1, len(groups))
    jobs = [(root, templates, options.clinic, *group) for group in groups]
    if workers == 1:
        results = [render_group(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(render_group, *zip(*jobs, strict=True)))
    return dict(zip(groups, results, strict=True))


def render_group(root: Path, templates: Path, clinic_file: Path | None, topic: str, paper: Paper, large: bool):  # type: ignore[no-untyped-def]
    """Render the shared packet for one topic, paper and print size, with slots for identifiers."""
    from leaflets.pdf import PdfMaker
    from leaflets.fill import find_slots, make_template

    project = load_project(root, extra_clinic=clinic_file)
    clinic = choose_clinic(project, clinic_file)
    env = make_environment(templates)
    roots = (templates, project.content_dir)
    logo_url = clinic_logo_url(project, clinic, roots, inline=False)
    consent = DocumentSpec(topic, "consent", "patient", paper, large)
    leaflet = DocumentSpec(topic, "leaflet", "patient", paper, large)
    ref = leaflet_ref(project, env, consent, clinic, logo_url)
    htmls = [
        render_document(project, env, spec, clinic, ref if spec is consent else None, logo_url).html
        for spec in (leaflet, consent)
    ]
    maker = PdfMaker(roots=roots, base_url=templates.as_uri() + "/")
    pdf, pages = maker.make_combined(htmls, f"{topic} packet")
    labels = {
        "name": project.string("patient-name", "patient") + ":",
        "date_of_birth": project.string("date-of-birth", "patient") + ":",
        "record_number": project.string("record-number", "patient") + ":",
        "clinician": project.string("clinician", "patient") + ":",
        "appointment_date": project.string("discussion-date", "patient") + ":",
    }
    return make_template(pdf, find_slots(pdf, labels, first_page=pages[0]))
