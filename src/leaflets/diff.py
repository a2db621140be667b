"""Compare two builds: which documents changed, which words, and which pages look different."""

from __future__ import annotations

import difflib
import html
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Literal

from leaflets.errors import LeafletsError

Status = Literal["added", "removed", "changed", "unchanged"]
WORKTREE = "WORKTREE"
RENDER_SCALE = 1.0  # 72 dpi: enough to see what moved, small enough to compare quickly
TILE = 12  # pixels: changed areas are found tile by tile, then merged into boxes


@dataclass(frozen=True)
class PageChange:
    """One page whose picture differs, with the areas that changed (x0, y0, x1, y1 in pixels)."""

    number: int
    boxes: tuple[tuple[int, int, int, int], ...]
    old_png: bytes | None
    new_png: bytes | None


@dataclass(frozen=True)
class DocumentDiff:
    """How one document differs between two builds."""

    name: str
    status: Status
    text_diff: tuple[str, ...] = ()
    pages: tuple[PageChange, ...] = ()


@dataclass(frozen=True)
class DiffReport:
    """Every document of both builds, by status."""

    old: Path
    new: Path
    documents: tuple[DocumentDiff, ...] = field(default_factory=tuple)

    def with_status(self, status: Status) -> list[DocumentDiff]:
        return [d for d in self.documents if d.status == status]

    @property
    def changed(self) -> bool:
        return any(d.status != "unchanged" for d in self.documents)


def compare(old: Path, new: Path) -> DiffReport:
    """Compare the PDFs (and their text snapshots) of two build folders."""
    for folder in (old, new):
        if not folder.is_dir():
            raise LeafletsError(f"{folder}: expected a build folder, found none")
    old_pdfs = _pdfs(old)
    new_pdfs = _pdfs(new)
    docs = []
    for name in sorted(old_pdfs.keys() | new_pdfs.keys()):
        if name not in new_pdfs:
            docs.append(DocumentDiff(name, "removed"))
        elif name not in old_pdfs:
            docs.append(DocumentDiff(name, "added"))
        else:
            docs.append(_compare_document(name, old_pdfs[name], new_pdfs[name]))
    return DiffReport(old, new, tuple(docs))


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


def write_html(report: DiffReport, folder: Path) -> Path:
    """Write `folder/index.html` with the text diffs and old and new page pictures side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [_HEAD.format(old=html.escape(str(report.old)), new=html.escape(str(report.new)))]
    summary = "".join(
        f'<li><a href="#{d.name.replace("/", "--")}">{html.escape(d.name)}</a> (pages '
        f"{', '.join(str(p.number) for p in d.pages) or 'none'})</li>"
        for d in report.with_status("changed")
    )
    parts.append(f"<nav><p>Changed documents:</p><ul>{summary or '<li>none</li>'}</ul></nav>")
    for status in ("changed", "added", "removed", "unchanged"):
        docs = report.with_status(status)  # type: ignore[arg-type]
        parts.append(f"<h2>{status.capitalize()} ({len(docs)})</h2>")
        if status != "changed":
            parts.append("<ul>" + "".join(f"<li>{html.escape(d.name)}</li>" for d in docs) + "</ul>")
            continue
        for doc in docs:
            parts.append(_document_html(doc, folder))
    parts.append("</body></html>\n")
    index = folder / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def _document_html(doc: DocumentDiff, folder: Path) -> str:
    slug = doc.name.replace("/", "--")
    lines = []
    for line in doc.text_diff:
        kind = (
            "add"
            if line.startswith("+") and not line.startswith("+++")
            else ("del" if line.startswith("-") and not line.startswith("---") else "ctx")
        )
        lines.append(f'<span class="{kind}">{html.escape(line)}</span>')
    pages = []
    for page in doc.pages:
        cells = []
        for side, data in (("old", page.old_png), ("new", page.new_png)):
            if data is None:
                cells.append(f"<figure><figcaption>{side}: no page {page.number}</figcaption></figure>")
                continue
            name = f"{slug}-page{page.number}-{side}.png"
            (folder / name).write_bytes(data)
            cells.append(
                f"<figure><figcaption>{side}, page {page.number}</figcaption>"
                f'<img src="{name}" alt="{side} page {page.number} of {html.escape(doc.name)}"></figure>'
            )
        pages.append('<div class="pages">' + "".join(cells) + "</div>")
    numbers = ", ".join(str(p.number) for p in doc.pages) or "none"
    return (
        f'<section id="{slug}"><h3>{html.escape(doc.name)}</h3><p>Pages that look different: {numbers}</p>'
        f'<pre class="diff">{"<br>".join(lines)}</pre>{"".join(pages)}</section>'
    )


_HEAD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>leaflets diff</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #1a1a1a; }}
pre.diff {{ background: #f6f8fa; padding: 0.8em; white-space: pre-wrap; font-size: 0.95em; }}
.add {{ background: #dff5dd; }} .del {{ background: #fbe0e0; }} .ctx {{ color: #555; }}
.pages {{ display: flex; gap: 1em; margin: 1em 0; }}
figure {{ margin: 0; }} img {{ border: 1px solid #888; max-width: 100%; }}
</style></head><body>
<h1>What changed</h1><p>Old: {old}<br>New: {new}</p>"""


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
        return DiffReport(Path(old_rev), Path(new_rev), report.documents)
    finally:
        shutil.rmtree(work, ignore_errors=True)
