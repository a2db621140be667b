"""`leaflets serve`: a live preview for the people who write and edit content.

Edit a YAML file, save, and the open page reloads with the new words; a content error shows as the
same file:line lines the CLI prints, above the last good rendering. Only what the preview renders is
served: no files, no directory listings, nothing outside.
"""

from __future__ import annotations

import errno
import hashlib
import html
import ipaddress
import json
import logging
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from leaflets.check import check_project, document_grade, format_issue
from leaflets.content import clinic_logo_path
from leaflets.errors import ContentError, Issue, LeafletsError, UsageError
from leaflets.model import AUDIENCES, DOCUMENTS, PAPERS
from leaflets.session import Session, check_topics, open_session

if TYPE_CHECKING:
    from leaflets.pdf import PdfMaker

log = logging.getLogger(__name__)

DocumentKey = tuple[str, str, str]  # (topic, document, audience): one document of the preview, in either print size


@dataclass(frozen=True)
class Snapshot:
    """The last good state of the content: its session, rendered pages, grades and findings."""

    session: Session
    html: dict[tuple[DocumentKey, bool], str]
    grades: dict[DocumentKey, float]
    findings: dict[str, tuple[Issue, ...]]


@dataclass
class Preview:
    """Renders the project on demand and remembers the last good rendering."""

    root: Path
    topics: tuple[str, ...] = ()
    clinic_file: str | Path | None = None  # an id or a clinic file, as --clinic gives it
    templates: Path | None = None
    version: int = 0
    errors: list[str] = field(default_factory=list)
    good: Snapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pdfs: dict[str, bytes] = field(default_factory=dict)
    _maker: PdfMaker | None = None
    _pages: dict[tuple[DocumentKey, bool], tuple[str, str]] = field(default_factory=dict)
    renders: int = 0  # how many pages were rendered, so tests can see what a change rebuilt

    @property
    def templates_dir(self) -> Path:
        return (self.templates or self.root / "templates").resolve()

    def reload(self) -> None:
        """Load and render everything again; on failure keep the last good rendering and say why."""
        try:
            snapshot = self._snapshot()
        except UsageError as exc:
            if self.version == 0:  # asked for at the start (--topic): a usage error, not a page to show
                raise
            self._failed([f"Error: {exc}"])
        except ContentError as exc:
            self._failed([f"Error: {issue}" for issue in exc.issues])
        except LeafletsError as exc:
            self._failed([f"Error: {line}" for line in str(exc).splitlines()])
        else:
            with self._lock:
                self.good, self.errors = snapshot, []
                self.version += 1
            log.info("preview updated (version %d)", self.version)

    def _failed(self, lines: list[str]) -> None:
        with self._lock:
            self.errors = lines
            self.version += 1
        log.warning("content has errors: %d", len(lines))

    def _snapshot(self) -> Snapshot:
        session = open_session(self.root, self.clinic_file, self.templates)
        project = session.project
        topics = check_topics(project, self.topics)
        shared = self._shared_inputs(session)
        rendered: dict[tuple[DocumentKey, bool], str] = {}
        grades: dict[DocumentKey, float] = {}
        pages = {}
        for topic in topics:
            for document in DOCUMENTS:
                for audience in AUDIENCES:
                    key: DocumentKey = (topic, document, audience)
                    inputs = self._inputs(session, key, shared)
                    for large in (False, True):
                        previous = self._pages.get((key, large))
                        if previous and previous[0] == inputs:
                            page = previous[1]  # nothing it depends on changed
                        else:
                            page = session.render(session.spec(topic, document, audience, large=large), "screen").html
                            self.renders += 1
                        rendered[(key, large)] = page
                        pages[(key, large)] = (inputs, page)
                    grades[key] = document_grade(project, session.select(session.spec(topic, document, audience))).grade
        self._pages = pages
        no_build = self.root / ".no-build"  # the preview judges content; completeness is for real builds
        findings = {t: check_project(project, (t,), build_dir=no_build).issues for t in topics}
        return Snapshot(session, rendered, grades, findings)

    def _shared_inputs(self, session: Session) -> str:
        """Hash what every page depends on beyond what the resolver returns: templates, strings, logo, approvals."""
        project = session.project
        digest = hashlib.sha256()
        for folder in (session.templates, project.content_dir / "approvals"):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(path.as_posix().encode() + hashlib.sha256(path.read_bytes()).digest())
        logo = clinic_logo_path(project, session.clinic)
        if logo is not None and logo.is_file():
            digest.update(logo.read_bytes())
        digest.update(json.dumps(project.strings, sort_keys=True).encode())
        return digest.hexdigest()

    def _inputs(self, session: Session, key: DocumentKey, shared: str) -> str:
        """Hash what one document depends on (the resolver's digest), so a change re-renders only what it touches."""
        spec = session.spec(*key)
        parts = [shared, session.select(spec).digest()]
        if spec.document == "consent":  # it cites the leaflet code of the leaflet given to the patient or carer
            parts.append(session.select(spec.leaflet()).digest())
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def pdf(self, key: DocumentKey, paper: str, large: bool) -> bytes:
        """Make (or reuse) the PDF of one document from the last good content."""
        snapshot = self.good
        if snapshot is None:
            raise LeafletsError("no good rendering yet")
        session = snapshot.session
        page = session.render(session.spec(*key, paper=paper, large=large), "print").html
        digest = hashlib.sha256(page.encode("utf-8")).hexdigest()
        with self._lock:
            if digest in self._pdfs:
                return self._pdfs[digest]
            if self._maker is None:  # one maker (and font configuration) for the preview's whole run
                self._maker = session.maker
            data, _ = self._maker.make(page, f"{key[0]}/{key[1]}-{key[2]}")
            self._pdfs = {digest: data, **{k: v for k, v in list(self._pdfs.items())[-40:]}}
            return data

    def watch_paths(self) -> list[Path]:
        paths = [self.root / "content", self.root / "seeds", self.templates_dir]
        if self.clinic_file is not None:
            paths.append(self.clinic_file.resolve().parent)
        return [p for p in paths if p.exists()]


