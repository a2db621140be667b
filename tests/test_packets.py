"""Consent packets: one personalised PDF per patient, owner-only, named by row and keyed id, nothing leaked."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import stat
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from leaflets import packets as packets_module
from leaflets.build import BuildOptions, build
from leaflets.cli import main
from leaflets.errors import LeafletsError
from leaflets.packets import PacketsOptions, make_packets
from leaflets.patients import read_patients
from pdfread import glyph_sizes, page_texts

HEADER = "name,date_of_birth,record_number,topic,clinician,appointment_date,paper,large_print\n"
ROWS = [
    "Alex Example,1980-04-12,MRN-0001,esketamine-nasal-spray,Dr Sam Rivera,2026-11-23,letter,no\n",
    "Jordan Sample,1957-09-30,MRN-0002,ketamine-infusion,Dr Sam Rivera,2026-11-23,a4,yes\n",
    "Chris Placeholder,1992-01-05,MRN-0003,esketamine-nasal-spray,Dr Lee Park,2026-11-24,,no\n",
]
NAMES = ["Alex Example", "Jordan Sample", "Chris Placeholder"]
TOPICS = ("esketamine-nasal-spray", "ketamine-infusion")
KEY_A = "0123456789abcdef" * 4
KEY_B = "fedcba9876543210" * 4
BLANK = "This page is intentionally blank"
_RENDERS: dict = {}


@pytest.fixture(scope="module", autouse=True)
def shared_renders():
    """Render each shared packet once per test run: the tests are about what happens after the render."""
    real = packets_module.render_group

    def render_all(jobs, workers):  # type: ignore[no-untyped-def]
        for job in jobs:
            if job not in _RENDERS:
                _RENDERS[job] = real(job)
        return {(j.topic, j.paper, j.large): _RENDERS[j] for j in jobs}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packets_module, "_render_all", render_all)
        yield


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """Keys made by default go under this test's folder, never the home folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LEAFLETS_KEY_FILE", raising=False)


def key_file(folder: Path, key: str = KEY_A) -> Path:
    path = folder / f"key-{key[:4]}.key"
    path.write_text(key + "\n")
    path.chmod(0o600)
    return path


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def run(root: Path, tmp_path: Path, *rows: str, out: str = "o", **options) -> packets_module.PacketsReport:
    options.setdefault("key_file", key_file(tmp_path))
    options.setdefault("allow_draft", True)  # the example content is a draft
    patients = options.pop("patients", None) or write_csv(tmp_path, *rows)
    return make_packets(root, PacketsOptions(patients=patients, out=tmp_path / out, **options))


def cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def index(out: Path) -> list[dict[str, str]]:
    with (out / "packets.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def three(tmp_path_factory, root):
    tmp = tmp_path_factory.mktemp("packets")
    options = PacketsOptions(patients=write_csv(tmp, *ROWS), out=tmp / "out", key_file=key_file(tmp), allow_draft=True)
    report = make_packets(root, options)
    return report, tmp / "out"


def _shown(iso: str) -> str:
    """A date as the documents print it: 12 April 1980."""
    import datetime as dt

    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def test_three_patients_give_three_packets_with_identifiers_on_every_consent_page(three):
    report, out = three
    assert len(report.built) == 3 and not report.problems
    for line, row, name in zip(index(out), ROWS, NAMES, strict=True):
        fields = row.strip().split(",")
        pdf = out / line["file"]
        assert line["topic"] == fields[3]
        pages = page_texts(pdf)
        consent_pages = [p for p in pages if "Patient name:" in p]
        assert consent_pages and len(pages) > len(consent_pages)
        for words in consent_pages:
            assert name in words and _shown(fields[1]) in words and fields[2] in words
        first = pages.index(consent_pages[0])
        assert _right_after(pdf, first, "Clinician:", fields[4])
        assert _right_after(pdf, first, "Date of discussion:", _shown(fields[5]))
        format_given = "large print" if fields[7] == "yes" else "standard print"
        label = "Format given (standard print, large print, other):"
        where = next(i for i, words in enumerate(pages) if label in words)  # page 2 in large print
        assert _right_after(pdf, where, label, format_given), line["file"]
        assert _right_after(pdf, len(pages) - 1, "Record number:", fields[2])
        leaflet_pages = [p for p in pages if p not in consent_pages]
        assert all(name not in p for p in leaflet_pages)


def _right_after(pdf: Path, page_index: int, label: str, value: str) -> bool:
    """Say whether `value` is printed on the same line as `label`, starting just after it."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        textpage = doc[page_index].get_textpage()

        def boxes(text: str) -> list[tuple[float, float, float, float]]:
            found, searcher = [], textpage.search(text, match_case=True)
            while (hit := searcher.get_next()) is not None:  # every copy: a date may also be in the footer
                start, count = hit
                left = textpage.get_charbox(start)
                right = textpage.get_charbox(start + count - 1)
                found.append((left[0], left[1], right[2], right[3]))
            return found

        label_box = boxes(label)[0]
        return any(
            abs(label_box[1] - value_box[1]) < 3 and 0 < value_box[0] - label_box[2] < 12 for value_box in boxes(value)
        )
    finally:
        doc.close()


def test_packet_is_paper_and_print_size_of_the_row(three):
    _report, out = three
    for line in index(out):
        reader = pypdf.PdfReader(str(out / line["file"]))
        width = round(float(reader.pages[0].mediabox.width))
        assert width == (595 if line["paper"] == "a4" else 612)
        assert min(glyph_sizes(out / line["file"])) >= (16 if line["print_size"] == "large" else 12)
        assert int(line["pages"]) == len(reader.pages)


def test_packet_cites_the_leaflet_it_contains_as_the_standalone_record_does(three, root, tmp_path):
    _report, out = three
    clinic = root / "content" / "clinics" / "example.yaml"  # the clinic the packets were made for
    options = BuildOptions(
        out=tmp_path, documents=("consent",), audiences=("patient",), formats=("txt",), clinic=clinic
    )
    built = build(root, options)
    expected = {d.spec.topic: _leaflet_code(d.files["txt"].path.read_text()) for d in built.documents}
    for line in index(out):
        assert _leaflet_code(" ".join(page_texts(out / line["file"]))) == expected[line["topic"]]


def _leaflet_code(words: str) -> str:
    return re.search(r"(?:Fingerprint|Leaflet code):? ([0-9a-f]{12})", " ".join(words.split())).group(1)


def test_the_pdf_stays_tagged_and_carries_the_fill_font(three):
    _report, out = three
    reader = pypdf.PdfReader(str(out / index(out)[0]["file"]))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and str(root["/Lang"]).startswith("en") and bool(root["/MarkInfo"]["/Marked"])
    assert reader.pdf_header == "%PDF-1.7"
    last = reader.pages[-1]
    fonts = last["/Resources"]["/Font"]
    fill = fonts["/LeafletsFill"].get_object()
    assert "/FontFile2" in fill["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/ToUnicode" in fill


# Issue 12 / audit D1b: the identifiers are content, the text of their form fields


IDENTIFIERS = {  # the form field's description -> the column whose value it holds
    "Patient name": "name",
    "Date of birth": "date_of_birth",
    "Record number": "record_number",
    "Clinician": "clinician",
    "Date of discussion": "appointment_date",
}


def _columns(row: str) -> dict[str, str]:
    """A row's values as the record prints them (dates as the documents write dates)."""
    values = dict(zip(HEADER.strip().split(","), row.strip().split(","), strict=True))
    return {k: _shown(v) if k in ("date_of_birth", "appointment_date") else v for k, v in values.items()}


def _marked_texts(path: Path) -> list[list[tuple[str, int, bool, float, float]]]:
    """Each page's text objects as (text, MCID or -1, inside an /Artifact, top and bottom in points
    from the top edge)."""
    from pdfread import text_objects

    return [[(o.text, o.mcid, o.artifact, o.top, o.bottom) for o in page] for page in text_objects(path)]


def _structure_walk(path: Path) -> list[tuple[str, str, str]]:
    """Walk the structure tree in order: (type, /Desc of a form field, the text of the element's own MCIDs)."""
    import pikepdf

    from test_structure import _elements, _kids

    texts = {(n, o[1]): o[0] for n, objects in enumerate(_marked_texts(path)) for o in objects if o[1] >= 0}
    walk = []
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        for element in _elements(pdf):
            page = pages.get(element.Pg.objgen) if "/Pg" in element else None
            own = []
            for kid in _kids(element):
                if isinstance(kid, int):
                    own.append(texts.get((page, int(kid)), ""))
                elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                    own.append(texts.get((pages[kid.Pg.objgen], int(kid.MCID)), ""))
            desc = str(element.A.get("/Desc", "")) if isinstance(element.get("/A"), pikepdf.Dictionary) else ""
            walk.append((str(element.S)[1:], desc, "".join(own)))
    return walk


def test_a_screen_reader_hears_each_label_then_the_patients_own_identifier(three):
    _report, out = three
    for line, row in zip(index(out), ROWS, strict=True):
        values = _columns(row)
        walk = _structure_walk(out / line["file"])
        forms = [(i, desc, text) for i, (kind, desc, text) in enumerate(walk) if kind == "Form" and desc in IDENTIFIERS]
        assert [desc for _, desc, _ in forms] == list(IDENTIFIERS), line["file"]
        for i, desc, text in forms:
            # In tag order: the label's text, then the form field whose content is the value.
            label = next(t for _, _, t in reversed(walk[:i]) if t.strip())
            assert label.strip() == desc + ":", (desc, label)
            assert text == values[IDENTIFIERS[desc]], (desc, text)
        # The patient's name is read exactly once, as the field's text: the repeats in the running
        # headers of later pages are page furniture.
        assert sum(values["name"] in t for _, _, t in walk) == 1


def test_identifiers_on_the_first_consent_page_are_content_and_in_later_headers_artifacts(three):
    _report, out = three
    for line, row in zip(index(out), ROWS, strict=True):
        values = _columns(row)
        pages = _marked_texts(out / line["file"])
        first = next(n for n, objects in enumerate(pages) if any(o[0].startswith("Patient name") for o in objects))
        for column in IDENTIFIERS.values():
            written = [(o[1], o[2]) for o in pages[first] if o[0] == values[column]]
            assert written and all(mcid >= 0 and not artifact for mcid, artifact in written), (column, written)
        later = [(o[1], o[2]) for objects in pages[first + 1 :] for o in objects if o[0] == values["name"]]
        assert later and all(mcid < 0 and artifact for mcid, artifact in later)


def test_a_packet_passes_the_structure_checker(three):
    import pikepdf

    from test_structure import (
        MM,
        check_forms,
        check_ids,
        check_no_empty_leaves,
        check_parent_tree,
        check_subset_tags,
        check_version,
    )

    _report, out = three
    for line, row in zip(index(out), ROWS, strict=True):
        path = out / line["file"]
        with pikepdf.open(path) as pdf:
            checks = (
                check_parent_tree,
                check_ids,
                check_no_empty_leaves,
                check_forms,
                check_subset_tags,
                check_version,
            )
            problems = [p for check in checks for p in check(pdf)]
        assert problems == [], (line["file"], problems[:5])
        # The identifiers written as artifacts are page furniture: all in the running header.
        values = set(_columns(row).values())
        pages = _marked_texts(path)
        repeats = [(n, o[3]) for n, objects in enumerate(pages) for o in objects if o[2] and o[0] in values]
        assert repeats and all(top < 45 * MM for _, top in repeats), (line["file"], repeats[:3])


def test_an_empty_field_keeps_its_marked_sequence_and_a_full_one_fits_its_reserve(three, tmp_path):
    import pikepdf

    from leaflets.fill import MAX_GLYPHS, fill, fill_region
    from test_structure import check_parent_tree

    template = next(iter(_RENDERS.values()))
    values = _columns(ROWS[0]) | {"clinician": ""}
    path = tmp_path / "empty.pdf"
    path.write_bytes(fill(template, values))
    with pikepdf.open(path) as pdf:
        assert check_parent_tree(pdf) == []
    forms = {desc: text for kind, desc, text in _structure_walk(path) if kind == "Form" and desc in IDENTIFIERS}
    assert forms["Clinician"] == "" and forms["Patient name"] == values["name"]
    for region in template.regions:  # the longest value in every slot still fits the reserved bytes
        wide = [dataclasses.replace(slot, room=10**6) for slot in region.slots]
        full = fill_region(dataclasses.replace(region, slots=tuple(wide)), {s.field: "W" * MAX_GLYPHS for s in wide})
        assert len(full) == region.length


def test_the_same_rows_give_the_same_bytes(root, tmp_path):
    key = key_file(tmp_path)
    first = run(root, tmp_path, *ROWS, out="a", key_file=key)
    second = run(root, tmp_path, *ROWS, out="b", key_file=key)
    assert len(first.built) == len(second.built) == len(ROWS)
    for line in index(tmp_path / "a"):
        assert (tmp_path / "a" / line["file"]).read_bytes() == (tmp_path / "b" / line["file"]).read_bytes()


# Issue 23: private on disk


def test_every_file_is_owner_only_and_the_folder_it_creates_too_under_umask_022(root, tmp_path, monkeypatch):
    temporary_modes = []
    real_replace = os.replace

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if str(src).endswith(".part"):
            temporary_modes.append(stat.S_IMODE(os.stat(src).st_mode))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old = os.umask(0o022)
    try:
        out = tmp_path / "new" / "packets"
        result = cli(
            "packets", "--project", str(root), "--patients", str(write_csv(tmp_path, *ROWS)), "--out", str(out),
            "--combined", "--duplex", "--key-file", str(key_file(tmp_path)), "--allow-draft",
        )  # fmt: skip
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 6 and {"packets.csv", "packets.json", "all-packets.pdf"} <= set(written)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in out.iterdir()} == dict.fromkeys(written, "0o600")
    assert len(temporary_modes) == 6 and set(temporary_modes) == {0o600}


