"""Fill a shared packet PDF with one patient's identifiers: reserved slots, written as real text.

Variable-data printing, the way PDF/VT print shops do it: the expensive layout happens once; each copy only writes the
patient's identifiers as real text (embedded font, ToUnicode, so it stays selectable and
searchable), at positions read from the rendered layout. Slots are reserved blank content streams of
fixed length, so filling one changes no byte offset and the file needs no rewriting.

A value written after a label that is content (the consent record's page-1 fields) is content too: it
is marked with an MCID that the template already gives to the field's /Form element (found through
the IDTree) and to the page's ParentTree slot, so a screen reader reads "Patient name, text field,
Alex Example". A value after a label that is page furniture (the running header of later pages) is a
pagination artifact, like that header. The structure is edited once, in `make_template`; each packet
only writes bytes.
"""

from __future__ import annotations

import ctypes
import dataclasses
import io
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

from leaflets import assets
from leaflets.errors import LeafletsError

MAX_GLYPHS = 60  # per field: longer values are refused, not squeezed
SLOT_BYTES = MAX_GLYPHS * 4 + 160  # room for one field: 4 hex digits a glyph, plus its operators and marks
FONT_FILE = "SourceSansPro-Regular.ttf"
FONT_NAME = "/LeafletsFill"
_GAP = 0.3  # em between a label and the value written after it
_MCID = re.compile(rb"/MCID\s+(\d+)")
_UNICODE_RANGES = [(0x20, 0x7E), (0xA0, 0x24F), (0x1E00, 0x1EFF), (0x2010, 0x2027), (0x300, 0x36F)]


class FieldError(LeafletsError):
    """A value that cannot be printed in its slot (unknown characters, too long)."""


@dataclass(frozen=True)
class Slot:
    """Where one field's value is written: page (0-based, in the packet), baseline, size, room."""

    page: int
    field: str
    x: float
    y: float
    size: float
    room: float
    tagged: bool = False  # the label is content (marked with an MCID), not page furniture
    mcid: int | None = None  # the MCID the value is written with, when it is the text of a form field


@dataclass(frozen=True)
class Region:
    """A reserved stretch of bytes in the template: one page's slots.

    The stream is Flate-encoded with stored (uncompressed) blocks, so the file's other streams can be
    compressed while this one is rewritten in place: `offset` and `encoded` are its bytes in the
    file, `length` the length of the content it decodes to.
    """

    offset: int
    length: int
    slots: tuple[Slot, ...]
    encoded: int = 0


@dataclass(frozen=True)
class Template:
    """A shared packet PDF with reserved regions, ready to be filled for each patient."""

    data: bytes
    regions: tuple[Region, ...]
    pages: int


class FillFont:
    """The font values are written in: glyph ids, widths, and what it cannot print."""

    def __init__(self) -> None:
        from fontTools.ttLib import TTFont

        font = TTFont(str(assets.font_file(FONT_FILE)))
        self.units = font["head"].unitsPerEm
        cmap = font.getBestCmap()
        order = font.getGlyphOrder()
        index = {name: gid for gid, name in enumerate(order)}
        self.gids = {cp: index[name] for cp, name in cmap.items() if any(lo <= cp <= hi for lo, hi in _UNICODE_RANGES)}
        metrics = font["hmtx"].metrics
        self.widths = {gid: metrics[order[gid]][0] * 1000 / self.units for gid in set(self.gids.values())}
        head, os2 = font["head"], font["OS/2"]
        self.bbox = [round(v * 1000 / self.units) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self.ascent = round(os2.sTypoAscender * 1000 / self.units)
        self.descent = round(os2.sTypoDescender * 1000 / self.units)
        self.cap_height = round(getattr(os2, "sCapHeight", 660) * 1000 / self.units)
        self.program = self._subset(font)

    def _subset(self, font) -> bytes:  # type: ignore[no-untyped-def]
        from fontTools import subset

        options = subset.Options()
        options.retain_gids = True
        options.notdef_outline = True
        options.layout_features = []
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=list(self.gids))
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        return buffer.getvalue()

    def encode(self, text: str, field: str) -> tuple[str, float]:
        """Return `text` as hex glyph ids and its width in text-space units (1/1000 em)."""
        text = unicodedata.normalize("NFC", text)
        missing = {ch for ch in text if ord(ch) not in self.gids}
        if missing:  # the characters themselves are patient data: say how many, not which
            raise FieldError(
                f"{field}: expected letters the document font can print (Latin scripts), found {len(missing)} "
                "it cannot (such as right-to-left scripts or emoji); write the name as on the clinic's Latin record"
            )
        if len(text) > MAX_GLYPHS:
            raise FieldError(f"{field}: expected at most {MAX_GLYPHS} characters, found {len(text)}")
        gids = [self.gids[ord(ch)] for ch in text]
        return "".join(f"{g:04X}" for g in gids), sum(self.widths[g] for g in gids)


