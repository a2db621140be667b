"""The ketamine and esketamine content: sourced, corrected, complete, and readable."""

from __future__ import annotations

import pytest

from conftest import pdf_of
from leaflets.content import load_project
from leaflets.errors import ContentError
from leaflets.readability import score
from leaflets.select import DocumentSpec, select
from leaflets.sources import normalise_passage
from pdfread import normalise, text


def test_every_seed_quote_stands_in_its_seed(root):
    project = load_project(root)
    quotes = [(s.id, src) for s in project.statements for src in s.sources if hasattr(src, "quote")]
    assert len(quotes) >= 15
    for sid, src in quotes:
        assert project.seeds[src.seed].contains(src.quote), sid
    for c in project.corrections:
        assert project.seeds[c.seed].contains(c.quote), c.id


def test_changing_one_letter_of_a_quote_fails_the_build_naming_the_statement(project_copy):
    path = project_copy / "content" / "statements" / "session.yaml"
    original = "The patient is closely monitored throughout the session"
    path.write_text(path.read_text().replace(original, original.replace("closely", "clasely")))
    with pytest.raises(ContentError) as exc:
        load_project(project_copy)
    [issue] = exc.value.issues
    assert issue.path == "content/statements/session.yaml"
    assert issue.where == "statement during-ketamine"
    assert "expected the quoted passage to stand in seeds/003_9e6fefda3898cb54.txt" in issue.message


def test_every_statement_a_patient_reads_has_a_source(root):
    for s in load_project(root).statements:
        assert s.sources or (s.absent and s.text is None), s.id


def test_register_covers_every_seed_and_the_known_wrong_claims(root):
    project = load_project(root)
    assert len(project.corrections) >= 15
    assert {c.seed for c in project.corrections} == set(project.seeds)
    quotes = " ".join(c.quote for c in project.corrections)
    for claim in (
        "activation of NMDA",
        "non-habit-forming",
        "contact Revive Ketamine Clinic today",
        "intramuscular ketamine infusions",
        "without suppressing vital functions",
    ):
        assert claim in quotes
    assert {c.problem for c in project.corrections} == {
        "wrong",
        "contradicted",
        "overclaim",
        "promotional",
        "outside-approved-use",
    }


def test_patient_and_caregiver_documents_contain_no_corrected_claim(default_build, root):
    project = load_project(root)
    banned = [
        "non-habit-forming",
        "revolutionize",
        "game-changer",
        "breakthrough",
        "Revive",
        "activation of NMDA",
        "intramuscular",
        "guaranteed",
        "cure",
    ]
    for doc in default_build.documents:
        if doc.spec.audience == "clinician":
            continue
        words = text(doc.files["pdf"].path)
        for c in project.corrections:
            assert normalise(normalise_passage(c.quote)) not in words, (doc.spec, c.id)
        for phrase in banned:
            assert phrase.lower() not in words.lower(), (doc.spec, phrase)


def test_consent_covers_every_safety_fact(default_build, root):
    """Content test: each patient consent record carries its region's urgent lines, and a record of the
    ketamine family (content/families.yaml) every STANDARDS safety fact of ketamine and esketamine, in
    its region's words."""
    project = load_project(root)
    family = set(project.families["nmda-antagonists"])
    assert {"esketamine-nasal-spray", "ketamine-infusion"} <= family
    checked = set()
    for doc in default_build.documents:
        if (doc.spec.document, doc.spec.audience, doc.spec.large_print) != ("consent", "patient", False):
            continue
        topic = doc.spec.topic
        region = project.regions[project.clinics[doc.spec.clinic].region]
        words = text(doc.files["pdf"].path).lower()
        facts = {f"urgent line {n}": n for n in region.urgent_lines}
        if topic in family:
            stay = "at least 2 hours" if (topic, region.id) == ("esketamine-nasal-spray", "US") else "until staff say"
            facts |= {
                "monitoring": stay,
                "blood pressure": "blood pressure",
                "driving": "do not drive or use machines until the next day",
                "transport": "someone else must take you home",
                "who must not": "bleeding in the brain",
                "pregnancy": "may harm an unborn baby",
                "breastfeeding": "breastfeeding is not recommended",
                "dependence": "dependence",
                "bladder": "bladder",
                "memory": "memory and thinking",
                "breathing": "slow or shallow breathing",
                "alcohol": "alcohol",
                "controlled": "controlled substances" if region.id == "US" else "controlled drugs",
                "suicide": "has not been shown to prevent suicide",
            }
            checked.add(topic)
        missing = [name for name, phrase in facts.items() if phrase.lower() not in words]
        assert missing == [], (doc.spec.name, missing)
        if topic == "esketamine-nasal-spray":
            assert ("rems" in words) == (region.id == "US"), doc.spec.name
            assert "under 25" in words, doc.spec.name
        elif topic == "ketamine-infusion":
            assert "off-label" in words and ("not fda-approved" in words or "not licensed" in words), doc.spec.name
    assert checked == family


def test_uk_clinic_gets_uk_crisis_lines(root):
    project = load_project(root)
    clinic = project.clinics["example-uk"]
    spec = DocumentSpec("ketamine-infusion", "leaflet", "patient", "a4", clinic=clinic.id)
    urgent = " ".join(i.text for i in select(project, spec, clinic).section("urgent-help"))
    assert "116 123" in urgent and "999" in urgent and "988" not in urgent and "911" not in urgent


def test_patient_text_reads_at_grade_8_or_lower(root):
    """Every patient and carer document's prose, scored whole: at least one sentence for each statement
    it prints (a short topic has fewer sentences than a long one; none may go unscored)."""
    from leaflets.check import document_grade, prose_items

    project = load_project(root)
    for topic in project.topics:
        for audience in ("patient", "caregiver"):
            for document in ("leaflet", "consent"):
                for clinic in project.clinics.values():
                    spec = DocumentSpec(topic, document, audience, clinic.edition_papers[0], clinic=clinic.id)
                    sel = select(project, spec, clinic)
                    result = document_grade(project, sel)
                    assert result.sentences >= len(prose_items(sel)) > 0, (spec, result.sentences)
                    assert result.grade <= 8, (clinic.id, topic, audience, document, result.grade, result.worst[:2])


def test_readability_scores_harder_text_higher():
    easy = score(["You can stop at any time. Ask us if you are not sure."])
    hard = score(["Pharmacological interventions necessitate comprehensive multidisciplinary evaluation."])
    assert hard.grade > 12 > 4 > easy.grade
