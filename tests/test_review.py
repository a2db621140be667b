"""Clinical review: approvals lock what the resolver returned; the build compares; the pack shows it all.

Every approval here is written into a temporary copy of the project, never into content/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaflets.approval import approval_path
from leaflets.build import BuildOptions, build
from leaflets.check import run_checks
from leaflets.cli import main
from leaflets.content import load_project
from leaflets.errors import ContentError
from leaflets.pdftext import page_texts, pdf_text
from leaflets.review import approve, review_pack
from leaflets.select import DocumentSpec, select

TOPIC, REGION, CLINIC = "ketamine-infusion", "US", "example"
REVIEWED = "Clinically reviewed by Dr A. Example on 1 December 2026"
MARK = "Clinically reviewed"  # the running header's mark (strings: reviewed-mark)
DRAFT = "Draft - not yet clinically reviewed"


def _approve(project: Path, day: str = "2026-12-01") -> None:
    args = ["approve", "--project", str(project), "--topic", TOPIC, "--region", REGION]
    result = CliRunner().invoke(main, [*args, "--reviewer", "Dr A. Example, Consultant psychiatrist", "--date", day])
    assert result.exit_code == 0, result.output
    assert f"Approved {TOPIC} for {REGION}" in result.output


def _build(project: Path, out: str) -> dict[str, dict]:
    """Build the example clinic's patient documents of one topic (standard print); return manifest entries by id."""
    options = BuildOptions(
        out=project / out, clinic=CLINIC, topics=(TOPIC,), audiences=("patient",), large_print=False, formats=("pdf",)
    )
    report = build(project, options)
    entries = json.loads(report.manifest.read_text(encoding="utf-8"))["documents"]
    return {e["id"]: e for e in entries}


def _pdf(project: Path, out: str, entry: dict) -> Path:
    return project / out / entry["files"]["pdf"]["path"]


def _edit_patient_text(project: Path, key: str) -> None:
    """Put a word in front of the patient text of statement `key` (where the project says it is written)."""
    place = load_project(project).places[key]
    lines = place.file.read_text(encoding="utf-8").splitlines(keepends=True)
    for n in range(place.line - 1, len(lines)):
        found = re.match(r"(\s+patient: )(\"?)(.*)", lines[n])
        if found:
            lines[n] = f"{found.group(1)}{found.group(2)}Edited. {found.group(3)}\n"
            break
    place.file.write_text("".join(lines), encoding="utf-8")


def test_approve_build_edit_and_reapprove(project_copy):
    _approve(project_copy)
    written = approval_path(load_project(project_copy), TOPIC, REGION)
    assert written.is_file() and written.parent == project_copy / "content" / "approvals"

    entries = _build(project_copy, "one")
    assert len(entries) == 2
    for entry in entries.values():
        assert entry["review_status"] == "approved"
        pages = page_texts(_pdf(project_copy, "one", entry))
        # Page 1 says who reviewed it and when; every page's running header carries the short mark.
        assert REVIEWED in pages[0], entry["id"]
        assert all(MARK in words and "Draft" not in words for words in pages), entry["id"]

    # One statement the consent record prints and the leaflet does not: edit it.
    consent, leaflet = (next(e for e in entries.values() if e["document"] == d) for d in ("consent", "leaflet"))
    key = sorted(set(consent["statements"]) - set(leaflet["statements"]))[0]
    _edit_patient_text(project_copy, key)
    entries = _build(project_copy, "one")
    for entry in entries.values():
        pages = page_texts(_pdf(project_copy, "one", entry))
        if key in entry["statements"]:
            assert entry["review_status"] == "changed"
            assert f"{DRAFT} (changed since review on 1 December 2026)" in pages[0]
            assert all(DRAFT in words for words in pages)
            assert not any(MARK in words for words in pages)
        else:
            assert entry["review_status"] == "approved" and REVIEWED in pages[0]
            assert all(MARK in words for words in pages)

    statement_id = key.split("@")[0]
    findings = [
        i for i in run_checks(project_copy, (TOPIC,), build_dir=project_copy / "nb").issues if i.rule == "approval"
    ]
    assert [(i.where, i.severity) for i in findings] == [(f"statement {statement_id}", "warning")]
    place = load_project(project_copy).places[key]
    assert (findings[0].path, findings[0].line) == (place.path, place.line)
    strict = run_checks(project_copy, (TOPIC,), build_dir=project_copy / "nb", require_approved=True)
    assert any(i.rule == "approval" and i.severity == "error" for i in strict.issues)

    _approve(project_copy, "2026-12-02")
    entries = _build(project_copy, "one")
    for entry in entries.values():
        assert entry["review_status"] == "approved"
        assert "Clinically reviewed by Dr A. Example on 2 December 2026" in pdf_text(_pdf(project_copy, "one", entry))
    after = run_checks(project_copy, (TOPIC,), build_dir=project_copy / "nb").issues
    assert not [i for i in after if i.rule == "approval"]


