"""Honest numbers: figures come from content/outcomes, the fact box and icon arrays show them, check guards them."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from leaflets.check import run_checks
from leaflets.content import load_project
from leaflets.figures import icon_svg
from leaflets.render import shown_outcomes
from leaflets.select import describe_per100, select
from pdfread import normalise, text


def _edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body, f"{old!r} not in {path}"
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


def test_fact_box_numbers_in_every_pdf_equal_the_outcome_data(default_build, root):
    project = load_project(root)
    checked = 0
    for doc in default_build.documents:
        sel = select(project, doc.spec, project.clinics[doc.spec.clinic])
        words = normalise(text(doc.files["pdf"].path))
        for outcome in shown_outcomes(sel):
            for arm in (outcome.treatment, outcome.comparison):
                figure = normalise(describe_per100(arm.per100, doc.spec.audience))
                assert figure in words, (doc.spec.name, outcome.id, figure)
                checked += 1
    assert checked > 100


def test_every_key_outcome_is_shown_in_its_topics_leaflets(default_build, root):
    """A topic with figures puts a benefit and a harm among its key outcomes, and each key outcome is in
    the fact box of every leaflet of the topic. A topic whose content has no figures yet (balance then
    rests on its statements: check rule balance) has no fact box to test."""
    project = load_project(root)
    with_figures = {t for o in project.outcomes for t in o.topics}
    assert with_figures
    for topic in with_figures:
        keys = [o for o in project.outcomes if topic in o.topics and o.key]
        assert any(o.kind == "benefit" for o in keys) and any(o.kind == "harm" for o in keys), topic
    leaflets = [d for d in default_build.documents if d.spec.document == "leaflet" and d.spec.topic in with_figures]
    assert {d.spec.topic for d in leaflets} == with_figures
    for doc in leaflets:
        region = project.clinics[doc.spec.clinic].region
        sel = select(project, doc.spec, project.clinics[doc.spec.clinic])
        keys = {
            o.id
            for o in project.outcomes
            if doc.spec.topic in o.topics and o.key and o.fact_box and (o.regions is None or region in o.regions)
        }
        assert keys <= {o.id for o in shown_outcomes(sel)}, (doc.spec.name, sorted(keys))
        words = normalise(text(doc.files["pdf"].path))
        for outcome in shown_outcomes(sel):
            assert normalise(outcome.measure.for_audience(doc.spec.audience)) in words, (doc.spec.name, outcome.id)


def test_icon_array_fills_exactly_the_datas_count_and_stays_distinct_in_greyscale():
    for count in (0, 1, 41, 69, 100):
        svg = icon_svg(count)
        assert svg.count('class="had"') == count
        assert svg.count('class="not"') == 100 - count
    # filled is black, open is white with a black ring: apart in any greyscale
    svg = icon_svg(50)
    assert re.search(r'class="had"[^>]*fill="#000000"', svg)
    assert re.search(r'class="not"[^>]*fill="#ffffff"[^>]*stroke="#000000"', svg)


def test_icon_arrays_in_the_html_say_their_numbers(default_build, root):
    project = load_project(root)
    for doc in default_build.documents:
        if "html" not in doc.files:
            continue
        html = doc.files["html"].path.read_text(encoding="utf-8")
        for data, alt in re.findall(r'<img class="icon-array" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html):
            svg = base64.b64decode(data).decode("ascii")
            filled = svg.count('class="had"')
            figure = re.search(r"about (\d+) in 100|fewer than 1 in 100|([\d.]+)%", alt)
            assert figure, alt
            if figure.group(1):
                assert filled == int(figure.group(1)), (doc.spec.name, alt)


def test_a_figure_typed_into_patient_text_is_an_error(project_copy):
    path = project_copy / "content" / "statements" / "benefits.yaml"
    _edit(path, 'patient: "If it helps, you may feel better', 'patient: "About 70 in 100 people feel better. If it helps, you may feel better')
    report = run_checks(project_copy)
    found = [i for i in report.issues if i.rule == "numbers" and i.severity == "error"]
    assert found and "70 in 100" in found[0].message
    assert found[0].path == "content/statements/benefits.yaml" and found[0].line > 0
    assert report.errors >= 1


def test_an_outcome_missing_its_comparator_is_an_error_at_its_line(project_copy):
    path = project_copy / "content" / "outcomes" / "ketamine-infusion.yaml"
    body = path.read_text(encoding="utf-8")
    start = body.index("    comparison:")
    end = body.index("    source:", start)
    path.write_text(body[:start] + body[end:], encoding="utf-8")
    report = run_checks(project_copy)
    errors = [i for i in report.issues if i.severity == "error"]
    assert any(i.path == "content/outcomes/ketamine-infusion.yaml" and "comparison" in i.where for i in errors), errors


def test_a_placeholder_naming_no_outcome_is_an_error(project_copy):
    path = project_copy / "content" / "statements" / "benefits.yaml"
    _edit(path, 'patient: "If it helps, you may feel better', 'patient: "In one study [[no-such-outcome.treatment]] did. If it helps, you may feel better')
    report = run_checks(project_copy)
    assert any("no-such-outcome" in i.message and i.severity == "error" for i in report.issues)


def test_the_same_outcome_shows_the_same_number_everywhere(default_build, root):
    project = load_project(root)
    seen: dict[tuple[str, str], set[str]] = {}
    for doc in default_build.documents:
        sel = select(project, doc.spec, project.clinics[doc.spec.clinic])
        for o in sel.outcomes:
            seen.setdefault((o.id, doc.spec.audience), set()).add(describe_per100(o.treatment.per100, doc.spec.audience))
    assert all(len(v) == 1 for v in seen.values())


def test_a_patients_difference_adds_up_from_the_figures_printed(root):
    """The clinical second read found 'about 52 ... about 31 ... about 22 more': differences come from the printed figures."""
    from leaflets.select import describe_difference, reader_count

    project = load_project(root)
    for outcome in project.outcomes:
        printed = reader_count(outcome.treatment.per100) - reader_count(outcome.comparison.per100)
        words = describe_difference(outcome, "patient")
        if printed == 0:
            assert words == "about the same number"
        else:
            assert words == f"about {abs(printed)} {'more' if printed > 0 else 'fewer'} in 100", outcome.id
    assert reader_count(52.5) == 53 and reader_count(22.5) == 23 and reader_count(17.5) == 18
    assert reader_count(0.5) == 0 and describe_per100(0.5, "patient") == "fewer than 1 in 100"


def test_no_internal_check_note_reaches_a_reader(default_build):
    for doc in default_build.documents:
        words = text(doc.files["pdf"].path).lower()
        for phrase in ("before print", "confirm the arm", "not read in the paper", "todo"):
            assert phrase not in words, (doc.spec.name, phrase)


def test_a_non_inferiority_trial_shows_not_worse_never_a_gain(default_build, root):
    """Second read R30: ELEKT-D's Difference read 'about 14 more in 100' though the trial tested only 'not worse'."""
    from leaflets.render import icon_outcomes
    from leaflets.select import describe_difference

    project = load_project(root)
    checked = 0
    for doc in default_build.documents:
        sel = select(project, doc.spec, project.clinics[doc.spec.clinic])
        audience = doc.spec.audience
        words = normalise(text(doc.files["pdf"].path))
        for outcome in shown_outcomes(sel):
            if outcome.design != "non-inferiority":
                continue
            said = normalise(project.string("difference-non-inferiority", audience, sel.region.id))
            assert said in words, (doc.spec.name, outcome.id)
            separate = doc.spec.document == "consent" or audience == "clinician"  # arrays drawn apart from the box
            if separate and outcome in icon_outcomes(sel):  # they carry the same caveat (clinical read, round 13)
                assert words.count(said) >= 2, (doc.spec.name, outcome.id, "icon arrays without 'not worse'")
            gain = normalise(describe_difference(outcome, audience))
            if audience == "clinician":  # clinicians also see the observed difference, beside the design
                assert gain in words, (doc.spec.name, outcome.id, gain)
            else:
                assert gain not in words, (doc.spec.name, outcome.id, gain)
            checked += 1
    designs = {o.id for o in project.outcomes if o.design == "non-inferiority"}
    assert checked or not designs, "no built document showed a non-inferiority outcome"


