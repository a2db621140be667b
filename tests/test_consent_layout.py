"""The consent record on paper: the decision's choices on one page, the signature with the sentence it
signs. The clinical second read found "The decision - Tick one" split over two pages, and the
"Signatures" heading with its sentence at the foot of one page and the lines on the next.
Labels come from content/strings.yaml (each region's words)."""

from __future__ import annotations

from leaflets.content import load_project
from leaflets.pdftext import normalise_text, page_texts


def _page_with(pages: list[str], words: str) -> int:
    found = [number for number, text in enumerate(pages) if words in text]
    assert found, words
    return found[0]


def test_the_decision_and_the_patients_signature_each_stay_on_one_page(default_build, a4_build, root):
    project = load_project(root)
    checked = 0
    for report in (default_build, a4_build):
        for doc in report.documents:
            spec = doc.spec
            if spec.document != "consent" or spec.audience != "patient":
                continue
            region = project.clinics[spec.clinic].region

            def label(key: str) -> str:
                return normalise_text(project.string(key, "patient", region))  # noqa: B023

            pages = page_texts(doc.files["pdf"].path)
            decision = _page_with(pages, label("decision-heading") + " " + label("decision-intro"))
            assert label("decision-more-time-until") in pages[decision], (spec.name, decision + 1)
            ties = _page_with(pages, label("signature-ties"))
            assert label("patient-or-representative") in pages[ties], (spec.name, ties + 1)
            assert label("signatures") in pages[ties], (spec.name, ties + 1)
            checked += 1
    assert checked
