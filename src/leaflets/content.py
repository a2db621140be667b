"""Content files -> the validated model, with every problem collected at its file:line."""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from leaflets.errors import ContentError, Issue, LeafletsError, did_you_mean, display_path
from leaflets.load import Location, YamlDoc, read_yaml
from leaflets.model import (
    Claim,
    Clinic,
    Correction,
    Family,
    Outcome,
    PlainWord,
    Reference,
    RefSource,
    Region,
    SeedSource,
    Statement,
    Term,
    Topic,
)
from leaflets.sources import SeedText, load_seeds

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Place:
    """Where a piece of content was written: shown in every message about it."""

    path: str
    line: int
    file: Path
    fields: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def at(self, name: str) -> Place:
        """Return the place of field `name` (or this item's own place when it has no line)."""
        return Place(self.path, self.fields.get(name, self.line), self.file)


@dataclass(frozen=True)
class Project:
    """All of a project's validated content, ready for selection and rendering."""

    root: Path
    topics: dict[str, Topic]
    statements: tuple[Statement, ...]
    references: dict[str, Reference]
    strings: dict[str, dict[str, str]]
    clinics: dict[str, Clinic]
    clinic_files: dict[str, Path]
    corrections: tuple[Correction, ...]
    seeds: dict[str, SeedText]
    terms: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    plain_words: tuple[tuple[PlainWord, Place], ...] = ()
    places: dict[str, Place] = field(default_factory=dict)
    topic_places: dict[str, Place] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    families: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outcomes: tuple[Outcome, ...] = ()
    outcome_places: dict[str, Place] = field(default_factory=dict)
    region_places: dict[str, Place] = field(default_factory=dict)
    #: Clinic files that did not load, with their problems: reported per edition, never fatal to others.
    broken_clinics: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    clinic_places: dict[str, Place] = field(default_factory=dict)
    #: Derived values the resolver computes once per loaded project (never part of its identity).
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    def string(self, key: str, audience: str, region: str | None = None) -> str:
        """Return the label `key` in the words for `audience` (and `region`, where it has its own)."""
        for table in (
            self.strings.get(f"{region}:{audience}", {}),
            self.strings.get(audience, {}),
            self.strings.get(f"{region}:default", {}),
        ):
            if key in table:
                return table[key]
        return self.strings["default"][key]


