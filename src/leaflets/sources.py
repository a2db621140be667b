"""The seed articles and provenance: does each quoted passage really stand in its seed?"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from leaflets.errors import Issue
from leaflets.load import YamlDoc, read_yaml
from leaflets.model import Seed

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "—": "-", "–": "-"})


def normalise_passage(text: str) -> str:
    """Fold quote marks, dashes and whitespace so a quote matches however it was typed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class SeedText:
    """A seed article and its normalised text, ready for quote look-ups."""

    seed: Seed
    text: str

    def contains(self, quote: str) -> bool:
        """Say whether `quote` stands in this article, after normalising both."""
        return normalise_passage(quote) in self.text


def load_seeds(seeds_dir: Path, root: Path) -> tuple[dict[str, SeedText], list[Issue]]:
    """Read seeds/index.yaml and every article it names, keyed by file name."""
    doc = read_yaml(seeds_dir / "index.yaml", root)
    if doc.issues:
        return {}, doc.issues
    issues: list[Issue] = []
    seeds: dict[str, SeedText] = {}
    entries = doc.data.get("seeds") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        return {}, [doc.issue((), "expected a list under 'seeds', found none")]
    for i, entry in enumerate(entries):
        seed = _validate_seed(doc, i, entry, issues)
        if seed is None:
            continue
        path = seeds_dir / seed.file
        if path.name != seed.file or not path.is_file():
            issues.append(doc.issue(("seeds", i, "file"), f"expected a file in seeds/, found no '{seed.file}'"))
            continue
        text = path.read_text(encoding="utf-8")
        seeds[seed.file] = SeedText(seed, normalise_passage(text))
    return seeds, issues


def _validate_seed(doc: YamlDoc, i: int, entry: object, issues: list[Issue]) -> Seed | None:
    from leaflets.content import validate_item

    return validate_item(Seed, doc, ("seeds", i), entry, issues)
