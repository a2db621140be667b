"""The validated content model: what a topic, a statement, a source and a clinic are."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from leaflets.choices import AUDIENCES, DOCUMENTS, FORMATS, PAPERS, Audience, DocumentKind, Format, Paper

__all__ = ["AUDIENCES", "DOCUMENTS", "FORMATS", "PAPERS", "Audience", "DocumentKind", "Format", "Paper"]

#: Where a statement sits; each document's template lays these out in its own order.
Section = Literal[
    "key-points",
    "condition",
    "what-it-is",
    "decision",
    "who-may-help",
    "who-should-not",
    "how-it-works",
    "options",
    "benefits",
    "unknowns",
    "risks-day",
    "risks-long",
    "risks-rare",
    "before",
    "during",
    "after",
    "checklist",
    "safety",
    "urgent-help",
    "questions",
    "teach-back",
    "rights",
    "screening",
    "acknowledgements",
    "declaration",
    "reconsent",
    "numbers-note",
]

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def scope_reason(
    general: bool, topics: list[str] | None, families: list[str] | None, topic: str, groups: dict[str, tuple[str, ...]]
) -> str | None:
    """Say why something with this scope applies to `topic`: 'topic', 'family ID' or 'general'; None if it does not."""
    if general:
        return "general"
    if topics and topic in topics:
        return "topic"
    return next((f"family {f}" for f in families or () if topic in groups.get(f, ())), None)


class SeedSource(_Strict):
    """A passage quoted word for word from one of the source articles in seeds/."""

    seed: Short
    quote: Text


class RefSource(_Strict):
    """An authoritative reference, by id, with where in it the fact stands."""

    ref: Id
    detail: Short | None = None


Source = SeedSource | RefSource

Certainty = Literal["several-trials", "one-trial", "mixed-trials", "small-studies", "observational"]
OutcomeKind = Literal["benefit", "harm", "after"]  # after: what happens once a course ends (relapse)
#: What the trial behind an outcome set out to show. A non-inferiority trial tested only "not worse":
#: its difference is printed as that, never as "N more in 100" (clinical second read, R30).
TrialDesign = Literal["superiority", "non-inferiority"]


class Texts(_Strict):
    """The same statement, worded for each audience; a missing audience does not see it."""

    patient: Text | None = None
    caregiver: Text | None = None
    clinician: Text | None = None

    def for_audience(self, audience: Audience) -> str | None:
        """Return the words for `audience`; caregivers read the patient words if none of their own."""
        if audience == "caregiver":
            return self.caregiver or self.patient
        return getattr(self, audience)


class Statement(_Strict):
    """One sourced thing a document says, in one section, for the topics it names.

    Scope is explicit: `topics` (ids), `families` (named groups of topics in content/families.yaml),
    or `general: true` (rights, feedback, urgent help: true of any treatment). Nothing applies to a
    topic that did not opt in. A statement with `regions` is a regional variant: every region the
    content defines needs its own variant with the same id, or one marked `absent` with the reason.
    """

    id: Id
    section: Section
    text: Texts | None = None
    sources: list[Source] = Field(default_factory=list)
    label: Short | None = None
    topics: list[Id] | None = None
    families: list[Id] | None = None
    general: bool = False
    documents: list[DocumentKind] | None = None
    regions: list[Short] | None = None
    absent: Short | None = None
    no_treatment: bool = False
    #: The safety item this statement gives for its topic (for example `stay-after-dose`): topics of a
    #: family are expected to give the same items, and `leaflets check` (rule consistency) says where not.
    item: Id | None = None
    #: An option row that is these topics' own treatment: never listed as an alternative to itself.
    treatment_of: list[Id] | None = None

    @model_validator(mode="after")
    def _scope_and_text(self) -> Statement:
        if self.treatment_of is not None and self.section != "options":
            raise ValueError(f"expected 'treatment_of' only on an options statement, found section {self.section}")
        scopes = [name for name in ("topics", "families") if getattr(self, name)] + (["general"] if self.general else [])
        if len(scopes) != 1:
            found = ", ".join(scopes) or "none"
            raise ValueError(f"expected exactly one scope (topics, families or general: true), found {found}")
        if self.absent is not None:
            if not self.regions:
                raise ValueError("expected 'absent' only on a regional variant (with regions), found no regions")
            if self.text is not None or self.sources:
                raise ValueError("expected no text or sources on an absent variant, found some")
        elif self.text is None or not self.sources:
            raise ValueError("expected text and at least one source, found " + ("no text" if self.text is None else "no sources"))
        return self

    def in_scope(self, topic: str, families: dict[str, tuple[str, ...]]) -> bool:
        """Say whether this statement opted in to `topic` (directly, through a family, or as general)."""
        return self.scope(topic, families) is not None

    def scope(self, topic: str, families: dict[str, tuple[str, ...]]) -> str | None:
        """Say how this statement opted in to `topic`: 'topic', 'family ID', 'general', or None."""
        return scope_reason(self.general, self.topics, self.families, topic, families)

    def applies_to(self, topic: str, document: DocumentKind, region: str, families: dict[str, tuple[str, ...]]) -> bool:
        """Say whether this statement belongs in `document` for `topic` in `region`."""
        return (
            self.absent is None
            and self.in_scope(topic, families)
            and (self.documents is None or document in self.documents)
            and (self.regions is None or region in self.regions)
        )


class Arm(_Strict):
    """One side of an outcome's comparison: who got what, and how many in 100 had the outcome."""

    label: Texts
    per100: float = Field(ge=0, le=100)
    n: int | None = Field(default=None, ge=1)
    ci: Short | None = None