def validate_item(model: type[M], doc: YamlDoc, loc: Location, data: Any, issues: list[Issue]) -> M | None:
    """Validate `data` as `model`; report each problem at the line it came from."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            at = (*loc, *err["loc"])
            issues.append(doc.issue(at, _explain(err, model, doc.written.get(at))))
        return None


def _explain(err: Any, model: type[BaseModel], written: str | None = None) -> str:
    """Say what pydantic found wrong as `expected ..., found ... (hint)`, by its error type, not its wording.

    `written` is the value as the file has it when YAML read it as something else (`0.10` became 0.1).
    """
    kind, ctx, found = err["type"], err.get("ctx") or {}, err.get("input")
    name = next((str(part) for part in reversed(err["loc"]) if isinstance(part, str)), "")
    if kind == "missing":
        return f"expected a value for '{name}', found none"
    if kind == "extra_forbidden":
        return f"expected no such field, found one{did_you_mean(name, _fields_at(model, err['loc']))}"
    if kind == "string_type" and written is not None:
        return f'expected text, found {written} read as {_reading(found)} (put it in quotes: "{written}")'
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(found, choices) if isinstance(found, str) else ""
        return f"expected one of {ctx.get('expected')}, found {_short(found)}{hint}"
    if kind == "string_too_short":
        return "expected text, found an empty value"
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters, found {len(str(found))}"
    if kind == "string_pattern_mismatch":
        return f"expected an id of lowercase letters, digits and hyphens (such as 'flu-vaccine'), found {_short(found)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), found {ctx.get('actual_length')}"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return f"expected a date as YYYY-MM-DD, found {_short(found)}"
    return f"expected {_EXPECTED.get(kind, err['msg'])}, found {_short(found)}"


#: What each of pydantic's error types expected, in the project's words.
_EXPECTED = {
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of fields",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
}


def _reading(value: Any) -> str:
    """Say what YAML made of a plain value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return "nothing" if value is None else _short(value)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Return the field names allowed where `loc` ends (the model holding its last part)."""
    models = [model]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        named = [m for m in models if m.__name__ == part]  # pydantic names the union member it tried
        if named:
            models = named
            continue
        fields = [held.model_fields[part] for held in models if part in held.model_fields]
        models = [m for f in fields for m in _models_in(f.annotation)]
    return sorted({name for m in models for name in m.model_fields})


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_project(root: Path, extra_clinic: Path | None = None) -> Project:
    """Load and check every content file under `root`; raise ContentError listing all problems."""
    root = root.resolve()
    if not (root / "content").is_dir():
        raise LeafletsError(f"{root}: expected a leaflets project with a content/ folder, found none")
    issues: list[Issue] = []
    loader = _Loader(root, issues)
    seeds, seed_issues = load_seeds(root / "seeds", root)
    issues.extend(seed_issues)
    if seed_issues:
        loader.incomplete.add("Seed")
    topics = loader.items(Topic, loader.files("topics"), key=None)
    statements = loader.items(Statement, loader.files("statements"), key="statements")
    references = loader.items(Reference, [root / "content" / "references.yaml"], key="references")
    corrections = loader.items(Correction, loader.optional(root / "content" / "corrections.yaml"), key="corrections")
    regions = loader.items(Region, [root / "content" / "regions.yaml"], key="regions")
    families = loader.items(Family, loader.optional(root / "content" / "families.yaml"), key="families")
    outcomes = loader.items(Outcome, loader.files("outcomes"), key="outcomes")
    strings = loader.strings(root / "content" / "strings.yaml")
    claims = loader.items(Claim, loader.optional(root / "content" / "claims.yaml"), key="claims")
    terms = loader.items(Term, loader.optional(root / "content" / "terms.yaml"), key="terms", wrap="term")
    plain_words = loader.items(PlainWord, loader.optional(root / "content" / "plain-words.yaml"), key="words")
    clinic_paths = loader.files("clinics")
    if extra_clinic is not None and extra_clinic.resolve() not in {p.resolve() for p in clinic_paths}:
        clinic_paths.append(extra_clinic)
    clinics, broken = _load_clinics(root, clinic_paths, {r.id: r.aliases for r, _ in regions})
    project = Project(
        root=root,
        topics={t.id: t for t, _ in topics},
        statements=tuple(s for s, _ in statements),
        references={r.id: r for r, _ in references},
        strings=strings,
        clinics={c.id: c for c, _ in clinics},
        clinic_files={c.id: p.file for c, p in clinics},
        corrections=tuple(c for c, _ in corrections),
        seeds=seeds,
        terms=tuple(t.term for t, _ in terms),
        claims=tuple(c for c, _ in claims),
        plain_words=tuple((w, p) for w, p in plain_words),
        places={statement_key(s): p for s, p in statements},
        topic_places={t.id: p for t, p in topics},
        regions={r.id: r for r, _ in regions},
        families={f.id: tuple(f.topics) for f, _ in families},
        outcomes=tuple(o for o, _ in outcomes),
        outcome_places={o.id: p for o, p in outcomes},
        region_places={r.id: p for r, p in regions},
        broken_clinics=broken,
        clinic_places={c.id: p for c, p in clinics},
    )
    issues.extend(
        _cross_check(project, loader.incomplete, topics, statements, references, corrections, clinics, outcomes, families)
    )
    if any(i.severity == "error" for i in issues):
        raise ContentError(issues)
    return project


def statement_key(statement: Statement) -> str:
    """Return the key of one statement or regional variant: `id`, or `id@US` for a variant."""
    return f"{statement.id}@{'+'.join(statement.regions)}" if statement.regions else statement.id


def _load_clinics(
    root: Path, paths: list[Path], regions: dict[str, list[str]]
) -> tuple[list[tuple[Clinic, Place]], dict[str, tuple[Issue, ...]]]:
    """Load each clinic file on its own: a broken one is reported for its editions, not fatal to others."""
    loaded: list[tuple[Clinic, Place]] = []
    broken: dict[str, tuple[Issue, ...]] = {}
    for path in paths:
        issues: list[Issue] = []
        items = _Loader(root, issues).items(Clinic, [path], key=None)
        for clinic, place in items:
            if regions and clinic.region not in regions:
                issues.append(
                    Issue(
                        place.path,
                        place.fields.get("region", place.line),
                        "region",
                        f"expected a region the content defines ({', '.join(sorted(regions))}), "
                        f"found '{clinic.region}'{_suggest_region(clinic.region, regions)}",
                    )
                )
            logo = _missing_logo(clinic, place)
            if logo is not None:
                issues.append(logo)
        if issues:
            broken[display_path(path, root)] = tuple(issues)
        else:
            loaded.extend(items)
    return loaded, broken


def _suggest_region(found: str, regions: dict[str, list[str]]) -> str:
    """Suggest the region `found` names through an alias (GB for UK), else the closest id."""
    for region, aliases in sorted(regions.items()):
        if found.strip().lower() in {a.lower() for a in (region, *aliases)}:
            return f" (did you mean '{region}'?)"
    return _did_you_mean(found, regions)


def _did_you_mean(found: str, known: Iterable[str]) -> str:
    import difflib

    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(found.lower(), list(lowered), n=1, cutoff=0.3)
    if found.lower() in lowered:
        close = [found.lower()]
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


class _Loader:
    def __init__(self, root: Path, issues: list[Issue]):
        self.root = root
        self.issues = issues
        #: Kinds of content (model names) not all of whose items loaded: ids missing from them
        #: are not reported again as unknown references, which would only echo the first error.
        self.incomplete: set[str] = set()

    def files(self, folder: str) -> list[Path]:
        return sorted((self.root / "content" / folder).glob("*.yaml"))

    def optional(self, path: Path) -> list[Path]:
        return [path] if path.exists() else []

    def read(self, path: Path) -> YamlDoc:
        doc = read_yaml(path, self.root)
        self.issues.extend(doc.issues)
        return doc

    def items(
        self, model: type[M], paths: Iterable[Path], key: str | None, wrap: str | None = None
    ) -> list[tuple[M, Place]]:
        """Validate each file as one item (key None) or a list of items under `key`.

        With `wrap`, each list entry is a bare value, validated as the model's field of that name.
        """
        out: list[tuple[M, Place]] = []
        before = len(self.issues)
        for path in paths:
            doc = self.read(path)
            if doc.issues:
                continue
            for loc, data in _entries(doc, key, self.issues):
                item = validate_item(model, doc, loc, {wrap: data} if wrap else data, self.issues)
                if item is not None:
                    fields = {str(k[-1]): n for k, n in doc.lines.items() if len(k) == len(loc) + 1 and k[:-1] == loc}
                    place = Place(doc.shown, doc.line_of(loc), path, fields)
                    out.append((item, place))
        if len(self.issues) > before:
            self.incomplete.add(model.__name__)
        return out

    def strings(self, path: Path) -> dict[str, dict[str, str]]:
        doc = self.read(path)
        if doc.issues:
            return {"default": {}}
        data = doc.data if isinstance(doc.data, dict) else {}
        tables: dict[str, dict[str, str]] = {"default": {}}
        regional = data.get("regions") if isinstance(data.get("regions"), dict) else {}
        for name, loc in (
            ("default", ("strings",)),
            *((a, ("audiences", a)) for a in ("patient", "caregiver", "clinician")),
            *((f"{r}:default", ("regions", r, "strings")) for r in sorted(regional)),
            *(
                (f"{r}:{a}", ("regions", r, "audiences", a))
                for r in sorted(regional)
                for a in ("patient", "caregiver", "clinician")
            ),
        ):
            table = _dig(data, loc)
            if table is None and name != "default":
                continue
            if not isinstance(table, dict):
                self.issues.append(doc.issue(loc, "expected a mapping of names to text, found something else"))
                continue
            bad = [k for k, v in table.items() if not isinstance(k, str) or not isinstance(v, str)]
            for key in bad:
                self.issues.append(
                    doc.issue(
                        (*loc, key),
                        f"expected text, found {table[key]!r} (put words such as yes, no, on or off in quotes)",
                    )
                )
            if bad:
                continue
            tables[name] = dict(table)
        return tables


def _dig(data: Any, loc: Location) -> Any:
    for part in loc:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _entries(doc: YamlDoc, key: str | None, issues: list[Issue]) -> list[tuple[Location, Any]]:
    if key is None:
        return [((), doc.data)]
    items = doc.data.get(key) if isinstance(doc.data, dict) else None
    if not isinstance(items, list):
        issues.append(doc.issue((), f"expected a list under '{key}', found none"))
        return []
    extra = sorted(set(doc.data) - {key}) if isinstance(doc.data, dict) else []
    for name in extra:
        issues.append(doc.issue((name,), "expected no such field, found one"))
    return [((key, i), item) for i, item in enumerate(items)]


def _cross_check(
    project: Project,
    incomplete: set[str],
    topics: list[tuple[Topic, Place]],
    statements: list[tuple[Statement, Place]],
    references: list[tuple[Reference, Place]],
    corrections: list[tuple[Correction, Place]],
    clinics: list[tuple[Clinic, Place]],
    outcomes: list[tuple[Outcome, Place]],
    families: list[tuple[Family, Place]],
) -> list[Issue]:
    """Check what no single file can: unique ids, known topics and regions, sources that exist."""
    issues: list[Issue] = []
    for items, what in (
        (topics, "topic"),
        (references, "reference"),
        (corrections, "correction"),
        (clinics, "clinic"),
        (outcomes, "outcome"),
        (families, "family"),
    ):
        issues.extend(_duplicates(items, what))
    issues.extend(_duplicate_variants(statements))
    for family, place in families:
        issues.extend(_unknown_topics(project, incomplete, family.topics, place, f"family {family.id}"))
    for statement, place in statements:
        issues.extend(_check_statement(project, incomplete, statement, place))
    for outcome, place in outcomes:
        issues.extend(_unknown_topics(project, incomplete, outcome.topics, place, f"outcome {outcome.id}"))
        issues.extend(_unknown_regions(project, outcome.regions, place, f"outcome {outcome.id}"))
        problem = _check_source(project, incomplete, outcome.source)
        if problem:
            issues.append(Issue(place.path, place.line, f"outcome {outcome.id}", problem, rule="provenance"))
    for correction, place in corrections:
        issues.extend(_check_correction(project, incomplete, correction, place))
    for topic, place in topics:
        issues.extend(_check_topic(project, incomplete, topic, place))
    for reference, place in references:
        issues.extend(_unknown_scope(project, incomplete, reference, place, f"reference {reference.id}"))
    return issues


def _check_topic(project: Project, incomplete: set[str], topic: Topic, place: Place) -> list[Issue]:
    """A topic's key points are its own key-points statements; its headings name known strings."""
    issues = []
    if "Statement" not in incomplete:
        points = {
            s.id for s in project.statements if s.section == "key-points" and s.in_scope(topic.id, project.families)
        }
        for n, sid in enumerate(topic.key_points):
            if sid not in points:
                issues.append(
                    Issue(
                        place.path,
                        place.fields.get("key_points", place.line),
                        f"key_points[{n}]",
                        f"expected a key-points statement in scope of {topic.id}, found '{sid}'"
                        f"{_did_you_mean(sid, points)}",
                    )
                )
    known = set(project.strings.get("default", {}))
    for key in sorted(topic.headings) if known else ():
        if key not in known:
            issues.append(
                Issue(
                    place.path,
                    place.fields.get("headings", place.line),
                    f"headings.{key}",
                    f"expected the name of a string in content/strings.yaml (such as 'condition'), found '{key}'"
                    f"{_did_you_mean(key, known)}",
                )
            )
    return issues


