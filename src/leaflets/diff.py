"""Compare two builds, or the content with its approval: which statements changed, word by word, where.

`leaflets diff` starts with the statements (added, removed, changed, by key, with the old and new
words and the documents that print them), then the documents: each one's review status, and its
text diff and changed pages, with documents that changed the same way grouped under one diff.
The statements of a build folder come from its manifest (`statements`, `statement_texts`), which
every build writes; `--since-approval` compares what the resolver returns now with the texts and
hashes the approval files in content/approvals/ recorded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from leaflets.errors import LeafletsError

Status = Literal["added", "removed", "changed", "unchanged"]
Change = Literal["added", "removed", "changed"]
WORKTREE = "WORKTREE"
RENDER_SCALE = 1.0  # 72 dpi: enough to see what moved, small enough to compare quickly
TILE = 12  # pixels: changed areas are found tile by tile, then merged into boxes
#: Where the report goes unless --report says otherwise: under output/, which git ignores.
DEFAULT_REPORT = Path("output") / "diff"
REPORT_TEMPLATE = "diff-report.html.j2"


# Words


def word_diff(old: str | None, new: str | None) -> tuple[tuple[str, str], ...]:
    """Return `old` -> `new` as runs of words: ('same', words), ('del', words) or ('ins', words)."""
    before, after = (old or "").split(), (new or "").split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", " ".join(before[i1:i2])))
            continue
        if i2 > i1:
            out.append(("del", " ".join(before[i1:i2])))
        if j2 > j1:
            out.append(("ins", " ".join(after[j1:j2])))
    return tuple(out)


def terminal_words(segments: Iterable[tuple[str, str]]) -> str:
    """Return word runs as a terminal shows them: `[-old-]{+new+}`, as `git diff --word-diff` does."""
    marks = {"same": "{}", "del": "[-{}-]", "ins": "{{+{}+}}"}
    out = ""
    last = ""
    for op, words in segments:
        out += ("" if not out or (last, op) == ("del", "ins") else " ") + marks[op].format(words)
        last = op
    return out


@dataclass(frozen=True)
class TextChange:
    """One statement's old and new words (None: not printed on that side), and the documents that print them."""

    old: str | None
    new: str | None
    documents: tuple[str, ...]

    @property
    def words(self) -> tuple[tuple[str, str], ...]:
        return word_diff(self.old, self.new)

    @property
    def terminal(self) -> str:
        return terminal_words(self.words)


@dataclass(frozen=True)
class StatementChange:
    """A statement, by key, that is new, gone, or printed differently.

    texts: one entry per distinct old/new pair (the audiences read different words).
    now_in, no_longer_in: documents (in both builds) that began or stopped printing it.
    note: what changed besides the words (such as its sources, for an approval).
    """

    key: str
    status: Change
    texts: tuple[TextChange, ...] = ()
    now_in: tuple[str, ...] = ()
    no_longer_in: tuple[str, ...] = ()
    note: str = ""

    @property
    def documents(self) -> tuple[str, ...]:
        """Return every document that prints it (or printed it, once removed)."""
        names = {d for t in self.texts for d in t.documents} | set(self.now_in) | set(self.no_longer_in)
        return tuple(sorted(names))


def _group_texts(pairs: dict[str, tuple[str | None, str | None]]) -> tuple[TextChange, ...]:
    """Group documents by their (old, new) words: one TextChange per distinct pair, in document order."""
    grouped: dict[tuple[str | None, str | None], list[str]] = {}
    for name in sorted(pairs):
        grouped.setdefault(pairs[name], []).append(name)
    return tuple(TextChange(old, new, tuple(names)) for (old, new), names in grouped.items())


# Two builds


@dataclass(frozen=True)
class PageChange:
    """One page whose picture differs, with the areas that changed (x0, y0, x1, y1 in pixels)."""

    number: int
    boxes: tuple[tuple[int, int, int, int], ...]
    old_png: bytes | None
    new_png: bytes | None


