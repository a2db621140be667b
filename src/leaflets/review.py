"""Clinical review: the reviewer's pack, the approval that locks what they saw, and the gates on drafts.

All three ask the resolver (through `approval.current` and a Session), so the pack shows, the
approval hashes and the build compares exactly what the documents print.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaflets.approval import (
    Approval,
    ApprovedStatement,
    Current,
    approval_file,
    approval_path,
    changes,
    current,
    load_approvals,
    sha,
    string_hashes,
)
from leaflets.content import Project, statement_key
from leaflets.errors import LeafletsError, UsageError, did_you_mean
from leaflets.model import AUDIENCES, DOCUMENTS, Audience, Clinic, RefSource, SeedSource, Statement
from leaflets.output import prepare_output, write_atomic
from leaflets.select import placeholders
from leaflets.session import Session, check_topics, open_project
from leaflets.sources import normalise_passage

log = logging.getLogger(__name__)

PACK_TEMPLATE = "review-pack.html.j2"


@dataclass(frozen=True)
class Approved:
    """What `approve` wrote."""

    path: Path
    statements: int
    fingerprint: str


def approve(
    root: Path,
    topic: str,
    region: str,
    reviewer: str,
    role: str,
    date: dt.date,
    today: dt.date | None = None,
) -> Approved:
    """Record that `reviewer` approved what every document of `topic` prints in `region`.

    Refuses (LeafletsError) while `leaflets check --topic` finds errors for the topic.
    """
    from leaflets.check import check_project

    project = open_project(root)
    _known(project, topic, region)
    report = check_project(project, (topic,), today or date, build_dir=project.root / ".leaflets-no-build")
    errors = [i for i in report.issues if i.severity == "error"]
    if errors:
        raise LeafletsError(
            f"{topic} ({region}): expected no errors from `leaflets check --topic {topic}` before approval, "
            f"found {len(errors)}; the first: {errors[0]}"
        )
    now = current(project, topic, region)
    approval = Approval(
        topic=topic,
        region=region,
        reviewer=reviewer,
        role=role,
        date=date,
        title=now.title,
        statements={k: ApprovedStatement(sha256=v, text=now.texts[k]) for k, v in now.statements.items()},
        outcomes=now.outcomes,
        references=now.references,
        strings=_printed_strings(project, topic, region),
    )
    path = approval_path(project, topic, region)
    write_atomic(path, approval_file(project, approval).encode("utf-8"))
    return Approved(path, len(now.statements), fingerprint(now))


def _known(project: Project, topic: str, region: str) -> None:
    check_topics(project, (topic,))
    if region not in project.regions:
        known = ", ".join(sorted(project.regions))
        raise UsageError(f"--region: expected one of {known}, found {region}{did_you_mean(region, project.regions)}")
    if not any(c.region == region for c in project.clinics.values()):
        raise LeafletsError(f"content/clinics: expected a clinic in region {region}, found none: nothing prints there")


def _printed_strings(project: Project, topic: str, region: str) -> dict[Audience, dict[str, str]]:
    """Render every edition of `topic` in `region` (HTML only) and hash the strings each audience's documents print."""
    from leaflets.build import BuildOptions, plan

    keys: dict[Audience, set[str]] = {a: set() for a in AUDIENCES}
    for clinic in _clinics(project, region):
        session = Session.open(project, clinic)
        for spec in plan(clinic, BuildOptions(), [topic]):
            keys[spec.audience] |= session.printed_strings(spec)
    return {a: string_hashes(project, a, region, keys[a]) for a in AUDIENCES}


def _clinics(project: Project, region: str) -> list[Clinic]:
    return [project.clinics[c] for c in sorted(project.clinics) if project.clinics[c].region == region]


def fingerprint(now: Current) -> str:
    """Return a short hash of everything a topic prints in a region: the pack and the approval both show it."""
    return sha([now.title, now.statements, now.outcomes, now.references])[:12]


# The reviewer's pack


@dataclass(frozen=True)
class SourceView:
    """One source of a statement, as the reviewer checks it."""

    kind: str
    text: str
    where: str
    found: bool = True


