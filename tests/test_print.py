"""Print rules, read back from the PDFs: sizes, running lines, paper, tags, length, leaflet code."""

from __future__ import annotations

import re

import pytest

from conftest import pdf_of
from leaflets.render import fingerprint
from pdfread import catalog, glyph_sizes, page_sizes, page_texts, text

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)


def test_smallest_glyph_is_12pt_in_standard_print(default_build):
    for doc in default_build.documents:
        assert min(glyph_sizes(doc.files["pdf"].path)) >= 12, doc.spec


def test_smallest_glyph_is_16pt_in_large_print(large_build):
    for doc in large_build.documents:
        assert doc.files["pdf"].path.name.endswith("-large.pdf")
        assert min(glyph_sizes(doc.files["pdf"].path)) >= 16, doc.spec


def test_every_page_carries_version_dates_page_x_of_y_and_review_status(default_build, root):
    from leaflets.content import load_project

    project = load_project(root)
    for doc in default_build.documents:
        topic = project.topics[doc.spec.topic]
        region = project.clinics[doc.spec.clinic].region
        months = {m: project.string(f"month-{m}", "patient", region) for m in range(1, 13)}
        published = f"{topic.published.day} {months[topic.published.month]} {topic.published.year}"
        pages = page_texts(doc.files["pdf"].path)
        draft = project.string("draft-mark", doc.spec.audience, region)
        reviewed = project.string("reviewed-mark", doc.spec.audience, region)
        for number, words in enumerate(pages, start=1):
            assert f"Version {topic.version}" in words, (doc.spec, number)
            assert f"Published {published}" in words
            assert "Next review " in words
            assert f"Page {number} of {len(pages)}" in words
            if doc.review_status == "approved":  # the review mark the manifest records
                assert reviewed in words and draft not in words, (doc.spec.name, number)
            else:
                assert draft in words, (doc.spec.name, number)


def test_consent_pages_carry_patient_identifier_lines(default_build):
    for doc in default_build.documents:
        if doc.spec.document != "consent" or doc.spec.audience != "patient":
            continue
        for words in page_texts(doc.files["pdf"].path):
            assert "Patient name:" in words and "Date of birth:" in words and "Record number:" in words


def test_page_sizes_match_the_paper(default_build, a4_build):
    for report in (default_build, a4_build):
        for doc in report.documents:
            size = A4 if doc.spec.paper == "a4" else LETTER
            for width, height in page_sizes(doc.files["pdf"].path):
                assert (round(width), round(height)) == (round(size[0]), round(size[1])), doc.spec


def test_tagged_pdf_has_language_title_and_structure(default_build, root):
    import pypdf

    from leaflets.content import load_project

    project = load_project(root)
    for doc in default_build.documents[::6]:
        root_ = catalog(doc.files["pdf"].path)
        region = project.regions[project.clinics[doc.spec.clinic].region]
        assert root_["/Lang"] == region.language
        root = root_
        assert bool(root["/MarkInfo"]["/Marked"])
        assert "/StructTreeRoot" in root
        assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
        reader = pypdf.PdfReader(str(doc.files["pdf"].path))
        kind = project.string(f"document-{doc.spec.document}", doc.spec.audience, region.id)
        title = region.spell(project.topics[doc.spec.topic].title.for_audience(doc.spec.audience))
        assert reader.metadata["/Title"] == f"{title}: {kind}"
        assert b"pdfuaid" in root["/Metadata"].get_object().get_data()


@pytest.mark.parametrize("report_name", ["default_build", "a4_build"])
def test_leaflet_length_is_reported_by_check_and_bounded(request, report_name, root):
    """STANDARDS: 2-4 pages, fact box included: every patient and carer leaflet in standard print is
    (clinical second read, R11). Over 4 is also a `leaflets check` warning (rule length) naming the
    leaflet, so an edit that lengthens one shows in check as well as failing here."""
    from leaflets.check import run_checks

    report = request.getfixturevalue(report_name)
    leaflets = [
        d for d in report.documents
        if d.spec.document == "leaflet" and d.spec.audience != "clinician" and not d.spec.large_print
    ]
    assert leaflets
    for doc in leaflets:
        assert 2 <= doc.files["pdf"].pages <= 4, (doc.spec, doc.files["pdf"].pages)
    over = {d.spec.name for d in leaflets if d.files["pdf"].pages > 4}
    warned = {i.where for i in run_checks(root, build_dir=report.out).issues if i.rule == "length"}
    assert warned == over