@dataclass(frozen=True)
class DocumentDiff:
    """How one document differs between two builds; `review` is its review status (old, new) from the manifests."""

    name: str
    status: Status
    text_diff: tuple[str, ...] = ()
    pages: tuple[PageChange, ...] = ()
    review: tuple[str, str] = ("", "")

    @property
    def slug(self) -> str:
        """Return a name for the report's anchors and picture files: letters, digits, '.', '_' and '-' only."""
        flat = self.name.replace("/", "--")
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", flat)
        return safe if safe == flat else f"{safe}-{hashlib.sha256(self.name.encode()).hexdigest()[:8]}"

    @property
    def review_status(self) -> str:
        """Return its review status as the report shows it: `draft`, or `approved -> changed` when it moved."""
        old, new = self.review
        if self.status == "added" or old == new or not old:
            return new
        if self.status == "removed" or not new:
            return old
        return f"{old} -> {new}"

    @property
    def hunks(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Return each hunk of the text diff as (its removed and added lines, its lines to show).

        The lines to show start with a bare `@@`: line numbers differ from document to document even
        where the change is the same.
        """
        out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        lines: list[str] = []
        for line in (*self.text_diff[2:], "@@"):
            if line.startswith("@@"):
                if lines:
                    changed = tuple(x for x in lines if x[:1] in "+-")
                    out.append((changed, ("@@", *lines)))
                lines = []
            else:
                lines.append(line)
        return out


@dataclass(frozen=True)
class ChangeGroup:
    """Text changes that exactly the same documents made: shown once, with the documents' names.

    lines: the changes (hunks, each after a bare `@@`), as the first document shows them; empty for
    documents whose text did not change but whose pages look different.
    """

    lines: tuple[str, ...]
    documents: tuple[DocumentDiff, ...]


@dataclass(frozen=True)
class DiffReport:
    """Every document of both builds, by status, and the statements that changed."""

    old: Path
    new: Path
    documents: tuple[DocumentDiff, ...] = field(default_factory=tuple)
    statements: tuple[StatementChange, ...] = ()
    #: What the statement summary could not see (a build without a manifest, or without texts in it).
    notes: tuple[str, ...] = ()

    def with_status(self, status: Status) -> list[DocumentDiff]:
        return [d for d in self.documents if d.status == status]

    @property
    def changed(self) -> bool:
        return any(d.status != "unchanged" for d in self.documents)

    def statements_with(self, status: Change) -> list[StatementChange]:
        return [s for s in self.statements if s.status == status]

    def groups(self) -> list[ChangeGroup]:
        """Return the text changes, each once, grouped by the documents that make them; most documents first.

        Two documents whose whole text diffs are the same form one group; a change that only some
        of them make (a consent record's leaflet code, say) is a group of its own.
        """
        shown: dict[tuple[str, ...], tuple[str, ...]] = {}
        made_by: dict[tuple[str, ...], list[DocumentDiff]] = {}
        for doc in self.with_status("changed"):
            hunks = doc.hunks
            for key, lines in hunks:
                shown.setdefault(key, lines)
                if doc not in made_by.setdefault(key, []):
                    made_by[key].append(doc)
            if not hunks:
                made_by.setdefault((), []).append(doc)
                shown.setdefault((), ())
        grouped: dict[tuple[str, ...], tuple[list[str], list[DocumentDiff]]] = {}
        for key, docs in made_by.items():
            grouped.setdefault(tuple(d.name for d in docs), ([], docs))[0].extend(shown[key])
        groups = [ChangeGroup(tuple(text), tuple(docs)) for text, docs in grouped.values()]
        return sorted(groups, key=lambda g: (-len(g.documents), g.documents[0].name))


def compare(old: Path, new: Path) -> DiffReport:
    """Compare the PDFs (and their text snapshots and manifests) of two build folders."""
    from leaflets.output import read_manifest

    for folder in (old, new):
        if not folder.is_dir():
            raise LeafletsError(f"{folder}: expected a build folder, found none")
    old_pdfs = _pdfs(old)
    new_pdfs = _pdfs(new)
    old_entries, new_entries = read_manifest(old), read_manifest(new)
    docs = []
    for name in sorted(old_pdfs.keys() | new_pdfs.keys()):
        review = (_review(old_entries, name), _review(new_entries, name))
        if name not in new_pdfs:
            docs.append(DocumentDiff(name, "removed", review=review))
        elif name not in old_pdfs:
            docs.append(DocumentDiff(name, "added", review=review))
        else:
            docs.append(dataclasses.replace(_compare_document(name, old_pdfs[name], new_pdfs[name]), review=review))
    statements, notes = statement_changes(old_entries, new_entries, old, new)
    return DiffReport(old, new, tuple(docs), statements, notes)


def _review(entries: dict[str, dict[str, Any]], name: str) -> str:
    status = entries.get(name, {}).get("review_status", "")
    return status if isinstance(status, str) else ""


def statement_changes(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], old_folder: Path, new_folder: Path
) -> tuple[tuple[StatementChange, ...], tuple[str, ...]]:
    """Compare the statements two manifests' documents print: by key, with their words per document."""
    notes = []
    for entries, folder in ((old, old_folder), (new, new_folder)):
        if not entries:
            notes.append(f"{folder}: no manifest.json with documents, so no statement summary for it")
        elif any(not isinstance(e.get("statement_texts"), dict) for e in entries.values()):
            notes.append(
                f"{folder}: its manifest has no statement texts (built by an older leaflets): "
                "statements compared by key only"
            )
    if not old or not new:
        return (), tuple(notes)
    before, after = _printed(old), _printed(new)
    both = old.keys() & new.keys()  # documents in both builds: a new edition is not a statement moving
    out = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, {}), after.get(key, {})
        if not was:
            out.append(StatementChange(key, "added", _group_texts({d: (None, t) for d, t in now.items()})))
            continue
        if not now:
            out.append(StatementChange(key, "removed", _group_texts({d: (t, None) for d, t in was.items()})))
            continue
        pairs = {
            d: (was[d], now[d])
            for d in was.keys() & now.keys()
            if was[d] is not None and now[d] is not None and was[d] != now[d]
        }
        now_in = tuple(sorted((now.keys() - was.keys()) & both))
        no_longer_in = tuple(sorted((was.keys() - now.keys()) & both))
        if pairs or now_in or no_longer_in:
            out.append(StatementChange(key, "changed", _group_texts(pairs), now_in, no_longer_in))
    return tuple(out), tuple(notes)


def _printed(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, str | None]]:
    """Return {statement key: {document: its words there (None: not recorded)}} from a manifest."""
    out: dict[str, dict[str, str | None]] = {}
    for name, entry in entries.items():
        keys = entry.get("statements")
        texts = entry.get("statement_texts")
        texts = texts if isinstance(texts, dict) else {}
        for key in keys if isinstance(keys, list) else []:
            if isinstance(key, str):
                words = texts.get(key)
                out.setdefault(key, {})[name] = words if isinstance(words, str) else None
    return out


