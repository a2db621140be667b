"""The tagged PDF holds together (PDF/UA-1): a structure checker run on small inline documents and on
every built document, both papers, standard and large print, and a packet."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest

from leaflets.pdf import PdfMaker

MM = 72 / 25.4
_MCID = re.compile(rb"<<\s*/MCID\s+(\d+)\s*>>\s*BDC")
_ARTIFACT_TEXT = re.compile(rb"/Artifact\s*(?:<<[^>]*>>\s*BDC|BMC)(.*?)EMC", re.S)
_TM_Y = re.compile(rb"-?[\d.]+ -?[\d.]+ -?[\d.]+ -?[\d.]+ -?[\d.]+ (-?[\d.]+) Tm")


# ---------------------------------------------------------------------------------------------------
# The checker: each function returns a list of problems, empty when the file is sound.


def _kids(element: pikepdf.Dictionary) -> list:
    k = element.get("/K")
    return list(k) if isinstance(k, pikepdf.Array) else ([] if k is None else [k])


def _elements(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    out, stack = [], list(reversed(_kids(pdf.Root.StructTreeRoot)))
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and node.get("/Type") not in ("/MCR", "/OBJR"):
            out.append(node)
            stack.extend(reversed(_kids(node)))
    return out


def _content(page: pikepdf.Page) -> bytes:
    contents = page.obj.Contents
    parts = contents if isinstance(contents, pikepdf.Array) else [contents]
    return b"\n".join(p.read_bytes() for p in parts)


def check_parent_tree(pdf: pikepdf.Pdf) -> list[str]:
    """ParentTree and content MCIDs match both ways, and each slot's element really holds its MCID."""
    problems = []
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    held: dict[tuple[int, int], pikepdf.Dictionary] = {}
    for element in _elements(pdf):
        page = pages.get(element.Pg.objgen) if "/Pg" in element else None
        for kid in _kids(element):
            if isinstance(kid, int):
                held[(page, int(kid))] = element
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                held[(pages[kid.Pg.objgen], int(kid.MCID))] = element
    nums = list(pdf.Root.StructTreeRoot.ParentTree.Nums)
    tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for number, page in enumerate(pdf.pages):
        in_content = {int(m) for m in _MCID.findall(_content(page))}
        slots = tree.get(int(page.obj.StructParents), [])
        in_tree = {i for i, slot in enumerate(slots) if isinstance(slot, pikepdf.Dictionary)}
        in_elements = {mcid for (p, mcid) in held if p == number}
        if in_content != in_tree:
            problems.append(f"page {number + 1}: content MCIDs {sorted(in_content ^ in_tree)} differ from ParentTree")
        if in_content != in_elements:
            problems.append(f"page {number + 1}: MCIDs {sorted(in_content ^ in_elements)} not held by one element")
        for mcid in in_tree:
            if held.get((number, mcid)) is None or held[(number, mcid)].objgen != slots[mcid].objgen:
                problems.append(f"page {number + 1}: ParentTree slot {mcid} names the wrong element")
    return problems


def check_ids(pdf: pikepdf.Pdf) -> list[str]:
    """Every /ID is in the IDTree, and every TD /Headers entry names one of them."""
    root = pdf.Root.StructTreeRoot
    names = list(root.IDTree.Names) if "/IDTree" in root else []
    id_tree = {str(names[i]): names[i + 1].objgen for i in range(0, len(names), 2)}
    problems = []
    for element in _elements(pdf):
        if "/ID" in element and id_tree.get(str(element.ID)) != element.objgen:
            problems.append(f"/ID {element.ID} is not in the IDTree")
        attrs = element.get("/A")
        if isinstance(attrs, pikepdf.Dictionary):
            problems += [f"/Headers {h} names no /ID" for h in attrs.get("/Headers", []) if str(h) not in id_tree]
    return problems


def check_no_empty_leaves(pdf: pikepdf.Pdf) -> list[str]:
    """No element is empty, except a blank form field (its line is drawn, not written)."""
    return [
        f"empty {element.S}"
        for element in _elements(pdf)
        if not _kids(element) and not (element.S == "/Form" and "/A" in element)
    ]


