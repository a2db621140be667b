"""`leaflets diff`: exactly the documents, words and pages that changed, and a report to look at."""

from __future__ import annotations

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
    assert (tmp_path / "diff" / "esketamine-nasal-spray--leaflet-patient-letter-page2-old.png").stat().st_size > 1000


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
    (copy / "ketamine-infusion" / "leaflet-patient-letter.pdf").unlink()
    shutil.copy(
        copy / "ketamine-infusion" / "consent-patient-letter.pdf",
        copy / "ketamine-infusion" / "extra.pdf",
    )
    report = compare(default_build.out, copy)
    assert [d.name for d in report.with_status("removed")] == ["ketamine-infusion/leaflet-patient-letter"]
    assert [d.name for d in report.with_status("added")] == ["ketamine-infusion/extra"]


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
    assert "0 changed, 0 added, 0 removed, 12 unchanged" in result.output
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