def _pdfs(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).with_suffix("").as_posix(): p for p in sorted(folder.rglob("*.pdf"))}


def _compare_document(name: str, old: Path, new: Path) -> DocumentDiff:
    if old.read_bytes() == new.read_bytes():
        return DocumentDiff(name, "unchanged")
    text_diff = tuple(difflib.unified_diff(_lines(old), _lines(new), f"old/{name}", f"new/{name}", lineterm="", n=1))
    pages = tuple(_changed_pages(old, new))
    if not text_diff and not pages:
        return DocumentDiff(name, "unchanged")
    return DocumentDiff(name, "changed", text_diff, pages)


def _lines(pdf: Path) -> list[str]:
    snapshot = pdf.with_suffix(".txt")
    if snapshot.is_file():
        return snapshot.read_text(encoding="utf-8").splitlines()
    from leaflets.pdftext import page_texts

    return [line for page in page_texts(pdf) for line in page.split(". ")]


def _render(pdf: Path) -> list:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [page.render(scale=RENDER_SCALE).to_pil().convert("RGB") for page in doc]
    finally:
        doc.close()


def _changed_pages(old: Path, new: Path) -> list[PageChange]:
    old_pages, new_pages = _render(old), _render(new)
    out = []
    for number in range(1, max(len(old_pages), len(new_pages)) + 1):
        before = old_pages[number - 1] if number <= len(old_pages) else None
        after = new_pages[number - 1] if number <= len(new_pages) else None
        if before is not None and after is not None and before.tobytes() == after.tobytes():
            continue
        boxes = _changed_boxes(before, after)
        out.append(PageChange(number, boxes, _png(before, boxes, "#c00000"), _png(after, boxes, "#c00000")))
    return out


