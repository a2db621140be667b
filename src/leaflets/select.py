"""The resolver: everything one document prints, for one topic, audience, clinic and region.

Build, check, the preview's change detection, the review pack and approvals all ask `select`, so
they can never disagree about what a document says.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from leaflets.content import Project, region_gaps, statement_key
from leaflets.errors import Issue
from leaflets.model import (
    Audience,
    Clinic,
    Correction,
    DocumentKind,
    Outcome,
    Paper,
    Reference,
    RefSource,
    Region,
    Statement,
    Topic,
)

READERS: tuple[Audience, ...] = ("patient", "caregiver")

#: Sections a document leaves out for one audience (templates lay out every other section they get):
#: the carer's copy of the consent discussion has no teach-back, which is the patient's own words.
OMITTED: dict[tuple[str, str], frozenset[str]] = {("consent", "caregiver"): frozenset({"teach-back"})}

_PLACEHOLDER = re.compile(r"\[\[([a-z0-9][a-z0-9-]*)\.(treatment|comparison|difference)\]\]")


@dataclass(frozen=True)
class DocumentSpec:
    """One document to build: what, for whom, for which clinic, on which paper."""

    topic: str
    document: DocumentKind
    audience: Audience
    paper: Paper
    large_print: bool = False
    clinic: str = ""

    @property
    def stem(self) -> str:
        """Return the file name without extension, e.g. `leaflet-patient-a4-large`."""
        large = "-large" if self.large_print else ""
        return f"{self.document}-{self.audience}-{self.paper}{large}"

    @property
    def name(self) -> str:
        """Return the document's id in the output tree: `clinic/topic/stem`."""
        return f"{self.clinic}/{self.topic}/{self.stem}"

    def leaflet(self) -> DocumentSpec:
        """Return the leaflet a consent record cites: the one given to the patient or carer."""
        audience: Audience = "patient" if self.audience == "clinician" else self.audience
        return DocumentSpec(self.topic, "leaflet", audience, self.paper, self.large_print, self.clinic)


@dataclass(frozen=True)
class Item:
    """A statement as one audience reads it."""

    id: str
    text: str
    label: str | None
    key: str = ""
    #: Why the resolver chose it: 'topic', 'family ID' or 'general', and 'region R' for a regional variant.
    why: str = ""


