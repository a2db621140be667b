"""The screen HTML reads on a phone: at 390 px wide the page never scrolls sideways (issue #17)."""

from __future__ import annotations

import shutil

import pytest

from conftest import CHROMIUM_ARGS
from leaflets.build import BuildOptions, build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs it)")
def test_every_html_document_fits_a_390px_phone_without_sideways_scrolling(root, tmp_path):
    from playwright.sync_api import sync_playwright

    report = build(root, BuildOptions(out=tmp_path, formats=("html",), clinic="example"))
    pages = [d.files["html"].path for d in report.documents]
    assert pages
    too_wide = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            for path in pages:
                page.goto(path.as_uri())
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 390:
                    too_wide.append((path.relative_to(tmp_path).as_posix(), width))
        finally:
            browser.close()
    assert too_wide == []
