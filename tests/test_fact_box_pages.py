"""A leaflet's fact box read page by page: a row that lands on the next page still has its arms above it.

The clinical second read found the US ketamine leaflet's side-effect rows on page 3 with no column
headers ("about 69 in 100 | about 24 in 100": which is ketamine?). Each kind of outcome is now its own
table whose header repeats on a continuation page. Expectations come from the content: each shown
outcome's measure, and the arm labels it is printed with.
"""

from __future__ import annotations

import re
from pathlib import Path

from leaflets.content import load_project
from leaflets.pdftext import _page_lines, normalise_text
from leaflets.render import shown_outcomes
from leaflets.select import select


def _bodies(path: Path) -> list[str]:
    """Each page's words without its running lines (the ones every page has, and the page number):
    the running header names the topic, which would otherwise stand in for a missing arm label."""
    pages = _page_lines(path)
    running = set.intersection(*(set(lines) for lines in pages)) if len(pages) > 1 else set()
    return [
        normalise_text(
            " ".join(line for line in lines if line not in running and not re.search(r"Page \d+ of \d+", line))
        )
        for lines in pages
    ]


def test_every_fact_box_row_has_its_arms_on_its_own_page(default_build, a4_build, root):
    project = load_project(root)
    checked = 0
    for report in (default_build, a4_build):
        for doc in report.documents:
            spec = doc.spec
            if spec.document != "leaflet" or spec.audience == "clinician":
                continue
            selection = select(project, spec, project.clinics[spec.clinic])
            pages = _bodies(doc.files["pdf"].path)
            for outcome in shown_outcomes(selection):
                measure = normalise_text(selection.region.spell(outcome.measure.for_audience(spec.audience)))
                arm = normalise_text(selection.region.spell(outcome.treatment.label.for_audience(spec.audience)))
                on = [number for number, words in enumerate(pages) if measure in words]
                assert on, (spec.name, outcome.id, "measure not found")
                assert arm in pages[on[0]], (spec.name, outcome.id, f"page {on[0] + 1} lacks its arm {arm!r}")
                checked += 1
    assert checked
