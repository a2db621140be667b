"""Hostile and broken input: a clear error, nothing read or fetched from outside, nothing half-written."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaflets.build import BuildOptions, build
from leaflets.cli import main
from leaflets.content import load_project
from leaflets.errors import ContentError, LeafletsError, OutputError, ResourceRefused
from pdfread import page_texts, text

ONE_DOC = {"documents": ("leaflet",), "audiences": ("patient",), "topics": ("ketamine-infusion",), "clinic": "example", "large_print": False}


class Listener:
    """A loopback server that must never be contacted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.png"
    path.parent.mkdir()
    path.write_bytes(b"\x89PNG\r\n\x1a\nSENTINEL-DO-NOT-PRINT")
    return path


def set_statement_text(root: Path, old: str, new: str) -> None:
    path = root / "content" / "statements" / "about.yaml"
    body = path.read_text()
    assert old in body
    path.write_text(body.replace(old, new, 1))


def test_markup_and_template_code_in_content_print_as_plain_text(project_copy, tmp_path, listener):
    hostile = (
        f"<script>alert(1)</script> <img src='http://127.0.0.1:{listener.port}/x.png'> "
        "{{ 7 * 7 }} {% raw %} </style><style>body{display:none}</style>"
    )
    set_statement_text(project_copy, "This is called an infusion.", hostile.replace('"', "'"))
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    clinic.write_text(
        clinic.read_text().replace(
            "name: Riverside Mood Clinic (example)",
            'name: "Evil <b>Clinic</b> {{ 6*7 }} \\\\\\" ) } @import"',
        )
    )
    report = build(project_copy, BuildOptions(out=tmp_path / "out", formats=("pdf", "html"), **ONE_DOC))
    words = text(report.documents[0].files["pdf"].path).replace(" ", "")  # lines may break after "/"
    assert "<script>alert(1)</script>" in words and "{{7*7}}" in words
    assert "</style><style>body{display:none}</style>" in words
    assert "Evil<b>Clinic</b>{{6*7}}" in words
    html = report.documents[0].files["html"].path.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert listener.connections == 0


def test_clinic_name_in_the_running_header_cannot_break_out_of_css(project_copy, tmp_path):
    topic = project_copy / "content" / "topics" / "ketamine-infusion.yaml"
    topic.write_text(
        topic.read_text().replace(
            "short_title: Ketamine infusion",
            "short_title: 'Ketamine\"; } @page { size: 10cm; } x { a: \"'",
        )
    )
    report = build(project_copy, BuildOptions(out=tmp_path / "out", **{**ONE_DOC, "documents": ("consent",)}))
    pdf = report.documents[0].files["pdf"].path
    words = " ".join(page_texts(pdf))  # the running header, which text() leaves out
    assert 'Ketamine"; } @page { size: 10cm; } x { a: "' in words
    import pypdf

    assert round(float(pypdf.PdfReader(str(pdf)).pages[0].mediabox.width)) == 612


@pytest.mark.parametrize(
    "logo, fragment",
    [
        ("http://127.0.0.1:{port}/logo.png", "expected a logo path relative to the clinic file"),
        ("https://example.org/logo.svg", "expected a logo path relative to the clinic file"),
        ("file:///etc/passwd", "expected a logo path relative to the clinic file"),
        ("/etc/passwd", "expected a logo path relative to the clinic file"),
    ],
)
def test_logo_urls_and_absolute_paths_are_refused_at_load(project_copy, listener, logo, fragment):
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    clinic.write_text(
        clinic.read_text().replace("logo: example-logo.svg", f"logo: '{logo.format(port=listener.port)}'")
    )
    project = load_project(project_copy)  # a broken clinic file does not stop the others
    [issues] = project.broken_clinics.values()
    assert issues[0].path == "content/clinics/example.yaml" and issues[0].line == 10 and fragment in issues[0].message
    with pytest.raises(ContentError, match=fragment):
        build(project_copy, BuildOptions(out=project_copy / "out", clinic="example", formats=("txt",)))
    assert listener.connections == 0


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_logo_outside_the_project_is_refused_and_never_printed(project_copy, tmp_path, sentinel, how):
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    if how == "symlink":
        (project_copy / "content" / "clinics" / "link.png").symlink_to(sentinel)
        target = "link.png"
    else:
        target = os.path.relpath(sentinel, clinic.parent)
    clinic.write_text(clinic.read_text().replace("logo: example-logo.svg", f"logo: '{target}'"))
    with pytest.raises(ResourceRefused, match="clinic logo: refused .* outside the project"):
        build(project_copy, BuildOptions(out=tmp_path / "out", formats=("pdf", "html"), **ONE_DOC))
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert b"SENTINEL" not in path.read_bytes()


