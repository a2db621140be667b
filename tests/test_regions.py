"""Regions and editions: a UK clinic gets UK facts and UK English, a US clinic US ones, and a gap fails closed.

What a document must and must not say is read from the PDF a person holds, for every edition the
default build makes. Expectations come from the content (regions.yaml, clinics) where they can.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaflets.build import BuildOptions, build
from leaflets.cli import main
from leaflets.content import load_project
from leaflets.errors import ContentError
from pdfread import catalog, text

US_ONLY = ("FDA", "REMS", "Schedule III", "988", "911", "insurance", "Food and Drug Administration")
#: The US label's fixed monitoring time; the UK SmPC says until clinically stable (finding C3).
#: ("No food for at least 2 hours before" is in both labels, so only the monitoring wordings are listed.)
US_MONITORING = (r"at least 2 hours at the clinic", r"at least 2 hours' monitoring", r"stay at least 2 hours")
UK_ONLY = ("NICE", "116 123", "999", "Class B", "Samaritans", "NHS")
BRITISH_IDIOM = ("got better", "drip", "dummy", "pass urine", "feeling sick", "being sick", "anaesthesia")


def _reader_text(path: Path) -> str:
    """The PDF's words without its list of sources (a US reference may be genuinely cited in the UK)."""
    words = text(path)
    return re.split(r"\bSources\b", words)[0]


def _editions(report, region: str, root: Path):
    project = load_project(root)
    clinics = {c.id for c in project.clinics.values() if c.region == region}
    docs = [d for d in report.documents if d.spec.clinic in clinics]
    assert docs, f"no {region} edition was built"
    return docs


def test_uk_documents_say_nothing_only_true_in_the_us(default_build, root):
    for doc in _editions(default_build, "UK", root):
        words = _reader_text(doc.files["pdf"].path)
        for phrase in US_ONLY:
            assert not re.search(rf"\b{re.escape(phrase)}\b", words), (doc.spec.name, phrase)
        for wording in US_MONITORING:
            assert not re.search(wording, words, re.IGNORECASE), (doc.spec.name, wording)
        assert catalog(doc.files["pdf"].path)["/Lang"] == "en-GB", doc.spec.name


def test_uk_documents_carry_the_uk_facts(default_build, root):
    for doc in _editions(default_build, "UK", root):
        words = _reader_text(doc.files["pdf"].path)
        if doc.spec.audience in ("patient", "caregiver"):
            assert "116 123" in words and "999" in words, doc.spec.name
        if doc.spec.topic == "esketamine-nasal-spray" and doc.spec.document == "leaflet":
            assert "NICE" in words, doc.spec.name
            assert re.search(r"SSRI|antidepressant (tablet|pill)", words), doc.spec.name


def test_us_documents_carry_no_uk_facts_and_read_as_american(default_build, root):
    for doc in _editions(default_build, "US", root):
        words = _reader_text(doc.files["pdf"].path)
        for phrase in UK_ONLY + BRITISH_IDIOM:
            assert not re.search(rf"\b{re.escape(phrase)}\b", words), (doc.spec.name, phrase)
        if doc.spec.audience in ("patient", "caregiver"):
            assert "988" in words and "911" in words, doc.spec.name
        assert catalog(doc.files["pdf"].path)["/Lang"] == "en-US", doc.spec.name


def test_every_edition_has_its_own_output_folder_and_manifest_entry(default_build, root):
    project = load_project(root)
    assert len(project.clinics) >= 2
    names = {d.spec.name for d in default_build.documents}
    assert len(names) == len(default_build.documents)
    for doc in default_build.documents:
        assert doc.files["pdf"].path.relative_to(default_build.out).parts[0] == doc.spec.clinic
    import json

    manifest = json.loads(default_build.manifest.read_text(encoding="utf-8"))
    assert {e["id"] for e in manifest["documents"]} == names


def _one_topic(project: Path) -> dict:
    return {
        "topics": ("ketamine-infusion",),
        "audiences": ("patient",),
        "large_print": False,
        "formats": ("txt",),
    }


def _remove_variant(path: Path, sid: str, region: str) -> None:
    """Delete the `region` variant of statement `sid` from a statements file."""
    blocks = re.split(r"(?m)^(?=  - id: )", path.read_text(encoding="utf-8"))
    kept = [b for b in blocks if not (b.startswith(f"  - id: {sid}\n") and f"regions: [{region}]" in b)]
    assert len(kept) == len(blocks) - 1, f"no {region} variant of {sid} in {path}"
    path.write_text("".join(kept), encoding="utf-8")


