"""`leaflets check`: each gate trips on a fixture made to trip it, and the real content passes."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaflets.check import CheckReport, format_issue, run_checks
from leaflets.cli import main

TODAY = dt.date(2026, 11, 22)


def edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body, old
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


def findings(root: Path, rule: str, today: dt.date = TODAY, build_dir: Path | None = None):
    report = run_checks(root, today=today, build_dir=build_dir or root / "no-build")
    return [i for i in report.issues if i.rule == rule]


def test_real_content_passes_with_no_errors(root):
    report = run_checks(root, today=TODAY, build_dir=root / "no-build")
    assert report.errors == 0, [format_issue(i) for i in report.issues if i.severity == "error"]
    assert {i.rule for i in report.issues if i.severity != "note"} <= {
        "review",
        "readability",
        "plain",
        "numbers",
        "spelling",
        "consistency",
        "approval",
    }


def test_schema_reports_every_loader_problem(project_copy):
    edit(
        project_copy / "content" / "statements" / "risks.yaml",
        "section: risks-long",
        "section: soon",
    )
    [issue] = findings(project_copy, "schema")
    assert issue.path == "content/statements/risks.yaml" and issue.line > 1


def test_provenance_trips_on_a_changed_quote(project_copy):
    edit(
        project_copy / "content" / "statements" / "benefits.yaml",
        "with effects lasting up to a week",
        "with effects lasting up to a month",
    )
    [issue] = findings(project_copy, "provenance")
    assert issue.where == "statement unknown-fades" and "seeds/002_424da29805c23caf.txt" in issue.message


def test_readability_flags_a_hard_sentence_and_a_hard_document(project_copy):
    hard = (
        "Pharmacological intervention necessitates comprehensive multidisciplinary evaluation, "
        "individualized monitoring, and considerable organizational coordination. "
    ) * 6
    edit(
        project_copy / "content" / "statements" / "about.yaml",
        '"Ketamine is a medicine used for anesthesia',
        f'"{hard}Ketamine is a medicine used for anesthesia',
    )
    issues = findings(project_copy, "readability")
    sentence = [i for i in issues if i.where == "statement what-ketamine (patient)"]
    assert sentence and sentence[0].path == "content/statements/about.yaml" and sentence[0].severity == "warning"
    document = [i for i in issues if i.path.startswith("content/topics/") and i.severity == "error"]
    assert document and "hardest: statement what-ketamine at content/statements/about.yaml:" in document[0].message


def test_claims_flags_hype_with_phrase_and_statement(project_copy):
    edit(
        project_copy / "content" / "statements" / "benefits.yaml",
        '"If it helps, you may feel better',
        '"This breakthrough is guaranteed to cure you. If it helps, you may feel better',
    )
    issues = findings(project_copy, "claims")
    phrases = sorted({re.search(r"'([^']+)' does not belong", i.message).group(1).lower() for i in issues})
    assert phrases == ["breakthrough", "cure", "guaranteed"]
    assert all(i.where.startswith("statement benefit-onset") for i in issues)


def test_claims_flags_advertising_with_a_wildcard(project_copy):
    edit(
        project_copy / "content" / "statements" / "benefits.yaml",
        '"If it helps, you may feel better',
        '"Contact Sunny Clinic today. If it helps, you may feel better',
    )
    assert any("Contact Sunny Clinic today" in i.message for i in findings(project_copy, "claims"))


def test_clean_text_trips_no_claim(root):
    assert findings(root, "claims") == []


@pytest.mark.parametrize(
    "text, fragment, severity",
    [
        ("About 1 in 20 people feel dizzy.", "found '1 in 20'", "error"),
        ("About 5% of people feel dizzy.", "found a percentage '5%'", "error"),
        ("Feeling dizzy is common.", "expected a number beside 'common'", "warning"),
    ],
)
def test_numbers_flags_other_denominators_percentages_and_bare_bands(project_copy, text, fragment, severity):
    edit(
        project_copy / "content" / "statements" / "benefits.yaml",
        '"Nobody can tell in advance who will be helped."',
        f'"Nobody can tell in advance who will be helped. {text}"',
    )
    issues = [i for i in findings(project_copy, "numbers") if i.where == "statement unknown-who (patient)"]
    assert len(issues) == 1 and fragment in issues[0].message and issues[0].severity == severity


def test_numbers_accepts_n_in_100_with_a_band(root):
    assert [i for i in findings(root, "numbers") if i.severity == "error"] == []


def test_balance_needs_a_no_treatment_option(project_copy):
    from leaflets.content import load_project

    project = load_project(project_copy)
    for path in (project_copy / "content" / "statements").glob("*.yaml"):
        body = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^\s*no_treatment: true\n", "", body), encoding="utf-8")
    issues = findings(project_copy, "balance")
    # every document of every clinic: clinics x topics x 2 documents x 3 audiences
    assert len(issues) == len(project.clinics) * len(project.topics) * 2 * 3
    assert "a no-treatment option" in issues[0].message


def test_balance_needs_harms(project_copy):
    for path in (project_copy / "content" / "statements").glob("*.yaml"):
        body = re.sub(r"section: risks-(day|long|rare)", "section: during", path.read_text(encoding="utf-8"))
        path.write_text(body, encoding="utf-8")
    for path in (project_copy / "content" / "outcomes").glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("kind: harm", "kind: benefit"), encoding="utf-8")
    issues = findings(project_copy, "balance")
    assert issues and all("harms" in i.message for i in issues)


@pytest.mark.parametrize("days_after, severity, fragment", [(10, "error", "days overdue"), (-19, "warning", "review due in 19 days")])
def test_review_dates(root, days_after, severity, fragment):
    """Counted from the first review date; every topic is then overdue (an error), due within 30 days
    (a warning) or neither, by its own date."""
    from leaflets.content import load_project

    project = load_project(root)
    review = min(t.next_review for t in project.topics.values())
    today = review + dt.timedelta(days=days_after)
    issues = {i.path: i for i in findings(root, "review", today=today) if i.where == "next_review"}
    expected = {}
    for topic in project.topics.values():
        days = (topic.next_review - today).days
        path = project.topic_places[topic.id].path
        if topic.next_review == review:
            expected[path] = (severity, fragment)
        elif days < 0:
            expected[path] = ("error", f"({-days} days overdue)")
        elif days <= 30:
            expected[path] = ("warning", f"review due in {days} days")
    assert set(issues) == set(expected), (sorted(issues), sorted(expected))
    for path, (want, words) in expected.items():
        assert issues[path].severity == want and words in issues[path].message, (path, issues[path])


def _make_first_topic_draft(project: Path) -> str:
    """Make sure at least one topic is draft, whatever the content's review state; return its file."""
    first = sorted((project / "content" / "topics").glob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("status: approved", "status: draft"), encoding="utf-8")
    return f"content/topics/{first.name}"