@pytest.mark.parametrize(
    "markup",
    [
        '<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">',
        '<img src="file://{sentinel}" alt="x">',
        '<img src="data:text/html;base64,PHNjcmlwdD4=" alt="x">',
        '<style>@import url("http://127.0.0.1:{port}/y.css");</style>',
        '<img src="../../{sentinel_rel}" alt="x">',
    ],
)
def test_template_resources_outside_the_project_are_refused(project_copy, tmp_path, listener, sentinel, markup):
    template = project_copy / "templates" / "leaflet.html.j2"
    rel = os.path.relpath(sentinel, project_copy / "templates")
    tag = markup.format(port=listener.port, sentinel=sentinel, sentinel_rel=rel.removeprefix("../../"))
    template.write_text(template.read_text().replace("{% block body %}", "{% block body %}" + tag, 1))
    with pytest.raises(ResourceRefused, match="refused to load"):
        build(project_copy, BuildOptions(out=tmp_path / "out", **ONE_DOC))
    assert listener.connections == 0
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_cli_reports_a_refused_resource_in_one_line(project_copy, tmp_path):
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    clinic.write_text(clinic.read_text().replace("logo: example-logo.svg", "logo: ../../../../etc/passwd"))
    args = ["build", "--project", str(project_copy), "--out", str(tmp_path / "o"), "--clinic", "example"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: content/clinics/example.yaml:10: logo: ")


def test_unknown_choices_are_usage_errors_listing_the_choices(root):
    for args in (
        ["--audience", "nurse"],
        ["--document", "poster"],
        ["--format", "docx"],
        ["--paper", "a3"],
    ):
        result = CliRunner().invoke(main, ["build", "--project", str(root), *args])
        assert result.exit_code == 2 and "Invalid value" in result.output and "'" in result.output


def test_a_missing_project_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["list", "--project", str(tmp_path)])
    assert result.exit_code == 1 and "expected a leaflets project with a content/ folder" in result.output


def test_output_parent_that_is_a_file(project_copy, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        build(project_copy, BuildOptions(out=tmp_path / "file" / "out", **ONE_DOC))


def test_disk_full_leaves_no_partial_file(project_copy, tmp_path, monkeypatch):
    out = tmp_path / "out"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        build(project_copy, BuildOptions(out=out, **ONE_DOC))
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_a_killed_build_leaves_only_complete_files(project_copy, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leaflets",
            "build",
            "--project",
            str(project_copy),
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.rglob("*.pdf")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM, "the build ended before it was stopped"
    import pypdf

    from leaflets.build import BuildOptions as Options
    from leaflets.build import plan

    project = load_project(project_copy)
    every = sum(len(plan(c, Options(), tuple(project.topics))) for c in project.clinics.values())
    pdfs = list(out.rglob("*.pdf"))
    assert 1 <= len(pdfs) < every, "stopped mid-way: some documents written, not all"
    for pdf in pdfs:
        assert len(pypdf.PdfReader(str(pdf)).pages) >= 1
    assert [p.name for p in out.rglob(".*.part")] == []


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.dates().map(str),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=yaml_values,
    name=st.sampled_from(["statements/x.yaml", "topics/x.yaml", "references.yaml", "clinics/x.yaml", "strings.yaml"]),
)
def test_loader_returns_a_model_or_raises_its_own_error(project_copy, doc, name):
    path = project_copy / "content" / name
    original = path.read_bytes() if path.exists() else None
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        load_project(project_copy)
    except LeafletsError:
        pass
    finally:
        if original is None:
            path.unlink()
        else:
            path.write_bytes(original)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_loader_survives_arbitrary_bytes(project_copy, raw):
    path = project_copy / "content" / "statements" / "zz.yaml"
    path.write_bytes(raw)
    try:
        load_project(project_copy)
    except LeafletsError:
        pass
    finally:
        path.unlink()
