"""Approvals: a lock file of hashes over what the resolver returned, and the comparison every build makes.

`leaflets approve` (review.py) writes `content/approvals/<topic>-<region>.yaml`: the reviewer, the
date, and a sha256 of each statement (its text for every audience and its sources), each outcome,
each reference, the title and each string the documents print, as `select` and the templates
returned them for that topic and region. A document prints "Clinically reviewed by" only while
everything it prints matches; nothing in a topic file can say it is approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from leaflets.content import Project, statement_key, validate_item
from leaflets.errors import ContentError, Issue, display_path
from leaflets.load import read_yaml
from leaflets.model import AUDIENCES, DOCUMENTS, Audience, Id, Short, Statement, Text, _Strict
from leaflets.select import DocumentSpec, Selection, select

APPROVALS = "approvals"
#: A document's next review counts from its approval: this long after it, or the topic's own
#: next_review when that comes first.
REVIEW_INTERVAL_YEARS = 1
#: Strings a document may print only once approved, or when its dates fall in another month:
#: approved with every document so that approving cannot change what is approved.
REVIEW_STRINGS = (
    "reviewed-mark",
    "approved-by",
    "approved-on",
    "draft-mark",
    "changed-since-review",
    *(f"month-{m}" for m in range(1, 13)),
)

Status = Literal["approved", "draft", "changed"]


class ApprovedStatement(_Strict):
    """One statement as approved: its hash, and its words per audience (shown beside later edits)."""

    sha256: Short
    text: dict[Audience, Text] = Field(default_factory=dict)


class Approval(_Strict):
    """The lock file: who approved one topic for one region, when, and the hashes of what they saw."""

    topic: Id
    region: Short
    reviewer: Short
    role: Short
    date: dt.date
    title: Short
    statements: dict[str, ApprovedStatement] = Field(default_factory=dict)
    outcomes: dict[str, Short] = Field(default_factory=dict)
    references: dict[str, Short] = Field(default_factory=dict)
    strings: dict[Audience, dict[str, Short]] = Field(default_factory=dict)

    @property
    def next_review(self) -> dt.date:
        """Return the date this approval runs out (REVIEW_INTERVAL_YEARS after it)."""
        try:
            return self.date.replace(year=self.date.year + REVIEW_INTERVAL_YEARS)
        except ValueError:  # 29 February
            return self.date.replace(year=self.date.year + REVIEW_INTERVAL_YEARS, day=28)


@dataclass(frozen=True)
class ReviewMark:
    """A document's review status, from comparing what it prints with its topic's approval."""

    status: Status
    next_review: dt.date
    reviewer: str | None = None
    date: dt.date | None = None
    #: What differs from the approval: statement keys, `outcome:id`, `reference:id`, `string:key`, `title`.
    changed: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class Current:
    """What the resolver returns now for one topic and region, hashed as an approval records it."""

    topic: str
    region: str
    title: str
    statements: dict[str, str]
    texts: dict[str, dict[Audience, str]]
    documents: dict[str, tuple[str, ...]]
    outcomes: dict[str, str]
    references: dict[str, str]
    selections: tuple[Selection, ...] = field(default=(), compare=False)


def approval_path(project: Project, topic: str, region: str) -> Path:
    """Return where the approval of `topic` for `region` lives."""
    return project.content_dir / APPROVALS / f"{topic}-{region}.yaml"


def sha(value: Any) -> str:
    """Return the sha256 of `value` as canonical JSON."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def region_specs(project: Project, topic: str, region: str) -> list[tuple[DocumentSpec, Any]]:
    """Return every document spec of every clinic in `region` for `topic` (first paper), with its clinic."""
    return [
        (DocumentSpec(topic, document, audience, clinic.edition_papers[0], clinic=clinic.id), clinic)
        for clinic in (project.clinics[c] for c in sorted(project.clinics))
        if clinic.region == region
        for document in DOCUMENTS
        for audience in AUDIENCES
    ]


def current(project: Project, topic: str, region: str) -> Current:
    """Resolve every document of `topic` in `region` and hash what they print, per statement and outcome."""
    by_key = {statement_key(s): s for s in project.statements}
    texts: dict[str, dict[Audience, str]] = {}
    documents: dict[str, list[str]] = {}
    outcomes: dict[str, str] = {}
    references: dict[str, str] = {}
    selections = []
    for spec, clinic in region_specs(project, topic, region):
        sel = select(project, spec, clinic)
        selections.append(sel)
        for item in sel.items:
            words = f"{item.label}: {item.text}" if item.label else item.text
            texts.setdefault(item.key, {})[spec.audience] = words
            name = f"{spec.document}-{spec.audience}"
            if name not in documents.setdefault(item.key, []):
                documents[item.key].append(name)
        outcomes.update({o.id: sha(o.model_dump(mode="json")) for o in sel.outcomes})
        references.update({r.id: sha(r.model_dump(mode="json")) for r in sel.references})
    return Current(
        topic=topic,
        region=region,
        title=_title_sha(project, topic),
        statements={key: _statement_sha(by_key[key], texts[key]) for key in sorted(texts)},
        texts=texts,
        documents={key: tuple(names) for key, names in documents.items()},
        outcomes=dict(sorted(outcomes.items())),
        references=dict(sorted(references.items())),
        selections=tuple(selections),
    )