def test_consent_record_signatures_and_closing_part(default_build):
    """The order of the 15 parts is tested in test_consent_record.py; here the signature blocks."""
    for doc in default_build.documents:
        if doc.spec.document != "consent" or doc.spec.audience != "patient":
            continue
        words = text(doc.files["pdf"].path)
        for role in ("Patient (or representative)", "Clinician", "Interpreter (if used)", "Witness (if local policy asks)"):
            assert role in words
        assert words.count("Signature:") == 4
        assert "About this record" in words and "About this leaflet" not in words


def test_consent_cites_the_leaflet_code_of_the_leaflet_actually_built(default_build):
    for doc in default_build.documents:
        spec = doc.spec
        if spec.document != "consent":
            continue
        given = spec.leaflet()
        leaflet_txt = pdf_of(default_build, spec.topic, "leaflet", given.audience, spec.clinic, spec.large_print).with_suffix(".txt")
        expected = fingerprint(leaflet_txt.read_text(encoding="utf-8"))
        match = re.search(r"Leaflet code ([0-9a-f]{12})", text(doc.files["pdf"].path))
        assert match and match.group(1) == expected, spec.name


def test_signature_blocks_are_not_split_across_pages(default_build):
    for doc in default_build.documents:
        if doc.spec.document != "consent":
            continue
        for words in page_texts(doc.files["pdf"].path):
            for role in ("Interpreter (if used)", "Witness (if local policy asks)"):
                if role in words:
                    after = words[words.index(role) :]
                    assert "Date and time:" in after, (doc.spec, role)


def test_no_heading_is_left_alone_at_a_page_foot(default_build):
    import pypdfium2 as pdfium

    for doc in default_build.documents:
        pdf = pdfium.PdfDocument(str(doc.files["pdf"].path))
        for page in pdf:
            lines = [line.strip() for line in page.get_textpage().get_text_bounded().splitlines() if line.strip()]
            body = [line for line in lines if not line.startswith(("Published", "Next review", "Page "))]
            assert body[-1] not in {
                "Before",
                "During",
                "After",
                "Longer-term risks",
                "Serious but rare risks",
                "What is not known",
                "On the day of treatment",
            }, (doc.spec, body[-1])
        pdf.close()


def test_the_glyph_size_check_can_fail(project_copy, tmp_path):
    from leaflets.build import BuildOptions, build

    css = project_copy / "templates" / "assets" / "document.css"
    css.write_text(css.read_text() + "\n.meta { font-size: 10pt; }\n")
    report = build(
        project_copy,
        BuildOptions(out=tmp_path, documents=("leaflet",), audiences=("patient",), topics=("ketamine-infusion",)),
    )
    assert min(glyph_sizes(report.documents[0].files["pdf"].path)) == 10


