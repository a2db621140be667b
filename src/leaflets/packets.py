"""Consent packets for a clinic list: one personalised PDF per patient, leaflet then consent record.

The recipe: read and check the patient list (patients.py); for each topic x paper x print size in
it, render the shared packet once (in parallel); fill each patient's identifiers into it (fill.py);
write each packet owner-only and atomically (private.py); write the staff index (packets.csv,
packets.json) and, when asked, one print file for the whole list (printfile.py).

Privacy: packets are named by row number and a keyed hash (HMAC) of record number, topic and
appointment date, with a secret kept per clinic outside the output folder, so a file name reveals
nothing without the key. Rows are named by number in every message; no log line carries patient data.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from leaflets.build import inputs_fingerprint
from leaflets.content import Project
from leaflets.errors import Issue, LeafletsError, display_path
from leaflets.fill import FieldError, Template
from leaflets.model import Clinic, Paper
from leaflets.patients import DateOrder, PatientList, PatientRow, read_patients
from leaflets.private import default_key_file, load_key, make_private, prepare_private_folder, write_private
from leaflets.session import Session, check_topics, open_session

log = logging.getLogger(__name__)

INDEX = "packets.csv"
MANIFEST = "packets.json"
COMBINED = "all-packets.pdf"
INDEX_COLUMNS = ("row", "file", "topic", "paper", "print_size", "pages", "status")
_PACKET_FILE = re.compile(r"\d{3,}-[0-9a-f]{16}\.pdf")
_UNKEYED_FILE = re.compile(r"packet-[0-9a-f]{16}\.pdf")  # written before packet ids were keyed


@dataclass(frozen=True)
class PacketsOptions:
    """What to build: the patient list, an optional topic filter, the clinic, where to, and how."""

    patients: Path
    out: Path
    topics: tuple[str, ...] = ()
    clinic: str | Path | None = None  # an id or a clinic file (default: the project's default clinic)
    templates: Path | None = None
    workers: int | None = None
    key_file: Path | None = None  # default: default_key_file(clinic id)
    combined: bool = False
    duplex: bool = False
    date_order: DateOrder | None = None
    today: dt.date | None = None  # a date of birth after it is refused; None: compare with the appointment only
    allow_draft: bool = False  # print content not clinically reviewed (with the draft mark)


@dataclass(frozen=True)
class PacketsReport:
    """What a run did: every row read is built, unchanged, skipped or failed."""

    read: int
    built: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[int, ...]
    failed_rows: tuple[int, ...]
    problems: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    index: Path
    manifest: Path
    combined: Path | None = None

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def summary(self) -> str:
        """Return '300 rows read: 298 packets built, 0 unchanged, 1 skipped, 1 failed.'"""
        return (
            f"{_count(self.read, 'row')} read: {_count(len(self.built), 'packet')} built, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped, {len(self.failed_rows)} failed."
        )


@dataclass(frozen=True)
class GroupJob:
    """One shared render: a topic on one paper at one print size, for one clinic."""

    root: Path
    templates: Path
    clinic: str | Path | None  # an id or a clinic file, as --clinic gives it
    topic: str
    paper: Paper
    large: bool
    duplex: bool
    inputs: str  # the hash of everything the render reads


@dataclass
class _Packet:
    """One row to build or keep."""

    row: PatientRow
    packet: str
    file: str
    inputs: str
    status: str = "built"
    pages: int = 0
    sha256: str = ""
    duplicates: list[int] = field(default_factory=list)


def make_packets(
    root: Path, options: PacketsOptions, progress: Callable[[Iterator[_Packet]], Iterator[_Packet]] | None = None
) -> PacketsReport:
    """Build one packet per valid row that is missing or changed; report every bad row by number."""
    session = open_session(root, options.clinic, options.templates)
    project, clinic = session.project, session.clinic
    wanted = set(check_topics(project, options.topics)) if options.topics else set()
    shown = display_path(options.patients, project.root)
    listing = read_patients(options.patients, shown, project.topics, clinic.paper, options.date_order, options.today)
    from leaflets.review import gate_packets  # topics past review, or draft, are refused before anything is written

    topics = [r.topic for r in listing.rows if not wanted or r.topic in wanted]
    gate_packets(session, topics, options.today, options.allow_draft)
    issues = list(listing.issues) + prepare_private_folder(options.out)
    out = options.out
    key = load_key(options.key_file or default_key_file(clinic.id), out)
    templates_dir = session.templates
    inputs = inputs_fingerprint(project, templates_dir, clinic)
    packets, skipped = _plan(listing, wanted, key, f"{inputs}\x1f{options.duplex}")
    previous, old_combined = _read_manifest(out)
    todo = [p for p in packets if not _keep(out, p, previous.get(p.packet))]
    digest = _digest(key, inputs, options.duplex, [(p.file, p.inputs) for p in packets])
    combine = options.combined and bool(packets) and not _combined_current(out, old_combined, digest)
    jobs = sorted({p.row.group for p in (packets if combine else todo)})
    shared = _render_all(
        [GroupJob(project.root, templates_dir, options.clinic, *g, options.duplex, inputs) for g in jobs],
        options.workers,
    )
    failed = set(listing.failed)
    with _Writer() as writer:
        for packet in progress(iter(todo)) if progress else todo:
            problem = _build(out, packet, shared[packet.row.group], shown, writer, printed(packet.row, project, clinic))
            if problem:
                issues.append(problem)
                failed.add(packet.row.row)
                failed.update(packet.duplicates)
                skipped = [r for r in skipped if r not in packet.duplicates]
    done = [p for p in packets if p.row.row not in failed]
    combined = None
    if options.combined and done:
        combined = out / COMBINED
        if combine:
            _write_combined(out / COMBINED, project, clinic, done, shared, options.duplex)
        make_private(out / COMBINED)
    index, manifest = _write_index(out, listing, packets, set(skipped), failed, digest if combined else None)
    issues += _stale_files(out, {p.file for p in packets})
    for issue in issues:
        if issue.severity == "warning":
            log.warning("%s", issue)
    report = PacketsReport(
        read=listing.read,
        built=tuple(p.file for p in done if p.status == "built"),
        unchanged=tuple(p.file for p in done if p.status == "unchanged"),
        skipped=tuple(sorted(skipped)),
        failed_rows=tuple(sorted(failed)),
        problems=tuple(sorted(i for i in issues if i.severity == "error")),
        warnings=tuple(i for i in issues if i.severity == "warning"),
        index=index,
        manifest=manifest,
        combined=combined,
    )
    assert report.read == len(report.built) + len(report.unchanged) + len(report.skipped) + len(report.failed_rows)
    return report


def _plan(listing: PatientList, wanted: set[str], key: bytes, inputs: str) -> tuple[list[_Packet], list[int]]:
    """Name each row's packet: its row number, for list order, and its keyed id."""
    rows_seen = [r.row for r in listing.rows] + list(listing.failed) + list(listing.duplicates)
    width = max(3, len(str(max(rows_seen, default=1))))
    packets, skipped = [], list(listing.duplicates)
    for row in listing.rows:
        if wanted and row.topic not in wanted:
            skipped.append(row.row)  # its duplicates are skipped already
            continue
        packet = packet_id(key, row)
        values = "\x1f".join((inputs, *row.values().values()))
        digest = hmac.new(key, values.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        dups = [d for d, first in listing.duplicates.items() if first == row.row]
        packets.append(_Packet(row, packet, f"{row.row:0{width}d}-{packet}.pdf", digest, duplicates=dups))
    return packets, skipped


def packet_id(key: bytes, row: PatientRow) -> str:
    """Return the packet's id: a keyed hash of record number, topic and appointment date."""
    message = "\x1f".join(row.identity).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _keep(out: Path, packet: _Packet, previous: dict | None) -> bool:
    """Say whether the packet on disk was built from the same inputs; move it to its row's name if so."""
    if not previous or previous.get("inputs") != packet.inputs:
        return False
    old = out / previous["file"]
    try:
        if hashlib.sha256(old.read_bytes()).hexdigest() != previous.get("sha256"):
            return False
        if old.name != packet.file:
            os.replace(old, out / packet.file)  # the same packet at another row of today's list
        make_private(out / packet.file)
    except OSError:
        return False
    packet.status, packet.pages, packet.sha256 = "unchanged", int(previous.get("pages", 0)), previous["sha256"]
    return True


def printed(row: PatientRow, project: Project, clinic: Clinic) -> dict[str, str]:
    """Return a row's values as the record prints them: dates as the documents write dates, the format given."""
    values = row.values()
    for column in ("date_of_birth", "appointment_date"):
        day = getattr(row, column)
        values[column] = f"{day.day} {_string(project, f'month-{day.month}', 'patient', clinic.region)} {day.year}"
    kind = "print-large" if row.large_print else "print-standard"
    values["format_given"] = _string(project, kind, "patient", clinic.region)
    return values


def _build(
    out: Path, packet: _Packet, template: Template, shown: str, writer: _Writer, values: dict[str, str]
) -> Issue | None:
    """Fill and write one packet; a value the form cannot hold is the row's problem, named by column."""
    from leaflets.fill import fill

    try:
        data = fill(template, values)
    except FieldError as exc:
        column, _, message = str(exc).partition(": ")
        row = packet.row.row
        (out / packet.file).unlink(missing_ok=True)  # an earlier packet for this row is out of date
        return Issue(shown, row, f"row {row}, column {column}", message, "error", "packets")
    writer.write(out / packet.file, data)
    packet.pages, packet.sha256 = template.pages, hashlib.sha256(data).hexdigest()
    log.info("row %d: built %s", packet.row.row, packet.file)
    return None


class _Writer:
    """Write packets in a few threads, so waiting for the disk (fsync) overlaps with filling the next."""

    def __init__(self, threads: int = 4, backlog: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads)
        self._pending: deque[Future[None]] = deque()
        self._backlog = backlog

    def write(self, path: Path, data: bytes) -> None:
        self._pending.append(self._pool.submit(write_private, path, data))
        while len(self._pending) > self._backlog:  # bound the packets held in memory
            self._pending.popleft().result()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()  # an OutputError surfaces here
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _stale_files(out: Path, current: set[str]) -> list[Issue]:
    """Warn about packets this list does not name: from an earlier list, or named by an older, unkeyed id."""
    issues = []
    stale = [p for p in out.iterdir() if _PACKET_FILE.fullmatch(p.name) and p.name not in current]
    if stale:
        message = f"{_count(len(stale), 'packet file')} from an earlier list, not in {INDEX}; delete them once printed"
        issues.append(Issue(str(out), 0, "", message, "warning", "packets"))
    unkeyed = [p for p in out.iterdir() if _UNKEYED_FILE.fullmatch(p.name)]
    if unkeyed:
        message = (
            f"{_count(len(unkeyed), 'packet file')} named by an older leaflets without a key (packet-*.pdf): "
            "their names can be traced to record numbers; delete them"
        )
        issues.append(Issue(str(out), 0, "", message, "warning", "packets"))
    return issues


# The staff index and the combined print file


def _write_index(
    out: Path, listing: PatientList, packets: list[_Packet], skipped: set[int], failed: set[int], combined: str | None
) -> tuple[Path, Path]:
    """Write packets.csv and packets.json: one line per row of the list, in its order; no names or dates."""
    by_row = {p.row.row: p for p in packets}
    first_of = {d: by_row.get(first) for d, first in listing.duplicates.items()}
    other = {r.row: r for r in listing.rows if r.row not in by_row}
    lines = []
    for number in sorted({*by_row, *failed, *skipped, *listing.duplicates}):
        packet = by_row.get(number) or first_of.get(number)
        if number in failed:
            lines.append({"row": number, "status": "failed"})
        elif packet is None:
            described = _describe(other[number]) if number in other else {}
            lines.append({"row": number, **described, "status": "skipped (--topic)"})
        elif number != packet.row.row:
            lines.append({**_line(packet), "row": number, "status": f"same as row {packet.row.row}"})
        else:
            lines.append(_line(packet))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, INDEX_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(lines)
    write_private(out / INDEX, buffer.getvalue().encode("utf-8"))
    body: dict = {"rows": lines}
    if combined:
        body["combined"] = {"file": COMBINED, "inputs": combined}
    write_private(out / MANIFEST, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return out / INDEX, out / MANIFEST


def _describe(row: PatientRow) -> dict:
    return {"topic": row.topic, "paper": row.paper, "print_size": "large" if row.large_print else "standard"}


def _line(packet: _Packet) -> dict:
    return {
        "row": packet.row.row,
        "file": packet.file,
        **_describe(packet.row),
        "pages": packet.pages,
        "status": packet.status,
        "packet": packet.packet,
        "inputs": packet.inputs,
        "sha256": packet.sha256,
    }


def _read_manifest(out: Path) -> tuple[dict[str, dict], dict]:
    """Return the earlier run's packets by id, and its combined-file record."""
    try:
        body = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        rows = [r for r in body["rows"] if isinstance(r, dict) and "packet" in r]
        packets = {r["packet"]: r for r in rows if _PACKET_FILE.fullmatch(str(r.get("file", "")))}
        return packets, body.get("combined") or {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}  # no index, or one from another version: build everything


def _digest(key: bytes, inputs: str, duplex: bool, files: list[tuple[str, str]]) -> str:
    text = "\x1f".join([inputs, str(duplex), *(f"{name}:{digest}" for name, digest in files)])
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _combined_current(out: Path, previous: dict, digest: str) -> bool:
    return previous.get("inputs") == digest and (out / COMBINED).is_file()


def _write_combined(
    path: Path, project: Project, clinic: Clinic, packets: list[_Packet], shared: dict, duplex: bool
) -> None:
    paper = clinic.paper
    from leaflets.printfile import CoverLine, CoverWords, make_print_file

    def word(key: str) -> str:
        return _string(project, key, "clinician")

    words = CoverWords(
        word("packet-list"),
        word("packet-list-row"),
        word("record-number"),
        word("packet-list-file"),
        word("packet-list-given"),
        word("page"),
        word("page-of"),
    )
    lines = [CoverLine(p.row.row, p.row.record_number, p.file) for p in packets]
    parts = ((shared[p.row.group], printed(p.row, project, clinic)) for p in packets)
    write_private(path, make_print_file(words, paper, lines, parts, duplex, word("blank-page")))
    log.info("wrote %s (%s)", path.name, _count(len(packets), "packet"))


# Shared renders


def _render_all(jobs: list[GroupJob], workers: int | None) -> dict[tuple[str, Paper, bool], Template]:
    """Render each shared packet once, in parallel when there are several."""
    if not jobs:
        return {}
    count = min(workers or os.cpu_count() or 1, len(jobs))
    if count == 1:
        results = [render_group(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(render_group, jobs))
    return {(j.topic, j.paper, j.large): t for j, t in zip(jobs, results, strict=True)}


def render_group(job: GroupJob) -> Template:
    """Render the shared packet for one topic, paper and print size, with slots for identifiers."""
    from leaflets.fill import find_slots, make_template
    from leaflets.printfile import pad_for_duplex

    session = _session(job.root, job.templates, job.clinic, job.inputs)
    project = session.project
    htmls = [
        session.render(session.spec(job.topic, document, "patient", job.paper, job.large)).html
        for document in ("leaflet", "consent")
    ]
    pdf, pages = session.maker.make_combined(htmls, f"{job.topic} packet")
    if job.duplex:
        pdf, pages = pad_for_duplex(pdf, pages, _string(project, "blank-page", "patient"))
    # Each identifier's label is a string, and its blank on the consent record's first page is the
    # form field the template names after the same key (`field(t('patient-name'), 'patient-name')`).
    keys = {
        "name": "patient-name",
        "date_of_birth": "date-of-birth",
        "record_number": "record-number",
        "clinician": "clinician",
        "appointment_date": "discussion-date",
        "format_given": "format-given",
    }
    labels = {field: _string(project, key, "patient") + ":" for field, key in keys.items()}
    forms = {field: f"field-{key}" for field, key in keys.items()}
    slots = find_slots(pdf, labels, first_page=pages[0])
    missing = sorted(labels[f] for f in labels if not any(slot.field == f for slot in slots))
    if missing:  # fail closed: a packet whose record lacks a patient's identifier is not made
        raise LeafletsError(
            f"{job.topic} packet: expected the consent record to show {', '.join(missing)} on one line with its "
            "blank, found it nowhere (a label that wraps cannot be filled: shorten it in content/strings.yaml)"
        )
    return make_template(pdf, slots, forms)


@lru_cache(maxsize=2)
def _session(root: Path, templates: Path, clinic: str | Path | None, inputs: str) -> Session:
    """Open the project, templates and fonts once per process, not once per shared render.

    `inputs` (the hash of every file a render reads) is part of the key, so an edited project is
    loaded afresh.
    """
    return open_session(root, clinic, templates)


def _string(project: Project, key: str, audience: str, region: str | None = None) -> str:
    try:
        return project.string(key, audience, region)
    except KeyError:
        raise LeafletsError(f"content/strings.yaml: expected a string named '{key}', found none") from None


def _count(n: int, word: str) -> str:
    """Return '1 row', '2 rows'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