def _changed_boxes(before, after) -> tuple[tuple[int, int, int, int], ...]:
    from PIL import ImageChops

    if before is None or after is None or before.size != after.size:
        page = before or after
        return ((0, 0, page.width, page.height),)
    diff = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v > 24 else 0)
    rows: list[tuple[int, int]] = []
    for top in range(0, diff.height, TILE):
        band = diff.crop((0, top, diff.width, min(top + TILE, diff.height))).getbbox()
        if band is None:
            continue
        if rows and rows[-1][1] >= top - TILE:
            rows[-1] = (rows[-1][0], top + TILE)
        else:
            rows.append((top, top + TILE))
    boxes = []
    for top, bottom in rows:
        box = diff.crop((0, top, diff.width, min(bottom, diff.height))).getbbox()
        if box:
            boxes.append(
                (
                    max(box[0] - 3, 0),
                    max(top - 3, 0),
                    min(box[2] + 3, diff.width),
                    min(bottom + 3, diff.height),
                )
            )
    return tuple(boxes)


def _png(image, boxes, colour: str) -> bytes | None:
    if image is None:
        return None
    from PIL import ImageDraw

    marked = image.copy()
    draw = ImageDraw.Draw(marked)
    for box in boxes:
        draw.rectangle(box, outline=colour, width=3)
    buffer = BytesIO()
    marked.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# The report


def write_html(report: DiffReport, folder: Path) -> Path:
    """Write `folder/index.html`: the statements, then the documents with their diffs and pages side by side."""
    folder = _report_folder(folder)
    pictures: dict[str, list[dict[str, Any]]] = {}
    for doc in report.with_status("changed"):
        pictures[doc.name] = [_page_pictures(doc, page, folder) for page in doc.pages]
    return _write_report(folder, kind="builds", report=report, pictures=pictures)


def write_approval_html(diffs: list[ApprovalDiff], folder: Path) -> Path:
    """Write `folder/index.html`: per topic and region, what changed since its approval."""
    return _write_report(_report_folder(folder), kind="approval", diffs=diffs)


def _report_folder(folder: Path) -> Path:
    from leaflets.output import prepare_output

    return prepare_output(folder)


def _page_pictures(doc: DocumentDiff, page: PageChange, folder: Path) -> dict[str, Any]:
    from leaflets.output import write_atomic

    sides: dict[str, str | None] = {}
    for side, data in (("old", page.old_png), ("new", page.new_png)):
        if data is None:
            sides[side] = None
            continue
        name = f"{doc.slug}-page{page.number}-{side}.png"
        write_atomic(folder / name, data)
        sides[side] = name
    return {"number": page.number, **sides}


def _write_report(folder: Path, **context: Any) -> Path:
    from jinja2 import TemplateError

    from leaflets.output import write_atomic
    from leaflets.render import make_environment

    env = make_environment(Path(__file__).parent / "resources")
    try:
        text = env.get_template(REPORT_TEMPLATE).render(**context)
    except TemplateError as exc:  # the template ships with leaflets: a failure here is a bug, said in one line
        raise LeafletsError(f"leaflets/resources/{REPORT_TEMPLATE}: {exc}") from exc
    index = folder / "index.html"
    write_atomic(index, text.encode("utf-8"))
    return index