def test_a_missing_regional_statement_fails_that_region_only(project_copy, tmp_path):
    _remove_variant(project_copy / "content" / "statements" / "choices.yaml", "crisis-lines", "UK")
    out = tmp_path / "out"
    with pytest.raises(ContentError) as exc:
        build(project_copy, BuildOptions(out=out, **_one_topic(project_copy)))
    message = str(exc.value)
    assert "crisis-lines" in message and "region UK" in message
    assert "choices.yaml:" in message
    built = {p.relative_to(out).parts[0] for p in out.rglob("*.txt")}
    assert built == {"example"}, "the US clinic still builds; nothing is written for the UK one"


def test_urgent_help_without_the_regions_lines_is_not_written(project_copy, tmp_path):
    path = project_copy / "content" / "statements" / "choices.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("116 123", "116 000"), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ContentError) as exc:
        build(project_copy, BuildOptions(out=out, clinic="example-uk", **_one_topic(project_copy)))
    assert "'116 123'" in str(exc.value) and "urgent-help" in str(exc.value)
    assert not list(out.rglob("*.txt"))


@pytest.mark.parametrize("region", ["GB", "uk", "EU"])
def test_a_clinic_region_the_content_does_not_define_is_refused(project_copy, tmp_path, region):
    path = project_copy / "content" / "clinics" / "example-uk.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("region: UK", f"region: {region}"), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--project",
            str(project_copy),
            "--out",
            str(tmp_path / "out"),
            "--topic",
            "ketamine-infusion",
            "--audience",
            "patient",
            "--standard-print",
            "--format",
            "txt",
        ],
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "content/clinics/example-uk.yaml:" in lines[0] and f"'{region}'" in lines[0]
    if region in ("GB", "uk"):
        assert "did you mean 'UK'" in lines[0]
    assert "Traceback" not in result.output
    assert list((tmp_path / "out" / "example").rglob("*.txt")), "the other clinic still builds"