def _unknown_scope(project: Project, incomplete: set[str], item: Any, place: Place, where: str) -> list[Issue]:
    """The topics and families a reference or seed says it is about exist."""
    issues = _unknown_topics(project, incomplete, item.topics or (), place, where)
    if "Family" not in incomplete:
        issues += [
            Issue(place.path, place.line, where, f"expected a family defined in content/families.yaml, found '{f}'")
            for f in item.families or ()
            if f not in project.families
        ]
    return issues


def _duplicates(items: list[tuple[Any, Place]], what: str) -> list[Issue]:
    seen: dict[str, Place] = {}
    issues = []
    for item, place in items:
        if item.id in seen:
            first = seen[item.id]
            issues.append(
                Issue(
                    place.path,
                    place.line,
                    f"{what} {item.id}",
                    f"expected a unique id, found it also at {first.path}:{first.line}",
                )
            )
        seen.setdefault(item.id, place)
    return issues


def _duplicate_variants(statements: list[tuple[Statement, Place]]) -> list[Issue]:
    """Statement ids are unique, except regional variants of one id for different regions."""
    seen: dict[str, list[tuple[Statement, Place]]] = {}
    issues = []
    for statement, place in statements:
        for other, first in seen.get(statement.id, []):
            overlap = (
                statement.regions is None
                or other.regions is None
                or bool(set(statement.regions) & set(other.regions))
            )
            if overlap:
                issues.append(
                    Issue(
                        place.path,
                        place.line,
                        f"statement {statement.id}",
                        f"expected a unique id (or regional variants for different regions), "
                        f"found it also at {first.path}:{first.line}",
                    )
                )
                break
        seen.setdefault(statement.id, []).append((statement, place))
    return issues