def test_a_folder_others_can_open_is_reported_once_by_name(root, tmp_path, caplog):
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o755)
    report = run(root, tmp_path, ROWS[0], ROWS[2], out="shared")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    about_folder = [w for w in warnings if "other accounts" in w]
    assert len(about_folder) == 1 and str(out) in about_folder[0] and len(report.built) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())


def test_two_keys_give_different_names_and_the_same_key_rebuilds_nothing(root, tmp_path):
    first = run(root, tmp_path, *ROWS, out="a", key_file=key_file(tmp_path, KEY_A))
    other = run(root, tmp_path, *ROWS, out="b", key_file=key_file(tmp_path, KEY_B))
    assert len(first.built) == len(other.built) == 3
    hashes = {name.split("-", 1)[1] for name in first.built}
    assert hashes.isdisjoint(name.split("-", 1)[1] for name in other.built)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("*.pdf")}
    again = run(root, tmp_path, *ROWS, out="a", key_file=key_file(tmp_path, KEY_A))
    assert again.built == () and again.unchanged == first.built
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("*.pdf")} == before
    assert again.summary() == "3 rows read: 0 packets built, 3 unchanged, 0 skipped, 0 failed."


def test_the_key_is_made_owner_only_in_the_config_folder_on_first_use(root, tmp_path):
    report = run(root, tmp_path, ROWS[0], key_file=None)
    key = tmp_path / "config" / "leaflets" / "keys" / "example.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert re.fullmatch(r"[0-9a-f]{64}\n", key.read_text())
    again = run(root, tmp_path, ROWS[0], key_file=None)
    assert again.unchanged == report.built


