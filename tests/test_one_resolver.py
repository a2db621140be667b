"""One resolver: build, check, the preview and packets print the same statements for a document.

Each command is run on the same fixture project (tests/projects/ect: two topics, a family, regions and
outcomes). Build and `check --explain` report statement ids; the preview and packets are judged by what
they show: every statement the resolver chose is in their text, and no statement it left out is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROJECTS, explained_statements
from leaflets.build import BuildOptions, build
from leaflets.packets import PacketsOptions, make_packets
from leaflets.pdftext import normalise_text, pdf_text
from leaflets.render import html_to_text
from leaflets.serve import Preview
from leaflets.session import open_session

ECT = PROJECTS / "ect"
TOPIC = "ketamine-infusion"


@pytest.fixture(scope="module")
def built(tmp_path_factory, root):
    out = tmp_path_factory.mktemp("one-resolver")
    return build(ECT, BuildOptions(out=out, templates=root / "templates", large_print=False, formats=("txt",)))


def _shown(session, spec, words: str) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    """Return the statements the resolver chose for `spec` that `words` lacks, and those of any document of
    any topic that it left out but `words` shows; a left-out text inside a chosen one cannot tell."""
    chosen = {item.id: normalise_text(item.text) for item in session.select(spec).items}
    others = {
        item.id: normalise_text(item.text)
        for topic in sorted(session.project.topics)
        for audience in ("patient", "caregiver", "clinician")
        for document in ("leaflet", "consent")
        for item in session.select(session.spec(topic, document, audience, spec.paper, spec.large_print)).items
        if item.id not in chosen
    }
    missing = {i for i, t in chosen.items() if t not in words}
    leaked = {i for i, t in others.items() if t in words and not any(t in c for c in chosen.values())}
    return missing, leaked


def test_build_check_preview_and_packets_print_the_same_statements(built, tmp_path, root):
    session = open_session(ECT, templates=root / "templates")
    explained = explained_statements(session.project)
    preview = Preview(root=ECT, templates=session.templates)
    preview.reload()
    assert preview.good is not None, preview.errors
    seen = 0
    for doc in built.documents:
        spec = doc.spec
        name = f"{spec.clinic}/{spec.topic}/{spec.document}-{spec.audience}"
        ids = {key.split("@")[0] for key in doc.statements}
        assert ids == explained[name], name
        assert ids == {item.id for item in session.select(spec).items}, name
        built_words = normalise_text(doc.files["txt"].path.read_text(encoding="utf-8"))
        assert _shown(session, spec, built_words) == (set(), set()), name
        page = preview.good.html[((spec.topic, spec.document, spec.audience), spec.large_print)]
        assert _shown(session, spec, normalise_text(html_to_text(page))) == (set(), set()), f"preview {name}"
        seen += 1
    assert seen == len(explained)

    patients = tmp_path / "patients.csv"
    patients.write_text(
        "name,date_of_birth,record_number,topic,clinician,appointment_date,paper,large_print\n"
        f"Alex Example,1980-04-12,MRN-0001,{TOPIC},Dr Sam Rivera,2026-11-23,,no\n",
        encoding="utf-8",
    )
    key = tmp_path / "clinic.key"
    key.write_text("0123456789abcdef" * 4 + "\n")
    key.chmod(0o600)
    report = make_packets(
        ECT,
        PacketsOptions(
            patients=patients, out=tmp_path / "packets", key_file=key, allow_draft=True, templates=session.templates
        ),
    )
    assert len(report.built) == 1 and not report.problems, report.problems
    words = normalise_text(pdf_text(next(Path(tmp_path / "packets").rglob("*.pdf"))))
    for document in ("leaflet", "consent"):
        spec = session.spec(TOPIC, document, "patient")
        missing, _ = _shown(session, spec, words)
        assert missing == set(), f"packet {document}"
    leaflet, consent = (session.spec(TOPIC, d, "patient") for d in ("leaflet", "consent"))
    chosen = {i.id for s in (leaflet, consent) for i in session.select(s).items}
    others = {
        item.id: normalise_text(item.text)
        for topic in sorted(session.project.topics)
        for audience in ("patient", "caregiver", "clinician")
        for document in ("leaflet", "consent")
        for item in session.select(session.spec(topic, document, audience)).items
        if item.id not in chosen
    }
    texts = [normalise_text(i.text) for s in (leaflet, consent) for i in session.select(s).items]
    assert others, "nothing the packet could leak: the test would prove nothing"
    assert not {i for i, t in others.items() if t in words and not any(t in c for c in texts)}, "packet leaks"
