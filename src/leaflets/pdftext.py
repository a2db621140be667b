"""Read a PDF's words back, normalised, to compare with what content says it should hold."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def normalise_text(text: str) -> str:
    """NFKC, re-join words hyphenated across lines, fold quotes, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = re.sub(r"\x02\s*", "-", text)  # pdfium marks a hyphen that ends a line as U+0002
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1-\2", text)
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def page_texts(path: Path) -> list[str]:
    """Return the normalised text of each page of the PDF at `path`."""
    import pypdfium2 as pdfium  # imported here: only checks and tests read PDFs back

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [normalise_text(page.get_textpage().get_text_bounded()) for page in pdf]
    finally:
        pdf.close()


def pdf_text(path: Path) -> str:
    """Return the whole PDF's normalised text."""
    return " ".join(page_texts(path))
