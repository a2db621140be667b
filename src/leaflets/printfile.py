"""Pages for printing a clinic's list in one go: blank backs for duplex, a cover list, the combined file.

These pages are drawn directly in PDF with the fill font, so they need no layout engine: a blank page
says it is blank (so nobody thinks a page is missing), and the cover list is a table a receptionist
ticks as each packet is handed over.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from leaflets.fill import FONT_NAME, Template, add_font, fill_font, fill_streams
from leaflets.model import Paper

PAPER_SIZES: dict[str, tuple[float, float]] = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}
MARGIN = 56.69  # 20 mm: well inside what office printers can reach
SIZE = 12.0  # body text, as STANDARDS asks
TITLE_SIZE = 18.0
ROW_HEIGHT = 26.0
BOX = 13.0


@dataclass(frozen=True)
class CoverWords:
    """The words on the cover list, from content/strings.yaml."""

    title: str
    row: str
    record_number: str
    file: str
    given: str
    page: str
    page_of: str


@dataclass(frozen=True)
class CoverLine:
    """One packet on the cover list."""

    row: int
    record_number: str
    file: str


def pad_for_duplex(pdf: bytes, pages: list[int], notice: str) -> tuple[bytes, list[int]]:
    """Add a blank page after each document with an odd page count, so the next starts on a front side."""
    if all(count % 2 == 0 for count in pages):
        return pdf, pages
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    font_ref = add_font(writer, fill_font())
    padded, end = [], 0
    for count in pages:
        end += count
        if count % 2:
            box = writer.pages[end - 1].mediabox
            width, height = float(box.width), float(box.height)
            writer.insert_blank_page(width, height, end)
            _draw(writer, writer.pages[end], font_ref, _blank_ops(notice, width, height))
            end, count = end + 1, count + 1
        padded.append(count)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), padded


def make_print_file(
    words: CoverWords,
    paper: Paper,
    lines: list[CoverLine],
    packets: Iterable[tuple[Template, dict[str, str]]],
    duplex: bool,
    notice: str,
) -> bytes:
    """Return one PDF: the cover list, then every packet in order, sharing each template's fonts and pages."""
    import pypdf
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

    writer = pypdf.PdfWriter()
    font_ref = add_font(writer, fill_font())
    width, height = PAPER_SIZES[paper]
    cover = _cover_pages(words, lines, width, height)
    if duplex and len(cover) % 2:
        cover.append(_blank_ops(notice, width, height))
    for ops in cover:
        writer.add_blank_page(width, height)
        _draw(writer, writer.pages[-1], font_ref, ops)
    readers: dict[int, pypdf.PdfReader] = {}
    for template, values in packets:
        reader = readers.setdefault(id(template), pypdf.PdfReader(io.BytesIO(template.data)))
        streams = fill_streams(template, values)
        for number, page in enumerate(reader.pages):
            # The same template page added again shares its fonts, images and drawing; only the
            # page dictionary is new, and pages with slots get this patient's slot stream.
            added = writer.add_page(page, excluded_keys=("/Annots",))
            if number in streams:
                stream = DecodedStreamObject()
                stream.set_data(streams[number])
                contents = list(added["/Contents"].get_object())
                added[NameObject("/Contents")] = ArrayObject([*contents[:-1], writer._add_object(stream)])
    writer.add_metadata({"/Title": words.title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _cover_pages(words: CoverWords, lines: list[CoverLine], width: float, height: float) -> list[str]:
    """Lay the cover list out as pages of drawing operators: title, column heads, one ruled line a packet."""
    right = width - MARGIN
    row_x = MARGIN
    record_x = row_x + max(_width(words.row), *(_width(str(line.row)) for line in lines)) + 18
    file_x = record_x + max(_width(words.record_number), *(_width(line.record_number) for line in lines)) + 18
    top = height - MARGIN - TITLE_SIZE
    head = top - 2 * SIZE - 8
    first = head - ROW_HEIGHT
    per_page = max(1, int((first - (MARGIN + 2 * SIZE)) // ROW_HEIGHT) + 1)
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        ops = [
            _text(words.title, TITLE_SIZE, MARGIN, top),
            _text(words.row, SIZE, row_x, head),
            _text(words.record_number, SIZE, record_x, head),
            _text(words.file, SIZE, file_x, head),
            _text(words.given, SIZE, right - _width(words.given), head),
            _rule(MARGIN, right, head - 8, 1.0),
        ]
        for index, line in enumerate(chunk):
            y = first - index * ROW_HEIGHT
            ops += [
                _text(str(line.row), SIZE, row_x, y),
                _text(line.record_number, SIZE, record_x, y),
                _text(line.file, SIZE, file_x, y),
                f"0 G 1 w {right - BOX:.2f} {y - 2:.2f} {BOX:.2f} {BOX:.2f} re S",
                _rule(MARGIN, right, y - 8, 0.5),
            ]
        footer = f"{words.page} {number} {words.page_of} {len(chunks)}"
        ops.append(_text(footer, SIZE, right - _width(footer), MARGIN))
        pages.append("\n".join(ops))
    return pages


def _blank_ops(notice: str, width: float, height: float) -> str:
    """Draw `notice` centred on an empty page, marked as a pagination artifact."""
    x = (width - _width(notice)) / 2
    return f"/Artifact <</Type /Pagination>> BDC\n{_text(notice, SIZE, x, height / 2)}\nEMC"


def _draw(writer, page, font_ref, ops: str) -> None:  # type: ignore[no-untyped-def]
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject(FONT_NAME): font_ref})}
    )
    stream = DecodedStreamObject()
    stream.set_data(ops.encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())


def _text(text: str, size: float, x: float, y: float) -> str:
    glyphs, _ = fill_font().encode(text, "text")
    return f"BT 0 g {FONT_NAME} {size:.2f} Tf 1 0 0 1 {x:.2f} {y:.2f} Tm <{glyphs}> Tj ET"


def _width(text: str, size: float = SIZE) -> float:
    return fill_font().encode(text, "text")[1] * size / 1000


def _rule(left: float, right: float, y: float, weight: float) -> str:
    return f"0.4 G {weight:.1f} w {left:.2f} {y:.2f} m {right:.2f} {y:.2f} l S"