def check_forms(pdf: pikepdf.Pdf) -> list[str]:
    """Every /Form is a PrintField with a role and a description."""
    problems = []
    for element in _elements(pdf):
        if element.S == "/Form":
            attrs = element.get("/A", {})
            if (
                attrs.get("/O") != "/PrintField"
                or attrs.get("/Role") not in ("/tv", "/cb")
                or not str(attrs.get("/Desc", ""))
            ):
                problems.append(f"form field without a PrintField role and description: {dict(attrs)}")
    return problems


def check_artifacts(path: Path, pdf: pikepdf.Pdf, top: float = 45 * MM, bottom: float = 30 * MM) -> list[str]:
    """Text is an artifact only in the running lines (within `top` of the top edge or `bottom` of the
    foot), or where it repeats a table's header on a continuation page."""
    texts, artifacts = page_texts(path)
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    heads = [
        " ".join(" ".join(texts.get(key, "") for key in _mcids(element, pages)).split())
        for element in _elements(pdf)
        if element.S == "/THead"
    ]
    problems = []
    for number, text, from_top, height in artifacts:
        words = " ".join(text.split())
        if top < from_top < height - bottom and not (words and any(words in head for head in heads)):
            problems.append(f"page {number + 1}: artifact text {text[:30]!r} {from_top / MM:.0f} mm from the top")
    return problems


def _mcids(element: pikepdf.Dictionary, pages: dict) -> list[tuple[int, int]]:
    """The (page, MCID) of every marked-content sequence below `element`, in reading order."""
    return [item for kind, item in _walk(element, pages) if kind == "mcid"]


def _walk(element: pikepdf.Dictionary, pages: dict):
    """Yield ("start", tag), ("mcid", (page, MCID)) and ("end", tag) for `element` and all below it."""
    page = pages.get(element.Pg.objgen) if "/Pg" in element else None
    yield "start", str(element.get("/S", ""))
    for kid in _kids(element):
        if isinstance(kid, int):
            yield "mcid", (page, int(kid))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            yield "mcid", (pages[kid.Pg.objgen], int(kid.MCID))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
            yield from _walk(kid, pages)
    yield "end", str(element.get("/S", ""))


def check_version(pdf: pikepdf.Pdf) -> list[str]:
    problems = [] if pdf.pdf_version == "1.7" else [f"PDF version {pdf.pdf_version}, expected 1.7"]
    if not any(obj.get("/Type") == "/ObjStm" for obj in pdf.objects if isinstance(obj, pikepdf.Stream)):
        problems.append("no object streams")
    return problems


def check_subset_tags(pdf: pikepdf.Pdf) -> list[str]:
    """Two different subsets never share a tag."""
    seen: dict[str, bytes] = {}
    problems = []
    for page in pdf.pages:
        for font in page.obj.Resources.get("/Font", {}).values():
            descriptor = font.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in font else font.FontDescriptor
            tag = str(font.BaseFont)[1:].split("+")[0]
            data = descriptor.FontFile2.read_raw_bytes()
            if seen.setdefault(tag, data) != data:
                problems.append(f"subset tag {tag} names two different subsets")
    return problems


