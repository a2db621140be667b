"""The validated content model: what a topic, a statement, a source and a clinic are."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Audience = Literal["patient", "caregiver", "clinician"]
DocumentKind = Literal["leaflet", "consent"]
Paper = Literal["a4", "letter"]
Format = Literal["pdf", "html", "txt"]

AUDIENCES: tuple[Audience, ...] = ("patient", "caregiver", "clinician")
DOCUMENTS: tuple[DocumentKind, ...] = ("leaflet", "consent")
PAPERS: tuple[Paper, ...] = ("a4", "letter")
FORMATS: tuple[Format, ...] = ("pdf", "html", "txt")

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
]

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedSource(_Strict):
    """A passage quoted word for word from one of the source articles in seeds/."""

    seed: Short
    quote: Text


class RefSource(_Strict):
    """An authoritative reference, by id, with where in it the fact stands."""

    ref: Id
    detail: Short | None = None


Source = SeedSource | RefSource


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
    """One sourced thing a document says, in one section, for some topics and audiences."""

    id: Id
    section: Section
    text: Texts
    sources: list[Source] = Field(min_length=1)
    label: Short | None = None
    topics: list[Id] | None = None
    documents: list[DocumentKind] | None = None
    regions: list[Short] | None = None
    no_treatment: bool = False

    def applies_to(self, topic: str, document: DocumentKind, region: str) -> bool:
        """Say whether this statement belongs in `document` for `topic` in `region`."""
        return (
            (self.topics is None or topic in self.topics)
            and (self.documents is None or document in self.documents)
            and (self.regions is None or region in self.regions)
        )


class Reference(_Strict):
    """An external source with its full citation; printed, never fetched."""

    id: Id
    short: Short
    citation: Text
    url: Short | None = None


class Review(_Strict):
    """Clinical review status: content stays draft until a named clinician approves it."""

    status: Literal["draft", "approved"]
    reviewer: Short | None = None
    date: dt.date | None = None

    @model_validator(mode="after")
    def _approved_needs_reviewer(self) -> Review:
        if self.status == "approved" and (self.reviewer is None or self.date is None):
            raise ValueError("expected a reviewer and a date for approved content, found none")
        return self


class Topic(_Strict):
    """One treatment: its titles, version and review dates."""

    id: Id
    title: Texts
    short_title: Short
    version: Short
    published: dt.date
    next_review: dt.date
    review: Review
    language: Short = "en"

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


class Term(_Strict):
    """A term the documents explain at first use; readability counts it as one syllable."""

    term: Short


class Seed(_Strict):
    """A source article in seeds/."""

    id: Id
    file: Short
    title: Text
