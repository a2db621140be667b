"""Finish WeasyPrint 70's tagged PDF for PDF/UA-1 in one pikepdf pass.

What WeasyPrint 70 leaves undone, and what this pass does about it:
- margin boxes (running headers and footers) are marked /Span with MCIDs whose structure elements no
  tree reaches: they become /Artifact (Pagination Header or Footer), their ParentTree slots are cleared
  and the orphan elements are dropped;
- the tag tree is built page by page, so a list, table, section or paragraph broken across pages becomes
  two elements (and a table's repeated header a second THead): continuations are merged back, decided by
  comparing text with the HTML the page was made from; a repeated header becomes a Pagination artifact
  (read once, where the table starts);
- HTML `scope` is lost: TH cells get /Scope from the HTML, and every /ID goes into an /IDTree;
- blanks and tick boxes are plain Spans: the HTML marks each one (`data-field="tv"` or `"cb"` with an
  `aria-label`), and its element becomes /Form with a PrintField attribute;
- line ends carry no space, so words join when read in tag order: a line that runs on into the next
  word ends with the font's space glyph (no ink; every reader then sees the space);
- every file reuses the same font subset tags: each subset is named from a hash of its glyphs.
The file keeps PDF 1.7 and object streams; the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from leaflets.errors import LeafletsError

#: Tick boxes are drawn with this glyph (Source Sans Pro has it); the HTML puts it in the box's element.
TICK_BOX = "\u2610"

# How WeasyPrint 70 names the structure element of each HTML tag (weasyprint/pdf/tags.py, _get_pdf_tag).
_HTML_TO_PDF = {
    "div": ("Div",),
    "span": ("Span",),
    "main": ("Part",),
    "article": ("Art",),
    "section": ("Sect",),
    "blockquote": ("BlockQuote",),
    "p": ("P",),
    "ul": ("L",),
    "ol": ("L",),
    "dl": ("L",),
    "li": ("LI", "LBody"),
    "table": ("Table",),
    "tr": ("TR",),
    "th": ("TH",),
    "td": ("TD",),
    "thead": ("THead",),
    "tbody": ("TBody",),
    "tfoot": ("TFoot",),
    **{f"h{n}": (f"H{n}",) for n in range(1, 7)},
}
_NO_BOX = {"img", "br", "wbr", "svg", "input", "script", "style", "meta", "link", "title", "head", "template"}
_SCOPES = {"row": "/Row", "col": "/Column", "rowgroup": "/Row", "colgroup": "/Column"}
_MARKED = re.compile(rb"/(\w+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")
_MARKED_BLOCK = re.compile(rb"/(\w+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC.*?EMC", re.S)
_BLOCK = re.compile(rb"<<\s*/MCID\s+(\d+)\s*>>\s*BDC(.*?)EMC", re.S)
_TM = re.compile(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) Tm")
_TF = re.compile(rb"/([\w.+-]+) (-?[\d.]+) Tf")
_SHOW = re.compile(rb"\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj")
_HEX = re.compile(rb"<([0-9a-fA-F]*)>")
#: Texts whose first glyphs sit this close (CSS px) are on one line: a tick box sits 2 px lower than its words.
_SAME_LINE = 6.0


class StructureError(LeafletsError):
    """The tag tree and the HTML it came from disagree in a way this pass cannot repair."""


@dataclass(frozen=True)
class Run:
    """One marked-content sequence of text: what it says and where its first glyph sits (CSS px, y down).

    A blank run is a text object with nothing in it: WeasyPrint draws a box holding only white space (the
    space between two inline elements) that way, so it stands for a space.
    """

    text: str
    x: float
    y: float
    blank: bool = False


@dataclass(frozen=True)
class Mcr:
    """A marked-content reference: an MCID on a page (0-based)."""

    page: int
    mcid: int


@dataclass(eq=False)
class Node:
    """One structure element, mirrored in Python while the tree is reshaped."""

    obj: Dictionary
    tag: str
    page: int
    kids: list[Node | Mcr | Dictionary] = field(default_factory=list)

    def nodes(self) -> Iterator[Node]:
        """Yield this element and every element below it, in reading order."""
        yield self
        for kid in self.kids:
            if isinstance(kid, Node):
                yield from kid.nodes()

    def mcrs(self) -> Iterator[Mcr]:
        for kid in self.kids:
            if isinstance(kid, Mcr):
                yield kid
            elif isinstance(kid, Node):
                yield from kid.mcrs()

    @property
    def is_text_leaf(self) -> bool:
        return bool(self.kids) and all(isinstance(k, Mcr) for k in self.kids)


@dataclass(frozen=True)
class Field:
    """A blank ("tv") or tick box ("cb") as the HTML declares it."""

    role: str
    label: str
    id: str | None


@dataclass
class Html:
    """What the post-process needs to know from the HTML each page came from, in document order."""

    texts: dict[str, list[str]]  # the letters and digits of each element, by structure type
    boxes: list[Field]  # tick boxes
    empties: list[tuple[str, Field | None]]  # elements with no content, by structure type: blanks or decoration
    scopes: list[str | None]  # the scope of each th


def finish(pdf: bytes, htmls: list[str]) -> bytes:
    """Return `pdf` (WeasyPrint's tagged output for `htmls`, in order) finished for PDF/UA-1."""
    doc = pikepdf.open(io.BytesIO(pdf))
    pages = {page.objgen: number for number, page in enumerate(doc.pages)}
    runs = {number: _runs(page) for number, page in enumerate(doc.pages)}
    tree_root = doc.Root.StructTreeRoot
    document = _mirror(tree_root.K[0], pages, -1)
    html = read_html(htmls)
    repeats: set[Mcr] = set()
    _merge_continuations(document, html, runs, repeats)
    _tag_fields(document, html, runs)
    _drop_empty(document)
    _set_scopes(document, html)
    ends = _space_line_ends(document, runs)
    _write_tree(doc, tree_root, document)
    _rewrite_content(doc, document, runs, ends, repeats)
    _rename_subsets(doc)
    out = io.BytesIO()
    doc.save(
        out,
        min_version="1.7",
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
        deterministic_id=True,
        fix_metadata_version=False,
    )
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------
# Reading: the tag tree, the text of each MCID, the HTML.


def _mirror(obj: Dictionary, pages: dict[Any, int], page: int) -> Node:
    pg = obj.get("/Pg")
    here = pages.get(pg.objgen, page) if pg is not None else page
    node = Node(obj, str(obj.get("/S", "/NonStruct"))[1:], here)
    kids = obj.get("/K")
    for kid in kids if isinstance(kids, Array) else ([] if kids is None else [kids]):
        if isinstance(kid, int):
            node.kids.append(Mcr(here, int(kid)))
        elif isinstance(kid, Dictionary) and kid.get("/Type") == "/MCR":
            kpg = kid.get("/Pg")
            node.kids.append(Mcr(pages.get(kpg.objgen, here) if kpg is not None else here, int(kid.MCID)))
        elif isinstance(kid, Dictionary) and kid.get("/Type") == "/OBJR":
            node.kids.append(kid)
        elif isinstance(kid, Dictionary):
            node.kids.append(_mirror(kid, pages, here))
    return node


def _contents(page: pikepdf.Page) -> bytes:
    contents = page.obj.get("/Contents")
    if contents is None:
        return b""
    if isinstance(contents, Array):
        return b"\n".join(part.read_bytes() for part in contents)
    return contents.read_bytes()


def _runs(page: pikepdf.Page) -> dict[int, Run]:
    """Read the text and position of every MCID on a page (WeasyPrint writes one text object each)."""
    fonts = page.obj.get("/Resources", {}).get("/Font", {})
    maps: dict[str, dict[int, str]] = {}
    runs = {}
    for match in _BLOCK.finditer(_contents(page)):
        body = match.group(2)
        tm = _TM.search(body)
        if tm is None:
            if b"BT" in body and _SHOW.search(body) is None:
                runs[int(match.group(1))] = Run("", 0.0, 0.0, blank=True)
            continue
        font = _TF.search(body)
        name = font.group(1).decode("ascii") if font else ""
        if name not in maps:
            maps[name] = _to_unicode(fonts.get("/" + name)) if name else {}
        text = "".join(_decode(show, maps[name]) for show in _SHOW.finditer(body))
        runs[int(match.group(1))] = Run(text, float(tm.group(5)), float(tm.group(6)))
    return runs


def _decode(show: re.Match[bytes], cmap: dict[int, str]) -> str:
    hexes = _HEX.findall(show.group(1)) if show.group(1) is not None else [show.group(2)]
    out = []
    for chunk in hexes:
        for i in range(0, len(chunk) - 3, 4):
            out.append(cmap.get(int(chunk[i : i + 4], 16), "\ufffd"))
    return "".join(out)


_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def _to_unicode(font: Any) -> dict[int, str]:
    if font is None or "/ToUnicode" not in font:
        return {}
    data = font.ToUnicode.read_bytes()
    cmap: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in _BFCHAR.findall(section):
            cmap[int(code, 16)] = bytes.fromhex(uni.decode("ascii")).decode("utf-16-be", "replace")
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in _BFRANGE.findall(section):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                cmap[code] = chr(first + offset)
    return cmap


def read_html(htmls: list[str]) -> Html:
    """Collect, in document order, the texts, fields, empty elements and header scopes of the HTML."""
    import lxml.html

    html = Html({}, [], [], [])
    for source in htmls:
        root = lxml.html.document_fromstring(source)
        body = root.find("body")
        if body is None:
            continue
        by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
        _collect_texts(body, html.texts)
        for element in body.iter():
            if not isinstance(element.tag, str):
                continue
            tag = element.tag.lower()
            if tag == "th":
                html.scopes.append(element.get("scope"))
            role = element.get("data-field")
            if role == "cb":
                html.boxes.append(_field(element, role, by_id))
            elif (
                tag not in _NO_BOX
                and tag not in ("td", "th")
                and len(element) == 0
                and not (element.text or "").strip()
            ):
                # (Empty cells are never fields: the tag tree's empty cells are skipped in _tag_fields.)
                pdf_tag = _HTML_TO_PDF.get(tag, ("NonStruct",))[-1]
                html.empties.append((pdf_tag, _field(element, role, by_id) if role else None))
    return html


def _collect_texts(element: Any, texts: dict[str, list[str]]) -> str:
    """Return the letters and digits of `element`, table headers left out (they repeat on every page)."""
    parts = [_alnum(element.text or "")]
    for child in element:
        if isinstance(child.tag, str):
            inner = _collect_texts(child, texts)
            if child.tag.lower() != "thead":
                parts.append(inner)
        parts.append(_alnum(child.tail or ""))
    text = "".join(parts)
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    for pdf_tag in _HTML_TO_PDF.get(tag, ("NonStruct",)):
        texts.setdefault(pdf_tag, []).append(text)
    return text


def _field(element: Any, role: str, by_id: dict[str, Any]) -> Field:
    """Name a field by its aria-label, or by the text of the elements its aria-labelledby names."""
    label = element.get("aria-label") or " ".join(
        by_id[ref].text_content() for ref in (element.get("aria-labelledby") or "").split() if ref in by_id
    )
    label = " ".join(label.split()).rstrip(":")
    if not label:
        raise StructureError(f"field '{element.get('id', '?')}': expected an aria-label naming it, found none")
    return Field(role, label, element.get("id"))


def _alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _text(node: Node, runs: dict[int, dict[int, Run]], heads: bool = True) -> str:
    """The node's text in reading order, list markers (not in the HTML) and maybe table headers left out."""
    if node.tag == "Lbl" or (node.tag == "THead" and not heads):
        return ""
    parts = []
    for kid in node.kids:
        if isinstance(kid, Mcr):
            run = runs.get(kid.page, {}).get(kid.mcid)
            parts.append(run.text if run else "")
        elif isinstance(kid, Node):
            parts.append(_text(kid, runs, heads))
    return "".join(parts)


def _pages(node: Node) -> list[int]:
    return [mcr.page for mcr in node.mcrs()] or [node.page]


# ---------------------------------------------------------------------------------------------------
# Reshaping the tree.


def _merge_continuations(node: Node, html: Html, runs: dict[int, dict[int, Run]], repeats: set[Mcr]) -> None:
    """Join an element broken by a page break with its continuation on the next page; a table header
    repeated on the next page is left out of the tree (its text goes into `repeats`, to be an artifact)."""
    kids = node.kids
    i = 0
    while i < len(kids) - 1:
        first, second = kids[i], kids[i + 1]
        if (
            isinstance(first, Node)
            and isinstance(second, Node)
            and first.tag == second.tag
            and not first.is_text_leaf
            and first.tag not in ("Figure", "Link", "Lbl")
            and max(_pages(first)) < min(_pages(second))
        ):
            repeated = _repeated_head(first, second, runs)
            rest = second.kids[1:] if repeated else second.kids
            if _continues(first, rest, html, runs):
                if repeated:
                    _share_header_ids(first.kids[0], second.kids[0], second)
                    repeats.update(second.kids[0].mcrs())  # type: ignore[union-attr]
                if first.tag == "TR" and len(first.kids) == len(rest) and all(isinstance(k, Node) for k in rest):
                    # A row broken across pages: each cell continues in the cell below it.
                    for cell, more in zip(first.kids, rest, strict=True):
                        cell.kids.extend(more.kids)  # type: ignore[union-attr]
                else:
                    first.kids.extend(rest)
                del kids[i + 1]
                continue
        i += 1
    for kid in kids:
        if isinstance(kid, Node):
            _merge_continuations(kid, html, runs, repeats)


def _repeated_head(first: Node, second: Node, runs: dict[int, dict[int, Run]]) -> bool:
    heads = [k for k in (first.kids[:1] + second.kids[:1]) if isinstance(k, Node) and k.tag == "THead"]
    return len(heads) == 2 and _text(heads[0], runs) == _text(heads[1], runs)


def _continues(first: Node, rest: list[Any], html: Html, runs: dict[int, dict[int, Run]]) -> bool:
    """Is `first` cut short, with `rest` the next part of the same HTML element?"""
    head = _alnum(_text(first, runs, heads=False))
    if not head:
        return False
    tail = _first_text(rest, runs)
    texts = html.texts.get(first.tag, [])
    if head in texts:
        return False  # complete: the next element is a new one
    # One HTML element starts as `first` does and goes on to hold what `rest` starts with. (Not simply
    # head + tail: a table cell broken across pages puts the rest of its row between the two.)
    start = head[:40]
    return any(len(t) > len(head) and t.startswith(start) and tail in t[len(start) :] for t in texts)


def _first_text(kids: list[Any], runs: dict[int, dict[int, Run]]) -> str:
    """The letters and digits (at most 40) of the first cell or text element in `kids` that has any.

    One cell at most: after a row broken inside a cell, the next cell on the page is the next row's,
    where the HTML has the rest of the broken row between them.
    """
    for kid in kids:
        if not isinstance(kid, Node) or kid.tag == "THead":
            continue
        if kid.is_text_leaf or kid.tag in ("TD", "TH"):
            text = _alnum(_text(kid, runs, heads=False))
            if text:
                return text[:40]
            continue
        text = _first_text(kid.kids, runs)
        if text:
            return text
    return ""


def _share_header_ids(kept: Node, repeat: Node, table: Node) -> None:
    """Point the cells below a repeated header at the first header's IDs."""
    old = [str(n.obj.get("/ID")) for n in repeat.nodes() if n.tag == "TH"]
    new = [str(n.obj.get("/ID")) for n in kept.nodes() if n.tag == "TH"]
    mapping = dict(zip(old, new, strict=False))
    for cell in table.nodes():
        attrs = cell.obj.get("/A")
        if cell.tag == "TD" and isinstance(attrs, Dictionary) and "/Headers" in attrs:
            attrs.Headers = Array([String(mapping.get(str(h), str(h))) for h in attrs.Headers])


def _tag_fields(document: Node, html: Html, runs: dict[int, dict[int, Run]]) -> None:
    """Make each blank and tick box a /Form element with a PrintField attribute (PDF/UA-1 7.14)."""
    # An empty cell is the continuation of a table row split across pages (large print): it is
    # dropped with the other empty elements below, and is never a form field.
    leaves = [n for n in document.nodes() if not n.kids and n.tag not in ("Figure", "TD", "TH")]
    ticks = [n for n in document.nodes() if n.is_text_leaf and _text(n, runs).strip() == TICK_BOX]
    # WeasyPrint adds empty cells of its own (beside a cell spanning columns): pair empty elements with
    # the HTML's in order and type; an empty element the HTML does not have is decoration.
    wanted = iter(html.empties)
    expected = next(wanted, None)
    for node in leaves:
        if expected is not None and expected[0] == node.tag:
            if expected[1] is not None:
                _make_form(node, expected[1])
            expected = next(wanted, None)
    missing = ([expected] if expected else []) + list(wanted)
    if missing or len(ticks) != len(html.boxes):
        raise StructureError(
            f"expected the tag tree to hold the HTML's {len(html.empties)} empty elements and {len(html.boxes)} "
            f"tick boxes, found {len(html.empties) - len(missing)} and {len(ticks)}: "
            "make blanks and tick boxes with the macros in parts.html.j2"
        )
    for node, box in zip(ticks, html.boxes, strict=True):
        _make_form(node, box)


def _make_form(node: Node, field: Field) -> None:
    node.tag = "Form"
    attrs = Dictionary(O=Name.PrintField, Role=Name("/" + field.role), Desc=String(field.label))
    if field.role == "cb":
        attrs.checked = Name.off
    node.obj.A = attrs
    if field.id:
        node.obj.ID = String(field.id)


def _drop_empty(node: Node) -> None:
    """Remove elements with no content (decoration), keeping blank form fields."""
    kept: list[Node | Mcr | Dictionary] = []
    for kid in node.kids:
        if isinstance(kid, Node):
            _drop_empty(kid)
            if not kid.kids and kid.tag not in ("Form", "Figure"):
                continue
            # A Span (or the box of a ::before) holding only a field is the field.
            if (
                kid.tag in ("Span", "NonStruct")
                and len(kid.kids) == 1
                and isinstance(kid.kids[0], Node)
                and kid.kids[0].tag == "Form"
            ):
                kid = kid.kids[0]
        kept.append(kid)
    node.kids = kept


def _set_scopes(document: Node, html: Html) -> None:
    """Give each header cell the /Scope its HTML `scope` says (column when it says nothing)."""
    cells = [n for n in document.nodes() if n.tag == "TH"]
    if len(cells) != len(html.scopes):
        # Some table is still in pieces (a row broken inside a cell): fall back to where each cell sits.
        heads = {id(c) for n in document.nodes() if n.tag == "THead" for c in n.nodes()}
        scopes: list[str | None] = ["col" if id(c) in heads else "row" for c in cells]
    else:
        scopes = html.scopes
    for cell, scope in zip(cells, scopes, strict=True):
        attrs = cell.obj.get("/A")
        if not isinstance(attrs, Dictionary):
            attrs = cell.obj.A = Dictionary(O=Name.Table)
        attrs.Scope = Name(_SCOPES.get((scope or "col").lower(), "/Column"))


_INLINE = {"Span", "NonStruct", "Link", "Form", "Quote", "Code", "Reference", "Note", "BibEntry"}


@dataclass
class _Text:
    """A run of text in reading order, for finding where words meet."""

    mcr: Mcr
    run: Run
    box: bool  # a tick box
    block: int  # the id() of the nearest block element around it
    gap: bool = False  # a blank run (a space drawn as nothing) follows


def _space_line_ends(document: Node, runs: dict[int, dict[int, Run]]) -> dict[int, set[int]]:
    """Find each text that runs on into the next word, in reading order, where the page shows them apart:
    the end of a line (not a word broken after a hyphen or a slash, as a long web address is), the end
    of a block (a paragraph, cell, list label), a tick box before its words, or a space WeasyPrint drew
    as an empty text object between two inline elements. Return their MCIDs by page (each gets a space
    glyph at its end)."""
    texts: list[_Text] = []

    def walk(node: Node, block: Node) -> None:
        here = block if node.tag in _INLINE else node
        for kid in node.kids:
            if isinstance(kid, Node):
                walk(kid, here)
            elif isinstance(kid, Mcr) and (run := runs.get(kid.page, {}).get(kid.mcid)) is not None:
                if run.text:
                    texts.append(_Text(kid, run, node.tag == "Form", id(here)))
                elif run.blank and texts:
                    texts[-1].gap = True

    walk(document, document)
    ends: dict[int, set[int]] = {}
    for one, two in zip(texts, texts[1:], strict=False):
        if one.run.text[-1].isspace() or two.run.text[0].isspace():
            continue
        new_line = one.mcr.page != two.mcr.page or abs(one.run.y - two.run.y) > _SAME_LINE
        same_block = one.block == two.block
        broken_word = new_line and same_block and one.run.text.endswith(("-", "/"))
        if (new_line and not broken_word) or not same_block or one.box or one.gap:
            ends.setdefault(one.mcr.page, set()).add(one.mcr.mcid)
    return ends


# ---------------------------------------------------------------------------------------------------
# Writing back: the tree, the ParentTree, the IDTree, artifacts, font names.


def _write_tree(doc: pikepdf.Pdf, tree_root: Dictionary, document: Node) -> None:
    page_refs = [page.obj for page in doc.pages]
    parents: dict[int, dict[int, Dictionary]] = {}
    ids: dict[str, Dictionary] = {}
    annotations: dict[int, Dictionary] = {}

    def write(node: Node, parent: Dictionary) -> None:
        obj = node.obj
        obj.P = parent
        if node.page >= 0:
            obj.Pg = page_refs[node.page]
        obj.S = Name("/" + node.tag)
        kids = []
        for kid in node.kids:
            if isinstance(kid, Node):
                write(kid, obj)
                kids.append(kid.obj)
            elif isinstance(kid, Mcr):
                parents.setdefault(kid.page, {})[kid.mcid] = obj
                kids.append(
                    kid.mcid
                    if kid.page == node.page
                    else Dictionary(Type=Name.MCR, Pg=page_refs[kid.page], MCID=kid.mcid)
                )
            else:
                annotation = kid.get("/Obj")
                if annotation is not None and "/StructParent" in annotation:
                    annotations[int(annotation.StructParent)] = obj
                kids.append(kid)
        obj.K = Array(kids)
        if "/ID" in obj:
            ids[str(obj.ID)] = obj

    write(document, tree_root)
    nums: list[Any] = []
    for number, page in enumerate(doc.pages):
        slots = parents.get(number, {})
        page.obj.StructParents = number
        nums += [number, Array([slots.get(i) for i in range(max(slots, default=-1) + 1)])]
    for key, obj in sorted(annotations.items()):
        nums += [key, obj]
    tree_root.ParentTree = doc.make_indirect(Dictionary(Nums=Array(nums)))
    tree_root.ParentTreeNextKey = max([len(doc.pages), *(k + 1 for k in annotations)])
    if ids:
        names: list[Any] = []
        for key in sorted(ids):
            names += [String(key), ids[key]]
        tree_root.IDTree = Dictionary(Names=Array(names))


def _rewrite_content(
    doc: pikepdf.Pdf, document: Node, runs: dict[int, dict[int, Run]], ends: dict[int, set[int]], repeats: set[Mcr]
) -> None:
    """Mark content no element reaches as pagination artifacts (running headers and footers, with their
    subtype; a table header repeated on a continuation page, without), and end each line that runs on
    into the next word with a space glyph (invisible; it reads as a space)."""
    used: dict[int, set[int]] = {}
    for mcr in document.mcrs():
        used.setdefault(mcr.page, set()).add(mcr.mcid)
    for number, page in enumerate(doc.pages):
        keep, spaced = used.get(number, set()), ends.get(number, set())
        middle = float(page.mediabox[3]) / 2 / 0.75  # WeasyPrint draws in CSS px, y down
        spaces = _space_codes(page)

        def rewrite(match: re.Match[bytes]) -> bytes:
            mcid = int(match.group(2))
            block = match.group(0)
            if mcid not in keep:
                if Mcr(number, mcid) in repeats:
                    return _MARKED.sub(b"/Artifact <</Type /Pagination>> BDC", block, count=1)
                run = runs[number].get(mcid)
                kind = b"Header" if run is None or run.y < middle else b"Footer"
                return _MARKED.sub(b"/Artifact <</Type /Pagination /Subtype /" + kind + b">> BDC", block, count=1)
            if mcid in spaced:
                font = _TF.findall(block)
                code = spaces.get(font[-1][0].decode("ascii")) if font else None
                tj = block.rfind(b"] TJ")
                if code and tj >= 0:
                    return block[:tj] + b"<" + code + b">" + block[tj:]
            return block

        data = _contents(page)
        marked = _MARKED_BLOCK.sub(rewrite, data)
        if marked != data:
            page.obj.Contents = doc.make_stream(marked)


def _space_codes(page: pikepdf.Page) -> dict[str, bytes]:
    """The glyph code of the space character in each of the page's fonts, where the subset has one."""
    codes = {}
    for name, font in page.obj.get("/Resources", {}).get("/Font", {}).items():
        for code, char in _to_unicode(font).items():
            if char == " ":
                codes[name[1:]] = b"%04x" % code
                break
    return codes


def _rename_subsets(doc: pikepdf.Pdf) -> None:
    """Name each embedded subset from its own glyphs, so different subsets never share a tag."""
    seen: set[tuple[int, int]] = set()
    for page in doc.pages:
        for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
            if font.objgen in seen or "/BaseFont" not in font:
                continue
            seen.add(font.objgen)
            descendants = list(font.get("/DescendantFonts", []))
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            if descriptor is None:
                continue
            program = next((descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), None)
            base = str(font.BaseFont)[1:]
            if program is None or "+" not in base:
                continue
            digest = hashlib.sha256(program.read_raw_bytes()).digest()
            tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
            name = Name("/" + tag + "+" + base.split("+", 1)[1])
            font.BaseFont = name
            for target in [*descendants, descriptor]:
                if "/BaseFont" in target:
                    target.BaseFont = name
            descriptor.FontName = name