@lru_cache(maxsize=1)
def fill_font() -> FillFont:
    return FillFont()


def find_slots(pdf: bytes, labels: dict[str, str], first_page: int) -> list[Slot]:
    """Find each label on pages from `first_page` on; a value goes right after it, on its baseline."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument(pdf)
    slots = []
    try:
        for number in range(first_page, len(doc)):
            page = doc[number]
            textpage = page.get_textpage()
            width = page.get_width()
            for field, label in labels.items():
                searcher = textpage.search(label, match_case=True)
                while (found := searcher.get_next()) is not None:
                    start, count = found
                    last = start + count - 1
                    _left, _bottom, right, _top = textpage.get_charbox(last)
                    x, y = ctypes.c_double(), ctypes.c_double()
                    raw.FPDFText_GetCharOrigin(textpage.raw, start, ctypes.byref(x), ctypes.byref(y))
                    size = _size_in_points(textpage, start)
                    end = _underscores_end(textpage, last + 1) or width - 54
                    gap = _GAP * size
                    tagged = _is_content(textpage, start)
                    slots.append(Slot(number, field, right + gap, y.value, size, end - right - gap, tagged))
    finally:
        doc.close()
    return slots


def _is_content(textpage, index: int) -> bool:  # type: ignore[no-untyped-def]
    """Say whether a character is marked content with an MCID (a tagged element's text, not an artifact)."""
    import pypdfium2.raw as raw

    obj = raw.FPDFText_GetTextObject(textpage.raw, index)
    return bool(obj) and raw.FPDFPageObj_GetMarkedContentID(obj) >= 0


def _size_in_points(textpage, index: int) -> float:  # type: ignore[no-untyped-def]
    """Return a character's font size in PDF points: pdfium's size times the scale of its matrix."""
    import pypdfium2.raw as raw

    matrix = raw.FS_MATRIX()
    raw.FPDFText_GetMatrix(textpage.raw, index, ctypes.byref(matrix))
    scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
    return round(raw.FPDFText_GetFontSize(textpage.raw, index) * scale, 2)


def _underscores_end(textpage, index: int) -> float | None:  # type: ignore[no-untyped-def]
    """Return the right edge of the run of underscores starting at `index` (after spaces)."""
    total = textpage.count_chars()
    while index < total and textpage.get_text_range(index, 1) == " ":
        index += 1
    end = None
    while index < total and textpage.get_text_range(index, 1) == "_":
        end = textpage.get_charbox(index)[2]
        index += 1
    return end


def make_template(pdf: bytes, slots: list[Slot], forms: dict[str, str] | None = None) -> Template:
    """Add the fill font and one reserved blank content stream per page that has slots.

    `forms` maps a field to the structure /ID of its form field ("name" -> "field-patient-name"): a
    slot whose label is content, on the page of that field's empty /Form element, gets an MCID that
    the element and the page's ParentTree slot already hold, so each packet's value is that field's text.
    The file keeps PDF 1.7, object streams and compressed streams (pikepdf, as the post-process writes
    it); each reserved stream is Flate with stored blocks, so a packet rewrites it in place.
    """
    import pikepdf

    doc = pikepdf.open(io.BytesIO(pdf))
    font_ref = _font_in(doc) or _embed_font(doc, fill_font())
    slots = _link_forms(doc, slots, forms or {})
    by_page: dict[int, list[Slot]] = {}
    for slot in slots:
        by_page.setdefault(slot.page, []).append(slot)
    markers = []
    for number, page_slots in sorted(by_page.items()):
        page = doc.pages[number].obj
        if "/Resources" not in page:
            page.Resources = pikepdf.Dictionary()
        resources = page.Resources
        if "/Font" not in resources:
            resources.Font = pikepdf.Dictionary()
        resources.Font[FONT_NAME] = font_ref
        marker = f"%LEAFLETS-SLOTS-{number:04d}\n".encode("ascii")
        length = len(marker) + len(page_slots) * SLOT_BYTES
        contents = page.get("/Contents")
        existing = list(contents) if isinstance(contents, pikepdf.Array) else ([] if contents is None else [contents])
        reserve = doc.make_stream(_stored(marker + b" " * (length - len(marker))))
        reserve.Filter = pikepdf.Name.FlateDecode
        # Wrap the page's own drawing in q/Q so the slots start from the default coordinates.
        page.Contents = pikepdf.Array([doc.make_stream(b"q\n"), *existing, doc.make_stream(b"\nQ\n"), reserve])
        markers.append((marker, length, tuple(page_slots)))
    buffer = io.BytesIO()
    doc.save(
        buffer,
        min_version="1.7",
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,  # leave encoded streams (the slots) as they are
        deterministic_id=True,
        fix_metadata_version=False,
    )
    data = buffer.getvalue()
    regions = []
    for marker, length, reserved in markers:
        encoded = _stored(marker + b" " * (length - len(marker)))
        offset = data.find(encoded)
        if offset < 0 or data.count(marker) != 1:
            raise AssertionError(f"slot marker {marker!r} not found exactly once")
        regions.append(Region(offset, length, reserved, len(encoded)))
    return Template(data, tuple(regions), len(doc.pages))


def _stored(data: bytes) -> bytes:
    """Flate-encode `data` without compressing it: the same length for the same length of input."""
    return zlib.compress(data, 0)


def _link_forms(doc, slots: list[Slot], forms: dict[str, str]) -> list[Slot]:  # type: ignore[no-untyped-def]
    """Give each slot that fills a form field a new MCID on its page, held by the field's /Form element."""
    import pikepdf

    tree_root = doc.Root.get("/StructTreeRoot")
    if tree_root is None or not forms or "/IDTree" not in tree_root or "/ParentTree" not in tree_root:
        return slots
    elements = {str(k): v for k, v in _tree_entries(tree_root.IDTree, "/Names").items()}
    parents = {int(k): v for k, v in _tree_entries(tree_root.ParentTree, "/Nums").items()}
    next_mcid: dict[int, int] = {}
    linked = []
    for slot in slots:
        form = elements.get(forms.get(slot.field, "")) if slot.tagged else None
        page = doc.pages[slot.page].obj
        key = int(page.StructParents) if "/StructParents" in page else None
        kids = form.get("/K") if form is not None else None
        if (
            form is None
            or not form.is_indirect
            or form.get("/S") != "/Form"
            or "/Pg" not in form
            or form.Pg.objgen != page.objgen
            or (kids is not None and (not isinstance(kids, pikepdf.Array) or len(kids) > 0))
            or key not in parents
        ):
            linked.append(slot)  # page furniture, or a label with no empty form field: an artifact
            continue
        numbers = parents[key]
        if slot.page not in next_mcid:
            used = [int(m) for m in _MCID.findall(_page_content(page))]
            next_mcid[slot.page] = max([len(numbers) - 1, *used]) + 1
        mcid = next_mcid[slot.page]
        next_mcid[slot.page] = mcid + 1
        while len(numbers) <= mcid:
            numbers.append(None)
        numbers[mcid] = form
        form.K = pikepdf.Array([mcid])
        linked.append(dataclasses.replace(slot, mcid=mcid))
    return linked


def _tree_entries(node, key: str) -> dict:  # type: ignore[no-untyped-def]
    """Return the leaf entries of a name or number tree (`key` "/Names" or "/Nums"): key -> value."""
    entries = {}
    pairs = node.get(key)
    if pairs is not None:
        for i in range(0, len(pairs) - 1, 2):
            entries[str(pairs[i]) if key == "/Names" else int(pairs[i])] = pairs[i + 1]
    for kid in node.get("/Kids", []):
        entries.update(_tree_entries(kid, key))
    return entries


def _page_content(page) -> bytes:  # type: ignore[no-untyped-def]
    import pikepdf

    contents = page.get("/Contents")
    parts = list(contents) if isinstance(contents, pikepdf.Array) else ([] if contents is None else [contents])
    return b"\n".join(part.read_bytes() for part in parts)


def _font_in(doc):  # type: ignore[no-untyped-def]
    """Return the fill font a page already uses (a blank page added for duplex), so it is embedded once."""
    for page in doc.pages:
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        if FONT_NAME in fonts:
            return fonts[FONT_NAME]
    return None


def _embed_font(doc, font: FillFont):  # type: ignore[no-untyped-def]
    """Embed `font` in a pikepdf `doc` as `add_font` does in a pypdf writer; return its reference."""
    from pikepdf import Array, Dictionary, Name, String

    name = Name("/LFILLS+SourceSansPro-Regular")
    program = doc.make_stream(zlib.compress(font.program, 9))
    program.Filter = Name.FlateDecode
    program.Length1 = len(font.program)
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=name,
        Flags=32,
        FontBBox=Array(font.bbox),
        ItalicAngle=0,
        Ascent=font.ascent,
        Descent=font.descent,
        CapHeight=font.cap_height,
        StemV=80,
        FontFile2=program,
    )
    widths: list = []
    for gid in sorted(font.widths):
        widths += [gid, [round(font.widths[gid], 2)]]
    cid_font = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=name,
        CIDSystemInfo=Dictionary(Registry=String("Adobe"), Ordering=String("Identity"), Supplement=0),
        FontDescriptor=doc.make_indirect(descriptor),
        W=Array(widths),
        CIDToGIDMap=Name.Identity,
    )
    to_unicode = doc.make_stream(zlib.compress(_cmap(font), 9))
    to_unicode.Filter = Name.FlateDecode
    return doc.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=name,
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([doc.make_indirect(cid_font)]),
            ToUnicode=to_unicode,
        )
    )


