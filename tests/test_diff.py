"""`leaflets diff`: exactly the documents, words and pages that changed, and a report to look at."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from leaflets.build import BuildOptions, build
from leaflets.cli import main
from leaflets.diff import compare, write_html


def _build(root, out, topics=("esketamine-nasal-spray",)):
    return build(
        root,
        BuildOptions(
            out=out,
            topics=topics,
            audiences=("patient", "clinician"),
            formats=("pdf", "txt"),
            clinic="example",
            large_print=False,
        ),
    )


def test_identical_builds_report_nothing(default_build, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(default_build.out, copy)
    report = compare(default_build.out, copy)
    assert not report.changed and len(report.with_status("unchanged")) == len(default_build.documents)


def test_one_changed_number_is_reported_with_its_word_and_page(project_copy, tmp_path):
    old = _build(project_copy, tmp_path / "old").out
    outcomes = project_copy / "content" / "outcomes" / "esketamine-nasal-spray.yaml"
    body = outcomes.read_text(encoding="utf-8")
    start = body.index("  - id: esk-dissociation\n")
    at = body.index("      per100: 41\n", start)
    outcomes.write_text(body[:at] + "      per100: 42\n" + body[at + len("      per100: 41\n") :], encoding="utf-8")
    new = _build(project_copy, tmp_path / "new").out
    report = compare(old, new)
    changed = {d.name: d for d in report.with_status("changed")}
    base = "example/esketamine-nasal-spray/"
    assert set(changed) == {
        base + "leaflet-patient-letter",
        base + "leaflet-clinician-letter",
        base + "consent-patient-letter",
        base + "consent-clinician-letter",
    }
    leaflet = changed[base + "leaflet-patient-letter"]
    removed = [line for line in leaflet.text_diff if line.startswith("-") and not line.startswith("---")]
    added = [line for line in leaflet.text_diff if line.startswith("+") and not line.startswith("+++")]
    assert any("about 41 in 100" in line for line in removed) and any("about 42 in 100" in line for line in added)
    assert leaflet.pages, "the page with the changed number is marked"
    for page in leaflet.pages:
        for box in page.boxes:
            assert box[2] - box[0] < 300 and box[3] - box[1] < 300, "only the changed figures are marked"
    clinician = changed[base + "consent-clinician-letter"]
    assert any("42" in line for line in clinician.text_diff if line.startswith("+") and not line.startswith("+++"))

    index = write_html(report, tmp_path / "diff")
    page = index.read_text()
    assert "about 42 in 100" in page and "leaflet-patient-letter-page" in page
    pictures = sorted((tmp_path / "diff").rglob("*leaflet-patient-letter-page*-old.png"))
    assert pictures and all(p.stat().st_size > 1000 for p in pictures)


def test_a_moved_statement_shows_as_text_and_pages(project_copy, tmp_path):
    old = _build(project_copy, tmp_path / "old", ("ketamine-infusion",)).out
    path = project_copy / "content" / "statements" / "benefits.yaml"
    path.write_text(
        path.read_text().replace(
            "  - id: unknown-who\n    section: unknowns\n",
            "  - id: unknown-who\n    section: benefits\n",
        )
    )
    new = _build(project_copy, tmp_path / "new", ("ketamine-infusion",)).out
    leaflet = next(d for d in compare(old, new).documents if d.name.endswith("leaflet-patient-letter"))
    assert leaflet.status == "changed"
    assert "+Nobody can tell in advance who will be helped." in leaflet.text_diff
    assert "-- Nobody can tell in advance who will be helped." in leaflet.text_diff
    assert leaflet.pages


def test_added_and_removed_documents(default_build, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(default_build.out, copy)
    (copy / "example" / "ketamine-infusion" / "leaflet-patient-letter.pdf").unlink()
    shutil.copy(
        copy / "example" / "ketamine-infusion" / "consent-patient-letter.pdf",
        copy / "example" / "ketamine-infusion" / "extra.pdf",
    )
    report = compare(default_build.out, copy)
    assert [d.name for d in report.with_status("removed")] == ["example/ketamine-infusion/leaflet-patient-letter"]
    assert [d.name for d in report.with_status("added")] == ["example/ketamine-infusion/extra"]


def test_cli_exit_codes(default_build, tmp_path):
    runner = CliRunner()
    same = runner.invoke(
        main,
        ["diff", str(default_build.out), str(default_build.out), "--report", str(tmp_path / "r")],
    )
    assert same.exit_code == 0 and "0 changed" in same.output
    assert runner.invoke(main, ["diff", str(default_build.out)]).exit_code == 2
    assert runner.invoke(main, ["diff", "--rev", "HEAD"]).exit_code == 2


def test_rev_against_worktree(project_copy, tmp_path):
    git = ["git", "-C", str(project_copy)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x"],
        check=True,
    )
    result = CliRunner().invoke(
        main,
        [
            "diff",
            "--project",
            str(project_copy),
            "--rev",
            "HEAD",
            "--rev",
            "WORKTREE",
            "--report",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"0 changed, 0 added, 0 removed, \d+ unchanged", result.output), result.output
    bad = CliRunner().invoke(main, ["diff", "--project", str(project_copy), "--rev", "nope", "--rev", "WORKTREE"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: --rev nope: expected a git revision")


def _tar(*members: tuple[str, str, str]) -> bytes:
    """An archive of (name, kind, data-or-link-target) members: kind is file, dir, sym, hard or fifo."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value.encode()))
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "sym": tarfile.SYMTYPE,
                "hard": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[kind]
            info.linkname = value
            tar.addfile(info)
    return buffer.getvalue()