def structure_problems(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [
            problem
            for check in (
                check_parent_tree,
                check_ids,
                check_no_empty_leaves,
                check_forms,
                check_version,
                check_subset_tags,
            )
            for problem in check(pdf)
        ] + check_artifacts(path, pdf)


def ink_margins(path: Path) -> float:
    """Return the smallest distance in mm from any glyph or image to any page edge."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    smallest = float("inf")
    pdf = pdfium.PdfDocument(str(path))
    try:
        for page in pdf:
            width, height = page.get_width(), page.get_height()
            text = page.get_textpage()
            boxes = [text.get_charbox(i) for i in range(text.count_chars()) if not text.get_text_range(i, 1).isspace()]
            for obj in page.get_objects():
                if obj.type == raw.FPDF_PAGEOBJ_IMAGE:
                    boxes.append(obj.get_bounds())
            for left, bottom, right, top in boxes:
                smallest = min(smallest, left, bottom, width - right, height - top)
    finally:
        pdf.close()
    return smallest / MM


def page_texts(path: Path) -> tuple[dict[tuple[int, int], str], list[tuple[int, str, float, float]]]:
    """Read, with pdfium, the text of each (page, MCID), and each artifact text object: its page, text,
    distance from the top edge (points, to its middle) and the page's height."""
    from pdfread import text_objects

    texts: dict[tuple[int, int], str] = {}
    artifacts = []
    for number, objects in enumerate(text_objects(path)):
        for o in objects:
            if o.mcid >= 0:
                texts[(number, o.mcid)] = texts.get((number, o.mcid), "") + o.text
            elif o.artifact:
                artifacts.append((number, o.text, (o.top + o.bottom) / 2, o.height))
    return texts, artifacts


def structure_text(path: Path) -> list[str]:
    """Read the text in structure order: pdfium's text of each MCID, walked in tag order."""
    texts, _artifacts = page_texts(path)
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        return [texts.get(key, "") for key in _mcids(pdf.Root.StructTreeRoot, pages)]


def structure_reading(path: Path) -> str:
    """The text as a screen reader reads it: in structure order, each table cell apart from the next."""
    texts, _artifacts = page_texts(path)
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        return "".join(
            texts.get(item, "") if kind == "mcid" else " " if item in ("/TD", "/TH") else ""
            for kind, item in _walk(pdf.Root.StructTreeRoot, pages)
        )


def page_words(path: Path) -> set[str]:
    """The words the pages show (pdfium's text by position)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return {word for page in pdf for word in page.get_textpage().get_text_bounded().split()}
    finally:
        pdf.close()


def run_together(reading: str, shown: set[str]) -> list[str]:
    """The words of `reading` that are two or more of the page's words run together. A web address
    broken after a slash at a line or page end is one word, not two run together."""

    def whole(word: str) -> bool:
        return word in shown or any(
            word[: i + 1] in shown and whole(word[i + 1 :]) for i, ch in enumerate(word[:-1]) if ch == "/"
        )

    return sorted({word for word in reading.split() if not whole(word)})


# ---------------------------------------------------------------------------------------------------
# Small documents, made here: each shows one thing WeasyPrint alone gets wrong.


@pytest.fixture(scope="module")
def maker(tmp_path_factory: pytest.TempPathFactory) -> PdfMaker:
    folder = tmp_path_factory.mktemp("inline")
    return PdfMaker(roots=(folder,), base_url=folder.as_uri() + "/")


def _page(body: str, style: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test</title><style>'
        "@page { size: A5; margin: 20mm; @bottom-center { content: 'Running footer ' counter(page) } }"
        f"body {{ font-size: 12pt }} {style}</style></head><body><main>{body}</main></body></html>"
    )


def _render(maker: PdfMaker, html: str, tmp_path: Path) -> Path:
    data, _pages = maker.make(html, "inline")
    path = tmp_path / "inline.pdf"
    path.write_bytes(data)
    return path


def _tags(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [str(e.S)[1:] for e in _elements(pdf)]


def test_a_list_broken_across_pages_is_one_list_with_all_its_items(maker, tmp_path):
    items = "".join(f"<li>Item number {i} of the long list</li>" for i in range(60))
    path = _render(maker, _page(f"<h1>List</h1><ul>{items}</ul><p>After the list.</p>"), tmp_path)
    tags = _tags(path)
    assert len(pikepdf.open(path).pages) >= 2
    assert tags.count("L") == 1 and tags.count("LI") == 60
    assert structure_problems(path) == []


def test_a_table_broken_across_pages_is_one_table_with_one_header(maker, tmp_path):
    rows = "".join(f'<tr><th scope="row">Row {i}</th><td>Value {i}</td></tr>' for i in range(50))
    table = f'<table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>{rows}</tbody></table>'
    path = _render(maker, _page(f"<h1>Table</h1>{table}"), tmp_path)
    tags = _tags(path)
    assert tags.count("Table") == 1 and tags.count("THead") == 1 and tags.count("TBody") == 1
    assert tags.count("TR") == 51 and tags.count("TH") == 52
    with pikepdf.open(path) as pdf:
        scopes = [str(e.A.Scope) for e in _elements(pdf) if e.S == "/TH"]
    assert scopes[:3] == ["/Column", "/Column", "/Row"] and set(scopes[2:]) == {"/Row"}
    assert structure_problems(path) == []


def test_two_sections_that_meet_at_a_page_break_stay_two(maker, tmp_path):
    first = "".join(f"<p>First section paragraph {i}.</p>" for i in range(20))
    second = "<p>Second section.</p>"
    body = f'<section style="break-after: page"><h2>One</h2>{first}</section><section><h2>Two</h2>{second}</section>'
    path = _render(maker, _page(body), tmp_path)
    assert _tags(path).count("Sect") == 2


def test_running_lines_are_artifacts_and_leave_no_orphans(maker, tmp_path):
    path = _render(maker, _page("<p>" + "Words in a paragraph. " * 300 + "</p>"), tmp_path)
    with pikepdf.open(path) as pdf:
        first = _content(pdf.pages[0])
        assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in first
        live = {o.objgen for o in _elements(pdf)}
        struct = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem"]
        assert {o.objgen for o in struct} == live  # no orphan element left in the file
    assert structure_problems(path) == []


def test_blanks_and_tick_boxes_are_print_fields(maker, tmp_path, root):
    from leaflets.render import make_environment

    env = make_environment(root / "templates")
    parts = env.get_template("parts.html.j2").module
    body = (
        str(parts.field("Patient name", "patient-name"))
        + str(parts.write_box("Questions asked", "questions"))
        + str(parts.choice("Copy given", "copy", ["Yes", "No"]))
        + str(parts.bullets([type("S", (), {"id": "s1", "text": "Point one"})()], tick=True))
    )
    css = "".join((root / "templates" / "assets" / name).read_text() for name in ("document.css", "print.css"))
    path = _render(maker, _page(body, css), tmp_path)
    with pikepdf.open(path) as pdf:
        forms = [(str(e.A.Role), str(e.A.Desc), str(e.get("/ID", ""))) for e in _elements(pdf) if e.S == "/Form"]
    assert forms == [
        ("/tv", "Patient name", "field-patient-name"),
        ("/tv", "Questions asked", "box-questions"),
        ("/cb", "Copy given: Yes", "field-copy-1"),
        ("/cb", "Copy given: No", "field-copy-2"),
        ("/cb", "Point one", ""),
    ]
    assert structure_problems(path) == []
    assert "\u2610" in "".join(structure_text(path))


def test_line_ends_read_as_spaces_in_structure_order(maker, tmp_path):
    path = _render(maker, _page("<p>" + "alpha beta gamma delta " * 40 + "</p>"), tmp_path)
    words = " ".join(structure_text(path)).split()
    assert set(words) == {"alpha", "beta", "gamma", "delta"}, sorted(set(words))[:5]


def test_a_row_broken_inside_a_cell_is_one_row_of_one_table(maker, tmp_path):
    """A row header longer than a page (large print, clinician notes) breaks inside its cell; however
    little of it goes over, the table stays one Table and the row one TR (D4)."""
    for words in range(220, 234, 3):  # the last few words of the cell alone on the next page, or more
        long = " ".join(f"w{i}" for i in range(words))
        rows = f'<tr><th scope="row">{long}</th><td>12</td><td>34</td></tr>' + "".join(
            f'<tr><th scope="row">Next row {i}</th><td>5{i}</td><td>6{i}</td></tr>' for i in range(3)
        )
        head = '<thead><tr><th scope="col">What</th><th scope="col">With</th><th scope="col">Without</th></tr></thead>'
        path = _render(maker, _page(f"<table>{head}<tbody>{rows}</tbody></table><p>After.</p>"), tmp_path)
        tags = _tags(path)
        assert len(pikepdf.open(path).pages) >= 2
        assert (tags.count("Table"), tags.count("THead"), tags.count("TR"), tags.count("TD")) == (1, 1, 5, 8), words
        assert structure_problems(path) == [], words
        reading = structure_reading(path).split()
        assert reading[:3] == ["What", "With", "Without"] and reading.count("What") == 1  # the repeat is an artifact
        assert reading[reading.index(f"w{words - 1}") + 1 : reading.index(f"w{words - 1}") + 3] == ["12", "34"]


def test_an_empty_cell_is_no_field_and_no_error(maker, tmp_path):
    """An empty cell in the HTML is not a blank to fill in; the blanks after it are still found."""
    body = (
        '<table><tr><th scope="row">A</th><td></td></tr><tr><th scope="row">B</th><td>x</td></tr></table>'
        '<p>Name: <span data-field="tv" aria-label="Name"></span></p>'
    )
    path = _render(maker, _page(body), tmp_path)
    with pikepdf.open(path) as pdf:
        assert [str(e.A.Desc) for e in _elements(pdf) if e.S == "/Form"] == ["Name"]
    assert _tags(path).count("Table") == 1
    assert structure_problems(path) == []


def test_words_the_page_shows_apart_read_apart(maker, tmp_path, root):
    """Tick boxes before their words, spaces between inline elements, table cells, list labels and line
    ends all read as spaces; a web address broken after a slash stays one word (D5)."""
    from leaflets.render import make_environment

    parts = make_environment(root / "templates").get_template("parts.html.j2").module
    items = [type("S", (), {"id": f"s{i}", "text": f"Point number {i} to tick"})() for i in range(3)]
    url = "https://example.org/" + "/".join(f"segment{i}" for i in range(12))
    body = (
        str(parts.choice("Copy given", "copy", ["Yes", "No"]))
        + str(parts.choice("Agrees to start", "start", [""]))
        + str(parts.bullets(items, tick=True))
        + "<p>Of three <b>4-week</b> <i>add-on</i> trials, <b>two</b> <b>failed</b>.</p>"
        + '<table><tr><th scope="row">Alpha</th><td>Beta</td><td>Gamma</td></tr></table>'
        + "<ol>"
        + "".join(f"<li>See {url}/{i}</li>" for i in range(3))
        + "</ol>"
        + "<p>"
        + "alpha beta gamma delta " * 40
        + "</p>"
    )
    css = "".join((root / "templates" / "assets" / name).read_text() for name in ("document.css", "print.css"))
    path = _render(maker, _page(body, css), tmp_path)
    reading = structure_reading(path)
    joined = run_together(reading, page_words(path))
    assert not joined, joined
    words = "".join(structure_text(path)).split()  # without the checker's spaces around cells
    for pair in (["\u2610", "Yes"], ["\u2610", "Point"], ["4-week", "add-on"], ["two", "failed."], ["Beta", "Gamma"]):
        assert any(words[i : i + 2] == pair for i in range(len(words))), pair
    assert f"{url}/1" in words


def test_same_html_gives_the_same_bytes(maker):
    html = _page("<ul>" + "<li>Item</li>" * 80 + "</ul>")
    assert maker.make(html, "a")[0] == maker.make(html, "a")[0]


def test_the_checker_finds_a_stale_parent_tree_and_a_missing_id(maker, tmp_path):
    path = _render(maker, _page('<table><tr><th scope="row">A</th><td>B</td></tr></table>'), tmp_path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        nums[1].append(_elements(pdf)[0])  # a slot for an MCID no content has
        del pdf.Root.StructTreeRoot["/IDTree"]
        pdf.save(path)
    problems = structure_problems(path)
    assert any("differ from ParentTree" in p for p in problems)
    assert any("not in the IDTree" in p for p in problems)


def test_the_checker_finds_body_text_made_an_artifact(maker, tmp_path):
    path = _render(maker, _page("<h1>Title</h1>" + "<p>Body text in the middle of the page.</p>" * 12), tmp_path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        data = _content(page)
        last = list(_MCID.finditer(data))[-3]  # a paragraph low on the page, above the footer
        start = data.rfind(b"/", 0, last.start())
        page.obj.Contents = pdf.make_stream(data[:start] + b"/Artifact <</Type /Pagination>> BDC" + data[last.end() :])
        pdf.save(path)
    assert any("artifact text 'Body text" in p for p in check_artifacts(path, pikepdf.open(path)))


# ---------------------------------------------------------------------------------------------------
# Every built document.


def _builds(request) -> list:
    return [request.getfixturevalue(name) for name in ("default_build", "a4_build", "large_build")]


def _html_counts(default_build) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """Lists, tables and form fields in each document's HTML, per clinic (regions differ: a UK record
    has a screening question a US one does not)."""
    import lxml.html

    counts = {}
    for doc in default_build.documents:
        tree = lxml.html.fromstring(doc.files["html"].path.read_bytes())
        counts[(doc.spec.clinic, doc.spec.topic, doc.spec.document, doc.spec.audience)] = {
            "L": len(tree.xpath("//ul|//ol")),
            "Table": len(tree.xpath("//table")),
            "Form": len(tree.xpath("//*[@data-field]")),
        }
    return counts


def test_every_built_pdf_passes_the_structure_checker(request, default_build):
    expected = _html_counts(default_build)
    for report in _builds(request):
        for doc in report.documents:
            path = doc.files["pdf"].path
            assert structure_problems(path) == [], (path.name, structure_problems(path)[:5])
            tags = _tags(path)
            want = expected[(doc.spec.clinic, doc.spec.topic, doc.spec.document, doc.spec.audience)]
            assert {kind: tags.count(kind) for kind in want} == want, path.name


def test_ink_is_at_least_10mm_from_every_edge(request):
    for report in _builds(request):
        for doc in report.documents:
            assert ink_margins(doc.files["pdf"].path) >= 10, doc.files["pdf"].path.name


def test_structure_order_reads_every_word_the_page_shows(request):
    """Every pair of words the page shows apart has a space between them in structure order (D5): no
    word read in structure order is two of the page's words run together."""
    for report in _builds(request):
        for doc in report.documents:
            path = doc.files["pdf"].path
            joined = run_together(structure_reading(path), page_words(path))
            assert not joined, (path.name, joined[:10])