def test_review_draft_is_a_note_that_never_fails_strict(project_copy):
    first = _make_first_topic_draft(project_copy)
    drafts = [i for i in findings(project_copy, "review") if i.where == "review.status"]
    assert first in {i.path for i in drafts}
    assert all(i.severity == "note" and i.message.startswith("draft: not yet clinically reviewed") for i in drafts)
    assert not CheckReport(tuple(drafts)).failed(strict=True)
    assert CheckReport((replace(drafts[0], severity="warning"),)).failed(strict=True)


def test_require_approved_makes_draft_content_an_error(project_copy):
    first = _make_first_topic_draft(project_copy)
    args = ["check", "--project", str(project_copy), "--today", "2026-11-22", "--build-dir", str(project_copy / "nb")]
    result = CliRunner().invoke(main, [*args, "--require-approved"])
    assert result.exit_code == 1
    drafts = [line for line in result.output.splitlines() if ": review: review.status:" in line]
    assert any(line.startswith(f"{first}:") for line in drafts)
    assert all(
        ": error: review: review.status: expected approved content (--require-approved), found draft" in line
        for line in drafts
    )
    assert not any(
        "review.status" in line for line in CliRunner().invoke(main, args).output.splitlines() if ": error:" in line
    )


def test_stale_output_is_one_line_not_an_error_per_statement(project_copy):
    import os

    from leaflets.build import BuildOptions, build
    from leaflets.content import load_project

    topic = sorted(load_project(project_copy).topics)[0]
    out = project_copy / "output"
    build(project_copy, BuildOptions(out=out, topics=(topic,), documents=("leaflet",), audiences=("patient",)))
    assert [i for i in findings(project_copy, "completeness", build_dir=out)] == []
    built = (out / "manifest.json").stat().st_mtime
    for path in (project_copy / "content" / "statements").glob("*.yaml"):  # a sentence edited everywhere
        path.write_text(path.read_text(encoding="utf-8").replace(" you ", " you really "), encoding="utf-8")
        os.utime(path, (built + 5, built + 5))
    [stale] = findings(project_copy, "completeness", build_dir=out)
    assert stale.severity == "warning" and (stale.path, stale.line) == ("output/manifest.json", 0)
    assert stale.message.startswith("output/ is out of date: content, seeds or templates changed since it was built (")
    assert stale.message.endswith("statements not in the PDFs; run `leaflets build`, then check again)")


def test_completeness_finds_text_missing_from_the_built_pdf(default_build, root, tmp_path):
    assert findings(root, "completeness", build_dir=default_build.out) == []
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(default_build.out, copy)
    victim = copy / "example" / "ketamine-infusion" / "leaflet-patient-letter.pdf"
    other = copy / "example" / "esketamine-nasal-spray" / "leaflet-patient-letter.pdf"
    victim.write_bytes(other.read_bytes())
    issues = findings(root, "completeness", build_dir=copy)
    assert issues and all("example/ketamine-infusion/leaflet-patient-letter.pdf" in i.message for i in issues)
    assert any(i.where == "statement status-ketamine" for i in issues)