def test_extraction_writes_files_folders_and_inner_links(tmp_path):
    from leaflets.diff import extract_tar

    into = tmp_path / "into"
    into.mkdir()
    extract_tar(
        _tar(
            ("content", "dir", ""),
            ("content/a.yaml", "file", "a: 1\n"),
            ("content/sub/b.yaml", "file", "b: 2\n"),
            ("content/link.yaml", "sym", "a.yaml"),
            ("content/copy.yaml", "hard", "content/a.yaml"),
        ),
        into,
    )
    assert (into / "content" / "sub" / "b.yaml").read_text() == "b: 2\n"
    assert (into / "content" / "link.yaml").read_text() == "a: 1\n"
    assert (into / "content" / "copy.yaml").read_text() == "a: 1\n"


@pytest.mark.parametrize(
    "members, reason",
    [
        ((("../evil.yaml", "file", "x"),), "it leads outside"),
        ((("content/../../evil.yaml", "file", "x"),), "it leads outside"),
        ((("/tmp/evil.yaml", "file", "x"),), "an absolute path"),
        ((("content/out", "sym", "../../outside"),), "it leads outside"),
        ((("content/out", "sym", "/etc/passwd"),), "an absolute path"),
        ((("content/out", "hard", "../outside/secret"),), "it leads outside"),
        ((("content/d", "sym", ".."), ("content/out", "sym", "d/..")), "a link leads outside"),
        (
            (("content/d", "sym", ".."), ("content/d/d2", "sym", ".."), ("content/d/d2/evil", "file", "x")),
            "a link leads outside",
        ),
        ((("content/pipe", "fifo", ""),), "a device"),
    ],
)
def test_extraction_refuses_members_that_escape_the_folder(tmp_path, members, reason):
    from leaflets.diff import UnsafeArchive, extract_tar

    into = tmp_path / "a" / "into"
    into.mkdir(parents=True)
    (tmp_path / "a" / "outside").mkdir()
    (tmp_path / "a" / "outside" / "secret").write_text("secret")
    with pytest.raises(UnsafeArchive) as exc:
        extract_tar(_tar(*members), into)
    assert str(exc.value).startswith("expected ") and f"({reason})" in str(exc.value), exc.value
    assert not (tmp_path / "evil.yaml").exists() and not (tmp_path / "a" / "evil.yaml").exists()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["into", "outside"]
    assert [p.name for p in (tmp_path / "a" / "outside").iterdir()] == ["secret"]


def test_extraction_does_not_need_tarfiles_filter_argument(tmp_path, monkeypatch):
    """Python 3.11.2 (Debian 12's own) has no `extractall(filter=...)`: extraction must not call it."""
    import tarfile

    from leaflets.diff import extract_tar

    def old_extractall(self, path=".", members=None, *, numeric_owner=False):
        raise AssertionError("extractall is not used")

    monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    extract_tar(_tar(("content/a.yaml", "file", "a: 1\n")), tmp_path)
    assert (tmp_path / "content" / "a.yaml").read_text() == "a: 1\n"


# Statements, not only pages (#16). Every approval here is written into a temporary copy of the project.

SMALL = {
    "clinic": "example",
    "topics": ("ketamine-infusion",),
    "audiences": ("patient",),
    "large_print": False,
    "formats": ("pdf", "txt"),
}


def _small(root, out):
    """Build the example clinic's patient leaflet and consent record of ketamine-infusion; return manifest entries."""
    import json

    report = build(root, BuildOptions(out=out, **SMALL))
    return {e["id"]: e for e in json.loads(report.manifest.read_text(encoding="utf-8"))["documents"]}


