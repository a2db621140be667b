"""Shared fixtures: one real build of every default document, made once per test run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leaflets.build import BuildOptions, BuildReport, build

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from this build, on purpose, instead of comparing.",
    )


TINY = ROOT / "tests" / "projects" / "tiny"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    """Every topic x document x audience on the clinic's paper, in pdf, txt and html."""
    out = tmp_path_factory.mktemp("default")
    return build(ROOT, BuildOptions(out=out, formats=("pdf", "txt", "html")))


@pytest.fixture(scope="session")
def a4_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    out = tmp_path_factory.mktemp("a4")
    return build(ROOT, BuildOptions(out=out, paper="a4", formats=("pdf", "txt")))


@pytest.fixture(scope="session")
def large_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    out = tmp_path_factory.mktemp("large")
    return build(
        ROOT,
        BuildOptions(out=out, large_print=True, audiences=("patient",), formats=("pdf", "txt")),
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's content, seeds and templates."""
    for name in ("content", "seeds", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def pdf_of(report: BuildReport, topic: str, document: str, audience: str) -> Path:
    for doc in report.documents:
        spec = doc.spec
        if (spec.topic, spec.document, spec.audience) == (topic, document, audience):
            return doc.files["pdf"].path
    raise KeyError((topic, document, audience))
