"""Read a PDF's words back, normalised, to compare with what content says it should hold."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from leaflets.errors import LeafletsError

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def normalise_text(text: str) -> str:
    """NFKC, re-join words hyphenated across lines, fold quotes, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = re.sub(r"\x02\s*", "-", text)  # pdfium marks a hyphen that ends a line as U+0002
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1-\2", text)
    text = re.sub(r"(\w)/\s*\n\s*(\w)", r"\1/\2", text)  # a line may break after a slash, as in and/or
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def page_texts(path: Path) -> list[str]:
    """Return the normalised text of each page of the PDF at `path`."""
    return [normalise_text("\n".join(lines)) for lines in _page_lines(path)]


def pdf_text(path: Path) -> str:
    """Return the PDF's body text in reading order, normalised, as one string.

    Running headers and footers (lines on every page, and "Page X of Y") and stray list bullets are
    left out, so a sentence that runs over a page break reads as one.
    """
    raw = _page_lines(path)
    # "Page X of Y" may share its line with another running line (a one-line footer): cut it off first.
    pages = [
        [re.sub(rf"\s*\w+ {number} \w+ {len(raw)}$", "", line).strip() for line in lines]
        for number, lines in enumerate(raw, start=1)
    ]
    repeated = set.intersection(*(set(lines) for lines in pages)) if len(pages) > 1 else set()
    if len(pages) >= 4:  # a running line may leave page 1 out (a consent record asks for identifiers there)
        repeated |= set.intersection(*(set(lines) for lines in pages[1:]))
    kept = [line for lines in pages for line in lines if line not in repeated and line.strip("• ")]
    return normalise_text("\n".join(kept))


def _page_lines(path: Path) -> list[list[str]]:
    import pypdfium2 as pdfium  # imported here: only checks and tests read PDFs back

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise LeafletsError(f"{path}: expected a PDF file, found {_what(path, exc)}") from None
    try:
        return [[line.strip() for line in page.get_textpage().get_text_bounded().splitlines()] for page in pdf]
    finally:
        pdf.close()


def _what(path: Path, problem: Exception) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(1024)
    except OSError as exc:
        return f"a file that cannot be read ({exc.strerror})"
    return f"a damaged or locked PDF ({problem})" if b"%PDF-" in head else "a file that does not start with %PDF"