def test_a_key_inside_the_output_folder_is_refused(root, tmp_path):
    (tmp_path / "o").mkdir()
    with pytest.raises(LeafletsError, match="outside the output folder"):
        run(root, tmp_path, ROWS[0], key_file=tmp_path / "o" / "clinic.key")
    assert not (tmp_path / "o" / "clinic.key").exists()


def test_packets_from_an_earlier_list_or_with_unkeyed_names_are_reported(root, tmp_path, caplog):
    run(root, tmp_path, *ROWS)
    (tmp_path / "o" / "packet-0123456789abcdef.pdf").write_bytes(b"%PDF-")
    report = run(root, tmp_path, ROWS[0], ROWS[1])
    assert [w.message for w in report.warnings] == [
        "1 packet file from an earlier list, not in packets.csv; delete them once printed",
        "1 packet file named by an older leaflets without a key (packet-*.pdf): their names can be traced to "
        "record numbers; delete them",
    ]


def test_a_changed_row_rebuilds_only_that_packet(root, tmp_path):
    run(root, tmp_path, *ROWS)
    changed = ROWS[2].replace("Dr Lee Park", "Dr Kim Lee")
    again = run(root, tmp_path, ROWS[0], ROWS[1], changed)
    assert len(again.built) == 1 and len(again.unchanged) == 2


def test_a_reordered_list_renames_packets_to_their_new_rows_without_rebuilding(root, tmp_path):
    first = run(root, tmp_path, *ROWS)
    again = run(root, tmp_path, ROWS[2], ROWS[0], ROWS[1])
    assert again.built == () and len(again.unchanged) == 3
    moved = {name.split("-")[1]: name.split("-")[0] for name in again.unchanged}
    assert moved == {name.split("-")[1]: f"{(int(name[:3]) - 2 + 1) % 3 + 2:03d}" for name in first.built}
    assert sorted(p.name for p in (tmp_path / "o").glob("*.pdf")) == sorted(again.unchanged)