def _wrapped_lines(path) -> list[str]:
    """The lines the measure breaks: every line of a paragraph or list item but its last (whose length
    is the content's, not the layout's), read in structure order; a paragraph's lines are its marked
    content grouped by baseline."""
    import pikepdf

    from pdfread import text_objects

    marked = {
        (number, o.mcid): (o.bottom, o.text)
        for number, objects in enumerate(text_objects(path))
        for o in objects
        if o.mcid >= 0 and not o.artifact
    }

    def kids(element) -> list:
        k = element.get("/K")
        return list(k) if isinstance(k, pikepdf.Array) else ([] if k is None else [k])

    def contents(element, page, pages) -> list[tuple[int, int]]:
        page = pages[element.Pg.objgen] if "/Pg" in element else page
        found = []
        for kid in kids(element):
            if isinstance(kid, int):
                found.append((page, int(kid)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                found.append((pages[kid.Pg.objgen], int(kid.MCID)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
                found.extend(contents(kid, page, pages))
        return found

    wrapped = []
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            element = stack.pop()
            if element.get("/S") not in ("/P", "/LBody"):
                stack.extend(k for k in kids(element) if isinstance(k, pikepdf.Dictionary) and "/S" in k)
                continue
            lines: list[list] = []  # [page, baseline, text]: runs within 4 pt of a baseline share a line
            runs = sorted((key[0], *marked[key]) for key in contents(element, None, pages) if key in marked)
            for page, bottom, words in runs:
                if lines and lines[-1][0] == page and bottom - lines[-1][1] < 4:
                    lines[-1][2] += words
                else:
                    lines.append([page, bottom, words])
            wrapped += [line[2].strip() for line in lines[:-1]]
    return wrapped


def test_lines_of_prose_are_about_70_characters(default_build):
    """STANDARDS: about 70 characters a line (a 32 em measure). Measured on the lines the measure
    breaks, so a topic of short paragraphs reads the same as one of long ones. Large print (18 pt) on
    the same paper is held to the paper's text width, about 28 em, so its lines are shorter: about 55
    to 65 characters; under 50 means a column broken narrow."""
    import statistics

    for doc in default_build.documents:
        if doc.spec.document != "leaflet" or doc.spec.audience == "clinician":
            continue
        lengths = [len(line) for line in _wrapped_lines(doc.files["pdf"].path)]
        assert lengths, doc.spec
        low, high = (50, 70) if doc.spec.large_print else (60, 76)
        assert low <= statistics.median(lengths) <= high, (doc.spec, statistics.median(lengths))


def test_running_headers_and_footers_are_artifacts(default_build):
    import re

    import pypdf

    doc = next(d for d in default_build.documents if d.spec.document == "consent")
    data = pypdf.PdfReader(str(doc.files["pdf"].path)).pages[1].get_contents().get_data()
    artifacts = [m.group(1) for m in re.finditer(rb"/Artifact\s*(?:<<[^>]*>>\s*BDC|BMC)(.*?)EMC", data, re.S)]
    tagged = [m.group(1) for m in re.finditer(rb"/\w+\s*<<\s*/MCID\s+\d+\s*>>\s*BDC(.*?)EMC", data, re.S)]
    text_artifacts = [a for a in artifacts if b"TJ" in a or b"Tj" in a]
    # running lines: title and version, draft mark, identifiers, dates, page X of Y (one run per line or box)
    assert 5 <= len(text_artifacts) <= 12, len(text_artifacts)
    assert sum(1 for t in tagged if b"TJ" in t or b"Tj" in t) > 20


def test_text_colours_have_at_least_7_to_1_contrast(root):
    import re

    css = (root / "templates" / "assets" / "document.css").read_text() + (
        root / "templates" / "assets" / "print.css"
    ).read_text()

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    texts = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", css))
    backgrounds = set(re.findall(r"background:\s*(#[0-9a-fA-F]{6})", css)) | {"#ffffff"}
    assert texts and len(backgrounds) > 1
    for colour in texts:
        for background in backgrounds:
            light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
            assert (light + 0.05) / (dark + 0.05) >= 7, (colour, background)


def test_structure_tree_tags_headings_lists_tables_and_the_logo(default_build, root):
    """Each topic's patient leaflet (standard print, first clinic): an icon array is a Figure whose alt
    text says its numbers wherever the leaflet shows figures (a topic whose content has none shows none)."""
    import pypdf

    from leaflets.content import load_project
    from leaflets.render import shown_outcomes
    from leaflets.select import select

    project = load_project(root)
    leaflets = {}
    for d in default_build.documents:
        if (d.spec.document, d.spec.audience, d.spec.large_print) == ("leaflet", "patient", False):
            leaflets.setdefault(d.spec.topic, d)
    assert set(leaflets) == set(project.topics)
    for doc in leaflets.values():
        tree = pypdf.PdfReader(str(doc.files["pdf"].path)).trailer["/Root"]["/StructTreeRoot"]
        kinds, alts, stack = set(), [], [tree]
        while stack:
            node = stack.pop()
            node = node.get_object() if hasattr(node, "get_object") else node
            if isinstance(node, list):
                stack.extend(node)
            elif hasattr(node, "get"):
                if "/S" in node:
                    kinds.add(str(node["/S"]))
                if node.get("/S") == "/Figure":
                    alts.append(str(node.get("/Alt", "")))
                if "/K" in node:
                    stack.append(node["/K"])
        assert {"/H1", "/H2", "/H3", "/P", "/L", "/LI", "/Table", "/TR", "/TH", "/TD", "/Figure"} <= kinds, kinds
        clinic = project.clinics[doc.spec.clinic]
        assert clinic.logo_alt in alts, doc.spec.name
        figures = shown_outcomes(select(project, doc.spec, clinic))
        icon_arrays = [alt for alt in alts if " in 100" in alt]
        assert bool(icon_arrays) == bool(figures), (doc.spec.name, "icon arrays: Figures whose alt says the numbers")
