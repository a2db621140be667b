"""The recipe: load, select, render, make PDFs, write the output tree and its manifest."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from leaflets import assets
from leaflets.content import Project, choose_clinic, clinic_logo_path, load_project
from leaflets.errors import LeafletsError, OutputError, UsageError
from leaflets.model import AUDIENCES, DOCUMENTS, Audience, Clinic, DocumentKind, Format, Paper
from leaflets.render import LeafletRef, fingerprint, html_to_text, make_environment, render_html
from leaflets.select import DocumentSpec, select

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from leaflets.pdf import PdfMaker

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuildOptions:
    """What to build; an empty tuple or None means every choice, or the clinic's own."""

    topics: tuple[str, ...] = ()
    documents: tuple[DocumentKind, ...] = DOCUMENTS
    audiences: tuple[Audience, ...] = AUDIENCES
    formats: tuple[Format, ...] = ("pdf",)
    paper: Paper | None = None
    large_print: bool = False
    clinic: Path | None = None
    out: Path = Path("output")
    templates: Path | None = None


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


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote."""

    out: Path
    documents: tuple[BuiltDocument, ...]
    manifest: Path
    inputs: str = field(default="")


@dataclass(frozen=True)
class Rendered:
    """A document rendered to HTML and text, before any PDF is made."""

    spec: DocumentSpec
    html: str
    text: str


def build(root: Path, options: BuildOptions) -> BuildReport:
    """Build the documents `options` asks for from the project at `root`."""
    project = load_project(root, extra_clinic=options.clinic)
    clinic = choose_clinic(project, options.clinic)
    templates = (options.templates or project.root / "templates").resolve()
    specs = plan(project, options, clinic)
    run = _Run(
        project,
        make_environment(templates),
        clinic,
        (templates, project.content_dir),
        prepare_output(options.out),
        options.formats,
    )
    from leaflets.pdf import PdfMaker  # lazily: WeasyPrint is slow to import

    maker = PdfMaker(roots=run.roots, base_url=templates.as_uri() + "/")
    built = [_write_document(run, spec, maker) for spec in specs]
    inputs = inputs_fingerprint(project, templates, clinic)
    manifest = write_manifest(run.out, built, inputs, clinic.id)
    return BuildReport(out=run.out, documents=tuple(built), manifest=manifest, inputs=inputs)


@dataclass(frozen=True)
class _Run:
    """What every document of one build shares."""

    project: Project
    env: SandboxedEnvironment
    clinic: Clinic
    roots: tuple[Path, ...]
    out: Path
    formats: tuple[Format, ...]

    def logo_url(self, inline: bool) -> str | None:
        return clinic_logo_url(self.project, self.clinic, self.roots, inline)

    def render(self, spec: DocumentSpec, leaflet: LeafletRef | None, media: str = "print") -> Rendered:
        return render_document(
            self.project,
            self.env,
            spec,
            self.clinic,
            leaflet,
            self.logo_url(inline=media != "print"),
            media,
        )


def clinic_logo_url(project: Project, clinic: Clinic, roots: tuple[Path, ...], inline: bool) -> str | None:
    """Return the clinic logo's URL: a guarded file URL for PDFs, or inlined for standalone HTML."""
    logo = clinic_logo_path(project, clinic)
    if logo is None:
        return None
    path = assets.guard_path(logo, roots, "clinic logo")
    assets.image_type(path, "clinic logo")
    return assets.data_url(path, "clinic logo") if inline else path.as_uri()


def plan(project: Project, options: BuildOptions, clinic: Clinic) -> list[DocumentSpec]:
    """List the documents to build, sorted, leaflets before the consent sheets that cite them."""
    unknown = sorted(set(options.topics) - set(project.topics))
    if unknown:
        raise UsageError(f"--topic: expected one of {', '.join(sorted(project.topics))}, found {', '.join(unknown)}")
    topics = sorted(options.topics or project.topics)
    paper = options.paper or clinic.paper
    return [
        DocumentSpec(topic, document, audience, paper, options.large_print)
        for topic in topics
        for document in DOCUMENTS
        if document in options.documents
        for audience in AUDIENCES
        if audience in options.audiences
    ]


def leaflet_audience(spec: DocumentSpec) -> Audience:
    """Return which leaflet a consent sheet refers to: the one given to the patient or carer."""
    return "patient" if spec.audience == "clinician" else spec.audience