SECRETS = [
    *NAMES, "Pat Bad", "Sam Conflict", "1990-02-30", "1980-04-12", "12 April 1980", "12/04/1980", "MRN-0001", "MRN-9",
    "Rivera",
]


def test_no_patient_data_in_file_names_logs_index_or_errors(root, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    bad = "Pat Bad,1990-02-30,MRN-9,esketamine-nasal-spray,Dr X,2026-11-23,letter,no\n"
    conflict = ROWS[0].replace("Alex Example", "Sam Conflict")
    slashed = ROWS[2].replace("1992-01-05", "12/04/1980")
    patients = write_csv(tmp_path, *ROWS, bad, conflict, ROWS[1], slashed)
    result = cli(
        "-vv", "packets", "--project", str(root), "--patients", str(patients),
        "--out", str(tmp_path / "o"), "--key-file", str(key_file(tmp_path)), "--allow-draft", "--combined",
    )  # fmt: skip
    assert result.exit_code == 1
    out = tmp_path / "o"
    seen = result.output + caplog.text + " ".join(p.name for p in out.iterdir())
    seen += (out / "packets.json").read_text() + (out / "packets.csv").read_text()
    for secret in SECRETS:
        assert secret not in seen
    assert "row 5, column date_of_birth: expected a real date written YYYY-MM-DD, found something else" in result.output
    assert "row 2, column record_number: expected one patient per record number" in result.output
    assert "row 6, column record_number:" in result.output and "found row 2 with the same but a different name" in (
        result.output
    )
    assert "column date_of_birth: 1 row of 7: dates look like DD/MM/YYYY" in result.output
    assert "7 rows read: 2 packets built, 0 unchanged, 1 skipped, 4 failed." in result.output


# Issue 20: how a clinic works


def excel_export(count: int) -> bytes:
    """A European Excel 'CSV UTF-8' export: BOM, CRLF, semicolons, DD/MM/YYYY, headers as people type them."""
    lines = ["Name;Date of Birth;Record Number;Topic;Clinician;Appointment Date;Paper;Large Print"]
    for n in range(count):
        topic = ("Esketamine-Nasal-Spray", "ketamine-infusion")[n % 2]
        birth = f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1940 + n % 60}"
        lines.append(f'"Patient {n:03d}, Example";{birth};R{n:05d};{topic};Dr Sam Rivera;23/11/2026 00:00;Letter;No')
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture(scope="module")
def excel(tmp_path_factory, root):
    tmp = tmp_path_factory.mktemp("excel")
    patients = tmp / "export.csv"
    patients.write_bytes(excel_export(300))
    options = PacketsOptions(
        patients=patients, out=tmp / "out", key_file=key_file(tmp), combined=True, date_order="dmy", allow_draft=True
    )
    return make_packets(root, options), tmp / "out"


def test_an_excel_export_of_300_rows_builds_300_packets_and_the_index_maps_rows_to_files(excel):
    import pypdfium2 as pdfium

    report, out = excel
    assert not report.problems and len(report.built) == 300
    assert report.summary() == "300 rows read: 300 packets built, 0 unchanged, 0 skipped, 0 failed."
    lines = index(out)
    assert [int(line["row"]) for line in lines] == list(range(2, 302))
    assert list(lines[0]) == ["row", "file", "topic", "paper", "print_size", "pages", "status"]
    for line in lines:
        row = int(line["row"])
        assert line["file"].startswith(f"{row:03d}-") and line["status"] == "built"
        doc = pdfium.PdfDocument(str(out / line["file"]))
        assert len(doc) == int(line["pages"])
        assert f"R{row - 2:05d}" in doc[len(doc) - 1].get_textpage().get_text_range()
        doc.close()
    assert sorted(p.name for p in out.glob("[0-9]*.pdf")) == [line["file"] for line in lines]
    assert json.loads((out / "packets.json").read_text())["rows"][0]["file"] == lines[0]["file"]


