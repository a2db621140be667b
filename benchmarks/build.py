"""Build speed, measured side by side in one run (ratios, since the machine is shared and noisy).

    python benchmarks/build.py [--project DIR]

Prints, each timed in a fresh process:
- full build (`leaflets build`, every edition, pdf + txt) against bare WeasyPrint rendering the same
  HTML sequentially in one process (target: at most 0.7x on 2 cores);
- one document (`leaflets build` of one leaflet) against bare WeasyPrint rendering it (target: at most 1.1x);
- a rebuild with nothing changed (target: under 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = r"""
import json, sys
from pathlib import Path
jobs = json.loads(Path(sys.argv[1]).read_text())
import weasyprint
from leaflets.pdf import make_fetcher
fonts = weasyprint.text.fonts.FontConfiguration()
fetcher = make_fetcher(tuple(Path(p) for p in jobs["roots"]))
for html in jobs["html"]:
    document = weasyprint.HTML(string=html, base_url=jobs["base_url"], url_fetcher=fetcher)
    document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True, font_config=fonts)
"""


def _html(project: Path, one: bool) -> dict:
    """Render the HTML the build would make PDFs from (every edition, or one patient leaflet)."""
    from leaflets.build import BuildOptions, plan
    from leaflets.session import Session, check_topics, open_project

    loaded = open_project(project)
    html: list[str] = []
    roots: list[str] = []
    base_url = ""
    for clinic in sorted(loaded.clinics.values(), key=lambda c: c.id):
        session = Session.open(loaded, clinic)
        roots = [str(r) for r in session.roots]
        base_url = session.templates.as_uri() + "/"
        for spec in plan(clinic, BuildOptions(), check_topics(loaded, ())):
            if one and (spec.document, spec.audience, spec.large_print) != ("leaflet", "patient", False):
                continue
            html.append(session.render(spec).html)
            if one:
                return {"html": html, "roots": roots, "base_url": base_url, "clinic": clinic.id, "topic": spec.topic}
    return {"html": html, "roots": roots, "base_url": base_url}


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _bare(jobs: dict, folder: Path) -> float:
    path = folder / "jobs.json"
    path.write_text(json.dumps(jobs), encoding="utf-8")
    return _run([sys.executable, "-c", BARE, str(path)])  # the whole process, as for leaflets build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    project = parser.parse_args().project.resolve()
    leaflets = [sys.executable, "-m", "leaflets"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        every = _html(project, one=False)
        one = _html(project, one=True)
        bare_all = _bare(every, folder)
        full = _run([*leaflets, "build", "--project", str(project), "--out", str(folder / "full")])
        rebuild = _run([*leaflets, "build", "--project", str(project), "--out", str(folder / "full")])
        bare_one = _bare(one, folder)
        single = _run(
            [*leaflets, "build", "--project", str(project), "--out", str(folder / "one"), "--clinic", one["clinic"],
             "--topic", one["topic"], "--document", "leaflet", "--audience", "patient", "--standard-print",
             "--format", "pdf"]
        )
    documents = len(every["html"])
    print(f"documents: {documents} (every edition)")
    print(f"bare WeasyPrint, sequential, one process: {bare_all:.2f} s")
    print(f"full build (leaflets build):               {full:.2f} s  = {full / bare_all:.2f}x bare (target <= 0.70x)")
    print(f"no-change rebuild:                         {rebuild:.2f} s  (target < 0.5 s)")
    print(f"one document, bare:                        {bare_one:.2f} s")
    print(f"one document, leaflets build:              {single:.2f} s  = {single / bare_one:.2f}x bare (target <= 1.10x)")


if __name__ == "__main__":
    main()