def test_file_size_is_within_10_percent_of_weasyprints_own(default_build, root, monkeypatch):
    import leaflets.pdf
    from leaflets.session import Session, open_project, resolve_clinic

    doc = next(d for d in default_build.documents if d.spec.document == "consent")
    project = open_project(root)
    session = Session.open(project, resolve_clinic(project, doc.spec.clinic))
    html = session.render(doc.spec).html
    maker = PdfMaker(roots=session.roots, base_url=(root / "templates").as_uri() + "/")
    finished = maker.make(html, "size")[0]
    monkeypatch.setattr(leaflets.pdf, "finish", lambda pdf, htmls: pdf)
    raw = maker.make(html, "size")[0]
    assert abs(len(finished) - len(raw)) <= 0.1 * len(raw), (len(finished), len(raw))


# ---------------------------------------------------------------------------------------------------
# Logos and the screen font.


def _big_jpeg(path: Path, size: tuple[int, int] = (4800, 1600)) -> None:
    """Write a noisy photo-like JPEG of several megabytes (noise does not compress)."""
    from PIL import Image

    bands = [Image.effect_noise(size, 60 + 20 * i) for i in range(3)]
    Image.merge("RGB", bands).save(path, "JPEG", quality=95)


def test_a_large_jpeg_logo_is_scaled_to_print_resolution(project_copy, tmp_path):
    """An 8 MB photo logo costs a leaflet less than 1 MB, still shows, and builds to the same bytes (issue
    17: 'logos scaled and re-encoded to print resolution')."""
    from leaflets import assets
    from leaflets.build import BuildOptions, build

    logo = project_copy / "content" / "clinics" / "big-logo.jpg"
    _big_jpeg(logo)
    assert logo.stat().st_size > 4_000_000
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    clinic.write_text(clinic.read_text().replace("logo: example-logo.svg", "logo: big-logo.jpg"))
    options = dict(clinic="example", topics=("ketamine-infusion",), documents=("leaflet",), audiences=("patient",))
    sizes = []
    for large, run in ((False, "a"), (True, "b"), (False, "c")):
        assets._scaled.cache_clear()
        report = build(
            project_copy, BuildOptions(out=tmp_path / run, large_print=large, formats=("pdf", "html"), **options)
        )
        path = report.documents[0].files["pdf"].path
        sizes.append(path.stat().st_size)
        with pikepdf.open(path) as pdf:
            images = [
                obj
                for page in pdf.pages
                for obj in page.obj.Resources.get("/XObject", {}).values()
                if obj.get("/Subtype") == "/Image"
            ]
        assert images and all(
            int(i.Width) <= assets.LOGO_BOX[0] and int(i.Height) <= assets.LOGO_BOX[1] for i in images
        )
        assert max(int(i.Height) for i in images) == assets.LOGO_BOX[1]  # scaled to the box, not below it
        html = report.documents[0].files["html"].path.read_text(encoding="utf-8")
        assert "data:image/jpeg;base64," in html and len(html) < 2_500_000
    assert max(sizes) < 1_000_000, sizes
    first, third = (tmp_path / run / "example" / "ketamine-infusion" / "leaflet-patient-letter.pdf" for run in "ac")
    assert first.read_bytes() == third.read_bytes()  # scaled again, from no cache: the same bytes
    assert ink_margins(first) >= 10