@dataclass(frozen=True)
class OutcomeView:
    """An outcome a statement's figures come from."""

    id: str
    measure: str
    figures: str
    source: str


@dataclass(frozen=True)
class StatementView:
    """One statement in the pack: its words per audience, where it prints, where it comes from."""

    key: str
    id: str
    section: str
    texts: dict[str, str]
    documents: tuple[str, ...]
    sources: tuple[SourceView, ...]
    outcomes: tuple[OutcomeView, ...]
    corrections: tuple[Any, ...]
    mark: str = ""
    old: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    """One topic in one region, as its reviewer reads it."""

    topic: Any
    region: Any
    documents: list[tuple[str, list[tuple[str, list[tuple[StatementView, bool]]]]]]
    statements: dict[str, StatementView]
    outcomes: list[Any]
    corrections: list[Any]
    left_out: list[Any]
    approval: Approval | None
    fingerprint: str
    removed: list[str]


def review_pack(
    root: Path, topics: tuple[str, ...] = (), regions: tuple[str, ...] = (), out: Path | None = None, pdf: bool = True
) -> list[Path]:
    """Write the reviewer's pack (HTML, and PDF unless `pdf` is False) for each topic and region."""
    project = open_project(root)
    chosen = check_topics(project, topics)
    served = sorted({c.region for c in project.clinics.values()})
    for region in regions:
        _known(project, chosen[0], region)
    folder = prepare_output(out or project.root / "review-pack")
    approvals = load_approvals(project)
    written = []
    for region in regions or tuple(served):
        session = Session.open(project, _clinics(project, region)[0])
        for topic in chosen:
            pack = make_pack(project, topic, region, approvals.get((topic, region)))
            name = f"{topic}-{region}"
            html = render_pack(session, pack, "screen")
            write_atomic(folder / f"{name}.html", html.encode("utf-8"))
            written.append(folder / f"{name}.html")
            if pdf:
                data, _pages = session.maker.make(render_pack(session, pack, "print"), f"review pack {name}")
                write_atomic(folder / f"{name}.pdf", data)
                written.append(folder / f"{name}.pdf")
    return written


def render_pack(session: Session, pack: Pack, media: str) -> str:
    """Render one pack with templates/review-pack.html.j2."""
    from jinja2 import TemplateError

    try:
        return session.env.get_template(PACK_TEMPLATE).render(pack=pack, media=media, audiences=AUDIENCES)
    except TemplateError as exc:
        raise LeafletsError(f"templates/{PACK_TEMPLATE}: {exc}") from exc


def make_pack(project: Project, topic: str, region: str, approval: Approval | None) -> Pack:
    """Gather what the reviewer of `topic` in `region` needs, statement by statement."""
    now = current(project, topic, region)
    marks = changes(approval, now) if approval else {}
    by_key = {statement_key(s): s for s in project.statements}
    views = {key: _view(project, now, by_key[key], key, marks.get(key, ""), approval) for key in now.statements}
    documents: list[tuple[str, list[tuple[str, list[tuple[StatementView, bool]]]]]] = []
    shown: set[str] = set()  # a statement printed again later is listed once, where it first appears
    for document in DOCUMENTS:
        sections: dict[str, list[str]] = {}
        for sel in now.selections:
            if sel.spec.document != document:
                continue
            for name, items in sel.sections.items():
                keys = sections.setdefault(name, [])
                keys += [i.key for i in items if i.key not in keys]
        listed = []
        for name, keys in sections.items():
            listed.append((name, [(views[k], k in shown) for k in keys]))
            shown.update(keys)
        documents.append((document, listed))
    ids = {k.split("@")[0] for k in now.statements}
    corrections = [c for c in project.corrections if ids & set(c.statements)]
    outcomes = sorted({o.id: o for sel in now.selections for o in sel.outcomes}.values(), key=lambda o: o.id)
    return Pack(
        topic=project.topics[topic],
        region=project.regions[region],
        documents=documents,
        statements=views,
        outcomes=outcomes,
        corrections=corrections,
        left_out=[c for c in project.corrections if not c.statements],
        approval=approval,
        fingerprint=fingerprint(now),
        removed=sorted(set(approval.statements) - set(now.statements)) if approval else [],
    )


