"""Quality gates a content editor runs before printing: each finding an Issue with a rule id."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from leaflets.content import Place, Project, load_project, region_gaps, statement_key
from leaflets.errors import ContentError, Issue, display_path
from leaflets.model import (
    AUDIENCES,
    DOCUMENTS,
    Audience,
    PlainWord,
    Reference,
    Region,
    RefSource,
    Seed,
    SeedSource,
    Statement,
)
from leaflets.output import changed_since_built, read_manifest
from leaflets.readability import Score, score, sentence_grade, sentences
from leaflets.select import DocumentSpec, Item, Selection, fill_numbers, placeholders, select
from leaflets.session import check_topics, resolve_clinic

#: Rule ids, in the order they run; documented in the README.
RULES = (
    "schema",
    "regions",
    "safety",
    "provenance",
    "spelling",
    "readability",
    "plain",
    "consistency",
    "claims",
    "numbers",
    "balance",
    "review",
    "approval",
    "completeness",
    "length",
)

READERS: tuple[Audience, ...] = ("patient", "caregiver")
PROSE = frozenset(
    {
        "condition",
        "numbers-note",
        "what-it-is",
        "decision",
        "how-it-works",
        "benefits",
        "unknowns",
        "risks-day",
        "risks-long",
        "risks-rare",
        "who-should-not",
        "before",
        "during",
        "after",
        "safety",
        "urgent-help",
        "key-points",
        "rights",
    }
)
#: Where the plain-words rule looks: the prose, and the reader's words in tables and lists (an option's
#: text, a screening question, a teach-back point), where 'antipsychotic' went unexplained (second read R24).
PLAIN_WORD_SECTIONS = PROSE | {"options", "screening", "teach-back"}
GRADE_ERROR = 8.0
GRADE_WARNING = 6.0
SENTENCE_WARNING = 12.0
MIN_SENTENCE_WORDS = 8  # a grade for a shorter sentence is mostly noise
REVIEW_SOON_DAYS = 30

_ONE_IN_N = re.compile(r"\b1 in (?!100\b)[\d,]+\b")
_PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|percent\b|per cent\b)")
_BAND = re.compile(r"\b(very common|common|uncommon|rare|very rare)\b", re.IGNORECASE)
_IN_100 = re.compile(r"\b\d+ in 100\b")
_TIME_FRAME = re.compile(r"\b\d+[- ](?:hour|day|week|month|year)s?\b|\bafter \d+\b", re.IGNORECASE)


@dataclass(frozen=True)
class CheckReport:
    """Every finding, and whether they should fail the run."""

    issues: tuple[Issue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    def failed(self, strict: bool) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def as_json(self) -> str:
        return json.dumps(
            {
                "errors": self.errors,
                "warnings": self.warnings,
                "findings": [asdict(i) for i in self.issues],
            },
            indent=2,
            sort_keys=True,
        )


def format_issue(issue: Issue) -> str:
    """Write a finding as `file:line: severity: rule-id: where: message`."""
    where = f"{issue.where}: " if issue.where else ""
    return f"{issue.path}:{issue.line}: {issue.severity}: {issue.rule}: {where}{issue.message}"


def run_checks(
    root: Path,
    topics: tuple[str, ...] = (),
    today: dt.date | None = None,
    build_dir: Path | None = None,
    require_approved: bool = False,
) -> CheckReport:
    """Load the project at `root` and run every gate (and completeness, if there is a build)."""
    try:
        project = load_project(root)
    except ContentError as exc:
        return CheckReport(tuple(exc.issues))
    return check_project(project, topics, today, build_dir, require_approved)


def check_project(
    project: Project,
    topics: tuple[str, ...] = (),
    today: dt.date | None = None,
    build_dir: Path | None = None,
    require_approved: bool = False,
) -> CheckReport:
    """Run every gate over an already loaded project; draft content is an error if `require_approved`."""
    chosen = check_topics(project, topics)
    issues: list[Issue] = []
    issues += check_regions(project, chosen)
    issues += check_safety(project, chosen)
    issues += check_spelling(project, chosen)
    issues += check_readability(project, chosen)
    issues += check_plain_words(project, chosen)
    issues += check_consistency(project, chosen)
    issues += check_claims(project, chosen)
    issues += check_numbers(project, chosen)
    issues += check_balance(project, chosen)
    issues += check_sources(project, chosen)
    issues += check_review(project, chosen, today or dt.date.today(), require_approved)
    issues += check_approval(project, chosen, require_approved)
    issues += check_output(project, chosen, build_dir or project.root / "output")
    issues += check_length(project, chosen, build_dir or project.root / "output")
    order = {rule: n for n, rule in enumerate(RULES)}
    return CheckReport(tuple(sorted(issues, key=lambda i: (order[i.rule], i.path, i.line, i.message))))


def _selections(
    project: Project, topics: tuple[str, ...], audiences: tuple[Audience, ...] = READERS
) -> Iterator[Selection]:
    """Every document of every clinic (so every region's statements are graded), for `topics`."""
    for clinic_id in sorted(project.clinics):
        clinic = project.clinics[clinic_id]
        for topic in topics:
            if region_gaps(project, topic, clinic.region):
                continue  # reported by the regions rule; the region is not buildable for this topic
            for document in DOCUMENTS:
                for audience in audiences:
                    spec = DocumentSpec(topic, document, audience, clinic.edition_papers[0], clinic=clinic.id)
                    yield select(project, spec, clinic)


def _statements(project: Project, topics: tuple[str, ...]) -> list[Statement]:
    """The statements (with text) in scope for any of `topics`."""
    return [
        s for s in project.statements if s.text is not None and any(s.in_scope(t, project.families) for t in topics)
    ]


def _filled(project: Project, s: Statement, audience: Audience) -> str | None:
    """Return a statement's words for `audience` with its outcome figures filled in, as printed."""
    text = s.text.for_audience(audience) if s.text else None
    return fill_numbers(text, {o.id: o for o in project.outcomes}, audience) if text else text


SAFETY_SECTIONS = ("who-should-not", "screening", "before", "during", "after", "urgent-help", "checklist")
LONG_SENTENCE = 20
_EXPLAINED = re.compile(r"^\s*(?:\(|:|-|\u2013|,? which|,? that is|,? meaning)")


def _plain_word_patterns(project: Project, region: Region) -> list[tuple[PlainWord, re.Pattern[str]]]:
    """Return each listed hard word with its pattern, spelled as `region`'s documents print it (once a region)."""
    key = ("plain-words", region.id)
    if key not in project.cache:
        project.cache[key] = [
            (word, re.compile(rf"\b{re.escape(region.spell(word.word))}\b", re.IGNORECASE))
            for word, _place in project.plain_words
        ]
    patterns: list[tuple[PlainWord, re.Pattern[str]]] = project.cache[key]
    return patterns


def check_plain_words(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """A listed hard word is explained at its first use in each patient or carer document; long sentences warn."""
    issues = []
    for sel in _selections(project, topics):
        text_so_far = ""
        words = _plain_word_patterns(project, sel.region)
        for item in (i for name, group in sel.sections.items() if name in PLAIN_WORD_SECTIONS for i in group):
            for word, pattern in words:
                found = pattern.search(item.text)
                if found is None or pattern.search(text_so_far):
                    continue
                sentence = next((x for x in sentences(item.text) if pattern.search(x)), item.text)
                explained = (
                    _EXPLAINED.match(item.text[found.end():])
                    or item.text[: found.start()].rstrip().endswith("(")
                    or re.search(r"\b(?:means|is called|are called|called|is a|are)\b", sentence, re.IGNORECASE)
                )
                if not explained:
                    issues.append(
                        _at(
                            project.places[item.key],
                            f"statement {item.id} ({sel.spec.audience})",
                            f"expected '{word.word}' explained at its first use (for example: "
                            f"{word.word} ({word.plain})), found it unexplained",
                            "plain",
                            "warning",
                        )
                    )
            text_so_far += " " + item.text
    for s in _statements(project, topics):
        for audience in READERS:
            text = _filled(project, s, audience)
            if not text or (audience == "caregiver" and s.text and not s.text.caregiver):
                continue
            for sentence in sentences(text):
                if len(sentence.split()) > LONG_SENTENCE:
                    issues.append(
                        _at(
                            project.places[statement_key(s)],
                            f"statement {s.id} ({audience})",
                            f"expected at most {LONG_SENTENCE} words a sentence, found {len(sentence.split())}: "
                            f"{sentence[:60]!r}...",
                            "plain",
                            "warning",
                        )
                    )
    return _unique(issues)


def check_consistency(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Topics of one family give the same safety items; the leaflet carries what the consent record's safety part says."""
    issues = []
    for family, members in sorted(project.families.items()):
        chosen = [t for t in members if t in topics]
        items: dict[str, dict[str, Statement]] = {t: {} for t in chosen}
        for s in project.statements:
            if s.item and s.text is not None and s.section in SAFETY_SECTIONS:
                for topic in chosen:
                    if s.in_scope(topic, project.families):
                        items[topic].setdefault(s.item, s)
        for topic in chosen:
            for other in chosen:
                for name, s in sorted(items[other].items()):
                    if other != topic and name not in items[topic]:
                        issues.append(
                            _at(
                                project.places[statement_key(s)],
                                f"statement {s.id}",
                                f"expected safety item '{name}' for every topic of family {family}, "
                                f"found it for {other} but not for {topic}",
                                "consistency",
                                "warning",
                            )
                        )
    for clinic_id in sorted(project.clinics):
        clinic = project.clinics[clinic_id]
        for topic in topics:
            if region_gaps(project, topic, clinic.region):
                continue
            leaflet = select(project, DocumentSpec(topic, "leaflet", "patient", clinic.edition_papers[0], clinic=clinic.id), clinic)
            consent = select(project, DocumentSpec(topic, "consent", "patient", clinic.edition_papers[0], clinic=clinic.id), clinic)
            in_leaflet = {i.id for i in leaflet.items}
            for name in ("before", "during", "after", "who-should-not", "urgent-help"):
                for item in consent.section(name):
                    if item.id not in in_leaflet:
                        issues.append(
                            _at(
                                project.places[item.key],
                                f"statement {item.id}",
                                f"expected the take-home leaflet for {topic} to carry this safety advice "
                                f"from the consent record ({name}), found it only in the consent record",
                                "consistency",
                                "warning",
                            )
                        )
    return _unique(issues)


def check_regions(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Each clinic's region has every regional statement its topics use; broken clinic files are named."""
    issues = [issue for problems in project.broken_clinics.values() for issue in problems]
    for region in sorted({c.region for c in project.clinics.values()}):
        for topic in topics:
            issues += region_gaps(project, topic, region)
    return _unique(issues)


def check_safety(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Every document's urgent-help part carries its region's crisis and emergency lines."""
    sels = _selections(project, topics, AUDIENCES)
    return _unique([p for sel in sels for p in sel.problems if p.rule == "safety"])  # the others have their rules


def check_spelling(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """US documents use US spelling, UK documents UK spelling (the region's spelling list, both ways)."""
    issues = []
    uk_words = {local: us for region in project.regions.values() for us, local in region.spelling.items()}
    for sel in _selections(project, topics, AUDIENCES):
        wrong = (
            {us: local for us, local in sel.region.spelling.items()}
            if sel.region.spelling
            else {local: us for local, us in uk_words.items()}
        )
        for item in sel.items:
            for word, instead in wrong.items():
                if re.search(rf"\b{re.escape(word)}\b", item.text, re.IGNORECASE):
                    issues.append(
                        _at(
                            project.places[item.key],
                            f"statement {item.id} ({sel.region.id})",
                            f"expected {sel.region.language} spelling '{instead}', found '{word}'",
                            "spelling",
                            "warning",
                        )
                    )
    return _unique(issues)


def _at(place: Place, where: str, message: str, rule: str, severity: str = "error") -> Issue:
    return Issue(place.path, place.line, where, message, severity, rule)  # type: ignore[arg-type]


def prose_items(sel: Selection) -> list[Item]:
    """The statements of a document that readability scores: prose, not table cells or list fragments."""
    return [i for name, group in sel.sections.items() if name in PROSE for i in group if not i.label]


def document_grade(project: Project, sel: Selection) -> Score:
    """Reading level of one document's prose, with the project's explained terms."""
    return score((i.text for i in prose_items(sel)), project.terms)


def check_readability(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Grade each patient and caregiver document's prose; point at the hardest sentences."""
    terms = project.terms
    known = frozenset(t.lower() for t in terms)
    issues = []
    for sel in _selections(project, topics):
        items = prose_items(sel)
        result = score((i.text for i in items), terms)
        if result.grade <= GRADE_WARNING:
            continue
        hardest = max(
            items,
            key=lambda i: max((sentence_grade(s, known) for s in sentences(i.text)), default=0),
        )
        place = project.places[hardest.key]
        severity = "error" if result.grade > GRADE_ERROR else "warning"
        limit = GRADE_ERROR if severity == "error" else GRADE_WARNING
        issues.append(
            _at(
                project.topic_places[sel.spec.topic],
                f"{sel.spec.document}/{sel.spec.audience}",
                f"expected Flesch-Kincaid grade {limit:g} or lower, found {result.grade} "
                f"(SMOG {result.smog}, {result.sentences} sentences; explained terms in "
                f"content/terms.yaml count as one syllable); hardest: statement {hardest.id} "
                f"at {place.path}:{place.line}",
                "readability",
                severity,
            )
        )
    for s in _statements(project, topics):
        for audience in READERS:
            text = _filled(project, s, audience)
            if not text or s.label or s.section not in PROSE or (audience == "caregiver" and not s.text.caregiver):
                continue
            for sentence in sentences(text):
                grade = sentence_grade(sentence, known)
                if grade > SENTENCE_WARNING and len(sentence.split()) >= MIN_SENTENCE_WORDS:
                    issues.append(
                        _at(
                            project.places[statement_key(s)],
                            f"statement {s.id} ({audience})",
                            f"hard sentence (grade {grade}): {sentence!r}",
                            "readability",
                            "warning",
                        )
                    )
    return _unique(issues)


def _unique(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for issue in issues:
        key = (issue.path, issue.line, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def _claim_pattern(phrase: str) -> re.Pattern[str]:
    """Match `phrase` as whole words in any case; `*` stands for a few words within one sentence."""
    body = r"[^.!?]{0,60}?".join(re.escape(part) for part in phrase.split("*"))
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


def check_claims(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Flag hype, absolute promises and advertising listed in content/claims.yaml."""
    patterns = [(_claim_pattern(c.phrase), c.phrase, c.why) for c in project.claims]
    issues = []
    for s in _statements(project, topics):
        for audience in AUDIENCES:
            text = " ".join(filter(None, (s.label, _filled(project, s, audience))))
            for pattern, phrase, why in patterns:
                found = pattern.search(text)
                if found:
                    issues.append(
                        _at(
                            project.places[statement_key(s)],
                            f"statement {s.id} ({audience})",
                            f"'{found.group(0)}' does not belong in patient material ({why}; "
                            f"listed as '{phrase}' in content/claims.yaml)",
                            "claims",
                        )
                    )
    return _unique(issues)


def check_numbers(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Probabilities as 'N in 100': flag '1 in N', bare percentages, and word bands with no number."""
    issues = []
    outcomes = {o.id: o for o in project.outcomes}
    for s in _statements(project, topics):
        place = project.places[statement_key(s)]
        issues += _typed_figures(s, place)
        issues += _placeholder_problems(project, s, place, outcomes)
        for audience in READERS:
            text = _filled(project, s, audience) or ""
            where = f"statement {s.id} ({audience})"
            for found in _ONE_IN_N.finditer(text):
                issues.append(
                    _at(
                        place,
                        where,
                        f"expected 'N in 100' (one denominator), found '{found.group(0)}'",
                        "numbers",
                    )
                )
            for found in _PERCENT.finditer(text):
                issues.append(
                    _at(
                        place,
                        where,
                        f"expected 'N in 100', found a percentage '{found.group(0)}'",
                        "numbers",
                    )
                )
            band = _BAND.search(text)
            if band and not _IN_100.search(text):
                issues.append(
                    _at(
                        place,
                        where,
                        f"expected a number beside '{band.group(0)}' (such as 'about 10 in 100'), found none",
                        "numbers",
                        "warning",
                    )
                )
    for sel in _selections(project, topics):
        for name, items in sel.sections.items():
            texts = " ".join(i.text for i in items)
            if _IN_100.search(texts) and not _TIME_FRAME.search(texts):
                first = next(i for i in items if _IN_100.search(i.text))
                issues.append(
                    _at(
                        project.places[first.key],
                        f"{sel.spec.document}/{sel.spec.audience} {name}",
                        "expected a time frame (such as 'in 4 weeks') with these numbers, found none",
                        "numbers",
                        "warning",
                    )
                )
    return _unique(issues)


_TYPED_FIGURE = re.compile(r"\b\d+(?:\.\d+)?\s+(?:in|out of)\s+100\b")  # "1 in 20" is the one-in-N rule's


def _typed_figures(s: Statement, place: Place) -> list[Issue]:
    """A figure typed into patient or carer prose is an error: numbers come only from content/outcomes."""
    issues = []
    for audience in READERS:
        text = s.text.for_audience(audience) if s.text else None
        if audience == "caregiver" and s.text and not s.text.caregiver:
            continue
        for found in _TYPED_FIGURE.finditer(text or ""):
            issues.append(
                _at(
                    place,
                    f"statement {s.id} ({audience})",
                    f"expected a figure from content/outcomes (write [[outcome-id.treatment]]), "
                    f"found '{found.group(0)}' typed into the text",
                    "numbers",
                )
            )
    return issues


def _placeholder_problems(project: Project, s: Statement, place: Place, outcomes: dict) -> list[Issue]:
    """Each [[outcome.part]] names a defined outcome of a topic the statement is for."""
    issues = []
    texts = [t for t in (s.text.patient, s.text.caregiver, s.text.clinician) if t] if s.text else []
    for oid in sorted({o for t in texts for o in placeholders(t)}):
        outcome = outcomes.get(oid)
        if outcome is None:
            message = f"expected an outcome defined in content/outcomes, found '{oid}'"
        elif not any(s.in_scope(t, project.families) for t in outcome.topics):
            message = f"expected an outcome of this statement's topics, found '{oid}' (for {', '.join(outcome.topics)})"
        elif outcome.design == "non-inferiority" and any(f"[[{oid}.difference]]" in t for t in texts):
            message = (
                f"expected no difference for '{oid}' (its trial tested only 'not worse'; write that in words), "
                f"found [[{oid}.difference]]"
            )
        else:
            continue
        issues.append(_at(place, f"statement {s.id}", message, "numbers"))
    return issues


def check_balance(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Each document shows the topic's own benefits, harms and alternatives, and a no-treatment option.

    Only what the topic asked for counts (statements for it or a family it is in, and its outcomes):
    a general statement is true of any treatment and cannot stand in for what this one does.
    """
    issues = []
    no_change = {s.id for s in project.statements if s.no_treatment}
    for sel in _selections(project, topics, AUDIENCES):
        kinds = {o.kind for o in sel.outcomes}
        missing = []
        for name, sections, outcome_kind in _BALANCE:
            items = [i for section in sections for i in sel.section(section)]
            if outcome_kind not in kinds and not _own(items):
                missing.append(_missing_own(name, items))
        if not any(i.id in no_change for i in sel.section("options")):
            missing.append("a no-treatment option (a statement with no_treatment: true), found none")
        if missing:
            where = f"{sel.spec.document}/{sel.spec.audience}"
            place = project.topic_places[sel.spec.topic]
            issues.append(_at(place, where, "expected " + "; ".join(missing), "balance"))
    return issues


#: What balance asks of each document: a name, the sections that show it, and the outcome kind that counts too.
_BALANCE = (
    ("benefits", ("benefits",), "benefit"),
    ("harms", ("risks-day", "risks-long", "risks-rare"), "harm"),
    ("alternatives", ("options",), None),
)


def _own(items: list[Item]) -> list[Item]:
    """The items a topic asked for itself (by topic or family), not general ones."""
    return [i for i in items if not i.why.startswith("general")]


def _missing_own(name: str, items: list[Item]) -> str:
    found = f"only general ones ({', '.join(i.id for i in items)})" if items else "none"
    return f"its own {name} (statements for this topic or a family it is in), found {found}"


def check_sources(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Every reference and seed a topic's documents cite is about that topic (or its family) or marked general."""
    statements = {statement_key(s): s for s in project.statements}
    issues = []
    for sel in _selections(project, topics, AUDIENCES):
        topic = sel.spec.topic
        for item in sel.items:
            s = statements[item.key]
            for source in s.sources:
                problem = _off_topic(project, source, topic)
                if problem:
                    issues.append(_at(project.places[item.key], f"statement {s.id} ({topic})", problem, "provenance"))
        for outcome in sel.outcomes:
            problem = _off_topic(project, outcome.source, topic)
            if problem:
                issues.append(_at(project.outcome_places[outcome.id], f"outcome {outcome.id}", problem, "provenance"))
        for c in sel.corrections:  # printed in the consent record's appendix
            cited: list[SeedSource | RefSource] = [SeedSource(seed=c.seed, quote=c.quote)]
            for source in cited + [RefSource(ref=r) for r in c.references]:
                problem = _off_topic(project, source, topic)
                if problem:
                    where = f"correction {c.id} ({topic})"
                    pattern = rf"-?\s*id:\s*['\"]?{re.escape(c.id)}['\"]?"
                    line = _line_of(project.content_dir / "corrections.yaml", pattern)
                    issues.append(Issue("content/corrections.yaml", line, where, problem, "error", "provenance"))
    return _unique(issues)


def _off_topic(project: Project, source: SeedSource | RefSource, topic: str) -> str | None:
    """Say what is wrong when `source` is not about `topic`, or None when it is."""
    about: Reference | Seed | None
    if isinstance(source, RefSource):
        about, what, where = project.references.get(source.ref), f"reference '{source.ref}'", "content/references.yaml"
    else:
        seed = project.seeds.get(source.seed)
        about, what, where = (seed.seed if seed else None), f"seed '{source.seed}'", "seeds/index.yaml"
    if about is None or about.scope(topic, project.families):
        return None  # an unknown source is reported by the schema rule
    if about.topics or about.families:
        scope = ", ".join([*(about.topics or ()), *(f"family {f}" for f in about.families or ())])
        return f"expected sources about {topic} or marked general, found {what} about {scope}"
    return (
        f"expected sources about {topic} or marked general, found {what} with no scope "
        f"(add topics:, families: or general: true to it in {where})"
    )


def check_review(
    project: Project, topics: tuple[str, ...], today: dt.date, require_approved: bool = False
) -> list[Issue]:
    """Overdue review is an error, review within 30 days a warning; draft status a note (an error if required)."""
    issues = []
    for topic_id in topics:
        topic = project.topics[topic_id]
        place = project.topic_places[topic_id]
        days = (topic.next_review - today).days
        if days < 0:
            issues.append(
                _at(
                    place.at("next_review"),
                    "next_review",
                    f"expected a review date after {today}, found {topic.next_review} ({-days} days overdue)",
                    "review",
                )
            )
        elif days <= REVIEW_SOON_DAYS:
            issues.append(
                _at(
                    place.at("next_review"),
                    "next_review",
                    f"review due in {days} days ({topic.next_review})",
                    "review",
                    "warning",
                )
            )
        for region in _unapproved_regions(project, topic_id):
            if require_approved:
                message = f"expected approved content (--require-approved), found draft for region {region}: not yet clinically reviewed"
            else:
                message = f"draft: not yet clinically reviewed for region {region}; documents carry the draft mark"
            severity = "error" if require_approved else "note"
            issues.append(_at(place.at("review"), "review.status", message, "review", severity))
    return issues


def _unapproved_regions(project: Project, topic: str) -> list[str]:
    """Return the regions (of the project's clinics) with no approval file for `topic`."""
    from leaflets.approval import approval_path

    regions = sorted({c.region for c in project.clinics.values()})
    return [r for r in regions if not approval_path(project, topic, r).is_file()]


def check_approval(project: Project, topics: tuple[str, ...], require_approved: bool = False) -> list[Issue]:
    """One line per statement (and outcome, reference, title or string) new or changed since its approval."""
    from leaflets.approval import changes, current, load_approvals, shown_path, string_hashes

    try:
        approvals = load_approvals(project)
    except ContentError as exc:
        return [replace(i, rule="approval") for i in exc.issues]
    severity = "error" if require_approved else "warning"
    issues = []
    for (topic, region), approval in sorted(approvals.items()):
        if topic not in topics:
            continue
        now = current(project, topic, region)
        since = f"since review on {approval.date} by {approval.reviewer} (region {region})"
        after = "documents that print it carry the draft mark until `leaflets approve` again"
        for key, kind in changes(approval, now).items():
            where = f"statement {key.split('@')[0]}"
            issues.append(_at(project.places[key], where, f"{kind} {since}: {after}", "approval", severity))
        for oid, digest in now.outcomes.items():
            if approval.outcomes.get(oid) != digest:
                place = project.outcome_places[oid]
                issues.append(_at(place, f"outcome {oid}", f"changed {since}: {after}", "approval", severity))
        approval_file = shown_path(project, topic, region)
        for rid, digest in now.references.items():
            if approval.references.get(rid) != digest:
                message = f"changed {since}: {after}"
                line = _line_of(project.content_dir / "references.yaml", rf"-?\s*id:\s*['\"]?{re.escape(rid)}['\"]?")
                issues.append(Issue("content/references.yaml", line, f"reference {rid}", message, severity, "approval"))
        if approval.title != now.title:
            issues.append(_at(project.topic_places[topic], "title", f"changed {since}: {after}", "approval", severity))
        for audience, approved in sorted(approval.strings.items()):
            for key, digest in string_hashes(project, audience, region, approved).items():
                if digest != approved[key]:
                    message = f"changed {since} ({audience}; recorded in {approval_file}): {after}"
                    line = _line_of(project.content_dir / "strings.yaml", rf"['\"]?{re.escape(key)}['\"]?:")
                    issues.append(Issue("content/strings.yaml", line, f"string {key}", message, severity, "approval"))
    return issues


def _line_of(path: Path, pattern: str) -> int:
    """Return the first line of `path` that is `pattern` after its indent (0 when none is)."""
    if path.is_file():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.fullmatch(rf"\s*{pattern}(\s.*)?", line):
                return number
    return 0


def check_completeness(project: Project, topics: tuple[str, ...], build_dir: Path) -> list[Issue]:
    """Every statement selected for a built PDF appears in the text read back from it."""
    from leaflets.pdftext import normalise_text, pdf_text

    issues = []
    for entry in read_manifest(build_dir).values():
        if entry.get("topic") not in topics or "pdf" not in entry.get("files", {}):
            continue
        path = build_dir / entry["files"]["pdf"]["path"]
        spec = DocumentSpec(
            entry["topic"],
            entry["document"],
            entry["audience"],
            entry["paper"],
            bool(entry.get("large_print")),
        )
        clinic = project.clinics.get(entry.get("clinic", "")) or resolve_clinic(project, None)
        if not path.is_file():  # one line for the file, not one per statement it should hold
            issues.append(
                _at(
                    project.topic_places[spec.topic],
                    entry.get("id", spec.name),
                    f"expected {display_path(path, project.root)} (listed in the manifest), found no file: rebuild",
                    "completeness",
                )
            )
            continue
        words = pdf_text(path)
        for item in select(project, spec, clinic).items:
            if normalise_text(item.text) not in words:
                issues.append(
                    _at(
                        project.places[item.key],
                        f"statement {item.id}",
                        f"expected its text in {display_path(path, project.root)}, found it missing "
                        "(rebuild, or a layout problem lost it)",
                        "completeness",
                    )
                )
    return issues


LEAFLET_PAGES = 4


def check_length(project: Project, topics: tuple[str, ...], build_dir: Path) -> list[Issue]:
    """A patient or carer leaflet in standard print is 2-4 pages, fact box included (STANDARDS); read from the manifest."""
    issues = []
    for entry in read_manifest(build_dir).values():
        pages = entry.get("files", {}).get("pdf", {}).get("pages", 0)
        if (
            entry.get("topic") in topics
            and entry.get("document") == "leaflet"
            and entry.get("audience") != "clinician"
            and not entry.get("large_print")
            and pages > LEAFLET_PAGES
        ):
            issues.append(
                _at(
                    project.topic_places[entry["topic"]],
                    entry["id"],
                    f"expected a leaflet of at most {LEAFLET_PAGES} pages in standard print, found {pages}: "
                    "move detail to the consent record or shorten statements",
                    "length",
                    "warning",
                )
            )
    return issues


def check_output(project: Project, topics: tuple[str, ...], build_dir: Path) -> list[Issue]:
    """Completeness of the built PDFs; output older than the content is one line saying so, not an error each."""
    issues = check_completeness(project, topics, build_dir)
    if not issues or not changed_since_built(build_dir, project.root):
        return issues
    folder = display_path(build_dir, project.root)
    return [
        Issue(
            display_path(build_dir / "manifest.json", project.root),
            0,
            "",
            f"{folder}/ is out of date: content, seeds or templates changed since it was built "
            f"({len(issues)} statements not in the PDFs; run `leaflets build`, then check again)",
            "warning",
            "completeness",
        )
    ]


def explain(project: Project, topics: tuple[str, ...] = ()) -> list[str]:
    """List what each document of `topics` prints (per clinic, document and audience) and why, as the resolver says."""
    chosen = check_topics(project, topics)
    lines = []
    for sel in _selections(project, chosen, AUDIENCES):
        spec = sel.spec
        lines.append(f"{spec.topic} {spec.document}/{spec.audience} (clinic {sel.clinic.id}, region {sel.region.id}):")
        for name, items in sel.sections.items():
            for item in items:
                place = project.places[item.key]
                lines.append(f"  {name}: {item.id} ({item.why}) {place.path}:{place.line}")
        for outcome in sel.outcomes:
            place = project.outcome_places[outcome.id]
            lines.append(f"  outcome: {outcome.id} ({outcome.kind}, topic) {place.path}:{place.line}")
    return lines
