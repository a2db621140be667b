"""`leaflets serve`: live preview, errors on the page, nothing served but the preview."""

from __future__ import annotations

import http.client
import shutil
import threading
import time

import pytest
from click.testing import CliRunner

from conftest import CHROMIUM_ARGS
from leaflets.cli import main
from leaflets.serve import Preview, Watcher, is_loopback, make_server

OLD = "This is called an infusion."
NEW = "This slow drip is called an infusion."


@pytest.fixture
def served(project_copy):
    preview = Preview(root=project_copy, topics=("ketamine-infusion",))
    preview.reload()
    server = make_server(preview, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    watcher = Watcher(preview).start()
    yield preview, f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1]
    watcher.stop()
    server.shutdown()
    server.server_close()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)  # sent as written: no client-side path normalising
    response = conn.getresponse()
    return response.status, response.read()


def edit(project, old: str, new: str) -> None:
    path = project / "content" / "statements" / "about.yaml"
    path.write_text(path.read_text().replace(old, new, 1))


def wait_for(condition, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_only_the_preview_is_served(served):
    _preview, _url, port = served
    for path in (
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/content/strings.yaml",
        "/html/../../etc/passwd",
        "/html/ketamine-infusion/leaflet/nurse",
        "/pdf/nope/leaflet/patient",
        "/doc/ketamine-infusion/leaflet/patient?paper=a3",
        "/templates/",
        "/output/",
    ):
        status, body = get(port, path)
        assert status == 404, path
        assert b"[build-system]" not in body and b"root:" not in body
    status, body = get(port, "/pdf/ketamine-infusion/leaflet/patient?paper=a4")
    assert status == 200 and body.startswith(b"%PDF")


def test_index_lists_every_document_with_a_reading_level(served):
    _preview, _url, port = served
    status, body = get(port, "/")
    page = body.decode()
    assert status == 200
    for document in ("leaflet", "consent"):
        for audience in ("patient", "caregiver", "clinician"):
            assert f'href="/doc/ketamine-infusion/{document}/{audience}"' in page
    assert page.count("grade ") == 4 and "paper=a4" in page and "paper=letter" in page


def test_an_edit_updates_and_a_broken_file_keeps_the_last_good_rendering(served, project_copy):
    preview, _url, port = served
    edit(project_copy, OLD, NEW)
    assert wait_for(lambda: NEW in get(port, "/html/ketamine-infusion/leaflet/patient?large=0")[1].decode())
    (project_copy / "content" / "statements" / "about.yaml").write_text("statements: [\n")
    assert wait_for(lambda: preview.errors)
    page = get(port, "/doc/ketamine-infusion/leaflet/patient")[1].decode()
    assert "Error: content/statements/about.yaml:2: YAML error" in page
    assert NEW in get(port, "/html/ketamine-infusion/leaflet/patient?large=0")[1].decode()


def test_serve_refuses_a_non_loopback_address_unless_asked(root):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    result = CliRunner().invoke(main, ["serve", "--project", str(root), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs it)")
def test_in_a_browser_edits_appear_without_a_manual_reload(served, project_copy):
    sync_api = pytest.importorskip("playwright.sync_api")
    _preview, url, _port = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/doc/ketamine-infusion/leaflet/patient")
            frame = page.frame_locator("iframe")
            sync_api.expect(frame.locator("body")).to_contain_text(OLD)
            edit(project_copy, OLD, NEW)
            sync_api.expect(page.frame_locator("iframe").locator("body")).to_contain_text(NEW, timeout=15000)
            (project_copy / "content" / "statements" / "about.yaml").write_text("statements: [\n")
            sync_api.expect(page.locator("#errors")).to_contain_text("content/statements/about.yaml:2", timeout=15000)
            sync_api.expect(page.frame_locator("iframe").locator("body")).to_contain_text(NEW)
            page.screenshot(path=str(project_copy / "preview.png"))
        finally:
            browser.close()


def test_a_change_re_renders_only_the_documents_it_touches(project_copy):
    preview = Preview(root=project_copy)
    preview.reload()
    first = preview.renders
    assert first == 24  # 2 topics x 2 documents x 3 audiences x 2 print sizes
    preview.reload()
    assert preview.renders == first, "nothing changed, nothing re-rendered"
    edit(project_copy, OLD, NEW)  # a statement only the ketamine-infusion documents show
    preview.reload()
    # patient and caregiver leaflets and consent records, and the clinician's consent record (it cites the
    # patient leaflet's fingerprint), in both print sizes; the clinician leaflet's words did not change
    assert preview.renders - first == 10
    assert NEW in preview.good.html[(("ketamine-infusion", "leaflet", "patient"), False)]


class _Counting:
    """A stand-in preview: watches one folder and counts reloads."""

    def __init__(self, folder):
        self.folder = folder
        self.reloads = 0

    def watch_paths(self):
        return [self.folder]

    def reload(self):
        self.reloads += 1


def test_the_watch_is_active_when_start_returns(tmp_path):
    """An edit made the moment start() returns is seen, every time (20 starts in a row)."""
    (tmp_path / "a.yaml").write_text("a: 0\n")
    for n in range(20):
        preview = _Counting(tmp_path)
        watcher = Watcher(preview).start()  # type: ignore[arg-type]
        try:
            (tmp_path / "a.yaml").write_text(f"a: {n + 1}\n")
            assert wait_for(lambda p=preview: p.reloads > 0, seconds=10), f"edit {n + 1} was missed"
        finally:
            watcher.stop()


def test_a_watch_that_cannot_start_is_raised_from_start(tmp_path):
    preview = _Counting(tmp_path / "gone")
    with pytest.raises(FileNotFoundError):
        Watcher(preview).start()  # type: ignore[arg-type]


def test_serve_on_a_taken_port_is_one_line_with_the_fix(root):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--project", str(root), "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"Error: 127.0.0.1:{port}: cannot listen: expected a free port, found {port} in use "
        "(pick another with --port, or --port 0 for any free one)"
    ]


def test_serve_an_unknown_topic_is_a_usage_error(root):
    result = CliRunner().invoke(main, ["serve", "--project", str(root), "--port", "0", "--topic", "nope"])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("Error: --topic: expected one of ") and line.endswith("found nope")