def _statement_sha(statement: Statement, texts: dict[Audience, str]) -> str:
    return sha({"text": texts, "sources": [s.model_dump(mode="json") for s in statement.sources]})


def _title_sha(project: Project, topic: str) -> str:
    """Hash what a topic file prints besides its dates: titles, and any words of its own (such as headings)."""
    return sha(project.topics[topic].model_dump(mode="json", exclude={"version", "published", "next_review", "review"}))


def string_hashes(project: Project, audience: str, region: str, keys: Iterable[str]) -> dict[str, str]:
    """Return the sha256 of each string `keys` names, as `audience` in `region` reads it."""
    out = {}
    for key in sorted(set(keys)):
        try:
            out[key] = sha(project.string(key, audience, region))
        except KeyError:
            continue  # a string the project does not have is never printed
    return out


def load_approvals(project: Project) -> dict[tuple[str, str], Approval]:
    """Read every file in content/approvals/, keyed by (topic, region); a broken one is a ContentError."""
    folder = project.content_dir / APPROVALS
    issues: list[Issue] = []
    approvals: dict[tuple[str, str], Approval] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc = read_yaml(path, project.root)
        issues += doc.issues
        if doc.issues:
            continue
        approval = validate_item(Approval, doc, (), doc.data, issues)
        if approval is None:
            continue
        if path.name != f"{approval.topic}-{approval.region}.yaml":
            issues.append(
                doc.issue(
                    ("topic",), f"expected the file name {approval.topic}-{approval.region}.yaml, found {path.name}"
                )
            )
            continue
        approvals[(approval.topic, approval.region)] = approval
    if issues:
        raise ContentError(issues)
    return approvals


def compare(
    approval: Approval | None, now: Current, selection: Selection, strings: dict[str, str] | None = None
) -> ReviewMark:
    """Return one document's review mark: approved while everything it prints matches `approval`.

    `strings` are the hashes of the strings the document printed (None: not known yet, not compared).
    """
    topic = selection.topic
    if approval is None:
        return ReviewMark("draft", topic.next_review)
    changed = [k for k in selection.statement_keys if approval.statements.get(k, _NONE).sha256 != now.statements.get(k)]
    changed += [f"outcome:{o.id}" for o in selection.outcomes if approval.outcomes.get(o.id) != now.outcomes.get(o.id)]
    changed += [
        f"reference:{r.id}" for r in selection.references if approval.references.get(r.id) != now.references.get(r.id)
    ]
    if approval.title != now.title:
        changed.append("title")
    approved_strings = approval.strings.get(selection.spec.audience, {})
    changed += [f"string:{k}" for k, v in sorted((strings or {}).items()) if approved_strings.get(k) != v]
    if changed:
        return ReviewMark("changed", topic.next_review, approval.reviewer, approval.date, tuple(changed))
    return ReviewMark("approved", min(topic.next_review, approval.next_review), approval.reviewer, approval.date)


_NONE = ApprovedStatement(sha256="none")


def changes(approval: Approval, now: Current) -> dict[str, str]:
    """Return each statement key that is new or changed since `approval`: 'new' or 'changed'."""
    out = {}
    for key, digest in now.statements.items():
        old = approval.statements.get(key)
        if old is None:
            out[key] = "new"
        elif old.sha256 != digest:
            out[key] = "changed"
    return out


def approval_file(project: Project, approval: Approval) -> str:
    """Return the text of an approval file (stable: the same approval, the same bytes)."""
    import yaml

    body = approval.model_dump(mode="json")
    body["statements"] = {k: {"sha256": v["sha256"], "text": v["text"]} for k, v in body["statements"].items()}
    head = (
        f"# The clinical approval of {approval.topic} for region {approval.region}, written by `leaflets approve`.\n"
        "# Do not edit by hand: a document prints as reviewed only while everything it prints matches these\n"
        "# hashes; after a change, review with `leaflets review-pack` and approve again.\n"
    )
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def shown_path(project: Project, topic: str, region: str) -> str:
    """Return the approval file's path as messages show it."""
    return display_path(approval_path(project, topic, region), project.root)
