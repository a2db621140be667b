"""Read a PDF's words back, normalised, to compare with what content says it should hold."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
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
    # Running lines are the lines every page has (as many times as every page has them); a running
    # line may leave page 1 out (a consent record asks for identifiers there), so lines on every later
    # page are dropped from those pages only. A title that reads like a running line keeps its words.
    counts = [Counter(lines) for lines in pages]
    everywhere = _common(counts) if len(pages) > 1 else Counter()
    later = _common(counts[1:]) if len(pages) >= 4 else Counter()
    kept = []
    for number, lines in enumerate(pages):
        drop = everywhere + (later - everywhere if number else Counter())
        page = []
        for line in reversed(lines):  # running lines come last in a page's text: drop the last copies
            if drop[line] > 0:
                drop[line] -= 1
            elif line.strip("• "):
                page.append(line)
        kept += reversed(page)
    return normalise_text("\n".join(kept))


def _common(counts: list[Counter[str]]) -> Counter[str]:
    """Return the lines every page has, each as many times as the page with the fewest has it."""
    common = counts[0].copy()
    for count in counts[1:]:
        common &= count
    return common


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