def render_document(
    project: Project,
    env: SandboxedEnvironment,
    spec: DocumentSpec,
    clinic: Clinic,
    leaflet: LeafletRef | None,
    logo_url: str | None,
    media: str = "print",
) -> Rendered:
    """Render one document to HTML and its plain text."""
    selection = select(project, spec, clinic)
    html = render_html(env, project, selection, leaflet=leaflet, logo_url=logo_url, media=media)
    return Rendered(spec, html, html_to_text(html))


def leaflet_ref(
    project: Project,
    env: SandboxedEnvironment,
    spec: DocumentSpec,
    clinic: Clinic,
    logo_url: str | None,
) -> LeafletRef:
    """Render the leaflet a consent sheet cites, and return its title, version and fingerprint."""
    leaflet_spec = DocumentSpec(spec.topic, "leaflet", leaflet_audience(spec), spec.paper, spec.large_print)
    rendered = render_document(project, env, leaflet_spec, clinic, None, logo_url)
    topic = project.topics[spec.topic]
    title = topic.title.for_audience(leaflet_spec.audience) or topic.short_title
    return LeafletRef(title, topic.version, fingerprint(rendered.text))


def _write_document(run: _Run, spec: DocumentSpec, maker: PdfMaker) -> BuiltDocument:
    leaflet = None
    if spec.document == "consent":
        leaflet = leaflet_ref(run.project, run.env, spec, run.clinic, run.logo_url(inline=False))
    rendered = run.render(spec, leaflet)
    files: dict[str, OutputFile] = {}
    for fmt in sorted(set(run.formats)):
        path = run.out / spec.topic / f"{spec.stem}.{fmt}"
        pages = None
        if fmt == "pdf":
            data, pages = maker.make(rendered.html, f"{spec.topic}/{spec.stem}")
        elif fmt == "html":
            data = run.render(spec, leaflet, media="screen").html.encode("utf-8")
        else:
            data = rendered.text.encode("utf-8")
        write_atomic(path, data)
        files[fmt] = OutputFile(path, hashlib.sha256(data).hexdigest(), pages)
    log.info("built %s/%s", spec.topic, spec.stem)
    topic = run.project.topics[spec.topic]
    return BuiltDocument(spec, files, fingerprint(rendered.text), topic.review.status, topic.version)


def prepare_output(out: Path) -> Path:
    """Create the output folder, or say clearly why it cannot be used."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: expected an output folder, found a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise OutputError(f"{out}: expected a writable output folder, found it read-only")
    for leftover in out.rglob(".*.part"):
        leftover.unlink(missing_ok=True)  # from a build that was killed mid-write
    return out


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, so no reader ever sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def inputs_fingerprint(project: Project, templates: Path, clinic: Clinic) -> str:
    """Hash everything a build reads, and the versions of the tools that read it."""
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
    for package in ("leaflets", "weasyprint", "font-source-sans-pro"):
        digest.update(f"{package}={metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


def write_manifest(out: Path, built: list[BuiltDocument], inputs: str, clinic: str) -> Path:
    """Write output/manifest.json: one sorted entry per document, merged with earlier builds."""
    path = out / MANIFEST
    entries = _previous_entries(path, out)
    for doc in built:
        entries[f"{doc.spec.topic}/{doc.spec.stem}"] = {
            **_entry(out, doc, inputs),
            "clinic": clinic,
        }
    body = {"documents": [entries[k] for k in sorted(entries)]}
    write_atomic(path, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path


def _previous_entries(path: Path, out: Path) -> dict[str, dict]:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))["documents"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    keep = {}
    for entry in old if isinstance(old, list) else []:
        if isinstance(entry, dict) and all((out / f["path"]).exists() for f in entry.get("files", {}).values()):
            keep[entry["id"]] = entry
    return keep


def _entry(out: Path, doc: BuiltDocument, inputs: str) -> dict:
    spec = doc.spec
    return {
        "id": f"{spec.topic}/{spec.stem}",
        "topic": spec.topic,
        "document": spec.document,
        "audience": spec.audience,
        "paper": spec.paper,
        "large_print": spec.large_print,
        "version": doc.version,
        "review_status": doc.review_status,
        "fingerprint": doc.fingerprint,
        "inputs": inputs,
        "files": {
            fmt: {
                "path": f.path.relative_to(out).as_posix(),
                "sha256": f.sha256,
                **({"pages": f.pages} if f.pages else {}),
            }
            for fmt, f in sorted(doc.files.items())
        },
    }