def test_small_logos_are_served_as_they_are(tmp_path):
    from PIL import Image

    from leaflets import assets

    small = tmp_path / "small.png"
    Image.new("RGBA", (300, 100), (10, 60, 90, 255)).save(small)
    assert assets.image_bytes(small) == (small.read_bytes(), "image/png")
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="30" height="10"/>')
    assert assets.image_bytes(svg) == (svg.read_bytes(), "image/svg+xml")
    wide = tmp_path / "wide.png"
    Image.new("P", (3000, 1000), 3).save(wide)
    data, kind = assets.image_bytes(wide)
    with Image.open(io.BytesIO(data)) as scaled:
        assert kind == "image/png" and scaled.size == (585, 195)


def test_standalone_html_loads_the_bundled_font_from_data_urls(default_build):
    """Screen HTML declares the font with data: URLs a browser loads, never the PDF stage's scheme."""
    for doc in default_build.documents:
        html = doc.files["html"].path.read_text(encoding="utf-8")
        assert "leaflets-font:" not in html, doc.files["html"].path.name
        sources = re.findall(r"@font-face\s*{[^}]*src:\s*url\(\"?([^\")]{0,40})", html)
        assert len(sources) == 3 and all(s.startswith("data:font/ttf;base64,") for s in sources), sources