def test_a_string_the_documents_print_is_approved_too(project_copy):
    _approve(project_copy)
    strings = project_copy / "content" / "strings.yaml"
    strings.write_text(
        strings.read_text(encoding="utf-8").replace("  key-points: Key points", "  key-points: Main points")
    )
    entries = _build(project_copy, "one")
    leaflet = next(e for e in entries.values() if e["document"] == "leaflet")
    assert leaflet["review_status"] == "changed"
    findings = [
        i for i in run_checks(project_copy, (TOPIC,), build_dir=project_copy / "nb").issues if i.rule == "approval"
    ]
    assert any(i.where == "string key-points" for i in findings)


def test_approve_refuses_while_check_has_errors(project_copy):
    approvals = project_copy / "content" / "approvals"
    before = {p.name: p.read_bytes() for p in approvals.glob("*")} if approvals.is_dir() else {}
    claims = load_project(project_copy).claims
    phrase = next(c.phrase for c in claims if "*" not in c.phrase)
    _edit_patient_text(project_copy, "key-may-help")
    path = load_project(project_copy).places["key-may-help"].file
    path.write_text(path.read_text(encoding="utf-8").replace("Edited. ", f"It is a {phrase}. ", 1), encoding="utf-8")
    args = ["approve", "--project", str(project_copy), "--topic", TOPIC, "--region", REGION]
    result = CliRunner().invoke(main, [*args, "--reviewer", "Dr A. Example, Consultant psychiatrist"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"Error: {TOPIC} ({REGION}): expected no errors from `leaflets check"
    )
    assert "claims" in lines[0] and "Traceback" not in result.output
    assert not approval_path(load_project(project_copy), TOPIC, REGION).exists()
    after = {p.name: p.read_bytes() for p in approvals.glob("*")} if approvals.is_dir() else {}
    assert after == before, "approvals other than this one are left as they were"


def test_reviewer_needs_a_role_and_region_must_exist(project_copy):
    base = ["approve", "--project", str(project_copy), "--topic", TOPIC]
    result = CliRunner().invoke(main, [*base, "--region", REGION, "--reviewer", "Dr A. Example"])
    assert result.exit_code == 2 and result.output.startswith('Error: --reviewer: expected "NAME, ROLE"')
    result = CliRunner().invoke(main, [*base, "--region", "XX", "--reviewer", "Dr A, GP"])
    assert result.exit_code == 2 and result.output.startswith("Error: --region: expected one of")


def test_the_same_approval_is_the_same_bytes(project_copy):
    project = load_project(project_copy)
    first = approve(project_copy, TOPIC, REGION, "Dr A. Example", "GP", __import__("datetime").date(2026, 12, 1))
    data = first.path.read_bytes()
    again = approve(project_copy, TOPIC, REGION, "Dr A. Example", "GP", __import__("datetime").date(2026, 12, 1))
    assert again.path.read_bytes() == data and again.path == approval_path(project, TOPIC, REGION)


def test_a_topic_file_cannot_approve_itself(project_copy):
    topic = project_copy / "content" / "topics" / f"{TOPIC}.yaml"
    text = topic.read_text(encoding="utf-8")
    text = re.sub(
        r"review:\n  status: draft\n?", "review: {status: approved, reviewer: Dr X, date: 2026-01-01}\n", text
    )
    topic.write_text(text, encoding="utf-8")
    with pytest.raises(
        ContentError, match=r"topics/ketamine-infusion.yaml:\d+: review: expected no approval in a topic file"
    ):
        load_project(project_copy)


def _printed_keys(project_copy: Path) -> set[str]:
    """Every statement any document of the topic prints in the region, as the resolver says."""
    project = load_project(project_copy)
    keys: set[str] = set()
    for clinic in (c for c in project.clinics.values() if c.region == REGION):
        for document in ("leaflet", "consent"):
            for audience in ("patient", "caregiver", "clinician"):
                spec = DocumentSpec(TOPIC, document, audience, clinic.edition_papers[0], clinic=clinic.id)
                keys |= set(select(project, spec, clinic).statement_keys)
    return keys


def test_the_pack_lists_every_statement_the_documents_print_with_its_sources(project_copy, tmp_path):
    entries = _build(project_copy, "one")
    html = review_pack(project_copy, (TOPIC,), (REGION,), tmp_path / "pack", pdf=False)[0].read_text(encoding="utf-8")
    listed = set(re.findall(r'<div class="statement-block" data-statement="([^"]+)"', html))
    assert listed == _printed_keys(project_copy)
    assert {k for e in entries.values() for k in e["statements"]} <= listed
    assert "NOT FOUND" not in html and "CHANGED" not in html
    assert html.count('data-source="seed"') > 10 and "Corrections register" in html
    assert "Registration number" in html and "Signature" in html


def test_the_pack_marks_what_changed_since_approval_with_the_old_words(project_copy, tmp_path):
    _approve(project_copy)
    _edit_patient_text(project_copy, "key-may-help")
    result = CliRunner().invoke(
        main,
        ["review-pack", "--project", str(project_copy), "--topic", TOPIC, "--region", REGION, "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    words = pdf_text(tmp_path / f"{TOPIC}-{REGION}.pdf")
    assert "key-may-help CHANGED" in words and words.count("CHANGED") == 2  # the summary line names the mark once
    assert "Patient Edited. It may help" in words and "Approved: It may help" in words
    assert "Sign-off" in words and "Registration number" in words


def test_build_refuses_a_topic_past_its_review_and_warns_about_drafts(project_copy, caplog):
    args = ["build", "--project", str(project_copy), "--topic", TOPIC, "--clinic", CLINIC, "--audience", "patient"]
    args += ["--document", "leaflet", "--standard-print", "--format", "txt", "--out", str(project_copy / "o")]
    late = CliRunner().invoke(main, [*args, "--today", "2028-01-01"])
    assert late.exit_code == 1
    errors = [line for line in late.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"topic {TOPIC}: expected a next review after 2028-01-01" in errors[0]
    caplog.clear()
    ok = CliRunner().invoke(main, [*args, "--today", "2026-12-01"])
    assert ok.exit_code == 0, ok.output
    drafts = [r for r in caplog.records if r.levelname == "WARNING" and "are draft" in r.getMessage()]
    assert len(drafts) == 1


def test_packets_refuse_draft_content_unless_allowed(project_copy, tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_text(
        "name,date_of_birth,record_number,topic,clinician,appointment_date,paper,large_print\n"
        f"Alex Example,1980-04-12,MRN-1,{TOPIC},Dr Sam Rivera,2026-11-23,letter,no\n",
        encoding="utf-8",
    )
    args = ["packets", "--project", str(project_copy), "--patients", str(csv), "--out", str(tmp_path / "o")]
    args += ["--key-file", str(tmp_path / "k.key"), "--today", "2026-11-23"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "found draft content for ketamine-infusion" in refused.output
    assert "--allow-draft" in refused.output and not (tmp_path / "o" / "packets.csv").exists()
    late = CliRunner().invoke(main, [*args[:-1], "2028-01-01", "--allow-draft"])
    review = load_project(project_copy).topics[TOPIC].next_review
    assert late.exit_code == 1 and f"found {TOPIC} (next review {review}) overdue" in late.output


def test_a_long_reviewers_name_keeps_ink_inside_the_margins(project_copy):
    """The reviewer's name and date are on page 1; the running header carries only the short mark, so a
    long name cannot wrap the header into the top margin (it did: 2 mm from the edge on a consent record)."""
    from test_structure import ink_margins

    reviewer = "Professor Alexandra Montgomery-Smythe-Fotheringham, Consultant in Liaison Psychiatry"
    args = ["approve", "--project", str(project_copy), "--topic", TOPIC, "--region", REGION, "--reviewer", reviewer]
    assert CliRunner().invoke(main, [*args, "--date", "2026-12-01"]).exit_code == 0
    options = BuildOptions(
        out=project_copy / "o", clinic=CLINIC, topics=(TOPIC,), audiences=("patient",), formats=("pdf",)
    )
    report = build(project_copy, options)
    assert {d.review_status for d in report.documents} == {"approved"}
    for doc in report.documents:
        assert ink_margins(doc.files["pdf"].path) >= 10, doc.spec.name
