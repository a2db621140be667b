"""Read a built PDF the way a person holds it: its words, glyph sizes, pages and tags."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pypdf

from leaflets.pdftext import normalise_text as normalise
from leaflets.pdftext import page_texts
from leaflets.pdftext import pdf_text as text

__all__ = [
    "normalise", "page_texts", "text", "glyph_sizes", "page_sizes", "catalog", "text_objects", "TextObject",
    "figure_alts", "dot_diameters",
]


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


@dataclass(frozen=True)
class TextObject:
    """One text object on a page, as pdfium reads it: its text, MCID (-1 if none), whether it is inside
    an /Artifact, and its top and bottom in points from the page's top edge."""

    text: str
    mcid: int
    artifact: bool
    top: float
    bottom: float
    height: float


def text_objects(path: Path) -> list[list[TextObject]]:
    """Return each page's text objects in content order."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    def marks(obj) -> set[str]:  # type: ignore[no-untyped-def]
        names = set()
        for i in range(raw.FPDFPageObj_CountMarks(obj.raw)):
            mark = raw.FPDFPageObj_GetMark(obj.raw, i)
            length = ctypes.c_ulong()
            raw.FPDFPageObjMark_GetName(mark, None, 0, ctypes.byref(length))
            name = (ctypes.c_ushort * (length.value // 2))()
            raw.FPDFPageObjMark_GetName(mark, name, length.value, ctypes.byref(length))
            names.add(bytes(name)[: max(length.value - 2, 0)].decode("utf-16-le"))
        return names

    pages = []
    doc = pdfium.PdfDocument(str(path))
    try:
        for page in doc:
            textpage = page.get_textpage()
            height = page.get_height()
            objects = []
            for obj in page.get_objects(max_depth=1):
                if obj.type != raw.FPDF_PAGEOBJ_TEXT:
                    continue
                size = raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
                buffer = (ctypes.c_ushort * (size // 2))()
                raw.FPDFTextObj_GetText(obj.raw, textpage.raw, buffer, size)
                text = bytes(buffer)[: max(size - 2, 0)].decode("utf-16-le")
                _left, bottom, _right, top = obj.get_bounds()
                mcid = raw.FPDFPageObj_GetMarkedContentID(obj.raw)
                objects.append(TextObject(text, mcid, "Artifact" in marks(obj), height - top, height - bottom, height))
            pages.append(objects)
    finally:
        doc.close()
    return pages


def figure_alts(path: Path) -> list[str]:
    """Return the alt text of every Figure in the PDF's structure tree, in tree order."""
    tree = pypdf.PdfReader(str(path)).trailer["/Root"].get("/StructTreeRoot")
    alts: list[str] = []
    stack = [tree] if tree is not None else []
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif hasattr(node, "get"):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            if "/K" in node:
                stack.append(node["/K"])
    return alts


def dot_diameters(path: Path) -> list[float]:
    """Return the widths, in points, of the small round marks drawn on the PDF's pages (icon-array dots)."""
    import pypdfium2 as pdfium

    widths = []
    pdf = pdfium.PdfDocument(str(path))
    try:
        for page in pdf:
            for obj in page.get_objects(max_depth=2):
                if obj.type != pdfium.raw.FPDF_PAGEOBJ_PATH:
                    continue
                left, bottom, right, top = obj.get_bounds()
                if right - left < 12 and abs((right - left) - (top - bottom)) < 0.3:
                    widths.append(round(right - left, 2))
    finally:
        pdf.close()
    return widths