def test_cli_done_when_scenario_names_each_problem_and_exits_1(project_copy):
    stmts = project_copy / "content" / "statements"
    edit(
        stmts / "benefits.yaml",
        '"If it helps, you may feel better',
        '"It is a miracle. If it helps, you may feel better',
    )
    edit(
        stmts / "benefits.yaml",
        '"Nobody can tell in advance who will be helped."',
        '"Nobody can tell in advance who will be helped. About 1 in 20 people are helped."',
    )
    edit(
        stmts / "session.yaml",
        '"You may feel strange, dreamy or disconnected.',
        '"Unanticipated psychological reactions necessitate immediate communication with supervising personnel. '
        "You may feel strange, dreamy or disconnected.",
    )
    topic = project_copy / "content" / "topics" / "ketamine-infusion.yaml"
    body = re.sub(r"(?m)^published: .*$", "published: 2025-10-01", topic.read_text(encoding="utf-8"))
    topic.write_text(re.sub(r"(?m)^next_review: .*$", "next_review: 2026-10-01", body), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--project", str(project_copy), "--today", "2026-11-22"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    line_re = re.compile(r"^content/[\w/.-]+\.yaml:\d+: (error|warning|note): [a-z]+: ")
    assert all(line_re.match(line) for line in lines[:-1]), lines
    assert any(": error: claims: statement benefit-onset (patient): 'miracle'" in line for line in lines)
    assert any(": error: numbers: statement unknown-who (patient)" in line and "'1 in 20'" in line for line in lines)
    assert any(
        line.startswith("content/topics/ketamine-infusion.yaml:9: error: review: next_review:") for line in lines
    )
    assert any("session.yaml:" in line and "readability: statement during-feelings" in line for line in lines)


def test_json_output_parses_and_matches_the_text(project_copy):
    edit(
        project_copy / "content" / "statements" / "benefits.yaml",
        '"If it helps',
        '"A miracle. If it helps',
    )
    runner = CliRunner()
    args = ["check", "--project", str(project_copy), "--today", "2026-11-22"]
    text = runner.invoke(main, args).output.splitlines()[:-1]
    as_json = json.loads(runner.invoke(main, [*args, "--format", "json"]).output)
    assert as_json["errors"] >= 1
    rebuilt = [
        f"{f['path']}:{f['line']}: {f['severity']}: {f['rule']}: {f['where']}: {f['message']}"
        for f in as_json["findings"]
    ]
    assert rebuilt == text


def test_strict_turns_warnings_into_exit_1(root):
    from leaflets.content import load_project

    soon = min(t.next_review for t in load_project(root).topics.values()) - dt.timedelta(days=10)
    runner = CliRunner()
    args = ["check", "--project", str(root), "--today", soon.isoformat(), "--build-dir", str(root / "no-build")]
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and ": warning: review: next_review: review due in 10 days" in result.output
    assert runner.invoke(main, [*args, "--strict"]).exit_code == 1
    assert runner.invoke(main, [*args, "--format", "xml"]).exit_code == 2


def test_completeness_names_the_pdf_relative_to_the_project(default_build, project_copy):
    import shutil

    shutil.copytree(default_build.out, project_copy / "output")
    victim = project_copy / "output" / "example" / "ketamine-infusion" / "consent-patient-letter.pdf"
    other = project_copy / "output" / "example" / "ketamine-infusion" / "leaflet-patient-letter.pdf"
    victim.write_bytes(other.read_bytes())
    issues = findings(project_copy, "completeness", build_dir=project_copy / "output")
    assert issues and all(
        i.message.startswith("expected its text in output/example/ketamine-infusion/consent-patient-letter.pdf")
        for i in issues
    )


def test_a_broken_claims_list_is_an_error_not_a_silent_pass(project_copy):
    claims = project_copy / "content" / "claims.yaml"
    claims.write_text(claims.read_text() + "  - phrase: [oops\n")
    edit(project_copy / "content" / "statements" / "benefits.yaml", '"If it helps', '"This will cure you. If it helps')
    report = run_checks(project_copy, today=TODAY, build_dir=project_copy / "no-build")
    assert report.failed(strict=False)
    assert [i.path for i in report.issues if i.severity == "error"] == ["content/claims.yaml"]


def test_claims_and_terms_are_validated_with_their_lines(project_copy):
    claims = project_copy / "content" / "claims.yaml"
    claims.write_text(claims.read_text().replace("    why: an absolute promise\n", "", 1))
    terms = project_copy / "content" / "terms.yaml"
    terms.write_text(terms.read_text() + "  - {term: x, extra: y}\n")
    messages = [str(i) for i in run_checks(project_copy, today=TODAY).issues]
    assert any(
        m.startswith("content/claims.yaml:") and "why: expected a value for 'why', found none" in m for m in messages
    )
    assert any(m.startswith("content/terms.yaml:") and "expected" in m for m in messages)