# ---------------------------------------------------------------------------------------------------
# The rest of the audit (pdf-audit-0.1.md): D8 line breaks, D9 black text, D10 subset tags, D11 scope,
# D12 the HTML's landmark and fields.

_FILL = re.compile(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) rg|(-?[\d.]+) g\b|(\[[^\]]*\]\s*TJ|<[0-9a-fA-F]*>\s*Tj)")


def test_no_line_breaks_after_hard_hyphens_or_inside_short_urls(default_build):
    """D8: no line of any document ends in a hyphenated word's hyphen; an address breaks only after a
    slash, and only when it is long (see pdf.keep_words_whole)."""
    import lxml.html
    import pypdfium2 as pdfium

    for doc in default_build.documents:
        html = lxml.html.fromstring(doc.files["html"].path.read_bytes()).text_content()
        urls = set(re.findall(r"https?://\S+", html))
        pdf = pdfium.PdfDocument(str(doc.files["pdf"].path))
        lines = [line.strip() for page in pdf for line in page.get_textpage().get_text_bounded().splitlines()]
        pdf.close()
        for line in lines:
            assert not re.search(r"[A-Za-z]-$", line), (doc.files["pdf"].path.name, line)
            last = line.split()[-1] if line.split() else ""
            if "://" in last and not any(last.rstrip(".,;") == url.rstrip(".,;") for url in urls):
                assert last.endswith("/") and any(url.startswith(last) and len(url) > 60 for url in urls), last