def _unknown_topics(project: Project, incomplete: set[str], topics: Iterable[str], place: Place, where: str) -> list[Issue]:
    if "Topic" in incomplete:
        return []
    known = ", ".join(sorted(project.topics))
    return [
        Issue(place.path, place.line, where, f"expected a known topic ({known}), found '{t}'{_did_you_mean(t, project.topics)}")
        for t in topics
        if t not in project.topics
    ]


def _unknown_regions(project: Project, regions: Iterable[str] | None, place: Place, where: str) -> list[Issue]:
    known = ", ".join(sorted(project.regions)) or "none: add content/regions.yaml"
    return [
        Issue(place.path, place.line, where, f"expected a region defined in content/regions.yaml ({known}), found '{r}'")
        for r in regions or ()
        if r not in project.regions
    ]


def _check_statement(project: Project, incomplete: set[str], s: Statement, place: Place) -> list[Issue]:
    where = f"statement {s.id}"
    issues = _unknown_topics(project, incomplete, [*(s.topics or ()), *(s.treatment_of or ())], place, where)
    for family in s.families or ():
        if family not in project.families and "Family" not in incomplete:
            issues.append(
                Issue(
                    place.path,
                    place.line,
                    where,
                    f"expected a family defined in content/families.yaml, found '{family}'"
                    f"{_did_you_mean(family, project.families)}",
                )
            )
    for source in s.sources:
        problem = _check_source(project, incomplete, source)
        if problem:
            issues.append(Issue(place.path, place.line, where, problem, rule="provenance"))
    issues.extend(_unknown_regions(project, s.regions, place, where))
    return issues


