"""Read a built PDF the way a person holds it: its words, glyph sizes, pages and tags."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from leaflets.pdftext import normalise_text as normalise
from leaflets.pdftext import page_texts
from leaflets.pdftext import pdf_text as text

__all__ = ["normalise", "page_texts", "text", "glyph_sizes", "page_sizes", "catalog"]


def glyph_sizes(path: Path) -> list[float]:
    """Return the font size of every visible character, in points."""
    pdf = pdfium.PdfDocument(str(path))
    sizes = []
    try:
        for page in pdf:
            textpage = page.get_textpage()
            for i in range(textpage.count_chars()):
                if not textpage.get_text_range(i, 1).strip():
                    continue
                sizes.append(round(pdfium_c.FPDFText_GetFontSize(textpage.raw, i), 2))
    finally:
        pdf.close()
    return sizes


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Return each page's width and height in points."""
    reader = pypdf.PdfReader(str(path))
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


def catalog(path: Path) -> dict:
    """Return the PDF catalog (for /Lang, /MarkInfo, /StructTreeRoot)."""
    return pypdf.PdfReader(str(path)).trailer["/Root"]