def test_clinic_by_id_or_by_file_outside_the_project(project_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(project_copy / "content" / "clinics" / "example-uk.yaml", elsewhere / "ours.yaml")
    shutil.copy(project_copy / "content" / "clinics" / "example-logo.svg", elsewhere / "example-logo.svg")
    text_ = (elsewhere / "ours.yaml").read_text(encoding="utf-8").replace("id: example-uk", "id: ours")
    (elsewhere / "ours.yaml").write_text(text_, encoding="utf-8")
    report = build(
        project_copy, BuildOptions(out=tmp_path / "a", clinic=elsewhere / "ours.yaml", **_one_topic(project_copy))
    )
    assert {d.spec.clinic for d in report.documents} == {"ours"}
    report = build(project_copy, BuildOptions(out=tmp_path / "b", clinic="example-uk", **_one_topic(project_copy)))
    assert {d.spec.clinic for d in report.documents} == {"example-uk"}


def test_an_unknown_clinic_is_a_usage_error(project_copy, tmp_path):
    result = CliRunner().invoke(
        main, ["build", "--project", str(project_copy), "--out", str(tmp_path), "--clinic", "nope"]
    )
    assert result.exit_code == 2
    assert result.output.count("Error:") == 1 and "--clinic" in result.output


def test_spelling_follows_the_region(root):
    project = load_project(root)
    uk = project.regions["UK"]
    assert uk.spell("A medicine used for anesthesia.") == "A medicine used for anaesthesia."
    assert uk.spell("Anesthesia is") == "Anaesthesia is"
    assert project.regions["US"].spell("anesthesia") == "anesthesia"


def test_a_change_that_touches_only_the_uk_is_seen_by_diff(project_copy, tmp_path):
    """Tried as a new user would in 0.1: a wrong Samaritans number was reported 'unchanged'."""
    from leaflets.diff import compare

    options = {
        "topics": ("ketamine-infusion",),
        "audiences": ("patient",),
        "documents": ("leaflet",),
        "large_print": False,
    }
    old = build(project_copy, BuildOptions(out=tmp_path / "old", formats=("pdf", "txt"), **options)).out
    path = project_copy / "content" / "statements" / "choices.yaml"
    body = path.read_text(encoding="utf-8")
    path.write_text(
        body.replace("Call Samaritans free on 116 123", "Call Samaritans free on 116 123 (free)", 1), encoding="utf-8"
    )
    new = build(project_copy, BuildOptions(out=tmp_path / "new", formats=("pdf", "txt"), **options)).out
    report = compare(old, new)
    assert [d.name for d in report.with_status("changed")] == ["example-uk/ketamine-infusion/leaflet-patient-a4"]
    assert [d.name for d in report.with_status("unchanged")] == ["example/ketamine-infusion/leaflet-patient-letter"]


def test_packets_for_a_region_with_a_gap_are_not_made(project_copy, tmp_path):
    """The gap check lives in the resolver, so packets (and the preview) fail closed like the build."""
    from leaflets.packets import PacketsOptions, make_packets

    _remove_variant(project_copy / "content" / "statements" / "about.yaml", "key-controlled", "UK")
    patients = tmp_path / "list.csv"
    patients.write_text(
        "name,date_of_birth,record_number,topic,clinician,appointment_date,paper,large_print\n"
        "Ann Example,1980-04-12,M1,ketamine-infusion,Dr X,2026-11-23,a4,no\n",
        encoding="utf-8",
    )
    key = tmp_path / "k.key"
    key.write_text("0" * 64 + "\n")
    key.chmod(0o600)
    options = PacketsOptions(
        patients=patients,
        out=tmp_path / "out",
        clinic=project_copy / "content" / "clinics" / "example-uk.yaml",
        key_file=key,
        allow_draft=True,
    )
    with pytest.raises(ContentError, match="key-controlled.*region UK"):
        make_packets(project_copy, options)
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_a_patient_document_without_its_own_harms_is_not_written(tmp_path, root):
    """A general statement cannot stand in for the topic's own harms: the build refuses the document."""
    project = _tiny_copy_with(
        tmp_path,
        "  - id: flu-sore-arm\n    section: risks-day\n    topics: [flu-vaccine]\n",
        "  - id: flu-sore-arm\n    section: risks-day\n    general: true\n",
    )
    with pytest.raises(ContentError, match="expected harms of flu-vaccine itself"):
        build(project, BuildOptions(out=tmp_path / "out", templates=root / "templates", large_print=False))
    written = {p.name for p in (tmp_path / "out").rglob("*.pdf")}
    assert written and all("clinician" in name for name in written), written


def test_uk_esketamine_documents_name_the_smpc_contraindication_of_a_recent_heart_attack(default_build, root):
    """The UK SmPC (4.3) adds a recent (within 6 weeks) cardiovascular event, including a heart attack,
    to the contraindications; the US label does not list it."""
    for region, wanted in (("UK", True), ("US", False)):
        for doc in _editions(default_build, region, root):
            if doc.spec.topic != "esketamine-nasal-spray" or doc.spec.audience != "patient":
                continue
            words = _reader_text(doc.files["pdf"].path)
            assert (re.search(r"heart attack.{0,80}6 weeks|6 weeks of a heart attack", words) is not None) == wanted, (
                doc.spec.name
            )


def test_a_consent_record_without_screening_questions_is_not_written(tmp_path, root):
    """The ECT fixture's record printed an empty "Checks before treatment" part (STANDARDS, the consent
    record, part 7): a record with no screening questions is refused, leaflets are still written."""
    project = _tiny_copy_with(tmp_path, "    section: screening\n", "    section: who-should-not\n")
    with pytest.raises(ContentError, match=r"expected pre-treatment screening questions .*consent-patient"):
        build(project, BuildOptions(out=tmp_path / "out", templates=root / "templates", large_print=False))
    written = {p.name for p in (tmp_path / "out").rglob("*.pdf")}
    assert written and not any(name.startswith("consent") for name in written), written
    assert any(name.startswith("leaflet") for name in written)


def _tiny_copy_with(tmp_path: Path, old: str, new: str) -> Path:
    """Return a copy of the tiny fixture project whose flu statements have `old` replaced by `new`."""
    from conftest import TINY

    project = tmp_path / "project"
    shutil.copytree(TINY, project)
    statements = project / "content" / "statements" / "flu.yaml"
    body = statements.read_text(encoding="utf-8")
    assert old in body
    statements.write_text(body.replace(old, new, 1), encoding="utf-8")
    return project
