"""Read a built PDF the way a person holds it: its words, glyph sizes, pages and tags."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


def normalise(text: str) -> str:
    """NFKC, re-join words hyphenated across lines, fold quotes, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u00ad", "")
    text = re.sub(r"\x02\s*", "-", text)  # pdfium marks a hyphen that ends a line as U+0002
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1-\2", text)
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))
    return re.sub(r"\s+", " ", text).strip()


def page_texts(path: Path) -> list[str]:
    """Return the normalised text of each page."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [normalise(page.get_textpage().get_text_bounded()) for page in pdf]
    finally:
        pdf.close()


def text(path: Path) -> str:
    """Return the whole document's normalised text."""
    return " ".join(page_texts(path))


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
