"""Consent packets: one personalised PDF per patient, identifiers on every consent page, nothing leaked."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from leaflets.build import BuildOptions, build
from leaflets.cli import main
from leaflets.packets import PacketsOptions, make_packets
from leaflets.render import fingerprint
from pdfread import glyph_sizes, page_texts

HEADER = "name,date_of_birth,record_number,topic,clinician,appointment_date,paper,large_print\n"
ROWS = [
    "Alex Example,1980-04-12,MRN-0001,esketamine-nasal-spray,Dr Sam Rivera,2026-11-23,letter,no\n",
    "Jordan Sample,1957-09-30,MRN-0002,ketamine-infusion,Dr Sam Rivera,2026-11-23,a4,yes\n",
    "Chris Placeholder,1992-01-05,MRN-0003,esketamine-nasal-spray,Dr Lee Park,2026-11-24,,no\n",
]
NAMES = ["Alex Example", "Jordan Sample", "Chris Placeholder"]


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def three(tmp_path_factory, root):
    tmp = tmp_path_factory.mktemp("packets")
    out = tmp / "out"
    report = make_packets(root, PacketsOptions(patients=write_csv(tmp, *ROWS), out=out))
    return report, out


def manifest(out: Path) -> dict[str, dict]:
    lines = (out / "packets.json").read_text().splitlines()
    return {e["packet"]: e for e in map(json.loads, lines)}


def test_three_patients_give_three_packets_with_identifiers_on_every_consent_page(three):
    report, out = three
    assert len(report.built) == 3 and not report.problems
    entries = manifest(out)
    for row, name in zip(ROWS, NAMES, strict=True):
        fields = row.strip().split(",")
        pdf = next(out / e["file"] for e in entries.values() if e["topic"] == fields[3] and _has(out / e["file"], name))
        pages = page_texts(pdf)
        consent_pages = [p for p in pages if "Patient name:" in p]
        assert consent_pages and len(pages) > len(consent_pages)
        for words in consent_pages:
            assert name in words and fields[1] in words and fields[2] in words
        first = pages.index(consent_pages[0])
        assert _right_after(pdf, first, "Clinician:", fields[4])
        assert _right_after(pdf, first, "Date of discussion:", fields[5])
        assert _right_after(pdf, len(pages) - 1, "Record number:", fields[2])
        leaflet_pages = [p for p in pages if p not in consent_pages]
        assert all(name not in p for p in leaflet_pages)


def _right_after(pdf: Path, page_index: int, label: str, value: str) -> bool:
    """Say whether `value` is printed on the same line as `label`, starting just after it."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        textpage = doc[page_index].get_textpage()

        def box(text: str) -> tuple[float, float, float, float]:
            start, count = textpage.search(text, match_case=True).get_next()
            left = textpage.get_charbox(start)
            right = textpage.get_charbox(start + count - 1)
            return left[0], left[1], right[2], right[3]

        label_box, value_box = box(label), box(value)
        same_line = abs(label_box[1] - value_box[1]) < 3
        return same_line and 0 < value_box[0] - label_box[2] < 12
    finally:
        doc.close()


def _has(pdf: Path, name: str) -> bool:
    return any(name in p for p in page_texts(pdf))


def test_packet_is_paper_and_print_size_of_the_row(three):
    _report, out = three
    for entry in manifest(out).values():
        reader = pypdf.PdfReader(str(out / entry["file"]))
        width = round(float(reader.pages[0].mediabox.width))
        assert width == (595 if entry["paper"] == "a4" else 612)
        assert min(glyph_sizes(out / entry["file"])) >= (16 if entry["large_print"] else 12)
        assert entry["pages"] == len(reader.pages)


def test_packet_cites_the_fingerprint_of_the_leaflet_it_contains(three, root, tmp_path):
    _report, out = three
    built = build(root, BuildOptions(out=tmp_path, documents=("leaflet",), audiences=("patient",), formats=("txt",)))
    expected = {d.spec.topic: fingerprint(d.files["txt"].path.read_text()) for d in built.documents}
    for entry in manifest(out).values():
        words = " ".join(page_texts(out / entry["file"]))
        assert re.search(r"Fingerprint ([0-9a-f]{12})", words).group(1) == expected[entry["topic"]]