class Watcher:
    """Reload the preview whenever a watched file changes."""

    #: How long `start` waits for the file watch to become active before giving up.
    START_TIMEOUT = 30.0

    def __init__(self, preview: Preview):
        self.preview = preview
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="leaflets-watch", daemon=True)

    def start(self) -> Watcher:
        """Start watching; return once the watch is active, so a save made right after is seen."""
        self.thread.start()
        if not self.ready.wait(self.START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the file watch did not start within {self.START_TIMEOUT:g} s")
        if self.failure is not None:
            raise self.failure
        return self

    def _run(self) -> None:
        from watchfiles import watch

        try:
            # yield_on_timeout: the first (possibly empty) yield comes once the watch is set up; changes
            # made after that and before the next wait are kept by watchfiles, not lost.
            for changes in watch(
                *self.preview.watch_paths(),
                stop_event=self.stop_event,
                debounce=200,
                step=50,
                rust_timeout=100,
                yield_on_timeout=True,
            ):
                self.ready.set()
                if changes:
                    self.preview.reload()
        except BaseException as exc:  # handed to start() when it is still waiting; otherwise a bug to see
            if self.ready.is_set():
                raise
            self.failure = exc
        finally:
            self.ready.set()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)


def is_loopback(host: str) -> bool:
    """Say whether `host` names this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(preview: Preview, host: str, port: int) -> ThreadingHTTPServer:
    """Create the preview's HTTP server (not started)."""

    class Handler(_Handler):
        state = preview

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise LeafletsError(f"{host}:{port}: cannot listen: {_listen_problem(exc, port)}") from None
    server.daemon_threads = True
    return server


def _listen_problem(exc: OSError, port: int) -> str:
    """Say why the preview cannot listen, and what fixes it."""
    if exc.errno == errno.EADDRINUSE:
        return f"expected a free port, found {port} in use (pick another with --port, or --port 0 for any free one)"
    if exc.errno == errno.EACCES:
        return f"expected a port this user may open, found {port} (ports below 1024 need root; try --port 8000)"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return "expected an address of this machine (--host), found none by that name"
    return f"{exc.strerror or exc} (try another --port or --host)"


class _Handler(BaseHTTPRequestHandler):
    state: Preview
    server_version = "leaflets-preview"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = url.path.split("/")[1:]
        try:
            if url.path == "/":
                return self._send(200, "text/html", _index(self.state))
            if url.path == "/_version":
                body = json.dumps({"version": self.state.version, "errors": len(self.state.errors)})
                return self._send(200, "application/json", body)
            if len(parts) == 4 and parts[0] in ("doc", "html", "pdf"):
                key = self._key(parts[1:])
                paper = query.get("paper", self.state.good.session.clinic.paper if self.state.good else "letter")
                large = query.get("large", "0")
                if key is None or paper not in PAPERS or large not in ("0", "1"):
                    return self._not_found()
                if parts[0] == "doc":
                    return self._send(200, "text/html", _view(self.state, key, paper, large == "1"))
                if parts[0] == "html":
                    assert self.state.good is not None
                    return self._send(200, "text/html", self.state.good.html[(key, large == "1")])
                return self._send(200, "application/pdf", self.state.pdf(key, paper, large == "1"))
        except LeafletsError as exc:
            return self._send(500, "text/plain", f"Error: {exc}")
        return self._not_found()

    def _key(self, parts: list[str]) -> DocumentKey | None:
        good = self.state.good
        topic, document, audience = parts
        if good is None or (topic, document, audience) not in good.grades:
            return None
        return (topic, document, audience)

    def _not_found(self) -> None:
        self._send(404, "text/plain", "Not found")

    def _send(self, status: int, kind: str, body: str | bytes) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text") else kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self' data:; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline' 'self'; frame-ancestors 'self'",
        )
        self.end_headers()
        self.wfile.write(data)