def test_the_combined_file_has_a_cover_list_then_every_packet_in_row_order(excel):
    import pypdfium2 as pdfium

    _report, out = excel
    lines = index(out)
    doc = pdfium.PdfDocument(str(out / "all-packets.pdf"))
    texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    cover = [t for t in texts if t.startswith("Packets in this file")]
    listed = re.findall(r"(\d+) (R\d{5}) (\d{3}-[0-9a-f]{16}\.pdf)", " ".join(" ".join(t.split()) for t in cover))
    assert listed == [(line["row"], f"R{int(line['row']) - 2:05d}", line["file"]) for line in lines]
    assert "Row Record number File Given" in " ".join(cover[0].split())
    start = len(cover)
    for line in lines:
        pages = texts[start : start + int(line["pages"])]
        assert f"R{int(line['row']) - 2:05d}" in pages[-1] and "Patient name:" in pages[-1]
        assert "Patient name:" not in pages[0]  # a packet starts with its leaflet
        start += int(line["pages"])
    assert start == len(texts)
    assert stat.S_IMODE((out / "all-packets.pdf").stat().st_mode) == 0o600


#: Standard-print leaflets are 4 pages (STANDARDS: 2-4), so a record would always start on a front side:
#: the second row's large-print leaflet on Letter has an odd number of pages (11) to pad after.
#: Each topic in standard and large print, on both papers between them: page counts move with content
#: work, and among four editions some leaflet has an odd count, so its record would start on a back side.
DUPLEX_ROWS = [
    ROWS[0].replace(",letter,no", ",letter,yes"),
    ROWS[1],
    ROWS[2].replace(",,no", ",a4,no"),
    ROWS[1].replace("Jordan Sample", "Sam Sample").replace("MRN-0002", "MRN-0004").replace(",a4,yes", ",letter,no"),
]


def test_with_duplex_every_document_starts_on_an_odd_page(root, tmp_path):
    plain = run(root, tmp_path, *DUPLEX_ROWS, out="plain")
    consent_starts = [_consent_start(page_texts(tmp_path / "plain" / name)) for name in plain.built]
    assert any(start % 2 == 1 for start in consent_starts)  # without --duplex, some start on a back side
    report = run(root, tmp_path, *DUPLEX_ROWS, out="duplex", duplex=True, combined=True)
    padded = 0
    for name in report.built:
        pages = page_texts(tmp_path / "duplex" / name)
        consent = _consent_start(pages)
        assert consent % 2 == 0 and len(pages) % 2 == 0  # pages 1 and consent are odd; the next packet too
        blanks = [i for i, p in enumerate(pages) if BLANK in p]
        assert all(pages[i] == BLANK for i in blanks)
        assert all(i + 1 == consent or i + 1 == len(pages) for i in blanks)
        padded += len(blanks)
    assert padded  # the packets that started a record on a back side now have a blank page before it
    combined = page_texts(tmp_path / "duplex" / "all-packets.pdf")
    starts = [i for i, p in enumerate(combined) if p.startswith("Riverside Mood Clinic")]
    assert len(starts) == 2 * len(DUPLEX_ROWS) and all(i % 2 == 0 for i in starts)  # a leaflet and a record each


def _consent_start(pages: list[str]) -> int:
    return pages.index(next(p for p in pages if "Patient name:" in p))


def test_the_blank_page_words_come_from_strings(root):
    strings = (root / "content" / "strings.yaml").read_text()
    assert f"blank-page: {BLANK}" in strings
    assert not any(BLANK in p.read_text() for p in (root / "templates").rglob("*") if p.is_file())


def test_conflicting_rows_fail_by_row_number_and_the_rest_build(root, tmp_path):
    other = ROWS[1].replace("Jordan Sample,1957-09-30", "Jo Other,1961-02-03")
    rows = [ROWS[0], ROWS[1], ROWS[2], other, ROWS[0]]
    result = cli(
        "packets", "--project", str(root), "--patients", str(write_csv(tmp_path, *rows)), "--out", str(tmp_path / "o"),
        "--key-file", str(key_file(tmp_path)), "--allow-draft",
    )  # fmt: skip
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2
    assert "row 3, column record_number:" in errors[0] and "found row 5 with the same" in errors[0]
    assert "row 5, column record_number:" in errors[1] and "found row 3 with the same" in errors[1]
    assert "a different date_of_birth, name; none of them is built" in errors[0]
    assert "5 rows read: 2 packets built, 0 unchanged, 1 skipped, 2 failed." in result.output
    statuses = {line["row"]: line["status"] for line in index(tmp_path / "o")}
    assert statuses == {"2": "built", "3": "failed", "4": "built", "5": "failed", "6": "same as row 2"}
    assert len(list((tmp_path / "o").glob("*.pdf"))) == 2