def test_identifiers_are_tagged_artifacts_and_the_pdf_stays_tagged(three):
    _report, out = three
    entry = next(iter(manifest(out).values()))
    reader = pypdf.PdfReader(str(out / entry["file"]))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "en" and bool(root["/MarkInfo"]["/Marked"])
    last = reader.pages[-1]
    streams = last["/Contents"]
    tail = streams[-1].get_object().get_data()
    assert tail.startswith(b"/Artifact BMC") and b"EMC" in tail
    fonts = last["/Resources"]["/Font"]
    fill = fonts["/LeafletsFill"].get_object()
    assert "/FontFile2" in fill["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/ToUnicode" in fill


def test_a_second_run_rebuilds_nothing(three, root):
    report, out = three
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.pdf")}
    again = make_packets(root, PacketsOptions(patients=out.parent / "patients.csv", out=out))
    assert again.built == () and len(again.unchanged) == 3
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.pdf")} == before


def test_a_changed_row_rebuilds_only_that_packet(root, tmp_path):
    out = tmp_path / "out"
    make_packets(root, PacketsOptions(patients=write_csv(tmp_path, *ROWS), out=out))
    changed = ROWS[2].replace("Dr Lee Park", "Dr Kim Lee")
    again = make_packets(root, PacketsOptions(patients=write_csv(tmp_path, ROWS[0], ROWS[1], changed), out=out))
    assert len(again.built) == 1 and len(again.unchanged) == 2


def test_no_patient_data_in_file_names_logs_or_output(root, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    bad = "Pat Bad,1990-02-30,MRN-9,esketamine-nasal-spray,Dr X,2026-11-23,letter,no\n"
    result = CliRunner().invoke(
        main,
        [
            "-vv",
            "packets",
            "--project",
            str(root),
            "--patients",
            str(write_csv(tmp_path, *ROWS, bad)),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    seen = result.output + caplog.text + " ".join(p.name for p in (tmp_path / "o").iterdir())
    seen += (tmp_path / "o" / "packets.json").read_text()
    for secret in [*NAMES, "Pat Bad", "1990-02-30", "MRN-0001", "Rivera", "1980-04-12"]:
        assert secret not in seen
    assert "row 5, column date_of_birth: expected a real date written YYYY-MM-DD, found something else" in result.output
    assert "4 rows: 3 packets built" in result.output or "3 rows: 3 packets built" in result.output


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        ("Ann,1990-01-01,M1,aspirin,Dr X,2026-11-23,letter,no\n", "topic", "expected one of esketamine-nasal-spray"),
        ("Ann,1990-13-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "date_of_birth", "expected a real date"),
        (",1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "name", "expected a value, found none"),
        ("Ann,1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,a5,no\n", "paper", "expected one of a4, letter"),
        ("Ann,1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,maybe\n", "large_print", "expected yes or no"),
        (
            "Ann,1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no,extra\n",
            "(extra)",
            "more values than columns",
        ),
        (f"{'A' * 80},1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "name", "at most 60 characters"),
        (
            "Anne-Marie Ôsterberg-Łukasiewicz Featherstonehaugh,1990-01-01,M1,ketamine-infusion,Dr X,"
            "2026-11-23,letter,no\n",
            "name",
            "fits the space on the form",
        ),
        ("שרה כהן,1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "name", "found 5 it cannot"),
        ("Ann 😀,1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "name", "found 1 it cannot"),
    ],
)
def test_bad_rows_are_reported_by_row_and_column_and_the_rest_build(root, tmp_path, row, column, fragment):
    report = make_packets(root, PacketsOptions(patients=write_csv(tmp_path, ROWS[0], row), out=tmp_path / "o"))
    assert len(report.built) == 1
    [problem] = report.problems
    assert problem.line == 3 and problem.where == f"row 3, column {column}" and fragment in problem.message
    assert "Ann" not in str(problem) and "שרה" not in str(problem)


def test_awkward_but_printable_rows_build(root, tmp_path):
    rows = [
        '"=HYPERLINK(""http://e.x"",""x"")",1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        '"Zoë Nguyễn",1990-01-01,M2,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        '"José\nGarcía",1990-01-01,M3,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        ",,,,,,,\n",
        "\n",
    ]
    report = make_packets(root, PacketsOptions(patients=write_csv(tmp_path, *rows), out=tmp_path / "o"))
    assert len(report.built) == 3 and not report.problems
    texts = {" ".join(page_texts(p)) for p in (tmp_path / "o").glob("*.pdf")}
    assert any('=HYPERLINK("http://e.x","x")' in t for t in texts)
    assert any("Zoë Nguyễn" in t for t in texts)
    assert any("José García" in t for t in texts)


def test_missing_columns_stop_the_run_with_one_line(root, tmp_path):
    path = write_csv(tmp_path, ROWS[0], header="name,topic\n")
    result = CliRunner().invoke(
        main, ["packets", "--project", str(root), "--patients", str(path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: ") and "patients.csv:1: expected columns" in result.output


def test_extra_columns_are_ignored(root, tmp_path):
    header = HEADER.strip() + ",notes\n"
    path = write_csv(tmp_path, ROWS[0].strip() + ",allergic to penicillin\n", header=header)
    report = make_packets(root, PacketsOptions(patients=path, out=tmp_path / "o"))
    assert len(report.built) == 1 and not report.problems