def add_font(writer, font: FillFont):  # type: ignore[no-untyped-def]
    """Embed `font` in `writer` as a Type0 font with ToUnicode; return its reference."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    name = NameObject("/LFILLS+SourceSansPro-Regular")
    program = StreamObject()
    program.set_data(zlib.compress(font.program, 9))
    program[NameObject("/Filter")] = NameObject("/FlateDecode")
    program[NameObject("/Length1")] = NumberObject(len(font.program))
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): name,
            NameObject("/Flags"): NumberObject(32),
            NameObject("/FontBBox"): ArrayObject(NumberObject(v) for v in font.bbox),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(font.ascent),
            NameObject("/Descent"): NumberObject(font.descent),
            NameObject("/CapHeight"): NumberObject(font.cap_height),
            NameObject("/StemV"): NumberObject(80),
            NameObject("/FontFile2"): writer._add_object(program),
        }
    )
    widths = ArrayObject()
    for gid in sorted(font.widths):
        widths.extend([NumberObject(gid), ArrayObject([FloatObject(round(font.widths[gid], 2))])])
    cid_font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType2"),
            NameObject("/BaseFont"): name,
            NameObject("/CIDSystemInfo"): DictionaryObject(
                {
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("Identity"),
                    NameObject("/Supplement"): NumberObject(0),
                }
            ),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
            NameObject("/W"): widths,
            NameObject("/CIDToGIDMap"): NameObject("/Identity"),
        }
    )
    cmap = DecodedStreamObject()
    cmap.set_data(_cmap(font))
    to_unicode = cmap.flate_encode()
    return writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): name,
                NameObject("/Encoding"): NameObject("/Identity-H"),
                NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
                NameObject("/ToUnicode"): writer._add_object(to_unicode),
            }
        )
    )


def _cmap(font: FillFont) -> bytes:
    pairs = sorted({gid: cp for cp, gid in font.gids.items()}.items())
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{gid:04X}> <{cp:04X}>" for gid, cp in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def fill(template: Template, values: dict[str, str]) -> bytes:
    """Return a copy of the template with every slot holding its field's value."""
    data = bytearray(template.data)
    for region in template.regions:
        encoded = _stored(fill_region(region, values))
        if len(encoded) != region.encoded:
            raise AssertionError("slot stream changed length")
        data[region.offset : region.offset + region.encoded] = encoded
    return bytes(data)


