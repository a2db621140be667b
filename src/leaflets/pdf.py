"""HTML -> PDF bytes with WeasyPrint; the only WeasyPrint import, and the only door to files."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from leaflets import assets
from leaflets.errors import ResourceRefused

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"


def _weasyprint() -> Any:
    import weasyprint  # imported here: it costs about half a second

    return weasyprint


class _Refused(BaseException):
    """Raised inside WeasyPrint to stop a render at the first refused URL."""

    def __init__(self, url: str, reason: str):
        super().__init__(url)
        self.url = url
        self.reason = reason


def make_fetcher(roots: tuple[Path, ...]) -> Any:
    """Create a URL fetcher that serves the bundled font, project files under `roots`, and data: images."""
    weasyprint = _weasyprint()

    class ProjectFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc,name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == assets.FONT_SCHEME:
                path = _allowed(lambda: assets.font_file(unquote(urlsplit(url).path)), url)
                return _response(weasyprint, url, path)
            if scheme == "file":
                raw = Path(url2pathname(unquote(urlsplit(url).path)))
                path = _allowed(lambda: assets.guard_path(raw, roots, "resource"), url)
                return _response(weasyprint, url, path)
            if scheme == "data":
                media = url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
                if not media.startswith("image/"):
                    raise _Refused(url, f"expected an image data: URL, found '{media or 'text/plain'}'")
                return super().fetch(url, headers)
            raise _Refused(url, "only the project's own files may be loaded")

    fetcher_class = ProjectFetcher
    return fetcher_class(allow_redirects=False, fail_on_errors=True, timeout=1)


def _allowed(check: Any, url: str) -> Path:
    try:
        path: Path = check()
        return path
    except ResourceRefused as exc:
        raise _Refused(url, str(exc)) from None


def _response(weasyprint: Any, url: str, path: Path) -> Any:
    return weasyprint.urls.URLFetcherResponse(
        url, body=path.read_bytes(), headers={"Content-Type": assets.guess_type(path)}
    )


@dataclass
class PdfMaker:
    """Turns HTML into PDF bytes; one per run, so fonts are configured once."""

    roots: tuple[Path, ...]
    base_url: str
    _font_config: Any = field(default=None, init=False)
    _fetcher: Any = field(default=None, init=False)

    def make(self, html: str, name: str) -> tuple[bytes, int]:
        """Return the PDF for `html` and its page count; `name` is used in error messages."""
        data, pages = self.make_combined([html], name)
        return data, pages[0]

    def make_combined(self, htmls: list[str], name: str) -> tuple[bytes, list[int]]:
        """Render several documents into one tagged PDF, each keeping its own page numbers."""
        weasyprint = _weasyprint()
        if self._font_config is None:
            self._font_config = weasyprint.text.fonts.FontConfiguration()
            self._fetcher = make_fetcher(self.roots)
        digest = hashlib.sha256("\0".join(htmls).encode("utf-8")).hexdigest()[:32]
        options = {"pdf_variant": PDF_VARIANT, "pdf_identifier": digest.encode("ascii"), "pdf_tags": True}
        try:
            documents = [
                weasyprint.HTML(string=html, base_url=self.base_url, url_fetcher=self._fetcher).render(
                    font_config=self._font_config, **options
                )
                for html in htmls
            ]
        except _Refused as exc:
            raise ResourceRefused(f"{name}: refused to load '{_shorten(exc.url)}': {exc.reason}") from None
        first = documents[0]
        combined = first if len(documents) == 1 else first.copy([p for d in documents for p in d.pages])
        return mark_running_lines_as_artifacts(combined.write_pdf(**options)), [len(d.pages) for d in documents]


def _shorten(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


_MARKED = re.compile(rb"/(\w+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


def mark_running_lines_as_artifacts(pdf: bytes) -> bytes:
    """Turn marked content that no structure element uses (the running headers and footers) into artifacts.

    WeasyPrint 70 leaves margin-box text out of the structure tree but marks it as /Span with an MCID;
    PDF/UA wants such page furniture marked /Artifact, so assistive technology skips it.
    """
    import pypdf
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    used = _mcids_in_tree(writer.root_object.get("/StructTreeRoot"))
    for page in writer.pages:
        content = page.get_contents()
        if content is None:
            continue
        data = content.get_data()
        keep = used.get(page.indirect_reference.idnum if page.indirect_reference else -1, set())
        marked = _MARKED.sub(partial(_unless_used, keep), data)
        if marked != data:
            stream = DecodedStreamObject()
            stream.set_data(marked)
            page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _unless_used(keep: set[int], match: re.Match[bytes]) -> bytes:
    return match.group(0) if int(match.group(2)) in keep else b"/Artifact BMC"


def _mcids_in_tree(root: Any) -> dict[int, set[int]]:
    """Collect, per page object number, the MCIDs the structure tree reaches."""
    used: dict[int, set[int]] = {}
    if root is None:
        return used
    stack: list[tuple[Any, int | None]] = [(root.get_object(), None)]
    while stack:
        node, page = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, int):
            if page is not None:
                used.setdefault(page, set()).add(int(node))
            continue
        if isinstance(node, list):
            stack.extend((child, page) for child in node)
            continue
        if not hasattr(node, "get"):
            continue
        pg = node.get("/Pg")
        here = pg.idnum if pg is not None and hasattr(pg, "idnum") else page
        if "/MCID" in node:
            if here is not None:
                used.setdefault(here, set()).add(int(node["/MCID"]))
            continue
        kids = node.get("/K")
        if kids is not None:
            stack.append((kids, here))
    return used