# The content against its approval


@dataclass(frozen=True)
class ApprovalDiff:
    """What one topic prints in one region now, against its approval (None: never approved)."""

    topic: str
    region: str
    reviewer: str | None
    date: dt.date | None
    statements: tuple[StatementChange, ...] = ()
    #: Other things that differ from the approval: `outcome:ID`, `reference:ID`, `string:KEY`, `title`.
    other: tuple[str, ...] = ()
    #: Each document (its standard edition) and its review status: approved, changed or draft.
    documents: tuple[tuple[str, str], ...] = ()
    printed: int = 0

    @property
    def approved(self) -> bool:
        return self.reviewer is not None

    @property
    def changed(self) -> bool:
        """Return True unless it is approved and nothing it prints changed since."""
        return not self.approved or bool(self.statements or self.other)


def since_approval(root: Path, topics: tuple[str, ...] = (), regions: tuple[str, ...] = ()) -> list[ApprovalDiff]:
    """Compare what every document of each topic prints in each region with that topic's approval."""
    from leaflets.approval import load_approvals
    from leaflets.review import _known
    from leaflets.session import check_topics, open_project

    project = open_project(root)
    chosen = check_topics(project, topics)
    for region in regions:
        for topic in chosen:
            _known(project, topic, region)
    served = sorted({c.region for c in project.clinics.values()})
    approvals = load_approvals(project)
    return [
        _since(project, topic, region, approvals.get((topic, region)))
        for region in (regions or tuple(served))
        for topic in chosen
    ]


def _since(project: Any, topic: str, region: str, approval: Any) -> ApprovalDiff:
    from leaflets.approval import current
    from leaflets.session import Session

    now = current(project, topic, region)
    if approval is None:
        docs = tuple((sel.spec.name, "draft") for sel in now.selections)
        return ApprovalDiff(topic, region, None, None, documents=docs, printed=len(now.statements))
    sessions: dict[str, Session] = {}
    documents, other = [], set()
    printed_by: dict[tuple[str, str], set[str]] = {}  # (key, audience) -> documents
    for sel in now.selections:
        spec = sel.spec
        if spec.clinic not in sessions:
            sessions[spec.clinic] = Session.open(project, project.clinics[spec.clinic])
        mark = sessions[spec.clinic].render(spec).review
        documents.append((spec.name, mark.status if mark else "draft"))
        other |= {
            c for c in (mark.changed if mark else ()) if c.startswith(("outcome:", "reference:", "string:", "title"))
        }
        for item in sel.items:
            printed_by.setdefault((item.key, spec.audience), set()).add(spec.name)
    statements = []
    for key in sorted(approval.statements.keys() | now.statements.keys()):
        was = approval.statements.get(key)
        texts: dict[str, str] = {str(a): t for a, t in now.texts.get(key, {}).items()}
        if was is not None and was.sha256 == now.statements.get(key):
            continue
        old = {str(a): t for a, t in was.text.items()} if was is not None else {}
        by_audience = {a: (old.get(a), texts.get(a)) for a in sorted(old.keys() | texts.keys())}
        pairs: dict[tuple[str | None, str | None], list[str]] = {}
        for audience, pair in by_audience.items():
            if pair[0] == pair[1]:
                continue
            names = printed_by.get((key, audience)) or {f"{audience} documents"}  # gone: who read it then
            pairs.setdefault(pair, []).extend(names)
        changes = tuple(TextChange(o, n, tuple(sorted(set(d)))) for (o, n), d in pairs.items())
        status: Change = "added" if was is None else ("removed" if key not in now.statements else "changed")
        note = "" if changes or status != "changed" else "its words are the same; its sources changed"
        statements.append(StatementChange(key, status, changes, note=note))
    return ApprovalDiff(
        topic,
        region,
        approval.reviewer,
        approval.date,
        tuple(statements),
        tuple(sorted(other)),
        tuple(documents),
        len(now.statements),
    )


