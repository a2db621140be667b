"""The recipe: open the project, plan every edition, render, make PDFs in parallel, write, manifest.

An edition is one clinic x one of its papers x standard or large print. `leaflets build` with no
options builds every edition of every clinic; output paths carry the clinic id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from leaflets.content import Project, region_gaps
from leaflets.errors import ContentError, Issue
from leaflets.model import AUDIENCES, DOCUMENTS, Audience, Clinic, DocumentKind, Format, Paper
from leaflets.output import MANIFEST, prepare_output, read_manifest, write_atomic, write_manifest
from leaflets.render import Rendered, fingerprint
from leaflets.select import DocumentSpec
from leaflets.session import Session, check_topics, open_project, resolve_clinic
from leaflets.workers import PdfWorkers, pdf_workers, worker_count

log = logging.getLogger(__name__)

__all__ = [
    "MANIFEST",
    "BuildOptions",
    "BuildReport",
    "BuiltDocument",
    "OutputFile",
    "build",
    "inputs_fingerprint",
    "prepare_output",
    "write_atomic",
]


@dataclass(frozen=True)
class BuildOptions:
    """What to build. The defaults are the library's and the CLI's alike: every edition of every clinic.

    topics: topic ids (empty: every topic). documents, audiences: which documents, for whom.
    formats: pdf (printable), txt (the plain-text snapshot reviewers diff), html (screen).
    clinic: one clinic, by id or file (None: every clinic under content/clinics/).
    paper: one paper (None: each clinic's papers). large_print: True for large print only, False for
    standard only (None: standard, plus large print where the clinic asks for it).
    out: the output folder (None: the project's output/). templates: another templates folder.
    jobs: processes that make PDFs (None: one per core).
    today: refuse topics whose next review is before this day (None: no date gate; the CLI passes
    today's date, the build itself never reads the clock).
    """

    topics: tuple[str, ...] = ()
    documents: tuple[DocumentKind, ...] = DOCUMENTS
    audiences: tuple[Audience, ...] = AUDIENCES
    formats: tuple[Format, ...] = ("pdf", "txt")
    clinic: str | Path | None = None
    paper: Paper | None = None
    large_print: bool | None = None
    out: Path | None = None
    templates: Path | None = None
    jobs: int | None = None
    today: dt.date | None = None


@dataclass(frozen=True)
class OutputFile:
    """One written file: where, its hash, and (for PDFs) its page count."""

    path: Path
    sha256: str
    pages: int | None = None


@dataclass(frozen=True)
class BuiltDocument:
    """One document in every format asked for."""

    spec: DocumentSpec
    files: dict[str, OutputFile]
    fingerprint: str
    review_status: str
    version: str
    inputs: str = ""
    skipped: bool = False
    statements: tuple[str, ...] = ()
    #: Each statement's words as this document prints them, by key (`leaflets diff` compares them).
    texts: dict[str, str] = field(default_factory=dict)
    #: A hash of what the resolver returns for the document (and the leaflet it cites), the strings,
    #: approvals, logo, templates and tools: equal to the manifest's, the document is not even rendered.
    quick: str = ""
    next_review: str = ""


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote, and the editions it could not write."""

    out: Path
    documents: tuple[BuiltDocument, ...]
    manifest: Path
    issues: tuple[Issue, ...] = field(default=())

    def find(self, topic: str, document: str, audience: str, clinic: str | None = None) -> list[BuiltDocument]:
        """Return the built documents matching the arguments (every edition of them)."""
        return [
            d
            for d in self.documents
            if (d.spec.topic, d.spec.document, d.spec.audience) == (topic, document, audience)
            and (clinic is None or d.spec.clinic == clinic)
        ]


def build(root: Path, options: BuildOptions | None = None) -> BuildReport:
    """Build what `options` asks for from the project at `root`; raise ContentError after writing the rest."""
    options = options or BuildOptions()
    # PDF worker processes (one already started by the CLI, or none yet) import WeasyPrint while this
    # process loads the content and renders the HTML; each document goes to them as its HTML is ready.
    with pdf_workers() as workers:
        return _build(root, options, workers)


def _build(root: Path, options: BuildOptions, workers: PdfWorkers) -> BuildReport:
    extra = Path(options.clinic) if isinstance(options.clinic, Path) else None
    project = open_project(root, extra_clinic=extra)
    topics = check_topics(project, options.topics)
    clinics, issues = _clinics(project, options.clinic)
    out = prepare_output(options.out or project.root / "output")
    previous = read_manifest(out)
    tools = _tool_versions()
    stale: list[tuple[Session, DocumentSpec, str]] = []
    kept: list[BuiltDocument] = []
    for clinic in clinics:
        session = Session.open(project, clinic, options.templates)
        ready = []
        for topic in topics:
            gaps = region_gaps(project, topic, clinic.region)
            issues.extend(gaps)
            if not gaps:
                ready.append(topic)
        shared = _folder_hash(session.templates) + tools
        static = _static_inputs(session, shared, options.formats)
        for spec in plan(clinic, options, ready):
            quick = _quick_key(session, spec, static)
            old = previous.get(spec.name)
            if old and old.get("quick") == quick and _files_intact(out, old, options.formats):
                kept.append(_from_entry(out, spec, old))
            else:
                stale.append((session, spec, quick))
    pdfs = len(stale) if "pdf" in options.formats else 0
    workers.grow(min(pdfs, worker_count(options.jobs)))
    if not pdfs:
        workers.stop()  # nothing to make: a rebuild with no change does not wait for WeasyPrint
    jobs: list[_Job] = []
    for session, spec, quick in stale:
        try:
            shared = _folder_hash(session.templates) + tools
            job = _prepare(session, spec, options.formats, out, previous, shared, quick)
        except ContentError as exc:
            issues.extend(exc.issues)
            continue
        jobs.append(job)
        if workers.active and _needs_pdf(job) and not _overdue(job, options.today):
            workers.submit(spec.name, (session.roots, session.templates, job.rendered.html, spec.name))
    jobs = _review_gate(jobs, options.today, issues)
    made = _make_pdfs(jobs, workers)
    kept = _kept_gate(kept, options.today, project, issues)
    built = sorted(kept + made, key=lambda d: (d.spec.clinic, plan_order(d.spec)))
    for doc in built:
        log.info("%s %s", "unchanged" if doc.skipped else "built", doc.spec.name)
    entries = _kept_entries(previous, out, {d.spec.name for d in built})
    entries.update({doc.spec.name: _entry(out, doc) for doc in built})
    manifest = write_manifest(out, entries)
    report = BuildReport(out, tuple(built), manifest, tuple(sorted(set(issues))))
    if report.issues:
        raise ContentError(list(report.issues))
    return report


def _review_gate(jobs: list[_Job], today: dt.date | None, issues: list[Issue]) -> list[_Job]:
    """Drop every document of a topic whose next review has passed; say once if draft content is built."""
    overdue = set()
    for job in jobs:
        mark = job.rendered.review
        if _overdue(job, today):
            assert mark is not None
            project, topic = job.session.project, job.rendered.spec.topic
            place = project.topic_places[topic]
            issues.append(
                Issue(
                    place.path,
                    place.fields.get("next_review", place.line),
                    f"topic {topic}",
                    f"expected a next review after {today}, found {mark.next_review} "
                    f"({(today - mark.next_review).days} days overdue): not built; review it and update next_review",
                    rule="review",
                )
            )
            overdue.add((job.session.clinic.id, topic))
    kept = [j for j in jobs if (j.session.clinic.id, j.rendered.spec.topic) not in overdue]
    drafts = [j for j in kept if j.rendered.review is not None and not j.rendered.review.approved]
    if drafts:
        log.warning(
            "%d of %d documents are draft (not clinically reviewed, or changed since review) and carry the "
            "draft mark; see `leaflets check` and `leaflets review-pack`",
            len(drafts),
            len(kept),
        )
    return kept


def _clinics(project: Project, chosen: str | Path | None) -> tuple[list[Clinic], list[Issue]]:
    """Return the clinics to build, and the problems of clinic files that did not load."""
    if chosen is not None:
        return [resolve_clinic(project, chosen)], []
    broken = [issue for issues in project.broken_clinics.values() for issue in issues]
    return [project.clinics[c] for c in sorted(project.clinics)], broken


def plan(clinic: Clinic, options: BuildOptions, topics: tuple[str, ...] | list[str]) -> list[DocumentSpec]:
    """List one clinic's documents, sorted: every topic x document x audience x paper x print size."""
    papers = (options.paper,) if options.paper else clinic.edition_papers
    if options.large_print is None:
        sizes = (False, True) if clinic.large_print else (False,)
    else:
        sizes = (options.large_print,)
    return [
        DocumentSpec(topic, document, audience, paper, large, clinic.id)
        for topic in sorted(topics)
        for paper in papers
        for large in sizes
        for document in DOCUMENTS
        if document in options.documents
        for audience in AUDIENCES
        if audience in options.audiences
    ]


@dataclass(frozen=True)
class _Job:
    """One document rendered to HTML, waiting for its PDF (unless nothing changed)."""

    session: Session
    rendered: Rendered
    formats: tuple[Format, ...]
    out: Path
    inputs: str
    unchanged: dict[str, Any] | None
    quick: str = ""


def _prepare(
    session: Session,
    spec: DocumentSpec,
    formats: tuple[Format, ...],
    out: Path,
    previous: dict[str, dict[str, Any]],
    shared: str,
    quick: str = "",
) -> _Job:
    rendered = session.render(spec)
    inputs = _document_inputs(session, rendered, formats, shared)
    old = previous.get(spec.name)
    unchanged = old if old and old.get("inputs") == inputs and _files_intact(out, old, formats) else None
    return _Job(session, rendered, tuple(sorted(set(formats))), out, inputs, unchanged, quick)


def _static_inputs(session: Session, shared: str, formats: tuple[Format, ...]) -> str:
    """Hash what every document of one clinic reads beyond its own statements: strings, approvals, logo."""
    from leaflets.content import clinic_logo_path

    project = session.project
    digest = hashlib.sha256(shared.encode())
    digest.update(",".join(sorted(set(formats))).encode())
    digest.update(json.dumps(project.strings, sort_keys=True).encode())
    approvals = project.content_dir / "approvals"
    digest.update(_folder_hash(approvals).encode() if approvals.is_dir() else b"-")
    logo = clinic_logo_path(project, session.clinic)
    digest.update(hashlib.sha256(logo.read_bytes()).digest() if logo and logo.is_file() else b"-")
    digest.update(
        json.dumps([sorted(project.seeds), [r.model_dump(mode="json") for r in project.regions.values()]]).encode()
    )
    return digest.hexdigest()


def _quick_key(session: Session, spec: DocumentSpec, static: str) -> str:
    """Hash everything a document is made from without rendering it (the resolver's digest and the rest)."""
    digest = hashlib.sha256(static.encode())
    digest.update(session.select(spec).digest().encode())
    if spec.document == "consent":  # it prints the code of the leaflet it cites
        given = spec.leaflet()
        given = DocumentSpec(given.topic, given.document, given.audience, given.paper, given.large_print, spec.clinic)
        digest.update(session.select(given).digest().encode())
    return digest.hexdigest()[:16]


def _from_entry(out: Path, spec: DocumentSpec, entry: dict[str, Any]) -> BuiltDocument:
    """Return an unchanged document as the manifest recorded it."""
    files = {
        fmt: OutputFile(out / info["path"], info["sha256"], info.get("pages")) for fmt, info in entry["files"].items()
    }
    return BuiltDocument(
        spec,
        files,
        entry["fingerprint"],
        entry["review_status"],
        entry["version"],
        entry["inputs"],
        True,
        tuple(entry.get("statements", ())),
        dict(entry.get("statement_texts", {})),
        entry["quick"],
        entry.get("next_review", ""),
    )


def _kept_gate(
    kept: list[BuiltDocument], today: dt.date | None, project: Project, issues: list[Issue]
) -> list[BuiltDocument]:
    """The review-date gate for documents kept as they were: their next review is in the manifest."""
    if today is None:
        return kept
    late = [d for d in kept if d.next_review and dt.date.fromisoformat(d.next_review) < today]
    for topic in sorted({d.spec.topic for d in late}):
        place = project.topic_places[topic]
        day = min(dt.date.fromisoformat(d.next_review) for d in late if d.spec.topic == topic)
        issues.append(
            Issue(
                place.path,
                place.fields.get("next_review", place.line),
                f"topic {topic}",
                f"expected a next review after {today}, found {day} ({(today - day).days} days overdue): "
                "not built; review it and update next_review",
                rule="review",
            )
        )
    return [d for d in kept if d not in late]


def plan_order(spec: DocumentSpec) -> tuple[Any, ...]:
    """Sort key that keeps a clinic's documents in `plan` order (topic, paper, print size, document, audience)."""
    return (spec.topic, spec.paper, spec.large_print, DOCUMENTS.index(spec.document), AUDIENCES.index(spec.audience))


def _document_inputs(session: Session, rendered: Rendered, formats: tuple[Format, ...], shared: str) -> str:
    """Hash everything one document is made from: what it prints, its templates, logo and tools."""
    digest = hashlib.sha256()
    digest.update(rendered.selection.digest().encode())
    digest.update(hashlib.sha256(rendered.html.encode("utf-8")).digest())
    digest.update(",".join(sorted(set(formats))).encode())
    digest.update(shared.encode())
    return digest.hexdigest()[:16]


def _files_intact(out: Path, entry: dict[str, Any], formats: tuple[Format, ...]) -> bool:
    files = entry.get("files", {})
    if set(files) != set(formats):
        return False
    for info in files.values():
        path = out / info["path"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
            return False
    return True


def _needs_pdf(job: _Job) -> bool:
    return job.unchanged is None and "pdf" in job.formats


def _overdue(job: _Job, today: dt.date | None) -> bool:
    mark = job.rendered.review
    return today is not None and mark is not None and mark.next_review < today


def _make_pdfs(jobs: list[_Job], workers: PdfWorkers) -> list[BuiltDocument]:
    """Collect the PDFs the workers made (or make them here when there are none); write each document."""
    pdfs = dict(workers.collect()) if workers.active else {}
    for job in jobs:
        name = job.rendered.spec.name
        if _needs_pdf(job) and name not in pdfs:
            pdfs[name] = job.session.maker.make(job.rendered.html, name)
    return [_write(job, pdfs.get(job.rendered.spec.name)) for job in jobs]


def _write(job: _Job, pdf: tuple[bytes, int] | None) -> BuiltDocument:
    spec = job.rendered.spec
    topic = job.session.project.topics[spec.topic]
    status = job.rendered.review.status if job.rendered.review else "draft"
    review = (job.rendered.review.next_review if job.rendered.review else topic.next_review).isoformat()
    statements = job.rendered.selection.statement_keys
    texts = {i.key: f"{i.label}: {i.text}" if i.label else i.text for i in job.rendered.selection.items}
    code = fingerprint(job.rendered.text)
    if job.unchanged is not None:
        files = {
            fmt: OutputFile(job.out / info["path"], info["sha256"], info.get("pages"))
            for fmt, info in job.unchanged["files"].items()
        }
        return BuiltDocument(
            spec, files, code, status, topic.version, job.inputs, True, statements, texts, job.quick, review
        )
    files: dict[str, OutputFile] = {}
    for fmt in job.formats:
        path = job.out / spec.clinic / spec.topic / f"{spec.stem}.{fmt}"
        pages = None
        if fmt == "pdf":
            assert pdf is not None
            data, pages = pdf
        elif fmt == "html":
            data = job.session.render(spec, media="screen").html.encode("utf-8")
        else:
            data = job.rendered.text.encode("utf-8")
        write_atomic(path, data)
        files[fmt] = OutputFile(path, hashlib.sha256(data).hexdigest(), pages)
    return BuiltDocument(
        spec, files, code, status, topic.version, job.inputs, False, statements, texts, job.quick, review
    )


def _kept_entries(previous: dict[str, dict[str, Any]], out: Path, rebuilt: set[str]) -> dict[str, dict[str, Any]]:
    """Keep earlier entries (other editions or topics) whose files are still there."""
    return {
        name: entry
        for name, entry in previous.items()
        if name not in rebuilt and all((out / f["path"]).exists() for f in entry.get("files", {}).values())
    }


def _entry(out: Path, doc: BuiltDocument) -> dict[str, Any]:
    spec = doc.spec
    return {
        "id": spec.name,
        "clinic": spec.clinic,
        "topic": spec.topic,
        "document": spec.document,
        "audience": spec.audience,
        "paper": spec.paper,
        "large_print": spec.large_print,
        "version": doc.version,
        "review_status": doc.review_status,
        "fingerprint": doc.fingerprint,
        "inputs": doc.inputs,
        "statements": list(doc.statements),
        "statement_texts": dict(sorted(doc.texts.items())),
        "quick": doc.quick,
        "next_review": doc.next_review,
        "files": {
            fmt: {
                "path": f.path.relative_to(out).as_posix(),
                "sha256": f.sha256,
                **({"pages": f.pages} if f.pages else {}),
            }
            for fmt, f in sorted(doc.files.items())
        },
    }


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _tool_versions() -> str:
    return ";".join(f"{p}={metadata.version(p)}" for p in ("leaflets", "weasyprint", "font-source-sans-pro"))


def inputs_fingerprint(project: Project, templates: Path, clinic: Clinic) -> str:
    """Hash everything a build reads for `clinic`, and the versions of the tools that read it."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for folder in (project.content_dir, project.root / "seeds", templates)
        for p in folder.rglob("*")
        if p.is_file()
    )
    files.append(project.clinic_files[clinic.id])
    for path in files:
        digest.update(path.resolve().as_posix().removeprefix(project.root.as_posix()).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(_tool_versions().encode())
    return digest.hexdigest()[:16]
