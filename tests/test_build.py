"""The pipeline end to end: every document is built and says what its content says."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from conftest import TINY, pdf_of
from leaflets.build import BuildOptions, build
from leaflets.content import load_project
from leaflets.model import AUDIENCES, DOCUMENTS
from leaflets.select import select
from pdfread import normalise, page_texts, text


def test_every_document_is_built(default_build, root):
    topics = load_project(root).topics
    project = load_project(root)
    editions = {
        (c.id, p, large) for c in project.clinics.values() for p in c.edition_papers for large in (False, True)
    }
    built = {(d.spec.clinic, d.spec.paper, d.spec.large_print, d.spec.topic, d.spec.document, d.spec.audience) for d in default_build.documents}
    assert built == {(*e, t, d, a) for e in editions for t in topics for d in DOCUMENTS for a in AUDIENCES}
    for doc in default_build.documents:
        large = "-large" if doc.spec.large_print else ""
        assert doc.files["pdf"].path.name == f"{doc.spec.document}-{doc.spec.audience}-{doc.spec.paper}{large}.pdf"
        assert doc.files["pdf"].path.parent.name == doc.spec.topic
        assert doc.files["pdf"].path.parent.parent.name == doc.spec.clinic


def test_each_pdf_holds_its_title_headings_and_statements(default_build, root):
    project = load_project(root)
    for doc in default_build.documents:
        spec = doc.spec
        clinic = project.clinics[spec.clinic]
        words = text(doc.files["pdf"].path)
        title = project.regions[clinic.region].spell(project.topics[spec.topic].title.for_audience(spec.audience))
        assert normalise(title) in words, spec
        for heading in (
            ("key-points", "options", "urgent-help")
            if spec.document == "leaflet"
            else ("decision-made", "alternatives", *(("teach-back",) if spec.audience != "caregiver" else ()))
        ):
            assert normalise(project.string(heading, spec.audience, clinic.region)) in words, (spec, heading)
        for item in select(project, spec, clinic).items:
            assert normalise(item.text) in words, (spec, item.id)


def test_page_counts_are_sane(default_build):
    """A document is as long as its content makes it (a consent record in large print runs to 30 pages
    and more), so no fixed page limit: a layout runaway shows instead as pages that carry almost nothing.
    Every document averages at least 30 words of body text a page (the sparsest today, a large-print
    consent record of write-in boxes, has about 75), and a large-print edition is at most 4 times as
    long as the same document in standard print (18 pt type on 12 pt takes 2.25 times the area;
    today's editions are 2 to 3.2 times as long). Leaflets have their own limit (test_print.py)."""
    standard = {
        (d.spec.clinic, d.spec.paper, d.spec.topic, d.spec.document, d.spec.audience): d.files["pdf"].pages
        for d in default_build.documents
        if not d.spec.large_print
    }
    for doc in default_build.documents:
        pages = doc.files["pdf"].pages
        assert pages >= 1 and len(page_texts(doc.files["pdf"].path)) == pages, (doc.spec, pages)
        words = len(text(doc.files["pdf"].path).split())
        assert words >= 30 * pages, (doc.spec.name, pages, words)
        if doc.spec.large_print:
            spec = doc.spec
            twin = standard[(spec.clinic, spec.paper, spec.topic, spec.document, spec.audience)]
            assert pages <= 4 * twin, (spec.name, pages, twin)


def test_text_and_html_are_the_same_document(default_build, root):
    doc = next(d for d in default_build.documents if d.spec.audience == "patient" and d.spec.document == "leaflet")
    txt = doc.files["txt"].path.read_text(encoding="utf-8")
    html = doc.files["html"].path.read_text(encoding="utf-8")
    clinic = load_project(root).clinics[doc.spec.clinic]
    assert txt.startswith(f"[{clinic.logo_alt}]")
    assert "Key points" in txt and "Key points" in html
    assert "data:image/svg+xml;base64," in html, "standalone HTML carries its logo inline"
    assert "file:" not in html


def test_same_input_gives_same_bytes_in_separate_processes_whatever_the_worker_count(tmp_path, root):
    """Two worker processes, one, and none (a one-core machine: PDFs made in the main process)."""
    script = (
        "import os, sys; from pathlib import Path; from leaflets.build import BuildOptions, build;"
        "cores = int(sys.argv[3]); os.cpu_count = (lambda: 1) if cores == 0 else os.cpu_count;"
        "build(Path(sys.argv[1]), BuildOptions(out=Path(sys.argv[2]), topics=('esketamine-nasal-spray',),"
        " audiences=('patient',), clinic='example', large_print=False, formats=('pdf', 'txt', 'html'),"
        " jobs=cores or None))"
    )
    runs = {"two": 2, "one": 1, "none": 0}
    for run, workers in runs.items():
        subprocess.run([sys.executable, "-c", script, str(root), str(tmp_path / run), str(workers)], check=True)
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(one) == 7  # 2 documents x 3 formats + manifest
    for rel in one:
        digests = {run: hashlib.sha256((tmp_path / run / rel).read_bytes()).hexdigest() for run in runs}
        assert len(set(digests.values())) == 1, (rel, digests)


def test_pdf_dates_come_from_content_not_the_clock(default_build, root):
    import pypdf

    project = load_project(root)
    for doc in default_build.documents[:4]:
        published = project.topics[doc.spec.topic].published.strftime("D:%Y%m%d")
        info = pypdf.PdfReader(str(doc.files["pdf"].path)).metadata
        assert info["/CreationDate"] == published
        assert info["/ModDate"] == published


def test_a_tiny_second_project_builds_without_code_changes(tmp_path, root):
    report = build(TINY, BuildOptions(out=tmp_path, templates=root / "templates", large_print=False))
    assert len(report.documents) == 6
    leaflet = pdf_of(report, "flu-vaccine", "leaflet", "patient")
    words = text(leaflet)
    assert "The flu vaccine: what you need to know" in words
    assert "A sore arm for a day or two is common." in words
    assert "Draft - not yet clinically reviewed" in words, "no approval file: the draft mark"
    assert leaflet.name == "leaflet-patient-a4.pdf"


def test_manifest_lists_every_document_sorted(default_build, root):
    """Each entry's review status follows content/approvals/: draft where its topic has no approval for
    the clinic's region, approved (or changed since review) where it has one."""
    import json

    from leaflets.approval import approval_path

    project = load_project(root)
    manifest = json.loads(default_build.manifest.read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in manifest["documents"]]
    assert ids == sorted(ids) and len(ids) == len(default_build.documents)
    entry = manifest["documents"][0]
    pdf = default_build.out / entry["files"]["pdf"]["path"]
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == entry["files"]["pdf"]["sha256"]
    for entry in manifest["documents"]:
        region = project.clinics[entry["clinic"]].region
        approved = approval_path(project, entry["topic"], region).is_file()
        assert entry["review_status"] in ({"approved", "changed"} if approved else {"draft"}), entry["id"]


@pytest.mark.parametrize(
    "scheme_url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.css",
        "file:///etc/passwd",
    ],
)
def test_a_url_outside_the_project_is_refused_and_not_fetched(project_copy, tmp_path, scheme_url):
    template = project_copy / "templates" / "leaflet.html.j2"
    template.write_text(
        template.read_text().replace("{% block body %}", f'{{% block body %}}<img src="{scheme_url}" alt="x">', 1)
    )
    from leaflets.errors import ResourceRefused

    with pytest.raises(ResourceRefused, match="refused to load") as exc:
        build(
            project_copy,
            BuildOptions(
                out=tmp_path / "out",
                documents=("leaflet",),
                audiences=("patient",),
                topics=("ketamine-infusion",),
            ),
        )
    assert scheme_url.split("/")[2] in str(exc.value) or "passwd" in str(exc.value)
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_a_logo_reached_through_dotdot_is_refused(project_copy, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG sentinel")
    clinic = project_copy / "content" / "clinics" / "example.yaml"
    clinic.write_text(clinic.read_text().replace("logo: example-logo.svg", "logo: ../../secret.png"))
    from leaflets.errors import ResourceRefused

    with pytest.raises(ResourceRefused, match="outside the project"):
        build(project_copy, BuildOptions(out=tmp_path / "out", audiences=("patient",), clinic="example"))
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_output_folder_that_is_a_file_is_a_clear_error(project_copy, tmp_path):
    from leaflets.errors import OutputError

    target = tmp_path / "not-a-folder"
    target.write_text("x")
    with pytest.raises(OutputError, match="expected an output folder, found a file"):
        build(project_copy, BuildOptions(out=target))


def test_the_library_and_the_cli_write_the_same_manifest(tmp_path, root):
    """Defaults live once, in BuildOptions: `build(root, BuildOptions(...))` and `leaflets build` agree."""
    from click.testing import CliRunner

    from leaflets.cli import main

    build(TINY, BuildOptions(out=tmp_path / "lib", templates=root / "templates"))
    result = CliRunner().invoke(
        main, ["build", "--project", str(TINY), "--templates", str(root / "templates"), "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    library = (tmp_path / "lib" / "manifest.json").read_text(encoding="utf-8")
    assert library == (tmp_path / "cli" / "manifest.json").read_text(encoding="utf-8")
    assert '"large_print": true' in library and '"txt"' in library, "both print sizes and the text snapshot by default"


def test_a_rebuild_with_nothing_changed_renders_nothing_and_an_edit_only_what_prints_it(tmp_path, root, monkeypatch):
    import shutil

    from leaflets.session import Session

    project = tmp_path / "project"
    shutil.copytree(TINY, project)
    options = BuildOptions(out=tmp_path / "out", templates=root / "templates", large_print=False)
    first = build(project, options)
    manifest = first.manifest.read_bytes()

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("rendered a document whose inputs did not change")

    with monkeypatch.context() as patch:
        patch.setattr(Session, "render", refuse)
        again = build(project, options)
    assert all(d.skipped for d in again.documents) and again.manifest.read_bytes() == manifest

    statements = project / "content" / "statements" / "flu.yaml"
    body = statements.read_text(encoding="utf-8")
    assert "Injection-site soreness for one to two days." in body  # clinician words: only their documents
    statements.write_text(body.replace("soreness for one to two days.", "soreness for 1 to 2 days."))
    edited = build(project, options)
    rebuilt = {d.spec.name for d in edited.documents if not d.skipped}
    prints = {
        d.spec.name for d in first.documents if "flu-sore-arm" in d.statements and d.spec.audience == "clinician"
    }
    assert rebuilt == prints and rebuilt


def test_build_and_check_agree_on_what_each_document_prints(tmp_path, root):
    """One resolver: the manifest's statements and `check --explain` both come from it."""
    from conftest import explained_statements
    from leaflets.content import load_project as load
    from leaflets.select import select as resolve

    report = build(TINY, BuildOptions(out=tmp_path, templates=root / "templates", large_print=False, formats=("txt",)))
    project = load(TINY)
    explained = explained_statements(project)
    assert explained
    for doc in report.documents:
        spec = doc.spec
        ids = {key.split("@")[0] for key in doc.statements}
        assert ids == explained[f"{spec.clinic}/{spec.topic}/{spec.document}-{spec.audience}"], spec.name
        assert doc.statements == resolve(project, spec, project.clinics[spec.clinic]).statement_keys


def test_a_weasyprint_warning_during_a_build_is_shown(project_copy, tmp_path):
    """PDFs are made in worker processes; what WeasyPrint says there still reaches the user's terminal."""
    css = project_copy / "templates" / "assets" / "document.css"
    css.write_text(css.read_text(encoding="utf-8") + "\np { colr: red; }\n", encoding="utf-8")
    args = ["--project", str(project_copy), "--out", str(tmp_path / "o"), "--clinic", "example", "--topic"]
    args += ["ketamine-infusion", "--document", "leaflet", "--audience", "patient", "--standard-print"]
    result = subprocess.run(
        [sys.executable, "-m", "leaflets", "build", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING: Ignored `colr: red`" in result.stderr, result.stderr


def test_a_refused_resource_in_every_document_stops_the_build_without_hanging(project_copy, tmp_path):
    """Workers still holding queued documents are stopped; the process exits at once with one line."""
    template = project_copy / "templates" / "base.html.j2"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace("<body", '<body><img src="http://127.0.0.1:9/x.png" alt="x"', 1), encoding="utf-8")
    args = [sys.executable, "-m", "leaflets", "build", "--project", str(project_copy), "--out", str(tmp_path / "o")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "refused to load 'http://127.0.0.1:9/x.png'" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "o").rglob("*.pdf"))


def test_the_quick_library_lookup_answers_as_ctypes_does():
    """pdf._quick_library_lookup stands in for ctypes.util.find_library while WeasyPrint imports; for the
    names WeasyPrint asks for it must give the same answers (a miss is None), and it must be restored."""
    import ctypes.util

    from leaflets.pdf import _quick_library_lookup

    names = ["c", "pango-1.0", "harfbuzz", "fontconfig", "gobject-2.0", "libgobject-2.0-0", "no-such-library-xyz"]
    original = ctypes.util.find_library
    expected = {name: original(name) for name in names}
    with _quick_library_lookup():
        assert {name: ctypes.util.find_library(name) for name in names} == expected
    assert ctypes.util.find_library is original
    assert expected["pango-1.0"] and expected["no-such-library-xyz"] is None


def test_weasyprint_is_looked_up_once_not_for_every_render(monkeypatch):
    """pdf._weasyprint() runs for every PDF; the library lookup (an ldconfig subprocess) only on the first
    import, never on a render."""
    import leaflets.pdf as pdf

    pdf._weasyprint()

    def no_subprocess(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("ran a subprocess for a render")

    monkeypatch.setattr(pdf.subprocess, "run", no_subprocess)
    assert pdf._weasyprint().HTML is not None
