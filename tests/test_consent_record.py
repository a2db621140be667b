"""The consent record records consent: STANDARDS' 15 parts in order, one signed edition, content-driven items."""

from __future__ import annotations

from leaflets.content import load_project
from leaflets.select import select
from pdfread import normalise, text

#: The headings of the patient edition, in STANDARDS order (looked up in content/strings.yaml).
PARTS = (
    "communication",
    "decision-made",
    "consent-benefits",
    "consent-risks",
    "alternatives",
    "screening",
    "safety",
    "matters",
    "questions-asked",
    "teach-back",
    "capacity",
    "plan",
    "decision-heading",
    "signatures",
)


def _consents(report, audience):
    return [d for d in report.documents if d.spec.document == "consent" and d.spec.audience == audience]


def test_patient_record_has_every_part_in_order(default_build, root):
    project = load_project(root)
    for doc in _consents(default_build, "patient"):
        region = project.clinics[doc.spec.clinic].region
        words = normalise(text(doc.files["pdf"].path))
        at = 0
        for key in PARTS:
            heading = normalise(project.string(key, "patient", region))
            found = words.find(heading, at)
            assert found >= 0, (doc.spec.name, key, heading)
            at = found + len(heading)
        for key in ("patient-name", "date-of-birth", "record-number", "leaflet-code", "capacity-question",
                    "decision-start", "decision-trial", "decision-decline", "decision-more-time", "attestation",
                    "representative-authority", "plan-stopping", "plan-review"):
            assert normalise(project.string(key, "patient", region)) in words, (doc.spec.name, key)


def test_patient_record_lists_the_topics_screening_items_and_acknowledgements(default_build, root):
    project = load_project(root)
    for doc in _consents(default_build, "patient"):
        clinic = project.clinics[doc.spec.clinic]
        sel = select(project, doc.spec, clinic)
        words = normalise(text(doc.files["pdf"].path))
        screening = sel.section("screening")
        own = {  # the screening statements the content gives this topic, in this region
            s.id
            for s in project.statements
            if s.section == "screening" and s.applies_to(doc.spec.topic, "consent", clinic.region, project.families)
        }
        assert {i.id for i in screening} == own, (doc.spec.name, sorted({i.id for i in screening} ^ own))
        for item in screening + sel.section("acknowledgements") + sel.section("declaration"):
            assert normalise(item.text) in words, (doc.spec.name, item.id)
        if doc.spec.topic == "esketamine-nasal-spray" and clinic.region == "US":
            assert "REMS" in words
        if doc.spec.topic == "ketamine-infusion":
            assert "off-label" in words or "not licensed" in words or "not FDA-approved" in words


def test_only_the_patient_edition_is_signed(default_build, root):
    project = load_project(root)
    for audience in ("caregiver", "clinician"):
        for doc in _consents(default_build, audience):
            region = project.clinics[doc.spec.clinic].region
            words = normalise(text(doc.files["pdf"].path))
            assert normalise(project.string("signature", audience, region) + ":") not in words, doc.spec.name
            assert normalise(project.string("patient-or-representative", audience, region)) not in words
            assert normalise(project.string(f"guide-kind-{audience}", audience, region)) in words, doc.spec.name
            assert "Appendix: corrections" not in words
            assert "Article says" not in words


def test_the_record_calls_it_a_leaflet_code_not_a_fingerprint(default_build):
    for doc in _consents(default_build, "patient"):
        words = text(doc.files["pdf"].path)
        assert "Leaflet code" in words and "Fingerprint" not in words