def _view(
    project: Project, now: Current, s: Statement, key: str, mark: str, approval: Approval | None
) -> StatementView:
    outcomes = {o.id: o for o in project.outcomes}
    raw = [t for t in (s.text.patient, s.text.caregiver, s.text.clinician) if t] if s.text else []
    used = sorted({oid for t in raw for oid in placeholders(t) if oid in outcomes})
    old: dict[str, str] = (
        {str(a): t for a, t in approval.statements[key].text.items()} if approval and mark == "changed" else {}
    )
    return StatementView(
        key=key,
        id=s.id,
        section=s.section,
        texts={a: now.texts[key][a] for a in AUDIENCES if a in now.texts[key]},
        documents=now.documents[key],
        sources=tuple(_source(project, src) for src in s.sources),
        outcomes=tuple(_outcome(project, outcomes[oid]) for oid in used),
        corrections=tuple(c for c in project.corrections if s.id in c.statements),
        mark=mark,
        old=old,
    )


def _source(project: Project, src: SeedSource | RefSource) -> SourceView:
    if isinstance(src, RefSource):
        ref = project.references.get(src.ref)
        citation = ref.citation if ref else src.ref
        return SourceView("reference", citation, src.detail or "", ref is not None)
    line = seed_line(project, src.seed, src.quote)
    where = f"seeds/{src.seed}" + (f", line {line}" if line else "")
    return SourceView("seed", src.quote, where, line is not None)


def seed_line(project: Project, seed: str, quote: str) -> int | None:
    """Return the line of seeds/`seed` where `quote` starts (None when it is not there)."""
    path = project.root / "seeds" / seed
    if seed not in project.seeds or not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    joined, starts = "", []
    for text in lines:
        starts.append(len(joined))
        joined += normalise_passage(text) + " "
    at = joined.find(normalise_passage(quote))
    if at < 0:
        return None
    return max(n for n, start in enumerate(starts, start=1) if start <= at)


def _outcome(project: Project, o: Any) -> OutcomeView:
    ref = project.references.get(o.source.ref)
    source = (ref.citation if ref else o.source.ref) + (f" ({o.source.detail})" if o.source.detail else "")
    figures = (
        f"{o.treatment.per100:g} in 100 with {o.treatment.label.clinician or o.treatment.label.patient}; "
        f"{o.comparison.per100:g} in 100 with {o.comparison.label.clinician or o.comparison.label.patient}"
    )
    return OutcomeView(o.id, o.measure.clinician or o.measure.patient or o.id, figures, source)


# Gates on what reaches patients


def gate_packets(session: Session, topics: list[str], today: dt.date | None, allow_draft: bool) -> None:
    """Refuse packets of a topic past its next review, or of draft content unless `allow_draft`."""
    overdue, drafts = [], []
    for topic in sorted(set(topics)):
        for document in DOCUMENTS:
            mark = session.render(session.spec(topic, document, "patient")).review
            assert mark is not None
            late = f"{topic} (next review {mark.next_review})"
            if today is not None and mark.next_review < today and late not in overdue:
                overdue.append(late)
            if not mark.approved and topic not in drafts:
                drafts.append(topic)
    if overdue:
        raise LeafletsError(
            f"expected topics within their review date, found {', '.join(overdue)} overdue: no packets made"
        )
    if drafts and not allow_draft:
        raise LeafletsError(
            f"expected clinically reviewed content in packets, found draft content for {', '.join(drafts)} "
            "(see `leaflets check`); pass --allow-draft to print it with the draft mark"
        )
    if drafts:
        log.warning("packets carry draft content (--allow-draft): %s", ", ".join(drafts))


def reviewer_parts(reviewer: str) -> tuple[str, str]:
    """Split "NAME, ROLE" into its name and role; anything else is a usage error."""
    name, _, role = reviewer.partition(",")
    if not name.strip() or not role.strip():
        raise UsageError(
            f'--reviewer: expected "NAME, ROLE" (such as "Dr A. Example, Consultant psychiatrist"), found {reviewer!r}'
        )
    return re.sub(r"\s+", " ", name.strip()), re.sub(r"\s+", " ", role.strip())