def test_text_is_pure_black_or_a_strong_colour(default_build):
    """D9: body text is painted 0 0 0 (one ink on a press); no text is a near-black that prints in four."""
    for doc in default_build.documents[:12]:
        with pikepdf.open(doc.files["pdf"].path) as pdf:
            colours: dict[tuple[float, ...], int] = {}
            for page in pdf.pages:
                fill: tuple[float, ...] = (0.0, 0.0, 0.0)
                for match in _FILL.finditer(_content(page)):
                    if match.group(1) is not None:
                        fill = tuple(float(match.group(i)) for i in (1, 2, 3))
                    elif match.group(4) is not None:
                        fill = (float(match.group(4)),) * 3
                    else:
                        colours[fill] = colours.get(fill, 0) + 1
        assert max(colours, key=colours.__getitem__) == (0.0, 0.0, 0.0), colours
        near_black = [c for c in colours if c != (0.0, 0.0, 0.0) and max(c) < 0.25 and max(c) - min(c) < 0.05]
        assert not near_black, (doc.files["pdf"].path.name, near_black)


def test_subset_tags_differ_for_different_subsets_across_files(request):
    """D10: a tag names one glyph set in every file of a build, so merged PDFs never confuse a RIP."""
    seen: dict[str, bytes] = {}
    for report in _builds(request):
        for doc in report.documents:
            with pikepdf.open(doc.files["pdf"].path) as pdf:
                for page in pdf.pages:
                    for font in page.obj.Resources.get("/Font", {}).values():
                        tag = str(font.BaseFont)[1:].split("+")[0]
                        program = font.DescendantFonts[0].FontDescriptor.FontFile2.read_raw_bytes()
                        assert seen.setdefault(tag, program) == program, (tag, doc.files["pdf"].path.name)


