"""The one Jinja environment: selected content -> HTML, and HTML -> plain text."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from leaflets import assets
from leaflets.content import Project
from leaflets.errors import LeafletsError
from leaflets.figures import icon_array
from leaflets.model import Audience, Outcome
from leaflets.select import DocumentSpec, Selection, describe_difference, describe_per100

if TYPE_CHECKING:
    from leaflets.approval import ReviewMark


@dataclass(frozen=True)
class LeafletRef:
    """The leaflet a consent sheet refers to: filled in by the build, never by hand."""

    title: str
    version: str
    fingerprint: str


@dataclass(frozen=True)
class Rendered:
    """A document rendered to HTML and text, before any PDF is made, with what it was made from."""

    spec: DocumentSpec
    html: str
    text: str
    selection: Selection
    review: ReviewMark | None = None


def make_environment(templates_dir: Path) -> SandboxedEnvironment:
    """Create the sandboxed, autoescaping, strict Jinja environment for `templates_dir`."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    env.globals["font_url"] = assets.font_data_url  # screen.css: the bundled font, loadable by a browser
    return env


def css_string(value: object) -> Markup:
    """Quote `value` as a CSS string, escaping everything but letters, digits and spaces.

    Each escape ends with a space, which CSS consumes, so the text's own spaces survive.
    """
    out = []
    for ch in str(value):
        if ch.isascii() and (ch.isalnum() or ch == " "):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return Markup('"' + "".join(out) + '"')


def render_html(
    env: SandboxedEnvironment,
    project: Project,
    selection: Selection,
    *,
    leaflet: LeafletRef | None = None,
    logo_url: str | None = None,
    media: str = "print",
    review: ReviewMark | None = None,
    printed: set[str] | None = None,
) -> str:
    """Render one document to HTML with its template; `printed` collects the keys of the strings it prints."""
    spec = selection.spec
    template_name = f"{spec.document}.html.j2"
    t = _topic_headings(selection, _strings(project, spec.audience, selection.region.id, printed))
    context = {
        "sel": selection,
        "spec": spec,
        "topic": selection.topic,
        "clinic": selection.clinic,
        "title": selection.topic.title.for_audience(spec.audience),
        "t": t,
        "date": _date_formatter(project, spec.audience, selection.region.id, printed),
        "review": review,
        "leaflet": leaflet,
        "logo_url": logo_url,
        "media": media,
        "region": selection.region,
        "lang": selection.region.language,
        "per100": lambda value: describe_per100(value, spec.audience),
        "difference": lambda outcome: difference_cell(outcome, spec.audience, t),
        "icon_array": icon_array,
        "key_outcomes": key_outcomes(selection),
        "icon_outcomes": icon_outcomes(selection),
        "shown_outcomes": shown_outcomes(selection),
    }
    try:
        return env.get_template(template_name).render(context)
    except TemplateError as exc:
        raise LeafletsError(f"templates/{template_name}: {exc}") from exc


def difference_cell(outcome: Outcome, audience: Audience, t: Callable[[str], str]) -> str:
    """Return the fact box's Difference for `outcome`: the absolute difference, or, for a trial that
    tested only "not worse", that finding (clinicians also get the observed difference beside it)."""
    if outcome.design == "non-inferiority":
        words = t("difference-non-inferiority")
        return f"{words} ({describe_difference(outcome, audience)})" if audience == "clinician" else words
    return describe_difference(outcome, audience)


def key_outcomes(selection: Selection) -> list[Outcome]:
    """Return the first key benefit and the first key harm: the ones drawn as icon arrays."""
    firsts = []
    for kind in ("benefit", "harm"):
        firsts += [o for o in selection.outcomes if o.kind == kind and o.key][:1]
    return firsts


def icon_outcomes(selection: Selection) -> list[Outcome]:
    """Return the outcomes drawn as full-size icon arrays: in a consent record every key benefit and key
    harm in its fact box (STANDARDS: the key benefit and the key harms); elsewhere the first of each."""
    if selection.spec.document != "consent":
        return key_outcomes(selection)
    return [o for o in shown_outcomes(selection) if o.key and o.kind in ("benefit", "harm")]


def shown_outcomes(selection: Selection) -> list[Outcome]:
    """Return the outcomes a document's fact box shows: the key ones in a leaflet, all in a consent record."""
    boxed = [o for o in selection.outcomes if o.fact_box]
    if selection.spec.document == "leaflet":
        return [o for o in boxed if o.key]
    return boxed


def _strings(
    project: Project, audience: str, region: str | None = None, printed: set[str] | None = None
) -> Callable[[str], str]:
    def t(key: str) -> str:
        if printed is not None:
            printed.add(key)
        try:
            return project.string(key, audience, region)
        except KeyError:
            raise LeafletsError(f"content/strings.yaml: expected a string named '{key}', found none") from None

    return t


def _topic_headings(selection: Selection, t: Callable[[str], str]) -> Callable[[str], str]:
    """Return `t` with the topic's own headings first (in its region's spelling): `headings:` in the topic file."""
    headings = selection.topic.headings

    def heading(key: str) -> str:
        return selection.region.spell(headings[key]) if key in headings else t(key)

    return heading


def _date_formatter(
    project: Project, audience: str, region: str | None = None, printed: set[str] | None = None
) -> Callable[[dt.date], str]:
    t = _strings(project, audience, region, printed)

    def date(value: dt.date) -> str:
        return f"{value.day} {t(f'month-{value.month}')} {value.year}"

    return date


_BLOCKS = {
    "p",
    "div",
    "section",
    "header",
    "footer",
    "aside",
    "h1",
    "h2",
    "h3",
    "h4",
    "li",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "blockquote",
}
_SKIP = {"style", "script", "head", "title"}


class _TextMaker(HTMLParser):
    """Walk rendered HTML and keep its words in reading order, one block a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
            return
        if tag == "tr":
            self._flush()
            self.cells = []
            return
        if tag in ("td", "th"):
            self._flush_cell()
            return
        if tag in _BLOCKS or tag == "br":
            self._flush()
        if tag in ("h1", "h2", "h3", "h4"):
            self.current.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.current.append("[ ] " if "tick" in classes else "- ")
        if "field" in classes:
            self.current.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip -= 1
            return
        if tag in ("td", "th"):
            self._flush_cell()
        elif tag == "tr" and self.cells is not None:
            self._flush_cell()
            row = " | ".join(c for c in self.cells if c)
            self.cells = None
            if row:
                self.lines.append(row)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def _flush_cell(self) -> None:
        text = _squash("".join(self.current))
        self.current = []
        if self.cells is not None and text:
            self.cells.append(text)

    def _flush(self) -> None:
        if self.cells is not None:
            return
        text = _squash("".join(self.current))
        self.current = []
        if text and text not in ("-", "[ ]", "#", "##", "###"):
            self.lines.append(text)

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines) + "\n"


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def html_to_text(html: str) -> str:
    """Return the document's words in reading order: one paragraph, item or row a line."""
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    return maker.text()


def fingerprint(text: str) -> str:
    """Return the short hash that identifies a document's wording."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
