"""Tests survive content work: add a topic and an approval to a copy of the project, and the behaviour
tests that read the real content still pass there (they derive what they expect from the content).

The copy gets the ECT topic of tests/projects/ect (its statements, outcomes and reference) and a
clinical approval of ketamine-infusion for the UK, made with `leaflets approve` in the copy only (no
approval of the real content is ever committed). The tests then run in a second pytest process with
LEAFLETS_TEST_PROJECT pointing at the copy (tests/conftest.py). Golden text is left out: it is the one
thing content work is meant to change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from conftest import PROJECTS, REPO
from leaflets.cli import main

#: The test files that read the real project (through the `root`, `default_build` or `a4_build` fixtures).
CONTENT_TESTS = (
    "test_build.py",
    "test_print.py",
    "test_outcomes.py",
    "test_regions.py",
    "test_content.py",
    "test_consent_record.py",
    "test_structure.py",
    "test_check.py",
    "test_review.py",
    "test_diff.py",
    "test_findings.py",
)


def _copy_with_a_new_topic_and_an_approval(folder: Path) -> Path:
    for name in ("content", "seeds", "templates"):
        shutil.copytree(REPO / name, folder / name)
    ect = PROJECTS / "ect" / "content"
    for kind in ("topics", "statements", "outcomes"):
        shutil.copy(ect / kind / "ect.yaml", folder / "content" / kind / "ect.yaml")
    references = (ect / "references.yaml").read_text(encoding="utf-8")
    tms = re.search(r"  - id: nice-ipg542\n(?:    .*\n|      .*\n)+", references)
    assert tms is not None
    with (folder / "content" / "references.yaml").open("a", encoding="utf-8") as out:
        out.write(tms.group(0))
    reviewer = "Dr Copy Reviewer, consultant psychiatrist (a test copy, not a clinical review)"
    args = ["approve", "--project", str(folder), "--topic", "ketamine-infusion", "--region", "UK"]
    result = CliRunner().invoke(main, [*args, "--reviewer", reviewer, "--date", "2026-11-23"])
    assert result.exit_code == 0, result.output
    return folder


def test_behaviour_tests_pass_after_adding_a_topic_and_an_approval(tmp_path):
    copy = _copy_with_a_new_topic_and_an_approval(tmp_path / "project")
    env = {**os.environ, "LEAFLETS_TEST_PROJECT": str(copy)}
    tests = [str(REPO / "tests" / name) for name in CONTENT_TESTS]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"), *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert result.returncode == 0, "\n".join(failed) or result.stdout[-3000:]