def test_a_difference_placeholder_for_a_non_inferiority_outcome_is_an_error(project_copy):
    outcomes = project_copy / "content" / "outcomes" / "ketamine-infusion.yaml"
    body = outcomes.read_text(encoding="utf-8")
    first = re.search(r"^  - id: (\S+)$", body, re.MULTILINE)
    assert first
    oid = first.group(1)
    block_end = body.find("\n  - id:", first.end())
    block = body[first.end() : block_end if block_end >= 0 else len(body)]
    if "design: non-inferiority" not in block:
        at = body.index("    certainty:", first.end())
        body = body[:at] + "    design: non-inferiority\n" + body[at:]
        outcomes.write_text(body, encoding="utf-8")
    statement = project_copy / "content" / "statements" / "zz-planted.yaml"
    statement.write_text(
        "statements:\n"
        "- id: planted-gain\n"
        "  section: benefits\n"
        "  topics: [ketamine-infusion]\n"
        "  text:\n"
        f"    patient: 'Ketamine helped [[{oid}.difference]] people.'\n"
        "  sources:\n"
        "  - ref: elekt-d\n",
        encoding="utf-8",
    )
    report = run_checks(project_copy)
    found = [i for i in report.issues if i.rule == "numbers" and i.severity == "error" and oid in i.message]
    assert found, [i.message for i in report.issues if i.severity == "error"]
    assert found[0].path == "content/statements/zz-planted.yaml" and found[0].line > 0
    assert "not worse" in found[0].message