def test_header_cells_keep_the_html_scope(default_build):
    """D3 and D11: every TH carries the /Scope its HTML `scope` gives, in order."""
    import lxml.html

    names = {"row": "/Row", "rowgroup": "/Row", "col": "/Column", "colgroup": "/Column"}
    for doc in default_build.documents:
        tree = lxml.html.fromstring(doc.files["html"].path.read_bytes())
        want = [names[th.get("scope", "col")] for th in tree.iter("th")]
        with pikepdf.open(doc.files["pdf"].path) as pdf:
            got = [str(e.A.Scope) for e in _elements(pdf) if e.S == "/TH"]
        assert got == want, doc.files["pdf"].path.name


def test_html_has_one_main_landmark_a_viewport_and_named_fields(default_build):
    """D12 (and D1 in the HTML): one <main>, a viewport for phones, and every blank and tick box a
    textbox or checkbox with a name."""
    import lxml.html

    for doc in default_build.documents:
        tree = lxml.html.fromstring(doc.files["html"].path.read_bytes())
        assert len(tree.xpath("//main")) == 1 and tree.xpath("//meta[@name='viewport']"), doc.spec
        ids = {e.get("id"): e for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
        for field in tree.xpath("//*[@data-field]"):
            role = {"tv": "textbox", "cb": "checkbox"}[field.get("data-field")]
            name = field.get("aria-label") or " ".join(
                ids[ref].text_content() for ref in field.get("aria-labelledby", "").split() if ref in ids
            )
            assert field.get("role") == role and name.strip(), lxml.html.tostring(field)[:200]