@dataclass(frozen=True)
class Selection:
    """Everything one document shows, grouped by section, in content order."""

    spec: DocumentSpec
    topic: Topic
    clinic: Clinic
    region: Region
    sections: dict[str, tuple[Item, ...]]
    references: tuple[Reference, ...]
    outcomes: tuple[Outcome, ...] = ()
    corrections: tuple[Correction, ...] = ()
    #: Safety content this document lacks (for example its region's crisis line): it must not be written.
    problems: tuple[Issue, ...] = ()
    strings: dict[str, str] = field(default_factory=dict)

    def section(self, name: str) -> tuple[Item, ...]:
        """Return the items of section `name` (empty when there are none)."""
        return self.sections.get(name, ())

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for items in self.sections.values() for item in items)

    @property
    def statement_keys(self) -> tuple[str, ...]:
        """Return the keys of every statement this document prints, sorted."""
        return tuple(sorted({item.key for item in self.items}))

    def digest(self) -> str:
        """Return a hash of everything this document prints: its change-detection key."""
        body = {
            "spec": [self.spec.topic, self.spec.document, self.spec.audience, self.spec.paper, self.spec.large_print],
            "topic": self.topic.model_dump(mode="json"),
            "clinic": self.clinic.model_dump(mode="json"),
            "region": self.region.model_dump(mode="json"),
            "items": [[name, [[i.id, i.text, i.label] for i in items]] for name, items in self.sections.items()],
            "references": [r.model_dump(mode="json") for r in self.references],
            "outcomes": [o.model_dump(mode="json") for o in self.outcomes],
            "strings": sorted(self.strings.items()),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def select(project: Project, spec: DocumentSpec, clinic: Clinic) -> Selection:
    """Resolve what `spec` prints for its audience, in content order, for `clinic`'s region."""
    key = ("select", spec, clinic.model_dump_json())
    if key not in project.cache:
        project.cache[key] = _resolve(project, spec, clinic)
    selection: Selection = project.cache[key]
    return selection


def _resolve(project: Project, spec: DocumentSpec, clinic: Clinic) -> Selection:
    region = project.regions[clinic.region]
    chosen = [
        s
        for s in project.statements
        if s.applies_to(spec.topic, spec.document, clinic.region, project.families)
        and s.text is not None
        and s.text.for_audience(spec.audience)
        and spec.topic not in (s.treatment_of or ())
        and s.section not in OMITTED.get((spec.document, spec.audience), ())
    ]
    outcomes = tuple(
        _spelled(o, region, project.cache)
        for o in project.outcomes
        if spec.topic in o.topics and (o.regions is None or clinic.region in o.regions)
    )
    by_id = {o.id: o for o in project.outcomes}
    sections: dict[str, list[Item]] = {}
    for s in chosen:
        item = _item(s, spec.audience, by_id, region, describe_scope(s, spec.topic, project))
        sections.setdefault(s.section, []).append(item)
    if "key-points" in sections:
        sections["key-points"] = _in_topic_order(sections["key-points"], project.topics[spec.topic])
    frozen = {name: tuple(items) for name, items in sections.items()}
    ids = {s.id for s in chosen}
    return Selection(
        spec=spec,
        topic=project.topics[spec.topic],
        clinic=clinic,
        region=region,
        sections=frozen,
        references=_cited(project, chosen, outcomes),
        outcomes=outcomes,
        corrections=tuple(c for c in project.corrections if ids & set(c.statements) and _about(project, c, spec.topic)),
        problems=(
            *_urgent_help_gaps(project, spec, region, frozen.get("urgent-help", ())),
            *region_gaps(project, spec.topic, region.id),
            *_own_harms_gap(project, spec, frozen, outcomes),
            *_screening_gap(project, spec, frozen),
        ),
    )


def _about(project: Project, correction: Correction, topic: str) -> bool:
    """Say whether a correction concerns `topic`: it corrects an article about it (or a general one).

    A correction names the statements that say what is right instead; a general one (the crisis lines)
    does not carry an article about ketamine into another topic's record.
    """
    seed = project.seeds.get(correction.seed)
    return seed is None or seed.seed.scope(topic, project.families)  # an unknown seed: the schema rule says


_HARM_SECTIONS = ("risks-day", "risks-long", "risks-rare")


def _own_harms_gap(
    project: Project, spec: DocumentSpec, sections: dict[str, tuple[Item, ...]], outcomes: tuple[Outcome, ...]
) -> list[Issue]:
    """Fail closed: a patient or carer document shows harms of its own topic, not only general ones."""
    if spec.audience == "clinician":
        return []
    own = [i for name in _HARM_SECTIONS for i in sections.get(name, ()) if not i.why.startswith("general")]
    if own or any(o.kind == "harm" for o in outcomes):
        return []
    return _refused(project, spec, f"expected harms of {spec.topic} itself in {spec.topic}/{spec.stem}", "balance")


def _screening_gap(project: Project, spec: DocumentSpec, sections: dict[str, tuple[Item, ...]]) -> list[Issue]:
    """Fail closed: a consent record asks its pre-treatment screening questions (STANDARDS, the consent
    record, part 7); one whose "Checks before treatment" part would print empty is not written."""
    if spec.document != "consent" or sections.get("screening"):
        return []
    wanted = f"expected pre-treatment screening questions (section: screening) for {spec.topic}/{spec.stem}"
    return _refused(project, spec, wanted, "safety")


def _refused(project: Project, spec: DocumentSpec, expected: str, rule: str) -> list[Issue]:
    """Return the one problem that keeps `spec` from being written, placed at its topic's file."""
    place = project.topic_places[spec.topic]
    where = f"{spec.document}/{spec.audience}"
    return [Issue(place.path, place.line, where, f"{expected}, found none: not written", rule=rule)]


_WORDS = ("measure", "group", "timeframe", "certainty_note")


def _spelled(outcome: Outcome, region: Region, cache: dict) -> Outcome:
    """Return `outcome` with its words in the region's spelling (its figures untouched)."""
    if not region.spelling:
        return outcome
    key = ("spelled", outcome.id, region.id)
    if key not in cache:
        cache[key] = _respell(outcome, region)
    return cache[key]


def _respell(outcome: Outcome, region: Region) -> Outcome:
    data = outcome.model_dump()
    for name in _WORDS:
        if data.get(name):
            data[name] = {a: region.spell(t) if t else t for a, t in data[name].items()}
    for arm in ("treatment", "comparison"):
        data[arm]["label"] = {a: region.spell(t) if t else t for a, t in data[arm]["label"].items()}
    return Outcome.model_validate(data)


def _in_topic_order(items: list[Item], topic: Topic) -> list[Item]:
    """Put key points in the order the topic lists them; any it does not list follow in content order."""
    rank = {sid: n for n, sid in enumerate(topic.key_points)}
    return sorted(items, key=lambda i: rank.get(i.id, len(rank)))


def describe_scope(statement: Statement, topic: str, project: Project) -> str:
    """Say why `statement` reaches `topic`: its scope, and its region if it is a regional variant."""
    reason = statement.scope(topic, project.families) or "out of scope"
    return f"{reason}, region {'+'.join(statement.regions)}" if statement.regions else reason


def _item(
    statement: Statement, audience: Audience, outcomes: dict[str, Outcome], region: Region, reason: str = ""
) -> Item:
    assert statement.text is not None
    text = statement.text.for_audience(audience)
    assert text is not None
    label = region.spell(statement.label) if statement.label else None
    text = region.spell(fill_numbers(text, outcomes, audience))
    return Item(statement.id, text, label, statement_key(statement), reason)


def fill_numbers(text: str, outcomes: dict[str, Outcome], audience: Audience) -> str:
    """Replace `[[outcome.treatment]]`, `.comparison` and `.difference` with the outcome's figures."""

    def figure(match: re.Match[str]) -> str:
        outcome = outcomes.get(match.group(1))
        if outcome is None:
            return match.group(0)  # reported by check's numbers rule
        part = match.group(2)
        if part == "difference":
            words = describe_difference(outcome, audience)
        else:
            arm = outcome.treatment if part == "treatment" else outcome.comparison
            words = describe_per100(arm.per100, audience)
        return _capitalised(words) if _starts_sentence(text, match.start()) else words

    return _PLACEHOLDER.sub(figure, text)


def _starts_sentence(text: str, at: int) -> bool:
    """Say whether position `at` of `text` begins a sentence (the text's start, or after . ! or ?)."""
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?"


def _capitalised(words: str) -> str:
    """Return `words` with a capital first letter: a figure that begins a sentence ("About 29 in 100 had ...")."""
    return words[:1].upper() + words[1:]


def reader_count(per100: float) -> int:
    """Return a figure as the whole number a patient reads: halves round up (52.5 -> 53), never to even;
    a figure under 1 (printed "fewer than 1 in 100") counts as 0."""
    if per100 < 1:
        return 0
    return int(Decimal(str(per100)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def describe_per100(per100: float, audience: Audience) -> str:
    """Return a figure as a reader sees it: "about 69 in 100", or "69.3%" for clinicians."""
    if audience == "clinician":
        return f"{per100:g}%"
    if per100 == 0:
        return "0 in 100"
    if per100 < 1:
        return "fewer than 1 in 100"
    return f"about {reader_count(per100)} in 100"


def describe_difference(outcome: Outcome, audience: Audience) -> str:
    """Return the absolute difference: "about 17 more in 100", or "17.3 percentage points higher".

    A patient's difference is taken between the two figures as printed, so it always adds up.
    """
    if audience == "clinician":
        points = round(outcome.treatment.per100 - outcome.comparison.per100, 2)
        return f"{abs(points):g} percentage points {'higher' if points >= 0 else 'lower'}"
    amount = reader_count(outcome.treatment.per100) - reader_count(outcome.comparison.per100)
    if amount == 0:
        return "about the same number"
    return f"about {abs(amount)} {'more' if amount > 0 else 'fewer'} in 100"


def placeholders(text: str) -> list[str]:
    """Return the outcome ids a statement's text refers to."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def _urgent_help_gaps(
    project: Project, spec: DocumentSpec, region: Region, items: tuple[Item, ...]
) -> list[Issue]:
    """Fail closed: a document's urgent-help part must carry every crisis and emergency line of its region."""
    text = " ".join(i.text for i in items)
    place = project.region_places.get(region.id)
    path, line = (place.path, place.line) if place else ("content/regions.yaml", 0)
    return [
        Issue(
            path,
            line,
            f"region {region.id}",
            f"expected the urgent-help part of {spec.topic}/{spec.stem} to give '{number}', found "
            + ("no urgent-help statement" if not items else "it missing"),
            rule="safety",
        )
        for number in region.urgent_lines
        if number not in text
    ]


def _cited(project: Project, statements: list[Statement], outcomes: tuple[Outcome, ...]) -> tuple[Reference, ...]:
    ids = {src.ref for s in statements for src in s.sources if isinstance(src, RefSource)}
    ids |= {o.source.ref for o in outcomes}
    return tuple(project.references[i] for i in sorted(ids))