def test_rows_for_other_topics_are_skipped_and_the_counts_add_up(root, tmp_path):
    report = run(root, tmp_path, *ROWS, topics=("Ketamine-Infusion",))
    assert report.summary() == "3 rows read: 1 packet built, 0 unchanged, 2 skipped, 0 failed."
    assert [line["status"] for line in index(tmp_path / "o")] == ["skipped (--topic)", "built", "skipped (--topic)"]


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        ("Ann,1990-01-01,M1,aspirin,Dr X,2026-11-23,letter,no\n", "topic", "expected one of esketamine-nasal-spray"),
        ("Ann,1990-13-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "date_of_birth", "expected a real date"),
        ("Ann,2026-11-24,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "date_of_birth", "before the appointment"),
        ("Ann,2026-06-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n", "date_of_birth", "found one in the future"),
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
    report = run(root, tmp_path, ROWS[0], row, today=dt.date(2026, 5, 1))
    assert len(report.built) == 1
    [problem] = report.problems
    assert problem.line == 3 and problem.where == f"row 3, column {column}" and fragment in problem.message
    assert "Ann" not in str(problem) and "שרה" not in str(problem)
    assert report.summary() == "2 rows read: 1 packet built, 0 unchanged, 0 skipped, 1 failed."


def test_awkward_but_printable_rows_build(root, tmp_path):
    rows = [
        '"=HYPERLINK(""http://e.x"",""x"")",1990-01-01,M1,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        '"Zoë Nguyễn",1990-01-01,M2,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        '"José\nGarcía",1990-01-01,M3,ketamine-infusion,Dr X,2026-11-23,letter,no\n',
        ",,,,,,,\n",
        "\n",
    ]
    report = run(root, tmp_path, *rows)
    assert len(report.built) == 3 and not report.problems and report.read == 3
    texts = {" ".join(page_texts(p)) for p in (tmp_path / "o").glob("*.pdf")}
    assert any('=HYPERLINK("http://e.x","x")' in t for t in texts)
    assert any("Zoë Nguyễn" in t for t in texts)
    assert any("José García" in t for t in texts)


def test_missing_columns_stop_the_run_with_one_line(root, tmp_path):
    path = write_csv(tmp_path, ROWS[0], header="name,topic\n")
    result = cli("packets", "--project", str(root), "--patients", str(path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: ") and "patients.csv:1: expected columns" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_list_with_no_patients_is_an_error(root, tmp_path):
    path = write_csv(tmp_path, ",,,,,,,\r\n", "\r\n")
    result = cli("packets", "--project", str(root), "--patients", str(path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    expected = f"Error: {path}: no patients found (expected a header row, then one row per patient)"
    assert result.output.strip() == expected
    assert not (tmp_path / "o").exists()


def test_a_wrong_date_order_is_a_usage_error(root, tmp_path):
    path = write_csv(tmp_path, ROWS[0])
    result = cli("packets", "--patients", str(path), "--out", str(tmp_path / "o"), "--date-order", "ymd")
    assert result.exit_code == 2 and "ymd" in result.output


def test_extra_columns_are_ignored(root, tmp_path):
    header = HEADER.strip() + ",notes\n"
    path = write_csv(tmp_path, ROWS[0].strip() + ",allergic to penicillin\n", header=header)
    report = run(root, tmp_path, patients=path)
    assert len(report.built) == 1 and not report.problems
    assert [w.message for w in report.warnings] == ["ignored 1 unknown column"]


# Reading Excel exports (no rendering needed)

EXPORT_HEADER = "Name{d}Date of Birth{d}Record Number{d}Topic{d}Clinician{d}Appointment Date{d}Paper{d}Large Print"


def export(tmp_path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    lines = [EXPORT_HEADER.format(d=delimiter)] + [delimiter.join(r) for r in rows]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def patient(name="Ann", birth="1990-01-02", appointment="2026-11-23", topic=TOPICS[1], record="M1"):  # type: ignore[no-untyped-def]
    return [name, birth, record, topic, "Dr X", appointment, "letter", "no"]


def read(path: Path, order=None, today=None):  # type: ignore[no-untyped-def]
    return read_patients(path, "export.csv", TOPICS, "a4", order, today)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_exports_are_read_with_spaced_headers(tmp_path, delimiter):
    rows = [patient('"Smith; Ann, Jr"'), patient("Bo", topic="Esketamine-Nasal-Spray", record="M2")]
    listing = read(export(tmp_path, rows, delimiter))
    assert not listing.issues and listing.read == 2
    assert [(r.name, r.topic) for r in listing.rows] == [("Smith; Ann, Jr", TOPICS[1]), ("Bo", TOPICS[0])]


def test_excel_date_times_are_dates(tmp_path):
    listing = read(export(tmp_path, [patient(birth="1970-01-02 00:00:00", appointment="2026-11-23T09:30")]))
    assert not listing.issues
    assert (listing.rows[0].date_of_birth, listing.rows[0].appointment_date) == (
        dt.date(1970, 1, 2),
        dt.date(2026, 11, 23),
    )


def test_windows_1252_is_read_with_one_warning_and_other_bytes_are_refused_with_a_hint(tmp_path):
    listing = read(export(tmp_path, [patient("Zoë"), patient("José", record="M2")], encoding="cp1252"))
    assert [r.name for r in listing.rows] == ["Zoë", "José"]
    [warning] = listing.issues
    assert warning.severity == "warning" and "Windows-1252" in warning.message and "'CSV UTF-8'" in warning.message
    path = tmp_path / "bad.csv"
    path.write_bytes(EXPORT_HEADER.format(d=",").encode() + b"\r\nAnn\x81,1990-01-01\r\n")
    with pytest.raises(
        LeafletsError, match=r"bad\.csv:2: expected UTF-8 text, found other bytes \(in Excel, save as 'CSV UTF-8'\)"
    ):
        read_patients(path, "bad.csv", TOPICS, "a4")


def test_slashed_dates_without_an_order_are_one_error_for_the_column(tmp_path):
    rows = [patient(birth=f"{d:02d}/03/1980", appointment=f"{d:02d}/11/2026", record=f"M{d}") for d in range(1, 29)]
    listing = read(export(tmp_path, rows))
    assert [str(i) for i in listing.issues] == [
        "export.csv:2: column date_of_birth: all 28 rows: dates look like DD/MM/YYYY or MM/DD/YYYY; "
        "use --date-order dmy or mdy (some can only be DD/MM/YYYY)",
        "export.csv:2: column appointment_date: all 28 rows: dates look like DD/MM/YYYY or MM/DD/YYYY; "
        "use --date-order dmy or mdy (some can only be DD/MM/YYYY)",
    ]
    assert listing.rows == () and len(listing.failed) == 28


@pytest.mark.parametrize("order, birth", [("dmy", dt.date(1980, 4, 3)), ("mdy", dt.date(1980, 3, 4))])
def test_date_order_reads_slashed_dates(tmp_path, order, birth):
    listing = read(export(tmp_path, [patient(birth="03/04/1980", appointment="10/11/2026 00:00")]), order)
    assert not listing.issues and listing.rows[0].date_of_birth == birth


def test_a_slashed_date_impossible_in_the_given_order_is_reported_for_its_row(tmp_path):
    listing = read(export(tmp_path, [patient(), patient(birth="13/04/1980", record="M2")]), "mdy")
    assert [str(i) for i in listing.issues] == [
        "export.csv:3: row 3, column date_of_birth: expected a real date written MM/DD/YYYY (--date-order mdy), "
        "found something else"
    ]


def test_identical_rows_are_one_packet_and_reported(tmp_path):
    listing = read(export(tmp_path, [patient(), patient("Bo", appointment="2026-11-24"), patient()]))
    assert [r.row for r in listing.rows] == [2, 3] and listing.duplicates == {4: 2}
    assert [str(i) for i in listing.issues] == ["export.csv:4: row 4: repeats row 2 exactly; its packet is built once"]


def test_an_identifier_the_record_does_not_show_stops_the_packets(project_copy, tmp_path):
    """Fail closed: a consent template that lost a field the packet fills makes no packets, naming the field."""
    template = project_copy / "templates" / "consent.html.j2"
    body = template.read_text(encoding="utf-8")
    assert "{{ field(t('format-given'), 'format-given') }}" in body
    template.write_text(body.replace("{{ field(t('format-given'), 'format-given') }}", ""), encoding="utf-8")
    options = PacketsOptions(
        patients=write_csv(tmp_path, ROWS[0]), out=tmp_path / "out", key_file=key_file(tmp_path), allow_draft=True
    )
    with pytest.raises(LeafletsError, match="expected the consent record to show Format given"):
        make_packets(project_copy, options)
    assert not list((tmp_path / "out").glob("*.pdf"))
