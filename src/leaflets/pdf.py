"""HTML -> PDF bytes with WeasyPrint; the only WeasyPrint import, and the only door to files."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from leaflets import assets
from leaflets.errors import ResourceRefused
from leaflets.weasyprint70_tags import StructureError, finish

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"


def _weasyprint() -> Any:
    """Return WeasyPrint, imported on first use (it costs about half a second, less its library lookups)."""
    if "weasyprint" not in sys.modules:  # called for every render: the lookup only for the first import
        with _quick_library_lookup():
            import weasyprint  # noqa: F401
    return sys.modules["weasyprint"]


@contextmanager
def _quick_library_lookup() -> Iterator[None]:
    """While WeasyPrint 70 imports, answer `ctypes.util.find_library` from one `ldconfig -p` listing.

    WeasyPrint tries several names for each library (Pango, HarfBuzz, fontconfig, ...) before the
    soname that loads; on Linux each miss costs find_library up to three subprocesses (ldconfig, gcc,
    ld): about 0.15 s of every start, a sixth of a one-document build. A name the listing lacks is a
    miss at once; WeasyPrint's own list ends in sonames (libpango-1.0.so.0) that the loader finds
    directly, including through LD_LIBRARY_PATH. Elsewhere, or without ldconfig, nothing changes.
    """
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).is_file()), None
    )
    if not sys.platform.startswith("linux") or ldconfig is None:
        yield
        return
    import ctypes.util

    try:
        run = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, env={"LC_ALL": "C", "LANG": "C"})
        listing = run.stdout if run.returncode == 0 else ""
    except OSError:
        listing = ""
    if not listing:
        yield
        return

    def find_library(name: str) -> str | None:
        found = re.search(rf"\s(lib{re.escape(name)}\.[^\s]*)\s+\(", listing)
        return found.group(1) if found else None

    original = ctypes.util.find_library
    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = original


#: A font configuration made ahead of time by `warm_up`, for the first PdfMaker of this process.
_WARM_FONTS: list[Any] = []


def warm_up() -> None:
    """Import WeasyPrint and load the fonts now (a worker process does this while its HTML is rendered)."""
    weasyprint = _weasyprint()
    if not _WARM_FONTS:
        _WARM_FONTS.append(weasyprint.text.fonts.FontConfiguration())


class _Refused(Exception):
    """A URL the fetcher will not serve.

    The fetcher is made with `fail_on_errors=True`, so WeasyPrint turns this into its own
    `FatalURLFetchingError` (raised from it), which stops the render at the first refused URL.
    """

    def __init__(self, url: str, reason: str):
        super().__init__(url)
        self.url = url
        self.reason = reason


def make_fetcher(roots: tuple[Path, ...]) -> Any:
    """Create a URL fetcher that serves the bundled font, project files under `roots` (raster images
    scaled to print resolution), and data: images."""
    weasyprint = _weasyprint()

    class ProjectFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc,name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                return self._serve(url, headers)
            except ResourceRefused as exc:
                raise _Refused(url, str(exc)) from None

        def _serve(self, url: str, headers: Any) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == assets.FONT_SCHEME:
                return _response(weasyprint, url, assets.font_file(unquote(urlsplit(url).path)))
            if scheme == "file":
                raw = Path(url2pathname(unquote(urlsplit(url).path)))
                return _response(weasyprint, url, assets.guard_path(raw, roots, "resource"))
            if scheme == "data":
                media = url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
                if not media.startswith("image/"):
                    raise _Refused(url, f"expected an image data: URL, found '{media or 'text/plain'}'")
                return super().fetch(url, headers)
            raise _Refused(url, "only the project's own files may be loaded")

    return ProjectFetcher(allow_redirects=False, fail_on_errors=True, timeout=1)


def _response(weasyprint: Any, url: str, path: Path) -> Any:
    """Serve a file; a raster image (a clinic's logo) scaled to print resolution first (assets.image_bytes).

    The response is not named by its file: URL, since WeasyPrint 70 reads a raster image named by a file:
    URL again from its path (images.LazyLocalImage), past this fetcher and its scaling.
    """
    body, kind = assets.image_bytes(path)
    served = "leaflets-file:" + url.removeprefix("file:") if url.lower().startswith("file:") else url
    return weasyprint.urls.URLFetcherResponse(served, body=body, headers={"Content-Type": kind})


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
            self._font_config = _WARM_FONTS.pop() if _WARM_FONTS else weasyprint.text.fonts.FontConfiguration()
            self._fetcher = make_fetcher(self.roots)
        htmls = [keep_words_whole(html) for html in htmls]
        digest = hashlib.sha256("\0".join(htmls).encode("utf-8")).hexdigest()[:32]
        options = {"pdf_variant": PDF_VARIANT, "pdf_identifier": digest.encode("ascii"), "pdf_tags": True}
        try:
            documents = [
                weasyprint.HTML(string=html, base_url=self.base_url, url_fetcher=self._fetcher).render(
                    font_config=self._font_config, **options
                )
                for html in htmls
            ]
        except weasyprint.urls.FatalURLFetchingError as exc:
            raise _refusal(name, exc) from None
        first = documents[0]
        combined = first if len(documents) == 1 else first.copy([p for d in documents for p in d.pages])
        try:
            data = finish(combined.write_pdf(**options), htmls)
        except StructureError as exc:
            raise StructureError(f"{name}: {exc}") from None
        return data, [len(d.pages) for d in documents]


def _refusal(name: str, fatal: BaseException) -> ResourceRefused:
    """Say in one line which URL stopped a render, and why (WeasyPrint raises its fatal error from ours)."""
    cause = fatal.__cause__
    if isinstance(cause, _Refused):
        return ResourceRefused(f"{name}: refused to load '{_shorten(cause.url)}': {cause.reason}")
    return ResourceRefused(f"{name}: could not load a resource: {fatal} ({type(cause).__name__}: {cause})")


_TEXT = re.compile(r">([^<]+)<")
_RAW = re.compile(r"(<style\b.*?</style\s*>|<script\b.*?</script\s*>)", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"https?://[^\s<]+[^\s<.,;:)]")
_HYPHENATED = re.compile(r"(?<![\w/-])(\w+(?:-\w+)+)(?![\w/-])")
_LONG_URL = 60  # characters: a longer address may break, but only after a slash


def keep_words_whole(html: str) -> str:
    """Wrap hyphenated words and web addresses so a line never breaks after a hyphen or inside an address.

    Pango breaks lines after any hyphen and inside addresses; CSS has no property to stop that.
    """
    start = html.find("<body")
    if start < 0:
        return html
    # Only text a reader sees: never the inside of a <style> or <script> (that is code, not words).
    pieces = _RAW.split(html[start:])
    return html[:start] + "".join(p if _RAW.fullmatch(p) else _TEXT.sub(_wrap_text, p) for p in pieces)


def _wrap_text(match: re.Match[str]) -> str:
    parts = _URL.split(match.group(1))
    urls = _URL.findall(match.group(1))
    out = [_HYPHENATED.sub(r'<span class="nobr">\1</span>', parts[0])]
    for url, rest in zip(urls, parts[1:], strict=True):
        kind = "url long" if len(url) > _LONG_URL else "url"
        out.append(f'<span class="{kind}">{_wrap_url(url)}</span>')
        out.append(_HYPHENATED.sub(r'<span class="nobr">\1</span>', rest))
    return ">" + "".join(out) + "<"


def _wrap_url(url: str) -> str:
    if len(url) <= _LONG_URL:
        return url
    pieces = re.findall(r"[^/]*/+|[^/]+$", url)
    return "<wbr>".join(f'<span class="nobr">{piece}</span>' for piece in pieces)


def _shorten(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."