def fill_streams(template: Template, values: dict[str, str]) -> dict[int, bytes]:
    """Return, per page with slots, the content stream that writes the values (for a combined file)."""
    return {region.slots[0].page: fill_region(region, values) for region in template.regions}


def fill_region(region: Region, values: dict[str, str]) -> bytes:
    """Return the region's reserved bytes holding each slot's value, padded to the region's length.

    A value that is a form field's text is marked with the slot's MCID (an empty field keeps its
    empty marked sequence, so the ParentTree and the content still agree); any other value is a
    pagination artifact, like the running header it is written in.
    """
    font = fill_font()
    ops = ["q 0 g"]
    for slot in region.slots:
        value = values.get(slot.field, "")
        mark = "/Artifact <</Type /Pagination>> BDC" if slot.mcid is None else f"/Span <</MCID {slot.mcid}>> BDC"
        if not value:
            if slot.mcid is not None:
                ops.append(f"{mark} EMC")
            continue
        glyphs, width = font.encode(value, slot.field)
        if width * slot.size / 1000 > slot.room:
            raise FieldError(f"{slot.field}: expected a value that fits the space on the form, found one too long")
        show = f"{FONT_NAME} {slot.size:.2f} Tf 1 0 0 1 {slot.x:.2f} {slot.y:.2f} Tm <{glyphs}> Tj"
        ops.append(f"{mark} BT {show} ET EMC")
    ops.append("Q")
    body = " ".join(ops).encode("ascii")
    if len(body) > region.length:
        raise AssertionError("slot reserve too small")
    return body + b" " * (region.length - len(body))
