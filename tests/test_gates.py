"""The gates fixture: a project built to trip every `leaflets check` rule, its output kept as golden text.

tests/projects/gates is the ECT fixture plus content/statements/gates.yaml (one statement per gate, each
commented with the rule it trips), a topic with a regional gap, a UK urgent line no statement gives, a
US clinic, and an approval that the later statements are new to. A stale build folder (a manifest whose
leaflet PDF is gone and ran to 6 pages) is written here, so completeness and length speak too.
A change to any rule's wording or reach shows in `git diff tests/projects/gates/check-output.txt`.
"""

from __future__ import annotations

import json
import os
import shutil

from click.testing import CliRunner

from conftest import PROJECTS
from leaflets.check import RULES
from leaflets.cli import main

GATES = PROJECTS / "gates"
GOLDEN_OUTPUT = GATES / "check-output.txt"
TODAY = "2027-11-01"  # within 30 days of the topics' next review (2027-11-20): the review rule warns


def _stale_build(project, out):  # type: ignore[no-untyped-def]
    """A build folder whose manifest lists a 6-page patient leaflet whose PDF is gone."""
    out.mkdir()
    entry = {
        "id": "ect-clinic/ect/leaflet-patient-a4",
        "clinic": "ect-clinic",
        "topic": "ect",
        "document": "leaflet",
        "audience": "patient",
        "paper": "a4",
        "large_print": False,
        "files": {"pdf": {"path": "ect-clinic/ect/leaflet-patient-a4.pdf", "sha256": "0" * 64, "pages": 6}},
    }
    manifest = out / "manifest.json"
    manifest.write_text(json.dumps({"documents": [entry]}, indent=2), encoding="utf-8")
    newest = max(p.stat().st_mtime for p in project.rglob("*") if p.is_file())
    os.utime(manifest, (newest + 60, newest + 60))  # built after the content: each missing statement is named


def _check_output(tmp_path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    project = tmp_path / "gates"
    shutil.copytree(GATES, project, ignore=shutil.ignore_patterns("check-output.txt"))
    _stale_build(project, tmp_path / "built")
    args = ["check", "--project", str(project), "--today", TODAY, "--build-dir", str(tmp_path / "built")]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output.replace(str(tmp_path), "TMP")


def test_the_gates_fixture_trips_every_rule_and_its_output_is_golden(tmp_path, request):
    code, output = _check_output(tmp_path)
    assert code == 1, output
    assert "Traceback" not in output
    assert not [line for line in output.splitlines() if ":0: " in line], "every finding names its line"
    tripped = {line.split(": ")[2] for line in output.splitlines() if line.count(": ") >= 3}
    assert tripped == set(RULES) - {"schema"}, sorted(set(RULES) - tripped)  # schema: see the test below
    if request.config.getoption("--update-golden"):
        GOLDEN_OUTPUT.write_text(output, encoding="utf-8")
        return
    assert output == GOLDEN_OUTPUT.read_text(encoding="utf-8"), (
        "check output changed: review `git diff tests/projects/gates/check-output.txt` after --update-golden"
    )


def test_a_schema_error_stops_the_other_gates_and_is_named_at_its_line(tmp_path):
    project = tmp_path / "gates"
    shutil.copytree(GATES, project, ignore=shutil.ignore_patterns("check-output.txt"))
    topic = project / "content" / "topics" / "ect.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace("next_review:", "next_reviw:"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--project", str(project)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("1 errors") or "error" in lines[-1]
    findings = [line for line in lines if ": error: " in line]
    assert findings and all(": schema: " in line or "content/topics/ect.yaml:" in line for line in findings), lines
    assert any("next_reviw" in line and "content/topics/ect.yaml:" in line for line in findings), lines