_STYLE = """
body { font-family: sans-serif; margin: 0; color: #1a1a1a; }
header { background: #0b3d59; color: #fff; padding: 0.5em 1em; }
header a { color: #fff; }
main { display: flex; gap: 1em; padding: 1em; }
.errors { background: #fdf1f1; border: 2px solid #8b0000; color: #8b0000; margin: 1em; padding: 0.5em 1em; }
.errors pre { white-space: pre-wrap; margin: 0.2em 0; font-size: 0.95em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
.badge { display: inline-block; padding: 0.1em 0.5em; border-radius: 0.8em; font-weight: bold; }
.ok { background: #dff5dd; } .warn { background: #fff3cd; } .bad { background: #fbe0e0; }
nav { padding: 0.5em 1em; } nav a { margin-right: 0.6em; }
nav a.on { font-weight: bold; text-decoration: none; color: #1a1a1a; }
iframe { width: 100%; height: 80vh; border: 1px solid #999; }
aside { min-width: 22em; max-width: 30em; font-size: 0.9em; }
"""


def _page(state: Preview, title: str, body: str) -> str:
    errors = ""
    if state.errors:
        lines = "".join(f"<pre>{html.escape(line)}</pre>" for line in state.errors)
        note = "The last good version is shown below." if state.good else "Nothing has built yet."
        errors = f'<section class="errors" id="errors"><strong>Content errors. {note}</strong>{lines}</section>'
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f'<header><a href="/">leaflets preview</a> &middot; {html.escape(title)}</header>{errors}{body}'
        f"<script>const VERSION = {state.version};"
        "setInterval(async () => { try { const r = await fetch('/_version', {cache: 'no-store'});"
        " const v = (await r.json()).version; if (v !== VERSION) location.reload(); } catch (e) {} }, 400);"
        "</script></body></html>"
    )


def _badge(grade: float) -> str:
    kind = "ok" if grade <= 6 else ("warn" if grade <= 8 else "bad")
    return f'<span class="badge {kind}" title="Flesch-Kincaid grade">grade {grade:.1f}</span>'


def _index(state: Preview) -> str:
    good = state.good
    if good is None:
        return _page(state, "Documents", "<main><p>No good rendering yet.</p></main>")
    rows = []
    for (topic, document, audience), grade in sorted(good.grades.items()):
        link = f"/doc/{topic}/{document}/{audience}"
        badge = _badge(grade) if audience != "clinician" else ""
        pdfs = " ".join(
            f'<a href="/pdf/{topic}/{document}/{audience}?paper={p}">{p.upper() if p == "a4" else p}</a>'
            for p in PAPERS
        )
        rows.append(
            f'<tr><td>{html.escape(topic)}</td><td><a href="{link}">{document}</a></td><td>{audience}</td>'
            f"<td>{badge}</td><td>PDF: {pdfs}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Topic</th><th>Document</th><th>Audience</th><th>Reading level</th>"
        f"<th>Print</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return _page(state, "Documents", f"<main><div>{table}</div></main>")


def _view(state: Preview, key: DocumentKey, paper: str, large: bool) -> str:
    assert state.good is not None
    topic, document, audience = key
    here = f"/doc/{topic}/{document}/{audience}"

    def choice(label: str, href: str, on: bool) -> str:
        return f'<a class="{"on" if on else ""}" href="{href}">{label}</a>'

    size = "&large=1" if large else ""
    audiences = " ".join(
        choice(a, f"/doc/{topic}/{document}/{a}?paper={paper}{size}", a == audience) for a in AUDIENCES
    )
    papers = " ".join(choice(p, f"{here}?paper={p}{size}", p == paper) for p in PAPERS)
    sizes = (
        choice("standard print", f"{here}?paper={paper}", not large)
        + " "
        + choice("large print", f"{here}?paper={paper}&large=1", large)
    )
    pdf = f"/pdf/{topic}/{document}/{audience}?paper={paper}{size}"
    findings = "".join(f"<li>{html.escape(format_issue(i))}</li>" for i in state.good.findings.get(topic, ()))
    grade = _badge(state.good.grades[key]) if audience != "clinician" else ""
    body = (
        f'<nav>{audiences} | {papers} | {sizes} | <a href="{pdf}">PDF</a> {grade}</nav>'
        f'<main><div style="flex: 1"><iframe title="{html.escape(topic)} {document} for {audience}" '
        f'src="/html/{topic}/{document}/{audience}?large={int(large)}"></iframe></div>'
        f"<aside><h2>leaflets check</h2><ul>{findings or '<li>No findings.</li>'}</ul></aside></main>"
    )
    return _page(state, f"{topic}: {document} for {audience}", body)
