"""The project's own files a document may load (fonts, logos), and the guard around them."""

from __future__ import annotations

import base64
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


def data_url(path: Path, what: str) -> str:
    """Inline an image as a data: URL (for standalone HTML output)."""
    kind = image_type(path, what)
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def guess_type(path: Path) -> str:
    """Return a media type for a served file."""
    return IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
