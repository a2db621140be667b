"""One project session: the loaded content, one clinic, the template environment and one PDF maker.

Every command (build, check, serve, packets, review) opens a session rather than deciding for itself
how to load content, pick a clinic, find templates or render a document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leaflets import assets
from leaflets.approval import (
    REVIEW_STRINGS,
    Approval,
    Current,
    ReviewMark,
    compare,
    current,
    load_approvals,
    string_hashes,
)
from leaflets.content import Project, clinic_logo_path, load_project
from leaflets.errors import ContentError, LeafletsError, UsageError, did_you_mean
from leaflets.model import Clinic
from leaflets.render import LeafletRef, Rendered, fingerprint, html_to_text, make_environment, render_html
from leaflets.select import DocumentSpec, Selection, select

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from leaflets.pdf import PdfMaker

#: The clinic a command uses when none is named and the project has several.
DEFAULT_CLINIC = "example"


def open_project(root: Path, extra_clinic: Path | None = None) -> Project:
    """Load and validate the project at `root` (every problem at once, or ContentError)."""
    return load_project(root, extra_clinic=extra_clinic)


def open_session(root: Path, clinic: str | Path | None = None, templates: Path | None = None) -> Session:
    """Load the project at `root` and open a session for one clinic (an id, a clinic file, or the default).

    A clinic file outside the project is loaded with it, so every command takes the same `--clinic`.
    """
    project = open_project(root, extra_clinic=Path(clinic) if isinstance(clinic, Path) else None)
    return Session.open(project, resolve_clinic(project, clinic), templates)


def resolve_clinic(project: Project, clinic: str | Path | None) -> Clinic:
    """Return the clinic named by id or file path, or the project's default clinic.

    A clinic file that did not load is an error naming its problems, never a silent fallback.
    """
    if clinic is None:
        if DEFAULT_CLINIC in project.clinics:
            return project.clinics[DEFAULT_CLINIC]
        if len(project.clinics) == 1:
            return next(iter(project.clinics.values()))
        _raise_broken(project, None)
        raise UsageError(
            f"--clinic: expected a clinic id ({', '.join(sorted(project.clinics)) or 'none loaded'}), "
            f"found none and no clinic '{DEFAULT_CLINIC}'"
        )
    if isinstance(clinic, str) and clinic in project.clinics:
        return project.clinics[clinic]
    path = Path(clinic)
    for cid, file in project.clinic_files.items():
        if path.exists() and file.resolve() == path.resolve():
            return project.clinics[cid]
    _raise_broken(project, path)
    raise UsageError(
        f"--clinic: expected a clinic id ({', '.join(sorted(project.clinics))}) or a clinic file, found '{clinic}'"
    )


def logo_url(project: Project, clinic: Clinic, roots: tuple[Path, ...], inline: bool) -> str | None:
    """Return the clinic logo's URL, refused outside `roots`: a file URL for PDFs, inlined for standalone HTML."""
    logo = clinic_logo_path(project, clinic)
    if logo is None:
        return None
    path = assets.guard_path(logo, roots, "clinic logo")
    assets.image_type(path, "clinic logo")
    return assets.data_url(path, "clinic logo") if inline else path.as_uri()


def _raise_broken(project: Project, path: Path | None) -> None:
    """Raise the problems of the clinic file `path` names (a path, or an id that is the file's name)."""
    for shown, issues in project.broken_clinics.items():
        file = Path(shown)
        if (
            path is None
            or (project.root / shown).resolve() == path.resolve()
            or file.resolve() == path.resolve()
            or (len(path.parts) == 1 and file.stem == path.name)
        ):
            raise ContentError(list(issues))


def check_topics(project: Project, topics: tuple[str, ...]) -> tuple[str, ...]:
    """Return the topic ids `topics` names (any case; every topic when empty), sorted.

    The one place `--topic` is validated: an unknown topic is a usage error, with a did-you-mean.
    """
    known = {t.casefold(): t for t in project.topics}
    unknown = sorted(t for t in topics if t.casefold() not in known)
    if unknown:
        raise UsageError(
            f"--topic: expected one of {', '.join(sorted(project.topics))}, found {', '.join(unknown)}"
            f"{did_you_mean(unknown[0], project.topics)}"
        )
    return tuple(sorted({known[t.casefold()] for t in topics} or project.topics))


