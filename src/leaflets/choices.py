"""The fixed choices of a document: audience, kind, paper and format (no imports: the CLI's --help needs
them without loading the content model)."""

from __future__ import annotations

from typing import Literal

Audience = Literal["patient", "caregiver", "clinician"]
DocumentKind = Literal["leaflet", "consent"]
Paper = Literal["a4", "letter"]
Format = Literal["pdf", "html", "txt"]

AUDIENCES: tuple[Audience, ...] = ("patient", "caregiver", "clinician")
DOCUMENTS: tuple[DocumentKind, ...] = ("leaflet", "consent")
PAPERS: tuple[Paper, ...] = ("a4", "letter")
FORMATS: tuple[Format, ...] = ("pdf", "html", "txt")