def region_gaps(project: Project, topic: str, region: str) -> list[Issue]:
    """Return one error per regional statement `topic` uses that has no variant for `region`.

    A region is buildable for a topic only when every regional statement in its scope has a variant
    (or an `absent` marker) for it: a gap never falls back to another region's facts.
    """
    variants: dict[str, list[Statement]] = {}
    for s in project.statements:
        if s.regions and s.in_scope(topic, project.families):
            variants.setdefault(s.id, []).append(s)
    issues = []
    for sid, group in sorted(variants.items()):
        if not any(region in (s.regions or ()) for s in group):
            place = project.places[statement_key(group[0])]
            have = ", ".join(sorted({r for s in group for r in s.regions or ()}))
            issues.append(
                Issue(
                    place.path,
                    place.line,
                    f"statement {sid}",
                    f"expected a variant for region {region} (topic {topic}), found only {have}; "
                    f"add one with regions: [{region}], or absent: with the reason",
                    rule="regions",
                )
            )
    return issues


def _check_source(project: Project, incomplete: set[str], source: SeedSource | RefSource) -> str | None:
    if isinstance(source, RefSource):
        if source.ref not in project.references and "Reference" not in incomplete:
            return f"expected a reference defined in content/references.yaml, found '{source.ref}'"
        return None
    seed = project.seeds.get(source.seed)
    if seed is None and "Seed" in incomplete:
        return None
    if seed is None:
        return f"expected a seed file listed in seeds/index.yaml, found '{source.seed}'"
    if not seed.contains(source.quote):
        return f"expected the quoted passage to stand in seeds/{source.seed}, found no match for {_short(source.quote)}"
    return None


def _check_correction(project: Project, incomplete: set[str], c: Correction, place: Place) -> list[Issue]:
    where = f"correction {c.id}"
    problems = [_check_source(project, incomplete, SeedSource(seed=c.seed, quote=c.quote))]
    problems += [_check_source(project, incomplete, RefSource(ref=r)) for r in c.references]
    known = {s.id for s in project.statements}
    if "Statement" not in incomplete:
        problems += [f"expected a known statement id, found '{s}'" for s in c.statements if s not in known]
    return [Issue(place.path, place.line, where, p, rule="provenance") for p in problems if p]


def clinic_logo_path(project: Project, clinic: Clinic) -> Path | None:
    """Return where the clinic's logo file should be, relative to its clinic file."""
    if clinic.logo is None:
        return None
    return project.clinic_files[clinic.id].parent / clinic.logo


def shown(project: Project, path: Path) -> str:
    """Return `path` as written in messages: relative to the project when inside it."""
    return display_path(path, project.root)


def _missing_logo(clinic: Clinic, place: Place) -> Issue | None:
    """Say, at the clinic file's `logo:` line, that the logo it names is not there."""
    if clinic.logo is None or (place.file.parent / clinic.logo).is_file():
        return None
    return Issue(
        place.path,
        place.fields.get("logo", place.line),
        "logo",
        f"expected an image file at {clinic.logo!r} (relative to this clinic file), found none",
    )
