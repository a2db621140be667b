"""Shared fixtures: one real build of every default document, made once per test run."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from leaflets.build import BuildOptions, BuildReport, build

REPO = Path(__file__).resolve().parent.parent
#: The project the content tests read: this repository's, or (LEAFLETS_TEST_PROJECT) a copy after
#: content work, to show that the behaviour tests derive what they expect from the content.
ROOT = Path(os.environ.get("LEAFLETS_TEST_PROJECT") or REPO).resolve()
GOLDEN = REPO / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from this build, on purpose, instead of comparing.",
    )


PROJECTS = REPO / "tests" / "projects"
TINY = PROJECTS / "tiny"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    """Every edition `leaflets build` makes (each clinic x its papers x standard and large print), with html."""
    out = tmp_path_factory.mktemp("default")
    return build(ROOT, BuildOptions(out=out, formats=("pdf", "txt", "html")))


@pytest.fixture(scope="session")
def a4_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    """The US clinic's documents on A4 (its own paper is Letter), standard print."""
    out = tmp_path_factory.mktemp("a4")
    return build(ROOT, BuildOptions(out=out, clinic="example", paper="a4", large_print=False))


@pytest.fixture(scope="session")
def large_build(default_build: BuildReport) -> BuildReport:
    """The large-print editions of the default build."""
    return dataclasses.replace(default_build, documents=tuple(d for d in default_build.documents if d.spec.large_print))


@pytest.fixture(scope="session")
def standard_build(default_build: BuildReport) -> BuildReport:
    """The standard-print editions of the default build."""
    return dataclasses.replace(
        default_build, documents=tuple(d for d in default_build.documents if not d.spec.large_print)
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's content, seeds and templates."""
    for name in ("content", "seeds", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def pdf_of(
    report: BuildReport, topic: str, document: str, audience: str, clinic: str | None = None, large: bool = False
) -> Path:
    """Return the PDF of one document (the first clinic's edition unless `clinic` is given)."""
    for doc in report.documents:
        spec = doc.spec
        if (spec.topic, spec.document, spec.audience, spec.large_print) == (topic, document, audience, large) and (
            clinic is None or spec.clinic == clinic
        ):
            return doc.files["pdf"].path
    raise KeyError((topic, document, audience, clinic))


#: How the browser tests start Debian's Chromium: headless, no sandbox (root), and no background
#: connections (this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def explained_statements(project) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """Statement ids per document ("clinic/topic/document-audience"), as `leaflets check --explain` lists them."""
    import re

    from leaflets.check import explain

    explained: dict[str, set[str]] = {}
    current = ""
    for line in explain(project):
        head = re.match(r"^(\S+) (\w+)/(\w+) \(clinic (\S+),", line)
        if head:
            topic, document, audience, clinic = head.groups()
            current = f"{clinic}/{topic}/{document}-{audience}"
            explained[current] = set()
        elif line.startswith("  ") and not line.startswith("  outcome:") and current:
            explained[current].add(line.split(": ", 1)[1].split(" ", 1)[0])
    return explained
