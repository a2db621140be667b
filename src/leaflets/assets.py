"""The project's own files a document may load (fonts, logos), and the guard around them."""

from __future__ import annotations

import base64
import functools
import io
import mimetypes
from pathlib import Path

import font_source_sans_pro

from leaflets.errors import ResourceRefused

#: The URL scheme documents use for the project's font; only the PDF stage's fetcher serves it.
FONT_SCHEME = "leaflets-font"
FONT_DIR = Path(font_source_sans_pro.font_directory).resolve()
IMAGE_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def guard_path(path: Path, roots: tuple[Path, ...], what: str) -> Path:
    """Return `path` resolved (links followed) if it lies inside one of `roots`; refuse otherwise."""
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        raise ResourceRefused(f"{what}: refused '{path}': outside the project's content and templates")
    if not resolved.is_file():
        raise ResourceRefused(f"{what}: expected a file, found nothing at '{path}'")
    return resolved


def image_type(path: Path, what: str) -> str:
    """Return the media type of an image file, refusing anything that is not an image."""
    kind = IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        allowed = ", ".join(sorted(IMAGE_TYPES))
        raise ResourceRefused(f"{what}: expected an image ({allowed}), found '{path.name}'")
    return kind


def font_file(name: str) -> Path:
    """Return the path of one of the bundled font's files, by plain file name."""
    path = (FONT_DIR / name).resolve()
    if path.parent != FONT_DIR or not path.is_file():
        raise ResourceRefused(f"font: refused '{name}': not one of the bundled font files")
    return path


@functools.cache
def font_data_url(name: str) -> str:
    """Return one of the bundled font's files as a data: URL, for HTML read in a browser (which cannot
    load the `leaflets-font:` scheme the PDF stage serves)."""
    path = font_file(name)
    kind = {".ttf": "font/ttf", ".otf": "font/otf"}.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def data_url(path: Path, what: str) -> str:
    """Inline an image as a data: URL (for standalone HTML output), a raster image at print resolution."""
    kind = image_type(path, what)
    data, kind = image_bytes(path, kind)
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


#: The largest a logo is drawn (document.css `.masthead .logo`: 2.6em tall, at most 10em wide) in large
#: print (18pt), in pixels at 300 dpi: a raster logo with more pixels is scaled down to this box.
LOGO_DPI = 300
LOGO_BOX = (round(10 * 18 / 72 * LOGO_DPI), round(2.6 * 18 / 72 * LOGO_DPI))  # (750, 195)
#: A raster image already within the box is served as it is unless its file is larger than this.
_SMALL_FILE = 256 * 1024
_RASTER = {"image/png": "PNG", "image/jpeg": "JPEG"}


def image_bytes(path: Path, kind: str | None = None) -> tuple[bytes, str]:
    """Return the bytes and media type to serve for an image file: a PNG or JPEG larger than print
    resolution at its printed size is scaled down and re-encoded (the same bytes every time)."""
    kind = kind or guess_type(path)
    if kind not in _RASTER:
        return path.read_bytes(), kind
    stat = path.stat()
    return _scaled(str(path), stat.st_mtime_ns, stat.st_size, kind), kind


@functools.lru_cache(maxsize=16)
def _scaled(path: str, _mtime: int, size: int, kind: str) -> bytes:
    """Scale a PNG or JPEG to fit LOGO_BOX (never up) and re-encode it; cached by path, time and size."""
    from PIL import Image, ImageOps

    data = Path(path).read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as opened:
            fits = opened.width <= LOGO_BOX[0] and opened.height <= LOGO_BOX[1]
            if fits and size <= _SMALL_FILE:
                return data
            if kind == "image/jpeg":  # decode at 1/2, 1/4 or 1/8 scale where that still covers the box
                side = max(LOGO_BOX)
                opened.draft(opened.mode, (min(opened.width, side), min(opened.height, side)))
            image = ImageOps.exif_transpose(opened)
            scale = min(1.0, LOGO_BOX[0] / image.width, LOGO_BOX[1] / image.height)
            target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            keep = ("RGB", "L", "CMYK") if kind == "image/jpeg" else ("RGB", "RGBA", "L", "LA")
            if image.mode not in keep:
                alpha = kind == "image/png" and ("A" in image.getbands() or "transparency" in image.info)
                image = image.convert("RGBA" if alpha else "RGB")
            if image.size != target:
                image = image.resize(target, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if kind == "image/jpeg":
                image.save(out, "JPEG", quality=90, subsampling=0)
            else:
                image.save(out, "PNG")
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ResourceRefused(f"image: refused '{Path(path).name}': cannot read it as {kind} ({exc})") from None


def guess_type(path: Path) -> str:
    """Return a media type for a served file."""
    return IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