class Outcome(_Strict):
    """A number a document shows: one outcome, the treatment and its comparison, per 100 people.

    Prose never retypes these figures; the fact box, the icon arrays and `[[id]]` placeholders in
    statement text render them.
    """

    id: Id
    kind: OutcomeKind
    topics: list[Id] = Field(min_length=1)
    regions: list[Short] | None = None
    measure: Texts
    group: Texts
    timeframe: Texts
    certainty: Certainty
    certainty_note: Texts | None = None
    treatment: Arm
    comparison: Arm
    source: RefSource
    key: bool = False
    fact_box: bool = True
    design: TrialDesign = "superiority"

    @property
    def difference(self) -> float:
        """Return how many more (or fewer) in 100 had the outcome with the treatment."""
        return self.treatment.per100 - self.comparison.per100


class Family(_Strict):
    """A named group of topics that share content (for example the same pharmacology)."""

    id: Id
    name: Short
    topics: list[Id] = Field(min_length=1)


@functools.lru_cache(maxsize=16)
def _speller(pairs: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """Compile one pattern for a whole spelling list (the longest words first)."""
    table = {}
    for us, local in pairs:
        table[us] = local
        table[us[:1].upper() + us[1:]] = local[:1].upper() + local[1:]
    words = sorted(table, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"), table


class Region(_Strict):
    """A place with its own law, services and English: what every document for it must carry."""

    id: Short
    name: Short
    language: Short
    urgent_lines: list[Short] = Field(min_length=1)
    #: Other names people write for this region (GB, United Kingdom): suggested, never accepted silently.
    aliases: list[Short] = Field(default_factory=list)
    spelling: dict[str, Short] = Field(default_factory=dict)

    def spell(self, text: str) -> str:
        """Return `text` with this region's spelling (whole words, keeping a leading capital)."""
        if not self.spelling:
            return text
        pattern, table = _speller(tuple(sorted(self.spelling.items())))
        return pattern.sub(lambda m: table[m.group(0)], text)


class Reference(_Strict):
    """An external source with its full citation; printed, never fetched."""

    id: Id
    short: Short
    citation: Text
    url: Short | None = None
    #: What the source is about (like a statement's scope); check's provenance rule requires one.
    topics: list[Id] | None = None
    families: list[Id] | None = None
    general: bool = False

    def scope(self, topic: str, families: dict[str, tuple[str, ...]]) -> str | None:
        """Say how this reference is about `topic`: 'topic', 'family ID', 'general', or None."""
        return scope_reason(self.general, self.topics, self.families, topic, families)


class Review(_Strict):
    """Kept so older topic files load: `review: {status: draft}` says nothing the build uses.

    Approval lives only in content/approvals/ (hashes of what the documents print, written by
    `leaflets approve`); a topic file cannot say its content is approved.
    """

    status: Literal["draft"] = "draft"

    @model_validator(mode="before")
    @classmethod
    def _no_approval_here(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("status") == "approved":
            raise ValueError(
                "expected no approval in a topic file (run `leaflets approve`: approvals live in "
                "content/approvals/), found status: approved; remove the review field"
            )
        return data


class Topic(_Strict):
    """One treatment: its titles, version and review dates."""

    id: Id
    title: Texts
    short_title: Short
    version: Short
    published: dt.date
    next_review: dt.date
    review: Review | None = None
    language: Short = "en"
    #: Headings this topic words its own way, by string name (e.g. condition: "What is ...?").
    headings: dict[Id, Short] = Field(default_factory=dict)
    #: Ids of key-points statements in the order the box lists them; others follow in content order.
    key_points: list[Id] = Field(default_factory=list)

    @model_validator(mode="after")
    def _review_after_publication(self) -> Topic:
        if self.next_review <= self.published:
            raise ValueError(f"expected next_review after published ({self.published}), found {self.next_review}")
        if (self.next_review - self.published).days > 3 * 366:
            raise ValueError(f"expected next_review within 3 years of publication, found {self.next_review}")
        return self


class Clinic(_Strict):
    """The clinic whose name, contacts, logo and region a document carries."""

    id: Id
    name: Short
    address: list[Short] = Field(min_length=1)
    phone: Short
    email: Short | None = None
    hours: Short | None = None
    logo: Short | None = None
    logo_alt: Short | None = None
    region: Short
    paper: Paper = "a4"
    papers: list[Paper] | None = None
    large_print: bool = True

    @property
    def edition_papers(self) -> tuple[Paper, ...]:
        """Return the papers this clinic prints on (its `papers`, or its one `paper`)."""
        return tuple(self.papers or [self.paper])

    @field_validator("logo")
    @classmethod
    def _logo_is_a_relative_path(cls, logo: str | None) -> str | None:
        if logo and (":" in logo or logo.startswith(("/", "\\"))):
            raise ValueError(f"expected a logo path relative to the clinic file, found {logo!r}")
        return logo

    @model_validator(mode="after")
    def _logo_needs_alt(self) -> Clinic:
        if self.logo and not self.logo_alt:
            raise ValueError("expected logo_alt (a text description of the logo), found none")
        return self


Problem = Literal["wrong", "contradicted", "overclaim", "promotional", "outside-approved-use"]


class Correction(_Strict):
    """A seed claim that was corrected or left out, and why."""

    id: Id
    seed: Short
    quote: Text
    problem: Problem
    why: Text
    instead: Text
    statements: list[Id] = Field(default_factory=list)
    references: list[Id] = Field(min_length=1)


class Claim(_Strict):
    """A phrase that does not belong in patient material; `*` stands for a few words."""

    phrase: Short
    why: Short


class PlainWord(_Strict):
    """A word patients stumble on, and the plain words that must explain it at its first use."""

    word: Short
    plain: Text


class Term(_Strict):
    """A term the documents explain at first use; readability counts it as one syllable."""

    term: Short


class Seed(_Strict):
    """A source article in seeds/."""

    id: Id
    file: Short
    title: Text
    #: What the article is about (like a statement's scope); check's provenance rule requires one.
    topics: list[Id] | None = None
    families: list[Id] | None = None
    general: bool = False

    def scope(self, topic: str, families: dict[str, tuple[str, ...]]) -> str | None:
        """Say how this article is about `topic`: 'topic', 'family ID', 'general', or None."""
        return scope_reason(self.general, self.topics, self.families, topic, families)
