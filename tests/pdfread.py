"""Read a built PDF the way a person holds it: its words, glyph sizes, pages and tags."""

from __future__ import annotations

import math
from pathlib import Path

import pypdf

from leaflets.pdftext import normalise_text as normalise
from leaflets.pdftext import page_texts
from leaflets.pdftext import pdf_text as text

__all__ = ["normalise", "page_texts", "text", "glyph_sizes", "page_sizes", "catalog"]


def glyph_sizes(path: Path) -> list[float]:
    """Return the size in points of every visible run of text: Tf size x text matrix x CTM scale."""
    sizes: list[float] = []

    def visit(text: str, cm: list, tm: list, font: object, size: float) -> None:
        if text.strip():
            scale = math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2])) * math.sqrt(abs(cm[0] * cm[3] - cm[1] * cm[2]))
            sizes.append(round(size * scale, 2))

    for page in pypdf.PdfReader(str(path)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Return each page's width and height in points."""
    reader = pypdf.PdfReader(str(path))
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


def catalog(path: Path) -> dict:
    """Return the PDF catalog (for /Lang, /MarkInfo, /StructTreeRoot)."""
    return pypdf.PdfReader(str(path)).trailer["/Root"]
