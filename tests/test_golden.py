"""Golden output: the words of every default document, checked in; a diff in review shows what readers see change."""

from __future__ import annotations

import pytest

from conftest import GOLDEN


def test_text_of_every_default_document_matches_golden(default_build, request):
    update = request.config.getoption("--update-golden")
    seen = set()
    for doc in default_build.documents:
        name = f"{doc.spec.clinic}/{doc.spec.topic}/{doc.spec.stem}.txt"
        seen.add(name)
        actual = doc.files["txt"].path.read_text(encoding="utf-8")
        golden = GOLDEN / name
        if update:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
            continue
        assert golden.is_file(), f"no golden file {name}: run pytest --update-golden on purpose"
        assert actual == golden.read_text(encoding="utf-8"), (
            f"{name} changed: review `git diff tests/golden` after `pytest --update-golden`"
        )
    stale = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.txt")} - seen
    if update:
        for name in stale:
            (GOLDEN / name).unlink()
    else:
        assert not stale, f"golden files for documents no longer built: {sorted(stale)}"
    if update:
        pytest.skip("golden files rewritten")