def build_revision(root: Path, rev: str, into: Path) -> Path:
    """Build git revision `rev` of the project (or WORKTREE, the files as they are) into `into`."""
    from leaflets.build import BuildOptions, build

    source = into / "src"
    source.mkdir(parents=True)
    if rev == WORKTREE:
        for name in ("content", "seeds", "templates"):
            shutil.copytree(root / name, source / name)
    else:
        _export(root, rev, source)
    build(source, BuildOptions(out=into / "out", formats=("pdf", "txt")))
    return into / "out"


def _export(root: Path, rev: str, into: Path) -> None:
    try:
        archive = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "archive",
                "--format=tar",
                rev,
                "content",
                "seeds",
                "templates",
            ],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = (
            exc.stderr.decode(errors="replace").strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        )
        raise LeafletsError(f"--rev {rev}: expected a git revision of {root}, found none ({detail})") from None
    try:
        extract_tar(archive, into)
    except UnsafeArchive as exc:
        raise LeafletsError(f"--rev {rev}: {exc}") from None


class UnsafeArchive(LeafletsError):
    """An archive member that would land outside the folder it is extracted into."""


def extract_tar(archive: bytes, into: Path) -> None:
    """Extract a tar archive's files, folders and symlinks into `into`, refusing anything that escapes it.

    Written out member by member rather than with `extractall(filter=...)`, which Python 3.11 only
    gained in a patch release (3.11.4): the same checks on every Python the project supports.
    """
    root = Path(os.path.realpath(into))
    links = []
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        for member in tar.getmembers():
            _extract_member(tar, member, root)
            if member.issym():
                links.append(member)
    for member in links:  # a link may point through links made after it: judge where each one ends up
        _really_inside(root, root / member.name, member.name)


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path) -> None:
    target = _inside(root, member.name, member.name)
    if member.issym():
        _inside(root, os.path.join(os.path.dirname(member.name), member.linkname), member.name)
    elif member.islnk():
        _really_inside(root, _inside(root, member.linkname, member.name), member.name)
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchive(f"expected files, folders and links in the archive, found {member.name!r} (a device)")
    if member.isdir():
        _really_inside(root, target, member.name)
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    _really_inside(root, target.parent, member.name)  # no way out through a symlinked folder
    if target.is_symlink() or target.exists():
        raise UnsafeArchive(f"expected each archive member once, found {member.name!r} again")
    if member.issym():
        os.symlink(member.linkname, target)
    elif member.islnk():
        shutil.copyfile(root / member.linkname, target)
    else:
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has contents
        target.write_bytes(source.read())


def _inside(root: Path, name: str, member: str) -> Path:
    """Return where `name` lands under `root`, as written; raise if it is absolute or climbs out."""
    if os.path.isabs(name) or name.startswith("\\"):
        raise UnsafeArchive(f"expected paths inside the project in the archive, found {member!r} (an absolute path)")
    path = Path(os.path.normpath(root / name))
    if path != root and root not in path.parents:
        raise UnsafeArchive(f"expected paths inside the project in the archive, found {member!r} (it leads outside)")
    return path


def _really_inside(root: Path, path: Path, member: str) -> None:
    """Raise if `path`, with every symlink on the way followed, ends outside `root`."""
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        raise UnsafeArchive(
            f"expected paths inside the project in the archive, found {member!r} (a link leads outside)"
        )


def compare_revisions(root: Path, old_rev: str, new_rev: str) -> DiffReport:
    """Build two revisions into temporary folders and compare them."""
    work = Path(tempfile.mkdtemp(prefix="leaflets-diff-"))
    try:
        old = build_revision(root, old_rev, work / "old")
        new = build_revision(root, new_rev, work / "new")
        report = compare(old, new)
        return dataclasses.replace(report, old=Path(old_rev), new=Path(new_rev))
    finally:
        shutil.rmtree(work, ignore_errors=True)
