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


# CLI plumbing: each command hands the library exactly what was given, and nothing for what was not,
# so the defaults stay in the library's options (tested without rendering anything).


def test_build_passes_only_the_options_given(monkeypatch, tmp_path):
    import datetime as dt

    import leaflets.build as build_module
    from leaflets.build import BuildOptions, BuildReport

    seen = []

    def fake_build(root, options):  # type: ignore[no-untyped-def]
        seen.append((root, options))
        return BuildReport(tmp_path, (), tmp_path / "manifest.json", ())

    monkeypatch.setattr(build_module, "build", fake_build)
    run(
        "build",
        "--project",
        str(tmp_path),
        "--topic",
        "t1",
        "--paper",
        "a4",
        "--clinic",
        "example",
        "--today",
        "2027-01-02",
    )
    [(root, options)] = seen
    assert root == tmp_path
    expected = BuildOptions(topics=("t1",), paper="a4", clinic="example", today=dt.date(2027, 1, 2))
    assert options == expected
    seen.clear()
    run("build", "--project", str(tmp_path), "--today", "2027-01-02", "--clinic", str(tmp_path / "elsewhere.yaml"))
    [(_, options)] = seen
    assert options == BuildOptions(clinic=tmp_path / "elsewhere.yaml", today=dt.date(2027, 1, 2))


def test_packets_and_serve_take_a_clinic_id_or_file(monkeypatch, tmp_path):
    import leaflets.packets as packets_module
    import leaflets.serve as serve_module

    seen = []

    def fake_packets(root, options, progress=None):  # type: ignore[no-untyped-def]
        seen.append(options)
        raise SystemExit(0)

    monkeypatch.setattr(packets_module, "make_packets", fake_packets)
    patients = tmp_path / "p.csv"
    patients.write_text("name\n")
    for clinic, expected in (("example-uk", "example-uk"), (str(tmp_path / "c.yaml"), tmp_path / "c.yaml")):
        CliRunner().invoke(
            main, ["packets", "--patients", str(patients), "--out", str(tmp_path / "o"), "--clinic", clinic]
        )
        assert seen.pop().clinic == expected

    class FakePreview:
        def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(kwargs)
            raise SystemExit(0)

    monkeypatch.setattr(serve_module, "Preview", FakePreview)
    CliRunner().invoke(main, ["serve", "--project", str(tmp_path), "--clinic", "example-uk", "--topic", "t1"])
    assert seen.pop() == {"root": tmp_path.resolve(), "topics": ("t1",), "clinic_file": "example-uk"}


def test_check_passes_only_the_options_given(monkeypatch, tmp_path):
    import datetime as dt

    import leaflets.check as check_module
    from leaflets.check import CheckReport

    seen = []

    def fake_run_checks(root, topics=(), today=None, build_dir=None, require_approved=False):  # type: ignore[no-untyped-def]
        seen.append((root, topics, today, build_dir, require_approved))
        return CheckReport(())

    monkeypatch.setattr(check_module, "run_checks", fake_run_checks)
    result = CliRunner().invoke(main, ["check", "--project", str(tmp_path)])
    assert result.exit_code == 0 and seen.pop() == (tmp_path, (), None, None, False)
    args = ["check", "--project", str(tmp_path), "--topic", "t1", "--today", "2027-01-02", "--require-approved"]
    CliRunner().invoke(main, [*args, "--build-dir", str(tmp_path / "b")])
    assert seen.pop() == (tmp_path, ("t1",), dt.date(2027, 1, 2), tmp_path / "b", True)
