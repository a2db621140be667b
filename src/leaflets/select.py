"""Which statements go into one document, for one topic, audience and clinic."""

from __future__ import annotations

from dataclasses import dataclass

from leaflets.content import Project
from leaflets.model import Audience, Clinic, DocumentKind, Paper, Reference, Statement, Topic


@dataclass(frozen=True)
class DocumentSpec:
    """One document to build: what, for whom, on which paper."""

    topic: str
    document: DocumentKind
    audience: Audience
    paper: Paper
    large_print: bool = False

    @property
    def stem(self) -> str:
        """Return the file name without extension, e.g. `leaflet-patient-a4-large`."""
        large = "-large" if self.large_print else ""
        return f"{self.document}-{self.audience}-{self.paper}{large}"


@dataclass(frozen=True)
class Item:
    """A statement as one audience reads it."""

    id: str
    text: str
    label: str | None


@dataclass(frozen=True)
class Selection:
    """Everything one document shows, grouped by section, in content order."""

    spec: DocumentSpec
    topic: Topic
    clinic: Clinic
    sections: dict[str, tuple[Item, ...]]
    references: tuple[Reference, ...]

    def section(self, name: str) -> tuple[Item, ...]:
        """Return the items of section `name` (empty when there are none)."""
        return self.sections.get(name, ())

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for items in self.sections.values() for item in items)


def select(project: Project, spec: DocumentSpec, clinic: Clinic) -> Selection:
    """Pick the statements, in content order, that `spec` shows its audience."""
    chosen = [
        s
        for s in project.statements
        if s.applies_to(spec.topic, spec.document, clinic.region) and s.text.for_audience(spec.audience)
    ]
    sections: dict[str, list[Item]] = {}
    for s in chosen:
        sections.setdefault(s.section, []).append(_item(s, spec.audience))
    return Selection(
        spec=spec,
        topic=project.topics[spec.topic],
        clinic=clinic,
        sections={name: tuple(items) for name, items in sections.items()},
        references=_cited(project, chosen),
    )


def _item(statement: Statement, audience: Audience) -> Item:
    text = statement.text.for_audience(audience)
    assert text is not None
    return Item(statement.id, text, statement.label)


def _cited(project: Project, statements: list[Statement]) -> tuple[Reference, ...]:
    ids = {src.ref for s in statements for src in s.sources if hasattr(src, "ref")}
    return tuple(project.references[i] for i in sorted(ids))