def _shared_statement(out, entries):
    """Return a statement both documents print on a line of its own (`- words`), and its words."""
    leaflet, consent = (next(e for e in entries.values() if e["document"] == d) for d in ("leaflet", "consent"))
    lines = [
        set((out / e["files"]["txt"]["path"]).read_text(encoding="utf-8").splitlines()) for e in (leaflet, consent)
    ]
    for key in sorted(set(leaflet["statements"]) & set(consent["statements"])):
        words = leaflet["statement_texts"][key]
        if words == consent["statement_texts"][key] and all(f"- {words}" in found for found in lines):
            return key, words
    raise AssertionError("expected a statement printed alike by the leaflet and the consent record")


def _edit_words(root, key, old, new):
    """Replace `old` with `new` in statement `key`'s entry, where the project says it is written."""
    from leaflets.content import load_project

    place = load_project(root).places[key]
    lines = place.file.read_text(encoding="utf-8").splitlines(keepends=True)
    for n in range(place.line - 1, len(lines)):
        if old in lines[n]:
            lines[n] = lines[n].replace(old, new, 1)
            break
    else:
        raise AssertionError(f"{old!r} not found after {place.path}:{place.line}")
    place.file.write_text("".join(lines), encoding="utf-8")


def _clone_clinics(out, names):
    """Copy the example clinic's documents (and their manifest entries) as other clinics' editions."""
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in names:
        shutil.copytree(out / "example", out / name)
        for entry in [e for e in manifest["documents"] if e["clinic"] == "example"]:
            copy = json.loads(json.dumps(entry).replace("example/", f"{name}/"))
            copy["clinic"] = name
            manifest["documents"].append(copy)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_one_statement_in_many_documents_is_listed_once_with_its_words_and_documents(project_copy, tmp_path):
    entries = _small(project_copy, tmp_path / "old")
    key, words = _shared_statement(tmp_path / "old", entries)
    first, second = words.split()[:2]
    _edit_words(project_copy, key, f"{first} {second}", f"{first} NEWWORD {second}")
    _small(project_copy, tmp_path / "new")
    for out in (tmp_path / "old", tmp_path / "new"):
        _clone_clinics(out, ("second", "third"))

    report = compare(tmp_path / "old", tmp_path / "new")
    assert [(s.key, s.status) for s in report.statements] == [(key, "changed")]
    [change] = report.statements[0].texts
    assert change.old == words and change.new == words.replace(f"{first} {second}", f"{first} NEWWORD {second}", 1)
    assert change.words[:3] == (("same", first), ("ins", "NEWWORD"), ("same", change.words[2][1]))
    changed = sorted(d.name for d in report.with_status("changed"))
    assert len(changed) == 6 and list(change.documents) == changed
    assert all(d.review == ("draft", "draft") for d in report.documents)

    groups = report.groups()
    [shared] = [g for g in groups if any(change.new in line for line in g.lines)]
    assert sorted(d.name for d in shared.documents) == changed, "the statement's change is shown once for all six"
    shown = [line for g in groups for line in g.lines if line.startswith("+") and change.new in line]
    assert len(shown) == 1
    assert all(len(g.documents) == 3 for g in groups if g is not shared), "the consent's own change, once for 3"

    result = CliRunner().invoke(
        main, ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--report", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    out = result.output
    assert out.startswith("Statements: 1 changed, 0 added, 0 removed.")
    assert [line.split() for line in out.splitlines() if key in line.split()] == [["changed", key]]
    assert f"{first} {{+NEWWORD+}} {second}" in out
    assert f"printed in 6 documents: {', '.join(changed)}" in out
    assert "The same change in 6 documents: " in out and out.index("Statements:") < out.index("The same change")
    assert out.count(f"+- {change.new}") == 1
    assert all(line.endswith("[draft]") for line in out.splitlines() if line.startswith("  changed   "))
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert f"{first} <ins>NEWWORD</ins> {second}" in page and "The same change in 6 documents" in page


def test_since_approval_lists_exactly_the_edited_statement(project_copy, tmp_path):
    from leaflets.diff import since_approval

    runner = CliRunner()
    args = ["--project", str(project_copy), "--topic", "ketamine-infusion", "--region", "US"]
    approve = [*args, "--reviewer", "Dr A. Example, Consultant psychiatrist", "--date", "2026-12-01"]
    assert runner.invoke(main, ["approve", *approve]).exit_code == 0
    report = str(tmp_path / "r")
    clean = runner.invoke(main, ["diff", "--since-approval", *args, "--report", report])
    assert clean.exit_code == 0, clean.output
    assert "approved by Dr A. Example on 2026-12-01; 0 statements changed since." in clean.output

    entries = _small(project_copy, tmp_path / "old")
    key, words = _shared_statement(tmp_path / "old", entries)
    first, second = words.split()[:2]
    _edit_words(project_copy, key, f"{first} {second}", f"{first} NEWWORD {second}")
    [found] = since_approval(project_copy, ("ketamine-infusion",), ("US",))
    assert [(s.key, s.status) for s in found.statements] == [(key, "changed")] and not found.other
    [change] = [t for t in found.statements[0].texts if t.old == words]
    assert ("ins", "NEWWORD") in change.words and "example/ketamine-infusion/leaflet-patient-letter" in change.documents
    statuses = dict(found.documents)
    assert statuses["example/ketamine-infusion/leaflet-patient-letter"] == "changed"

    result = runner.invoke(main, ["diff", "--since-approval", *args, "--report", report])
    assert result.exit_code == 1, result.output
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("  changed  ")]
    assert listed == [key]
    assert "1 statement changed since." in result.output and f"{first} {{+NEWWORD+}} {second}" in result.output
    assert f"{first} <ins>NEWWORD</ins> {second}" in (tmp_path / "r" / "index.html").read_text(encoding="utf-8")

    # The builds' manifests carry each document's review status, and `diff` shows it.
    _small(project_copy, tmp_path / "new")
    both = runner.invoke(main, ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--report", report])
    for line in both.output.splitlines():
        if line.startswith("  changed   "):
            assert line.endswith("[approved -> changed]"), line


def test_since_approval_refuses_what_it_cannot_compare(project_copy):
    runner = CliRunner()
    project = ["--project", str(project_copy)]
    bad_region = runner.invoke(main, ["diff", "--since-approval", *project, "--region", "XX"])
    assert bad_region.exit_code == 2 and bad_region.output.startswith("Error: --region: expected one of")
    bad_topic = runner.invoke(main, ["diff", "--since-approval", *project, "--topic", "nope"])
    assert bad_topic.exit_code == 2 and bad_topic.output.startswith("Error: --topic: expected one of")
    assert runner.invoke(main, ["diff", *project, "--topic", "ketamine-infusion"]).exit_code == 2
    assert (
        runner.invoke(main, ["diff", "--since-approval", *project, "--rev", "HEAD", "--rev", "WORKTREE"]).exit_code == 2
    )


def test_the_report_goes_where_git_ignores_it(project_copy):
    """The repository's .gitignore keeps the default report folder out of git (run on a topic that no
    region has approved, so the report is written without a history to compare with)."""
    from conftest import REPO
    from leaflets.approval import approval_path
    from leaflets.content import load_project

    assert subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", "output/diff/index.html"]).returncode == 0
    shutil.copy(REPO / ".gitignore", project_copy / ".gitignore")
    subprocess.run(["git", "-C", str(project_copy), "init", "-q"], check=True)
    project = load_project(project_copy)
    topic = next(
        t for t in sorted(project.topics) if not any(approval_path(project, t, r).exists() for r in project.regions)
    )
    result = CliRunner().invoke(main, ["diff", "--since-approval", "--project", str(project_copy), "--topic", topic])
    assert result.exit_code == 1 and "not approved yet" in result.output, result.output
    index = project_copy / "output" / "diff" / "index.html"
    assert index.is_file()
    ignored = subprocess.run(
        ["git", "-C", str(project_copy), "check-ignore", "-q", str(index.relative_to(project_copy))]
    )
    assert ignored.returncode == 0, "the default report folder is git-ignored"
    status = subprocess.run(
        ["git", "-C", str(project_copy), "status", "--porcelain", "output"], capture_output=True, text=True
    )
    assert status.stdout == ""


def test_file_names_are_escaped_in_the_report(project_copy, tmp_path):
    entries = _small(project_copy, tmp_path / "old")
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    folder = "example/ketamine-infusion"
    evil = '"><script>alert(1)<script x="'
    for side, document in (("old", "leaflet"), ("new", "consent")):
        shutil.copy(
            tmp_path / side / folder / f"{document}-patient-letter.pdf", tmp_path / side / folder / f"{evil}.pdf"
        )
    report = compare(tmp_path / "old", tmp_path / "new")
    [doc] = report.with_status("changed")
    assert doc.name == f"{folder}/{evil}" and doc.pages and "<" not in doc.slug and '"' not in doc.slug
    page = write_html(report, tmp_path / "r").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    pictures = sorted(p.name for p in (tmp_path / "r").glob("*.png"))
    assert pictures and all(f'src="{name}"' in page for name in pictures)
    assert len(entries) == 2
