"""The command line: help, choices, exit codes and one-line errors."""

from __future__ import annotations

from click.testing import CliRunner

from leaflets.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_explains_every_build_option():
    result = run("build", "--help")
    assert result.exit_code == 0
    for option in (
        "--topic",
        "--document",
        "--audience",
        "--format",
        "--paper",
        "--large-print",
        "--clinic",
        "--out",
        "--project",
        "--templates",
    ):
        assert option in result.output
    assert "leaflet|consent" in result.output and "patient|caregiver|clinician" in result.output


def test_list_names_topics_and_choices(root):
    result = run("list", "--project", str(root))
    assert result.exit_code == 0
    assert "esketamine-nasal-spray" in result.output and "ketamine-infusion" in result.output
    assert "formats: pdf, html, txt" in result.output


def test_unknown_choice_is_a_usage_error_listing_choices(root):
    result = run("build", "--project", str(root), "--paper", "a5")
    assert result.exit_code == 2
    assert "'a4'" in result.output and "'letter'" in result.output


def test_unknown_topic_is_exit_1_with_one_line(root, tmp_path):
    result = run("build", "--project", str(root), "--topic", "aspirin", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --topic: expected one of esketamine-nasal-spray, ketamine-infusion, found aspirin"
    ]


def test_content_error_gives_file_line_and_exit_1(project_copy, tmp_path):
    path = project_copy / "content" / "statements" / "risks.yaml"
    path.write_text(path.read_text().replace("section: risks-long", "section: risks-later", 1))
    result = run("build", "--project", str(project_copy), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: content/statements/risks.yaml:")
    assert "statements[" in lines[0] and ".section:" in lines[0] and "'risks-later'" in lines[0]
    assert "Traceback" not in result.output


def test_python_dash_m_works(root):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "leaflets", "--version"], capture_output=True, text=True, check=True)
    assert "leaflets" in out.stdout
