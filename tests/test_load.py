"""Reading content files: every problem at its file:line, all at once, nothing unsafe."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from leaflets.content import load_project
from leaflets.errors import ContentError
from leaflets.load import read_yaml


def write(tmp_path: Path, body: str | bytes) -> Path:
    path = tmp_path / "x.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


@pytest.mark.parametrize(
    "body, line, fragment",
    [
        ("a: 1\nb: [1\n", 3, "YAML error"),
        ("a: 1\na: 2\n", 2, "expected each key once, found 'a' again"),
        (
            "x: !!python/object/apply:os.system ['echo hi']\n",
            1,
            "expected plain YAML, found the tag",
        ),
        ("!!python/object/apply:os.system ['echo hi']\n", 1, "expected plain YAML, found the tag"),
        ("a: !!binary aGk=\n", 1, "found the tag"),
        ("", 1, "found an empty file"),
        (b"a: 1\nb: \xff\n", 2, "expected UTF-8 text, found byte 0xff"),
        ("<<: {a: 1}\n", 1, "merge key"),
    ],
)
def test_yaml_problems_are_reported_with_their_line(tmp_path, body, line, fragment):
    doc = read_yaml(write(tmp_path, body))
    [issue] = doc.issues
    assert issue.line == line and fragment in issue.message
    assert doc.data is None


def test_alias_bombs_are_refused(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        levels.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    doc = read_yaml(write(tmp_path, "\n".join(levels) + "\n"))
    assert doc.issues and "expected at most" in doc.issues[0].message


def test_oversized_files_are_refused(tmp_path):
    doc = read_yaml(write(tmp_path, "a: " + "x" * (1024 * 1024 + 1) + "\n"))
    assert "expected a file of at most" in doc.issues[0].message


def test_every_problem_is_reported_at_once(project_copy):
    risks = project_copy / "content" / "statements" / "risks.yaml"
    risks.write_text(risks.read_text().replace("section: risks-long", "section: later", 1))
    about = project_copy / "content" / "statements" / "about.yaml"
    assert "  - id: what-esketamine\n" in about.read_text()
    about.write_text(about.read_text().replace("  - id: what-esketamine\n", "  - id: key-choice\n", 1))
    topic = project_copy / "content" / "topics" / "ketamine-infusion.yaml"
    topic.write_text(topic.read_text() + "colour: blue\n")
    other = project_copy / "content" / "topics" / "esketamine-nasal-spray.yaml"
    other.write_text(re.sub(r"(?m)^next_review: .*$", "next_review: 2026-01-01", other.read_text()))
    with pytest.raises(ContentError) as exc:
        load_project(project_copy)
    messages = [str(i) for i in exc.value.issues]
    assert any("risks.yaml:" in m and ".section:" in m and "'later'" in m for m in messages)
    assert any("expected a unique id" in m and "found it also at content/statements/about.yaml:" in m for m in messages)
    assert any("ketamine-infusion.yaml:" in m and "colour: expected no such field" in m for m in messages)
    assert any("expected next_review after published" in m for m in messages)
    assert all(m.startswith("content/") for m in messages), messages


def test_unknown_reference_names_the_statement(project_copy):
    path = project_copy / "content" / "statements" / "about.yaml"
    assert "- ref: dea-schedules" in path.read_text()
    path.write_text(path.read_text().replace("- ref: dea-schedules", "- ref: no-such-ref", 1))
    with pytest.raises(ContentError, match="about.yaml:[0-9]+: statement key-controlled: expected a reference"):
        load_project(project_copy)


def test_a_topic_file_cannot_approve_itself(project_copy):
    """Approval lives only in content/approvals/ (hashes of what was reviewed), never in a status field."""
    path = project_copy / "content" / "topics" / "ketamine-infusion.yaml"
    assert "status: draft" in path.read_text()
    path.write_text(path.read_text().replace("status: draft", "status: approved"))
    with pytest.raises(ContentError, match="expected no approval in a topic file"):
        load_project(project_copy)


def test_one_bad_item_is_reported_once_not_echoed_by_everything_that_cites_it(project_copy):
    risks = project_copy / "content" / "statements" / "risks.yaml"
    risks.write_text(
        risks.read_text().replace(
            "  - id: risk-dependence\n    section: risks-long", "  - id: risk-dependence\n    section: soon", 1
        )
    )
    refs = project_copy / "content" / "references.yaml"
    refs.write_text(refs.read_text().replace("  - id: spravato-pi\n", "  - id: spravato-pi\n    colour: red\n", 1))
    with pytest.raises(ContentError) as exc:
        load_project(project_copy)
    messages = [str(i) for i in exc.value.issues]
    assert len(messages) == 2, messages  # the bad statement and the bad reference, nothing citing them
    assert any("risks.yaml" in m and ".section:" in m for m in messages)
    assert any("references.yaml" in m and "colour: expected no such field" in m for m in messages)


def validate(tmp_path: Path, model_name: str, body: str, key: str | None = None) -> list[str]:
    """Validate each item of a YAML file as the named model; return the messages, file:line first."""
    from leaflets import model
    from leaflets.content import validate_item

    doc = read_yaml(write(tmp_path, body))
    assert not doc.issues, doc.issues
    items = [((), doc.data)] if key is None else [((key, i), d) for i, d in enumerate(doc.data[key])]
    issues: list = []
    for loc, data in items:
        validate_item(getattr(model, model_name), doc, loc, data, issues)
    return [str(i).removeprefix(str(tmp_path / "x.yaml")) for i in issues]


CLINIC = "id: north\nname: North\naddress: [1 High Street]\nregion: UK\n"
STATEMENT = "statements:\n  - id: a\n    section: benefits\n    text: {patient: Some words.}\n    sources: [{ref: r}]\n"


@pytest.mark.parametrize(
    "body, line",
    [
        ("a:\n\tb: 1\n", 2),
        ("statements:\n  - id: a\n\t  section: benefits\n", 3),
    ],
)
def test_a_tab_in_the_indentation_says_use_spaces(tmp_path, body, line):
    [issue] = read_yaml(write(tmp_path, body)).issues
    assert issue.line == line
    assert issue.message == (
        "YAML error, column 1: found a tab in the indentation (use spaces to indent: YAML does not allow tabs there)"
    )


def test_a_windows_1252_file_says_save_as_utf8(tmp_path):
    [issue] = read_yaml(write(tmp_path, "id: x\nname: Café Clinic\n".encode("cp1252"))).issues
    assert str(issue).endswith(
        "x.yaml:2: expected UTF-8 text, found byte 0xe9 (the file looks like Windows-1252 or Latin-1: save it as UTF-8)"
    )


def test_a_number_where_text_belongs_says_put_it_in_quotes(tmp_path):
    assert validate(tmp_path, "Clinic", CLINIC + "phone: 01234567\n") == [
        ':5: phone: expected text, found 01234567 read as the number 342391 (put it in quotes: "01234567")'
    ]


def test_a_version_read_as_a_decimal_says_put_it_in_quotes(tmp_path):
    body = (
        "id: t\nshort_title: T\ntitle: {patient: T}\nversion: 0.10\npublished: 2026-01-01\n"
        "next_review: 2027-01-01\nreview: {status: draft}\n"
    )
    assert validate(tmp_path, "Topic", body) == [
        ':4: version: expected text, found 0.10 read as the number 0.1 (put it in quotes: "0.10")'
    ]


def test_yes_where_text_belongs_says_put_it_in_quotes(tmp_path):
    assert validate(tmp_path, "Clinic", CLINIC + "phone: '1'\nhours: yes\n") == [
        ':6: hours: expected text, found yes read as true (put it in quotes: "yes")'
    ]


def test_a_missing_field_is_named(tmp_path):
    body = STATEMENT.replace("    section: benefits\n", "")
    assert validate(tmp_path, "Statement", body, "statements") == [
        ":2: statements[0].section: expected a value for 'section', found none"
    ]


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "    sources:",
            "    sorces:",
            ":5: statements[0].sorces: expected no such field, found one (did you mean 'sources'?)",
        ),
        (
            "{patient: Some",
            "{patiant: Some",
            ":4: statements[0].text.patiant: expected no such field, found one (did you mean 'patient'?)",
        ),
        ("section: benefits", "section: benefit", "found 'benefit' (did you mean 'benefits'?)"),
    ],
)
def test_an_unknown_name_suggests_the_closest_known_one(tmp_path, old, new, message):
    messages = validate(tmp_path, "Statement", STATEMENT.replace(old, new), "statements")
    assert any(m.endswith(message) for m in messages), messages


def test_a_missing_logo_is_named_at_the_clinic_files_logo_line(project_copy):
    from click.testing import CliRunner

    from leaflets.cli import main

    clinic = next(
        p for p in sorted((project_copy / "content" / "clinics").glob("*.yaml")) if "\nlogo: " in p.read_text()
    )
    lines = clinic.read_text().splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if line.startswith("logo: "))
    lines[number - 1] = "logo: no-such-logo.svg"
    clinic.write_text("\n".join(lines) + "\n")
    shown = f"content/clinics/{clinic.name}:{number}"
    message = "logo: expected an image file at 'no-such-logo.svg' (relative to this clinic file), found none"
    result = CliRunner().invoke(
        main, ["check", "--project", str(project_copy), "--build-dir", str(project_copy / "nb")]
    )
    assert result.exit_code == 1
    assert any(line.startswith(f"{shown}: error: ") and line.endswith(message) for line in result.output.splitlines())
