"""Quality gates a content editor runs before printing: each finding an Issue with a rule id."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from leaflets.content import Place, Project, choose_clinic, load_project, region_gaps, statement_key
from leaflets.errors import ContentError, Issue, UsageError, did_you_mean, display_path
from leaflets.model import AUDIENCES, DOCUMENTS, Audience, Statement
from leaflets.readability import Score, score, sentence_grade, sentences
from leaflets.select import DocumentSpec, Item, Selection, fill_numbers, select

#: Rule ids, in the order they run; documented in the README.
RULES = (
    "schema",
    "regions",
    "safety",
    "provenance",
    "spelling",
    "readability",
    "claims",
    "numbers",
    "balance",
    "review",
    "completeness",
)

READERS: tuple[Audience, ...] = ("patient", "caregiver")
PROSE = frozenset(
    {
        "condition",
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
    chosen = tuple(sorted(topics or project.topics))
    unknown = [t for t in chosen if t not in project.topics]
    if unknown:
        expected = ", ".join(sorted(project.topics))
        hint = did_you_mean(unknown[0], project.topics)
        raise UsageError(f"--topic: expected one of {expected}, found {', '.join(unknown)}{hint}")
    issues: list[Issue] = []
    issues += check_regions(project, chosen)
    issues += check_safety(project, chosen)
    issues += check_spelling(project, chosen)
    issues += check_readability(project, chosen)
    issues += check_claims(project, chosen)
    issues += check_numbers(project, chosen)
    issues += check_balance(project, chosen)
    issues += check_review(project, chosen, today or dt.date.today(), require_approved)
    issues += check_output(project, chosen, build_dir or project.root / "output")
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


def check_regions(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Each clinic's region has every regional statement its topics use; broken clinic files are named."""
    issues = [issue for problems in project.broken_clinics.values() for issue in problems]
    for region in sorted({c.region for c in project.clinics.values()}):
        for topic in topics:
            issues += region_gaps(project, topic, region)
    return _unique(issues)


def check_safety(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Every document's urgent-help part carries its region's crisis and emergency lines."""
    return _unique([p for sel in _selections(project, topics, AUDIENCES) for p in sel.problems])


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
    for s in _statements(project, topics):
        for audience in READERS:
            text = _filled(project, s, audience) or ""
            where = f"statement {s.id} ({audience})"
            place = project.places[statement_key(s)]
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
                        project.places[first.id],
                        f"{sel.spec.document}/{sel.spec.audience} {name}",
                        "expected a time frame (such as 'in 4 weeks') with these numbers, found none",
                        "numbers",
                        "warning",
                    )
                )
    return _unique(issues)


def check_balance(project: Project, topics: tuple[str, ...]) -> list[Issue]:
    """Each document shows benefits and harms, and alternatives including no treatment."""
    issues = []
    for sel in _selections(project, topics, AUDIENCES):
        where = f"{sel.spec.document}/{sel.spec.audience}"
        place = project.topic_places[sel.spec.topic]
        missing = []
        if not sel.section("benefits"):
            missing.append("benefits")
        if not (sel.section("risks-day") or sel.section("risks-long") or sel.section("risks-rare")):
            missing.append("harms")
        if not sel.section("options"):
            missing.append("alternatives")
        no_change = {s.id for s in project.statements if s.no_treatment}
        if not any(i.id in no_change for i in sel.section("options")):
            missing.append("a no-treatment option (a statement with no_treatment: true)")
        if missing:
            issues.append(_at(place, where, f"expected {', '.join(missing)}, found none", "balance"))
    return issues


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
        if topic.review.status == "draft" and require_approved:
            issues.append(
                _at(
                    place.at("review"),
                    "review.status",
                    "expected approved content (--require-approved), found draft: not yet clinically reviewed",
                    "review",
                )
            )
        elif topic.review.status == "draft":
            issues.append(
                _at(
                    place.at("review"),
                    "review.status",
                    "draft: not yet clinically reviewed; documents carry the draft mark",
                    "review",
                    "note",
                )
            )
    return issues


def check_completeness(project: Project, topics: tuple[str, ...], build_dir: Path) -> list[Issue]:
    """Every statement selected for a built PDF appears in the text read back from it."""
    manifest = build_dir / "manifest.json"
    if not manifest.is_file():
        return []
    from leaflets.pdftext import normalise_text, pdf_text

    entries = json.loads(manifest.read_text(encoding="utf-8")).get("documents", [])
    issues = []
    for entry in entries:
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
        clinic = project.clinics.get(entry.get("clinic", "")) or choose_clinic(project, None)
        words = pdf_text(path) if path.is_file() else ""
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


def check_output(project: Project, topics: tuple[str, ...], build_dir: Path) -> list[Issue]:
    """Completeness of the built PDFs; output older than the content is one line saying so, not an error each."""
    issues = check_completeness(project, topics, build_dir)
    if not issues or not _out_of_date(project, build_dir / "manifest.json"):
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


def _out_of_date(project: Project, manifest: Path) -> bool:
    """Say whether any file the build reads was changed after the build's manifest was written."""
    built = manifest.stat().st_mtime
    folders = (project.content_dir, project.root / "seeds", project.root / "templates")
    return any(p.stat().st_mtime > built for folder in folders for p in folder.rglob("*") if p.is_file())
