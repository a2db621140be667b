"""`leaflets new-topic`: the three files a new topic starts from, with comments saying what goes where.

The files load as they are (no statements yet), so the rest of the project still builds, and
`leaflets check --topic ID` lists what the topic still lacks. docs/authoring.md is the full guide.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from leaflets.errors import LeafletsError, UsageError

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_TOPIC = """\
# Topic {id}: its titles, version and dates. See docs/authoring.md, "Add a topic".
id: {id}
short_title: "{title}"  # in lists and running lines
title:
  patient: "{title}: information for patients"
  caregiver: "{title}: for family and carers"
  clinician: "{title}: clinician information"
version: "0.1"
published: {published}
next_review: {next_review}  # within 3 years; check warns 30 days before
# Headings this topic words its own way, by string name in content/strings.yaml.
headings:
  condition: "What is the condition?"  # for example "What is severe depression?"
# The key points box in this order: ids of key-points statements (others follow in content order).
key_points: []
"""

_STATEMENTS = """\
# Statements for topic {id}. Nothing reaches this topic unless it names it: `topics: [{id}]`,
# a family in content/families.yaml that lists {id}, or `general: true` (true of any treatment).
# `leaflets check --topic {id}` needs this topic's own benefits, harms and options (general ones do
# not count), and every reference or seed it cites must be about {id} or marked general.
# Every field is described in docs/authoring.md, "The statement format".
statements: []
# An example to copy (remove the leading "# " and put it under statements:):
#  - id: {id}-what
#    section: what-it-is          # where it sits: key-points, condition, what-it-is, benefits, risks-day, options, ...
#    topics: [{id}]
#    text:
#      patient: "One or two short sentences a patient reads."
#      clinician: "The same fact, for clinicians."
#    sources:
#      - ref: a-reference-id      # in content/references.yaml, with topics: [{id}] or general: true
#        detail: "section 1.2"    # where in the reference the fact stands
"""

_OUTCOMES = """\
# Numbers for topic {id}: one outcome per record, per 100 people, with its comparison and source.
# Statements show them as [[outcome-id.treatment]], [[outcome-id.comparison]] or [[outcome-id.difference]];
# never type a figure into a statement. A benefit or harm outcome counts for check's balance rule.
outcomes: []
# An example to copy:
#  - id: {id}-response
#    kind: benefit                # or harm
#    topics: [{id}]
#    measure: {{patient: "Depression got at least half better"}}
#    group: {{patient: "Adults with severe depression"}}
#    timeframe: {{patient: "after 4 weeks"}}
#    certainty: one-trial         # several-trials, one-trial, mixed-trials, small-studies, observational
#    treatment: {{label: {{patient: "With the treatment"}}, per100: 50}}
#    comparison: {{label: {{patient: "Without it"}}, per100: 30}}
#    source: {{ref: a-reference-id, detail: "Table 2"}}
"""


def scaffold_files(root: Path, topic: str, today: dt.date) -> dict[Path, str]:
    """Return the three files of a new topic, published `today` and due for review a year later."""
    content = root / "content"
    fields = {
        "id": topic,
        "title": topic.replace("-", " ").capitalize(),
        "published": today.isoformat(),
        "next_review": _a_year_after(today).isoformat(),
    }
    return {
        content / "topics" / f"{topic}.yaml": _TOPIC.format(**fields),
        content / "statements" / f"{topic}.yaml": _STATEMENTS.format(**fields),
        content / "outcomes" / f"{topic}.yaml": _OUTCOMES.format(**fields),
    }


def new_topic(root: Path, topic: str, today: dt.date | None = None) -> list[Path]:
    """Write the files of a new topic under `root`; refuse an id or a file that exists already."""
    if not _ID.match(topic) or len(topic) > 80:
        raise UsageError(
            f"expected a topic id of lowercase letters, digits and hyphens (such as 'ect'), found '{topic}'"
        )
    if not (root / "content").is_dir():
        raise LeafletsError(f"{root}: expected a leaflets project with a content/ folder, found none")
    files = scaffold_files(root, topic, today or dt.date.today())
    taken = sorted({path for path in files if path.exists()} | set(_topic_files_with_id(root, topic)))
    if taken:
        shown = ", ".join(str(path.relative_to(root)) for path in taken)
        raise LeafletsError(f"topic '{topic}' exists already: {shown} (choose another id)")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _topic_files_with_id(root: Path, topic: str) -> list[Path]:
    """Return topic files under another name that already declare `id: topic`."""
    declares = re.compile(rf"^id:\s*['\"]?{re.escape(topic)}['\"]?\s*$", re.MULTILINE)
    return [
        p
        for p in sorted((root / "content" / "topics").glob("*.yaml"))
        if declares.search(p.read_text(encoding="utf-8"))
    ]


def _a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