def test_a_figure_that_begins_a_sentence_gets_a_capital(root):
    """'... after a course. about 29 in 100 had memory loss': a placeholder may begin a sentence."""
    from leaflets.select import fill_numbers

    project = load_project(root)
    outcome = project.outcomes[0]
    figure = describe_per100(outcome.treatment.per100, "patient")
    text = f"[[{outcome.id}.treatment]] did. Then [[{outcome.id}.treatment]]. So! [[{outcome.id}.treatment]]"
    filled = fill_numbers(text, {outcome.id: outcome}, "patient")
    capital = figure[:1].upper() + figure[1:]
    assert filled == f"{capital} did. Then {figure}. So! {capital}"


def test_consent_records_draw_every_key_benefit_and_harm_at_a_readable_size(default_build, root):
    """Second read R28: arrays were about 14 mm wide with 1 mm dots, and the blood-pressure harm had none.
    A consent record draws an array pair for every key benefit and key harm in its fact box, each a
    Figure whose alt text says the number, with dots of at least 1.8 mm."""
    from pdfread import dot_diameters, figure_alts

    project = load_project(root)
    checked = 0
    for doc in default_build.documents:
        if doc.spec.document != "consent":  # every edition: standard and large print
            continue
        sel = select(project, doc.spec, project.clinics[doc.spec.clinic])
        wanted = [o for o in shown_outcomes(sel) if o.key and o.kind in ("benefit", "harm")]
        alts = [normalise(a) for a in figure_alts(doc.files["pdf"].path)]
        for outcome in wanted:
            measure = normalise(outcome.measure.for_audience(doc.spec.audience))
            for arm in (outcome.treatment, outcome.comparison):
                said = normalise(describe_per100(arm.per100, doc.spec.audience))
                assert any(said in a and measure in a for a in alts), (doc.spec.name, outcome.id, said)
        if wanted:
            dots = dot_diameters(doc.files["pdf"].path)
            assert len(dots) >= 200 * len(wanted), (doc.spec.name, len(dots))
            assert min(dots) >= 1.8 / 25.4 * 72, (doc.spec.name, min(dots))
            checked += 1
    assert checked or not any(o.key for o in project.outcomes)
