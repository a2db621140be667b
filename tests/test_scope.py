"""Adding a topic is safe: explicit scope, the topic's own headings and key points, check's gates, new-topic.

The fixture tests/projects/ect holds a third topic (ECT, from NICE NG222 and IPG542) beside a part of
the ketamine family copied from the real content; a second set of tests drops the same topic into a
copy of the real content.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaflets.check import explain, run_checks
from leaflets.cli import main
from leaflets.content import load_project
from leaflets.errors import ContentError
from leaflets.model import AUDIENCES, DOCUMENTS
from leaflets.select import DocumentSpec, fill_numbers, select
from leaflets.session import Session

ROOT = Path(__file__).resolve().parent.parent
ECT = ROOT / "tests" / "projects" / "ect"
TEMPLATES = ROOT / "templates"
FAMILY_WORDS = ("controlled drug", "bladder", "pregnant", "Spravato", "ketamine", "Ketamine")


@pytest.fixture
def ect_copy(tmp_path: Path) -> Path:
    """A writable copy of the ECT fixture project."""
    shutil.copytree(ECT, tmp_path / "ect")
    return tmp_path / "ect"


@pytest.fixture
def real_with_ect(tmp_path: Path) -> Path:
    """The real content and seeds, with the fixture's ECT topic, statements and reference added."""
    for name in ("content", "seeds"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for folder in ("topics", "statements", "outcomes"):
        shutil.copy(ECT / "content" / folder / "ect.yaml", tmp_path / "content" / folder / "ect.yaml")
    fixture_refs = (ECT / "content" / "references.yaml").read_text(encoding="utf-8")
    tms = re.search(r"  - id: nice-ipg542\n(?:    .*\n|      .*\n)+", fixture_refs)
    assert tms is not None
    with (tmp_path / "content" / "references.yaml").open("a", encoding="utf-8") as refs:
        refs.write(tms.group(0))
    return tmp_path


def _selections(project, topic):
    for clinic in project.clinics.values():
        for document in DOCUMENTS:
            for audience in AUDIENCES:
                yield select(project, DocumentSpec(topic, document, audience, "a4", clinic=clinic.id), clinic)


def _family_ids(project) -> set[str]:
    return {s.id for s in project.statements if s.families} - {
        s.id for s in project.statements if s.general or (s.topics and "ect" in s.topics)
    }


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- the fixture's third topic ---------------------------------------------------------------


def test_ect_prints_none_of_the_nmda_family_statements():
    project = load_project(ECT)
    family = _family_ids(project)
    assert {"key-controlled", "risk-bladder", "pregnancy", "option-ketamine"} <= family
    for sel in _selections(project, "ect"):
        assert not family & {i.id for i in sel.items}, sel.spec
        assert all(i.why.split(",")[0] in ("topic", "general") for i in sel.items), sel.spec
        assert "spravato-pi" not in {r.id for r in sel.references}


def test_ect_documents_carry_no_family_words():
    project = load_project(ECT)
    session = Session.open(project, project.clinics["ect-clinic"], TEMPLATES)
    for document in DOCUMENTS:
        for audience in AUDIENCES:
            text = session.render(session.spec("ect", document, audience)).text
            assert "ECT" in text
            for word in FAMILY_WORDS:
                assert word not in text, (document, audience, word)


def test_the_family_still_reaches_its_own_topic():
    project = load_project(ECT)
    sel = select(project, DocumentSpec("ketamine-infusion", "leaflet", "patient", "a4"), project.clinics["ect-clinic"])
    assert {"key-controlled", "risk-bladder", "pregnancy"} <= {i.id for i in sel.items}
    assert next(i for i in sel.items if i.id == "risk-bladder").why == "family nmda-antagonists"


def test_a_topic_is_never_its_own_alternative():
    project = load_project(ECT)
    clinic = project.clinics["ect-clinic"]
    ect = [i.id for i in select(project, DocumentSpec("ect", "consent", "patient", "a4"), clinic).section("options")]
    ketamine = [
        i.id
        for i in select(project, DocumentSpec("ketamine-infusion", "consent", "patient", "a4"), clinic).section(
            "options"
        )
    ]
    assert ect == ["ect-option-tms", "option-no-change"]  # the general "ECT or TMS" row is ECT's own
    assert "option-brain-stimulation" in ketamine and "option-ketamine" not in ketamine


def test_key_points_follow_the_topic_and_headings_come_from_it():
    project = load_project(ECT)
    clinic = project.clinics["ect-clinic"]
    sel = select(project, DocumentSpec("ect", "leaflet", "patient", "a4"), clinic)
    assert [i.id for i in sel.section("key-points")] == ["ect-key-what", "ect-key-memory", "ect-key-choice"]
    session = Session.open(project, clinic, TEMPLATES)
    ect = session.render(session.spec("ect", "leaflet", "patient")).text
    ketamine = session.render(session.spec("ketamine-infusion", "leaflet", "patient")).text
    assert "## What is severe depression?" in ect and "treatment-resistant" not in ect
    assert "## What is treatment-resistant depression?" in ketamine


def test_the_fixture_topic_passes_check():
    report = run_checks(ECT, ("ect",))
    assert report.errors == 0 and report.warnings == 0, [str(i) for i in report.issues]


def test_check_exits_1_when_the_topic_lacks_its_own_harms(ect_copy):
    statements = ect_copy / "content" / "statements"
    _edit(statements / "ect.yaml", "section: risks-day", "section: during")
    _edit(statements / "ect.yaml", "section: risks-long", "section: during")
    result = CliRunner().invoke(main, ["check", "--project", str(ect_copy), "--topic", "ect"])
    assert result.exit_code == 1, result.output
    balance = [line for line in result.output.splitlines() if ": balance: " in line]
    assert len(balance) == 6  # 2 documents x 3 audiences
    assert all(line.startswith("content/topics/ect.yaml:") and "its own harms" in line for line in balance)


def test_general_harms_do_not_satisfy_balance(ect_copy):
    statements = ect_copy / "content" / "statements"
    _edit(statements / "ect.yaml", "section: risks-day", "section: during")
    _edit(statements / "ect.yaml", "section: risks-long", "section: during")
    _edit(
        statements / "general.yaml",
        "  - id: crisis-lines\n",
        "  - id: general-harm\n    section: risks-rare\n    general: true\n"
        '    text: {patient: "Any treatment can have side effects.", clinician: "Any treatment has adverse effects."}\n'
        "    sources: [{ref: nice-ng222}]\n"
        "  - id: crisis-lines\n",
    )
    report = run_checks(ect_copy, ("ect",))
    balance = [i for i in report.issues if i.rule == "balance"]
    assert balance and all(
        "its own harms" in i.message and "found only general ones (general-harm)" in i.message for i in balance
    )


def test_explain_lists_exactly_what_each_document_prints():
    project = load_project(ECT)
    result = CliRunner().invoke(main, ["check", "--project", str(ECT), "--topic", "ect", "--explain"])
    assert result.exit_code == 0, result.output
    listed: dict[tuple[str, str], list[str]] = {}
    for line in result.output.splitlines():
        head = re.match(r"ect (\w+)/(\w+) \(clinic ect-clinic, region UK\):$", line)
        if head:
            current = listed.setdefault((head.group(1), head.group(2)), [])
        elif line.startswith("  "):
            current.append(re.match(r"  [a-z-]+: ([a-z0-9-]+) \(", line).group(1))
    assert len(listed) == 6
    clinic = project.clinics["ect-clinic"]
    session = Session.open(project, clinic, TEMPLATES)
    region = project.regions["UK"]
    outcomes = {o.id: o for o in project.outcomes}
    for (document, audience), ids in listed.items():
        text = session.render(session.spec("ect", document, audience)).text
        printed = {
            s.id
            for s in project.statements
            if s.text
            and s.text.for_audience(audience)
            and region.spell(fill_numbers(s.text.for_audience(audience), outcomes, audience)) in text
        }
        assert sorted(ids) == sorted(printed), (document, audience)


def test_explain_says_why_each_statement_is_there():
    lines = explain(load_project(ECT), ("ect",))
    assert "  urgent-help: crisis-lines (general, region UK) content/statements/general.yaml:25" in lines
    assert any(line.startswith("  benefits: ect-fast (topic) content/statements/ect.yaml:") for line in lines)
    family = explain(load_project(ECT), ("ketamine-infusion",))
    assert any(line.startswith("  risks-long: risk-bladder (family nmda-antagonists) ") for line in family)


def test_a_source_about_another_topic_is_a_provenance_error(ect_copy):
    _edit(
        ect_copy / "content" / "statements" / "ect.yaml",
        '      - ref: nice-ng222\n        detail: "rationale and impact: further-line treatment"\n',
        '      - seed: ketamine-mood-disorders.txt\n        quote: "fast results, sometimes within hours"\n'
        "      - ref: spravato-pi\n",
    )
    report = run_checks(ect_copy, ("ect",))
    provenance = sorted(i.message for i in report.issues if i.rule == "provenance")
    assert provenance == [
        "expected sources about ect or marked general, found reference 'spravato-pi' about family nmda-antagonists",
        "expected sources about ect or marked general, found seed 'ketamine-mood-disorders.txt' "
        "about family nmda-antagonists",
    ]
    assert report.errors == 2


def test_a_source_with_no_scope_is_named(ect_copy):
    _edit(ect_copy / "content" / "references.yaml", "  - id: samaritans\n    general: true\n", "  - id: samaritans\n")
    report = run_checks(ect_copy, ("ect",))
    (issue,) = [i for i in report.issues if i.rule == "provenance"]
    assert issue.where == "statement crisis-lines (ect)"
    assert "found reference 'samaritans' with no scope (add topics:, families: or general: true" in issue.message


def test_a_key_point_the_topic_does_not_have_is_a_load_error(ect_copy):
    _edit(ect_copy / "content" / "topics" / "ect.yaml", "ect-key-choice]", "key-controlled]")
    with pytest.raises(
        ContentError,
        match=r"ect.yaml:\d+: key_points\[2\]: expected a key-points statement in scope of ect, found 'key-controlled'",
    ):
        load_project(ect_copy)


def test_treatment_of_only_on_options(ect_copy):
    _edit(
        ect_copy / "content" / "statements" / "ect.yaml",
        "    section: benefits\n",
        "    section: benefits\n    treatment_of: [ect]\n",
    )
    with pytest.raises(ContentError, match="expected 'treatment_of' only on an options statement"):
        load_project(ect_copy)


# --- the same topic beside the real content ----------------------------------------------------


def test_real_content_reaches_the_new_topic_only_where_marked_general(real_with_ect):
    project = load_project(real_with_ect)
    family = _family_ids(project)
    others = {s.id for s in project.statements if s.topics and "ect" not in s.topics}
    for sel in _selections(project, "ect"):
        ids = {i.id for i in sel.items}
        assert not ids & (family | others), (sel.spec, ids & (family | others))
        assert all(i.why.split(",")[0] in ("topic", "general") for i in sel.items)
        assert not sel.outcomes


def test_the_new_topic_is_checked_clean_and_gets_no_correction_of_another_topics_article(real_with_ect):
    """A correction names a general statement (the crisis lines) as what is right instead; that must not
    carry the correction of a ketamine article into the ECT record's appendix (it did, and check said so)."""
    report = run_checks(real_with_ect, ("ect",), build_dir=real_with_ect / "no-build")
    assert not [i for i in report.issues if i.rule in ("provenance", "balance")], report.issues
    project = load_project(real_with_ect)
    general = {s.id for s in project.statements if s.general}
    bridged = [c for c in project.corrections if set(c.statements) & general]
    assert bridged, "no correction names a general statement: the test proves nothing"
    for sel in _selections(project, "ect"):
        assert not sel.corrections, (sel.spec, [c.id for c in sel.corrections])
    ketamine = select(
        project,
        DocumentSpec("ketamine-infusion", "consent", "patient", "a4", clinic="example-uk"),
        project.clinics["example-uk"],
    )
    assert {c.id for c in bridged} & {c.id for c in ketamine.corrections}


# --- the two real topics ------------------------------------------------------------------------


def test_real_topics_declare_their_heading_and_key_point_order(root):
    project = load_project(root)
    clinic = project.clinics["example"]
    for topic, day in (("esketamine-nasal-spray", "key-day-esketamine"), ("ketamine-infusion", "key-day-ketamine")):
        assert project.topics[topic].headings == {"condition": "What is treatment-resistant depression?"}
        sel = select(project, DocumentSpec(topic, "leaflet", "patient", "letter", clinic="example"), clinic)
        ids = [i.id for i in sel.section("key-points")]
        assert ids == project.topics[topic].key_points
        assert ids.index(day) < ids.index("key-controlled")
        options = [i.id for i in sel.section("options")]
        assert ("option-esketamine" in options) == (topic == "ketamine-infusion")
        assert ("option-ketamine" in options) == (topic == "esketamine-nasal-spray")


# --- leaflets new-topic ---------------------------------------------------------------------------


def test_new_topic_scaffolds_files_that_load_and_check_names_what_is_missing(ect_copy):
    runner = CliRunner()
    result = runner.invoke(main, ["new-topic", "--project", str(ect_copy), "tms"])
    assert result.exit_code == 0, result.output
    for folder in ("topics", "statements", "outcomes"):
        text = (ect_copy / "content" / folder / "tms.yaml").read_text(encoding="utf-8")
        assert text.startswith("# ") and "tms" in text
    project = load_project(ect_copy)
    assert "tms" in project.topics
    for sel in _selections(project, "tms"):
        assert all(i.why.startswith("general") for i in sel.items)
    check = runner.invoke(main, ["check", "--project", str(ect_copy), "--topic", "tms"])
    assert check.exit_code == 1
    assert "its own benefits" in check.output and "its own harms" in check.output


@pytest.mark.parametrize(
    "topic_id, code, message",
    [
        (
            "ect",
            1,
            "Error: topic 'ect' exists already: content/outcomes/ect.yaml, content/statements/ect.yaml, "
            "content/topics/ect.yaml (choose another id)",
        ),
        (
            "ketamine-infusion",
            1,
            "Error: topic 'ketamine-infusion' exists already: content/topics/ketamine-infusion.yaml "
            "(choose another id)",
        ),
        (
            "Not_An_Id",
            2,
            "Error: expected a topic id of lowercase letters, digits and hyphens (such as 'ect'), found 'Not_An_Id'",
        ),
    ],
)
def test_new_topic_refuses_an_existing_or_bad_id_in_one_line(ect_copy, topic_id, code, message):
    before = sorted(p.relative_to(ect_copy) for p in ect_copy.rglob("*"))
    result = CliRunner().invoke(main, ["new-topic", "--project", str(ect_copy), topic_id])
    assert result.exit_code == code
    assert result.output.strip() == message
    assert sorted(p.relative_to(ect_copy) for p in ect_copy.rglob("*")) == before


def test_ketamine_documents_never_point_to_the_sprays_figures(default_build):
    """Finding M7: a family statement told ketamine readers to 'see the numbers for the spray with no
    medicine', numbers only the esketamine documents show. Read back from every ketamine PDF."""
    from pdfread import text

    ketamine = [d for d in default_build.documents if d.spec.topic == "ketamine-infusion"]
    assert ketamine
    for doc in ketamine:
        words = text(doc.files["pdf"].path)
        assert not re.search(r"spray with no medicine|placebo spray", words, re.IGNORECASE), doc.spec.name


def test_the_spray_on_its_own_is_described_where_it_is_offered(default_build, root):
    """Finding C2 / issue 13: where esketamine may be given on its own (the US label), the consent record
    says a study tested it so; in the UK, where that is off-licence, it does not. Read back from the PDFs."""
    from pdfread import normalise, text

    project = load_project(root)
    said = {
        region: normalise(project.regions[region].spell(s.text.patient))
        for s in project.statements
        if s.id == "benefit-esketamine-alone" and s.text
        for region in s.regions or ()
    }
    assert set(said) == {"US"}, said
    records = [
        d
        for d in default_build.documents
        if (d.spec.topic, d.spec.document, d.spec.audience) == ("esketamine-nasal-spray", "consent", "patient")
    ]
    assert {project.clinics[d.spec.clinic].region for d in records} == {"US", "UK"}
    for doc in records:
        region = project.clinics[doc.spec.clinic].region
        assert (said["US"] in text(doc.files["pdf"].path)) == (region == "US"), doc.spec.name