@dataclass
class Session:
    """What every document rendered for one clinic shares."""

    project: Project
    clinic: Clinic
    templates: Path
    env: SandboxedEnvironment
    _maker: PdfMaker | None = field(default=None, init=False)
    _leaflets: dict[DocumentSpec, LeafletRef] = field(default_factory=dict, init=False)
    _approvals: dict[tuple[str, str], Approval] | None = field(default=None, init=False)
    _current: dict[tuple[str, str], Current] = field(default_factory=dict, init=False)

    @classmethod
    def open(cls, project: Project, clinic: Clinic, templates: Path | None = None) -> Session:
        """Start a session for `clinic`, with the project's templates unless others are given."""
        folder = (templates or project.root / "templates").resolve()
        if not folder.is_dir():
            raise LeafletsError(f"{folder}: expected a templates folder, found none")
        return cls(project, clinic, folder, make_environment(folder))

    @property
    def roots(self) -> tuple[Path, ...]:
        """Return the folders a document may load files from (templates, content, the clinic's own)."""
        clinic_dir = self.project.clinic_files[self.clinic.id].parent.resolve()
        return tuple(dict.fromkeys((self.templates, self.project.content_dir.resolve(), clinic_dir)))

    @property
    def maker(self) -> PdfMaker:
        """Return the session's one PDF maker (WeasyPrint imported on first use)."""
        if self._maker is None:
            from leaflets.pdf import PdfMaker

            self._maker = PdfMaker(roots=self.roots, base_url=self.templates.as_uri() + "/")
        return self._maker

    def spec(self, topic: str, document: str, audience: str, paper: str | None = None, large: bool = False) -> DocumentSpec:
        """Return a document spec for this session's clinic (its paper unless one is given)."""
        return DocumentSpec(topic, document, audience, paper or self.clinic.edition_papers[0], large, self.clinic.id)  # type: ignore[arg-type]

    def select(self, spec: DocumentSpec) -> Selection:
        """Resolve what `spec` prints."""
        return select(self.project, spec, self.clinic)

    def logo_url(self, inline: bool) -> str | None:
        """Return the clinic logo's URL: a guarded file URL for PDFs, or inlined for standalone HTML."""
        return logo_url(self.project, self.clinic, self.roots, inline)

    @property
    def approvals(self) -> dict[tuple[str, str], Approval]:
        """Return the project's approvals by (topic, region), read once."""
        if self._approvals is None:
            self._approvals = load_approvals(self.project)
        return self._approvals

    def current(self, topic: str) -> Current:
        """Return what every document of `topic` prints in this clinic's region, hashed (resolved once)."""
        key = (topic, self.clinic.region)
        if key not in self._current:
            self._current[key] = current(self.project, topic, self.clinic.region)
        return self._current[key]

    def review_mark(self, selection: Selection, strings: set[str] | None = None) -> ReviewMark:
        """Compare what `selection` prints (and the strings its rendering printed) with its approval."""
        spec = selection.spec
        approval = self.approvals.get((spec.topic, self.clinic.region))
        if approval is None:
            return compare(None, self.current(spec.topic), selection)
        printed = string_hashes(self.project, spec.audience, self.clinic.region, strings) if strings else None
        return compare(approval, self.current(spec.topic), selection, printed)

    def render(self, spec: DocumentSpec, media: str = "print") -> Rendered:
        """Render one document to HTML and text; a consent record cites the leaflet it goes with.

        The review mark comes from comparing what the document prints with its approval; a string
        the approval did not cover turns up only while rendering, so then it is rendered again.
        """
        selection = self.select(spec)
        if selection.problems:
            raise ContentError(list(selection.problems))
        leaflet = self.leaflet_ref(spec) if spec.document == "consent" else None
        mark = self.review_mark(selection)
        printed: set[str] = set()
        html = self._html(selection, leaflet, media, mark, printed)
        if mark.approved:
            checked = self.review_mark(selection, printed)
            if not checked.approved:
                mark = checked
                html = self._html(selection, leaflet, media, mark, set())
        return Rendered(spec, html, html_to_text(html), selection, mark)

    def printed_strings(self, spec: DocumentSpec) -> set[str]:
        """Return the keys of every string `spec` prints, with those its review line may print."""
        selection = self.select(spec)
        leaflet = self.leaflet_ref(spec) if spec.document == "consent" else None
        printed = set(REVIEW_STRINGS)
        self._html(selection, leaflet, "print", self.review_mark(selection), printed)
        return printed

    def _html(
        self, selection: Selection, leaflet: LeafletRef | None, media: str, mark: ReviewMark, printed: set[str]
    ) -> str:
        return render_html(
            self.env,
            self.project,
            selection,
            leaflet=leaflet,
            logo_url=self.logo_url(inline=media != "print"),
            media=media,
            review=mark,
            printed=printed,
        )

    def leaflet_ref(self, spec: DocumentSpec) -> LeafletRef:
        """Return the title, version and leaflet code of the leaflet a consent record cites."""
        given = spec.leaflet()
        given = DocumentSpec(given.topic, given.document, given.audience, given.paper, given.large_print, self.clinic.id)
        if given not in self._leaflets:
            rendered = self.render(given)
            topic = self.project.topics[spec.topic]
            title = topic.title.for_audience(given.audience) or topic.short_title
            self._leaflets[given] = LeafletRef(title, topic.version, fingerprint(rendered.text))
        return self._leaflets[given]
