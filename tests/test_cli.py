"""The command line: help, choices, exit codes and one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from leaflets.cli import main
from leaflets.content import load_project


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


@pytest.mark.parametrize(
    "command",
    [
        ["build", "--out", "{tmp}/out"],
        ["check", "--build-dir", "{tmp}/none"],
        ["serve", "--port", "0"],
        ["packets", "--patients", "{root}/content/patients-example.csv", "--out", "{tmp}/packets"],
    ],
)
def test_an_unknown_topic_is_a_usage_error_in_every_command(root, tmp_path, command):
    args = [a.format(tmp=tmp_path, root=root) for a in command]
    result = run(*args, "--project", str(root), "--topic", "esketamine")
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    topics = ", ".join(sorted(load_project(root).topics))
    assert line.startswith(f"Error: --topic: expected one of {topics}, found esketamine"), line


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


def test_clinic_option_with_the_projects_own_file(root, tmp_path):
    result = run(
        "build",
        "--project",
        str(root),
        "--clinic",
        str(root / "content" / "clinics" / "example.yaml"),
        "--topic",
        "ketamine-infusion",
        "--document",
        "leaflet",
        "--audience",
        "patient",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output


def test_clinic_file_from_another_site(root, tmp_path):
    from pdfread import page_sizes, text

    clinic = tmp_path / "north.yaml"
    clinic.write_text(
        "id: north\nname: Northside Practice\naddress: [2 High Street, Leeds]\n"
        "phone: '0113 000 0000'\nregion: UK\npaper: a4\n"
    )
    out = tmp_path / "out"
    result = run(
        "build",
        "--project",
        str(root),
        "--clinic",
        str(clinic),
        "--topic",
        "ketamine-infusion",
        "--document",
        "leaflet",
        "--audience",
        "patient",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    pdf = out / "north" / "ketamine-infusion" / "leaflet-patient-a4.pdf"
    words = text(pdf)
    assert "Northside Practice" in words and "Samaritans free on 116 123" in words and "988" not in words
    assert round(page_sizes(pdf)[0][0]) == 595


def test_pdftext_on_a_file_that_is_not_a_pdf_is_one_line(tmp_path):
    notes = tmp_path / "notes.pdf"
    notes.write_text("not a PDF\n")
    result = CliRunner().invoke(main, ["pdftext", str(notes)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {notes}: expected a PDF file, found a file that does not start with %PDF"
    ]
