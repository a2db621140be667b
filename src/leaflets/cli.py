"""The `leaflets` command: parses options, calls the library, reports. The only place that prints."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
from pathlib import Path

import click

from leaflets import __version__
from leaflets.choices import AUDIENCES, DOCUMENTS, FORMATS, PAPERS
from leaflets.errors import ContentError, LeafletsError, UsageError

log = logging.getLogger("leaflets")


def _stop(signum: int, frame: object) -> None:
    """Turn SIGTERM into SystemExit, so a file being written is removed, not left half-written."""
    raise SystemExit(128 + signum)


class _Group(click.Group):
    """Turn the library's errors into one line each and exit 1; anything else is a bug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except ContentError as exc:
            for issue in exc.issues:
                click.echo(f"Error: {issue}", err=True)
            ctx.exit(1)
        except LeafletsError as exc:
            for line in str(exc).splitlines():
                click.echo(f"Error: {line}", err=True)
            ctx.exit(1)


project_option = click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The project folder (holding content/, seeds/ and templates/).",
)


clinic_option = click.option(
    "--clinic",
    default=None,
    metavar="ID|FILE",
    callback=lambda _ctx, _param, value: _clinic_argument(value),
    help="Clinic, by id (see `leaflets list`) or clinic file (default: the clinic 'example').",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leaflets")
@click.option("-v", "--verbose", count=True, help="Say more (repeat for debug detail).")
@click.option("-q", "--quiet", is_flag=True, help="Say only errors.")
def main(verbose: int, quiet: bool) -> None:
    """Build printable patient leaflets and consent-discussion sheets from sourced content."""
    if signal.getsignal(signal.SIGTERM) is not _stop:
        signal.signal(signal.SIGTERM, _stop)
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    _configure_logging(level)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever sys.stderr is now (click's test runner swaps it per call)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


_HANDLER = _Stderr()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))


def _configure_logging(level: int) -> None:
    """Configure only the project's logger and WeasyPrint's (its warnings are shown), never the root logger."""
    for name, wanted in (("leaflets", level), ("weasyprint", max(level, logging.WARNING))):
        logger = logging.getLogger(name)
        logger.setLevel(wanted)
        logger.propagate = False
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


@main.command()
@project_option
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="ID",
    help="Topic to build (repeatable; default: every topic). See `leaflets list`.",
)
@click.option(
    "--document",
    "documents",
    multiple=True,
    type=click.Choice(DOCUMENTS),
    help="Document to build (repeatable; default: both).",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    type=click.Choice(AUDIENCES),
    help="Audience to build for (repeatable; default: all three).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(FORMATS),
    help="Output format (repeatable; default: pdf and its txt snapshot).",
)
@click.option("--paper", type=click.Choice(PAPERS), default=None, help="Paper size (default: each clinic's papers).")
@click.option(
    "--large-print/--standard-print",
    "large_print",
    default=None,
    help="Only large print (18 pt body) or only standard print (default: both, where the clinic asks for large print).",
)
@click.option(
    "--clinic",
    default=None,
    metavar="ID|FILE",
    help="One clinic, by id (see `leaflets list`) or clinic file (default: every clinic in content/clinics/).",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes making PDFs (default: one per core).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: output/ in the project).",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Templates folder (default: templates/ in the project).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Refuse topics whose next review is before this day (default: today).",
)
def build(
    project: Path,
    topics: tuple[str, ...],
    documents: tuple[str, ...],
    audiences: tuple[str, ...],
    formats: tuple[str, ...],
    paper: str | None,
    large_print: bool | None,
    clinic: str | None,
    jobs: int | None,
    out: Path | None,
    templates: Path | None,
    today: object,
) -> None:
    """Build every edition (clinic x paper x print size) into OUT/<clinic>/<topic>/<document>-<audience>-<paper>[-large].<format>."""
    from leaflets import workers

    # First: they import WeasyPrint while the library loads and renders (build() takes them over).
    workers.prestart(jobs, project, out or project / "output")
    from leaflets.build import BuildOptions
    from leaflets.build import build as run_build

    given = {
        "topics": tuple(topics) or None,
        "documents": tuple(documents) or None,
        "audiences": tuple(audiences) or None,
        "formats": tuple(formats) or None,
        "paper": paper,
        "large_print": large_print,
        "clinic": _clinic_argument(clinic),
        "jobs": jobs,
        "out": out,
        "templates": templates,
        "today": _day(today),
    }
    options = BuildOptions(**{k: v for k, v in given.items() if v is not None})  # defaults live in BuildOptions
    report = run_build(project, options)
    for doc in report.documents:
        for _format, f in sorted(doc.files.items()):
            pages = f" ({f.pages} pages)" if f.pages else ""
            log.info("%s %s%s", "unchanged" if doc.skipped else "wrote", f.path, pages)
    made = sum(1 for d in report.documents if not d.skipped)
    click.echo(
        f"Built {made} documents, {len(report.documents) - made} unchanged, into {report.out} "
        f"(manifest: {report.manifest.name})."
    )


def _day(value: object) -> dt.date:
    """Return the day a --today option gives, or today's date (read here, never inside a build)."""
    return value.date() if value is not None else dt.date.today()  # type: ignore[attr-defined,no-any-return]


def _clinic_argument(clinic: str | None) -> str | Path | None:
    """A --clinic value that names an existing file is a clinic file; otherwise a clinic id."""
    if clinic is None:
        return None
    path = Path(clinic)
    return path if path.suffix in (".yaml", ".yml") or path.exists() else clinic


@main.command("list")
@project_option
def list_(project: Path) -> None:
    """List the topics, documents, audiences, formats and papers available."""
    from leaflets.content import load_project

    loaded = load_project(project)
    click.echo("topics:")
    for topic in loaded.topics.values():
        approved = sorted(r for r in loaded.regions if (loaded.content_dir / "approvals" / f"{topic.id}-{r}.yaml").is_file())
        status = f"approved for {', '.join(approved)}" if approved else "draft"
        click.echo(f"  {topic.id}  {topic.short_title} (version {topic.version}, {status})")
    click.echo("clinics:")
    for clinic in loaded.clinics.values():
        papers = ", ".join(clinic.edition_papers)
        large = ", standard and large print" if clinic.large_print else ", standard print"
        click.echo(f"  {clinic.id}  {clinic.name} (region {clinic.region}, paper {papers}{large})")
    for shown, issues in sorted(loaded.broken_clinics.items()):
        click.echo(f"  ({shown}: not loaded, {len(issues)} problem{'s' if len(issues) != 1 else ''}; see leaflets check)")
    click.echo("regions:")
    for region in loaded.regions.values():
        click.echo(f"  {region.id}  {region.name} ({region.language})")
    click.echo(f"documents: {', '.join(DOCUMENTS)}")
    click.echo(f"audiences: {', '.join(AUDIENCES)}")
    click.echo(f"formats: {', '.join(FORMATS)}")
    click.echo(f"papers: {', '.join(PAPERS)}")


@main.command()
@project_option
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="ID",
    help="Topic to check (repeatable; default: all).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@click.option(
    "--require-approved",
    is_flag=True,
    help="Draft content is an error (exit 1): for printing runs that must be clinically reviewed.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Findings as lines of text, or as JSON for CI.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge review dates as of this day (default: today).",
)
@click.option(
    "--build-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Build folder for the completeness gate (default: output/ in the project).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="First list every statement each document prints, per clinic, document and audience, and why.",
)
def check(
    project: Path,
    topics: tuple[str, ...],
    strict: bool,
    require_approved: bool,
    output_format: str,
    today: object,
    build_dir: Path | None,
    explain: bool,
) -> None:
    """Run the quality gates (rules: schema, regions, safety, provenance, spelling, readability, plain,
    consistency, claims, numbers, balance, review, approval, completeness, length) over every clinic.

    One line per finding: FILE:LINE: SEVERITY: RULE: WHERE: MESSAGE. Errors exit 1; warnings exit 0
    unless --strict; notes (such as draft status) never fail the run unless --require-approved.
    """
    from leaflets.check import explain as explain_topics
    from leaflets.check import format_issue, run_checks

    if explain:
        from leaflets.content import load_project

        for line in explain_topics(load_project(project), tuple(topics)):
            click.echo(line)
    day = today.date() if today is not None else None  # type: ignore[attr-defined]
    report = run_checks(project, tuple(topics), today=day, build_dir=build_dir, require_approved=require_approved)
    if output_format == "json":
        click.echo(report.as_json())
    else:
        for issue in report.issues:
            click.echo(format_issue(issue))
        click.echo(f"{report.errors} errors, {report.warnings} warnings.")
    if report.failed(strict):
        raise SystemExit(1)


@main.command("new-topic")
@project_option
@click.argument("topic_id", metavar="ID")
def new_topic(project: Path, topic_id: str) -> None:
    """Start topic ID: content/topics/ID.yaml, content/statements/ID.yaml and content/outcomes/ID.yaml, with comments.

    Refuses an id that exists. Then follow docs/authoring.md and run `leaflets check --topic ID`.
    """
    from leaflets.scaffold import new_topic as scaffold

    for path in scaffold(project, topic_id):
        click.echo(f"wrote {path.relative_to(project)}")
    click.echo(f"Next: add statements and sources (docs/authoring.md), then `leaflets check --topic {topic_id} --explain`.")


@main.command()
@project_option
@click.argument("old", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("new", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--rev",
    "revs",
    multiple=True,
    metavar="REV",
    help="Build git revision REV (twice: old then new; WORKTREE means the files as they are now).",
)
@click.option(
    "--since-approval",
    is_flag=True,
    help="Compare the content as it is with what its approvals (content/approvals/) recorded.",
)
@click.option("--topic", "topics", multiple=True, metavar="ID", help="With --since-approval: topic (repeatable).")
@click.option("--region", "regions", multiple=True, metavar="R", help="With --since-approval: region (repeatable).")
@click.option(
    "--report",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the HTML report (index.html and page pictures). Default: the project's output/diff/, "
    "which git ignores.",
)
def diff(
    project: Path,
    old: Path | None,
    new: Path | None,
    revs: tuple[str, ...],
    since_approval: bool,
    topics: tuple[str, ...],
    regions: tuple[str, ...],
    report: Path | None,
) -> None:
    """Compare two builds: OLD and NEW folders, --rev A --rev B, or --since-approval.

    Starts with the statements that changed (old and new words, and the documents that print them),
    then each document's review status and its diff, identical changes listed once.
    Exit 0 if nothing changed, 1 if something did.
    """
    from leaflets.diff import DEFAULT_REPORT, compare, compare_revisions, write_html

    folder = report if report is not None else project / DEFAULT_REPORT
    if since_approval:
        if revs or old or new:
            raise click.UsageError(
                "--since-approval compares the content with its approvals: give no OLD, NEW or --rev"
            )
        _since_approval(project, topics, regions, folder)
        return
    if topics or regions:
        raise click.UsageError("--topic and --region go with --since-approval")
    if revs and (old or new):
        raise click.UsageError("give either OLD and NEW folders or two --rev options, not both")
    if revs:
        if len(revs) != 2:
            raise click.UsageError(f"expected two --rev options (old, new), found {len(revs)}")
        result = compare_revisions(project, revs[0], revs[1])
    elif old and new:
        result = compare(old, new)
    else:
        raise click.UsageError("expected OLD and NEW build folders, or --rev A --rev B, or --since-approval")
    counts = {s: len(result.statements_with(s)) for s in ("changed", "added", "removed")}
    click.echo("Statements: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + ".")
    for note in result.notes:
        click.echo(f"  ({note})")
    _echo_statements(result.statements)
    click.echo("Documents:")
    for doc in result.documents:
        pages = f" (pages {', '.join(str(p.number) for p in doc.pages)})" if doc.pages else ""
        review = f" [{doc.review_status}]" if doc.review_status else ""
        click.echo(f"  {doc.status:9} {doc.name}{pages}{review}")
    for group in result.groups():
        names = [d.name for d in group.documents]
        if len(names) > 1:
            click.echo(f"The same change in {len(names)} documents: {', '.join(names)}")
        else:
            click.echo(f"{names[0]}:")
        for line in group.lines or ("(no text changed; the pages look different)",):
            click.echo(f"    {line}")
    index = write_html(result, folder)
    counts = {s: len(result.with_status(s)) for s in ("changed", "added", "removed", "unchanged")}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + f". Report: {index}")
    if result.changed:
        raise SystemExit(1)


def _echo_statements(statements: tuple, indent: str = "  ") -> None:
    """Print each changed statement: its key, its words with `[-old-]{+new+}`, and where it prints."""
    for change in statements:
        click.echo(f"{indent}{change.status:8} {change.key}")
        for text in change.texts:
            words = text.terminal if (text.old, text.new) != (None, None) else "(words not recorded)"
            click.echo(f"{indent}    {words}")
            verb = "printed in" if text.new is not None else "was in"
            count = len(text.documents)
            click.echo(f"{indent}      {verb} {count} document{'' if count == 1 else 's'}: {', '.join(text.documents)}")
        if change.now_in:
            click.echo(f"{indent}    now also in: {', '.join(change.now_in)}")
        if change.no_longer_in:
            click.echo(f"{indent}    no longer in: {', '.join(change.no_longer_in)}")
        if change.note:
            click.echo(f"{indent}    ({change.note})")


def _since_approval(project: Path, topics: tuple[str, ...], regions: tuple[str, ...], folder: Path) -> None:
    from leaflets.diff import since_approval, write_approval_html

    diffs = since_approval(project, tuple(topics), tuple(regions))
    for d in diffs:
        if not d.approved:
            click.echo(f"{d.topic} ({d.region}): not approved yet; all {d.printed} statements are draft.")
            continue
        count = len(d.statements)
        click.echo(
            f"{d.topic} ({d.region}): approved by {d.reviewer} on {d.date}; "
            f"{count} statement{'' if count == 1 else 's'} changed since."
        )
        _echo_statements(d.statements)
        if d.other:
            click.echo(f"  also changed: {', '.join(d.other)}")
        click.echo("  review status of each document:")
        for name, status in d.documents:
            click.echo(f"    {status:9} {name}")
    index = write_approval_html(diffs, folder)
    click.echo(f"Report: {index}")
    if any(d.changed for d in diffs):
        raise SystemExit(1)


@main.command("pdftext")
@click.argument("pdf", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def pdftext(pdf: Path) -> None:
    """Print a PDF's text, one page a paragraph (for `git diff` of PDFs: see the README)."""
    from leaflets.pdftext import page_texts

    for number, words in enumerate(page_texts(pdf), start=1):
        click.echo(f"--- page {number}\n{words}")


@main.command()
@project_option
@click.option(
    "--patients",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="CSV of patients (columns in the README; example: content/patients-example.csv).",
)
@click.option("--topic", "topics", multiple=True, metavar="ID", help="Only rows for this topic (repeatable).")
@clinic_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the packets.")
@click.option("--combined", is_flag=True, help="Also write the whole list as one print file, cover list first.")
@click.option("--duplex", is_flag=True, help="For double-sided printing: every document starts on a front side.")
@click.option(
    "--date-order",
    type=click.Choice(("dmy", "mdy")),
    default=None,
    help="Slashed dates are DD/MM/YYYY (dmy) or MM/DD/YYYY (mdy).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LEAFLETS_KEY_FILE",
    default=None,
    help="The clinic's secret for packet names (default: ~/.config/leaflets/keys/CLINIC.key; made on first use).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Refuse dates of birth after this day (default: today).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes to render with (default: cores).")
@click.option("--allow-draft", is_flag=True, help="Print draft (not clinically reviewed) content, with the draft mark.")
def packets(
    project: Path,
    patients: Path,
    topics: tuple[str, ...],
    clinic: str | Path | None,
    out: Path,
    combined: bool,
    duplex: bool,
    date_order: str | None,
    key_file: Path | None,
    today: object,
    workers: int | None,
    allow_draft: bool,
) -> None:
    """Build one packet per patient: the leaflet, then the consent record with their identifiers on every page.

    Files are owner-only, named by row and a keyed id, never by patient data; packets.csv maps each row
    of the list to its file. Rows already built from the same inputs are kept. Exit 1 if any row failed.
    """
    import datetime as dt

    from leaflets.packets import PacketsOptions, make_packets

    day = today.date() if today is not None else dt.date.today()  # type: ignore[attr-defined]
    options = PacketsOptions(
        patients=patients,
        out=out,
        topics=tuple(topics),
        clinic=clinic,
        workers=workers,
        key_file=key_file,
        combined=combined,
        duplex=duplex,
        date_order=date_order,  # type: ignore[arg-type]
        today=day,
        allow_draft=allow_draft,
    )
    show_bar = sys.stderr.isatty() and not logging.getLogger().isEnabledFor(logging.INFO)

    def progress(rows):  # type: ignore[no-untyped-def]
        if not show_bar:
            yield from rows
            return
        items = list(rows)
        with click.progressbar(items, label="Packets", file=sys.stderr) as bar:
            yield from bar

    report = make_packets(project, options, progress)
    for issue in report.problems:
        click.echo(f"Error: {issue}", err=True)
    combined_file = f" Print file: {report.combined}." if report.combined else ""
    click.echo(f"{report.summary()} Index: {report.index}.{combined_file}")
    if report.failed:
        raise SystemExit(1)


@main.command()
@project_option
@click.option("--topic", required=True, metavar="ID", help="The topic approved.")
@click.option("--region", required=True, metavar="R", help="The region approved (see `leaflets list`).")
@click.option("--reviewer", required=True, metavar='"NAME, ROLE"', help='Who reviewed it: "NAME, ROLE".')
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day of the review (default: today).",
)
def approve(project: Path, topic: str, region: str, reviewer: str, day: object) -> None:
    """Record the clinical approval of exactly what TOPIC's documents print in REGION (content/approvals/).

    Refuses while `leaflets check --topic` finds errors. After any later edit, the documents that
    print a changed statement carry the draft mark again until approved again.
    """
    from leaflets.review import approve as run_approve
    from leaflets.review import reviewer_parts

    name, role = reviewer_parts(reviewer)
    date = _day(day)
    done = run_approve(project, topic, region, name, role, date)
    click.echo(
        f"Approved {topic} for {region}: {done.statements} statements (content {done.fingerprint}), "
        f"reviewed by {name} on {date}. Wrote {done.path}."
    )


@main.command("review-pack")
@project_option
@click.option("--topic", "topics", multiple=True, metavar="ID", help="Topic (repeatable; default: every topic).")
@click.option("--region", "regions", multiple=True, metavar="R", help="Region (repeatable; default: every clinic's).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the packs.")
def review_pack(project: Path, topics: tuple[str, ...], regions: tuple[str, ...], out: Path) -> None:
    """Write the reviewing clinician's pack (HTML and PDF) per topic and region, with a sign-off sheet."""
    from leaflets.review import review_pack as run_pack

    written = run_pack(project, tuple(topics), tuple(regions), out)
    for path in written:
        log.info("wrote %s", path)
    click.echo(f"Wrote {len(written)} files into {out}.")


@main.command()
@project_option
@click.option("--topic", "topics", multiple=True, metavar="ID", help="Topic to preview (repeatable; default: all).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free one).")
@clinic_option
@click.option("--allow-remote", is_flag=True, help="Allow a --host that other machines can reach.")
def serve(
    project: Path, topics: tuple[str, ...], host: str, port: int, clinic: str | Path | None, allow_remote: bool
) -> None:
    """Preview documents in a browser; saving a content or template file reloads the page."""
    from leaflets.serve import Preview, Watcher, is_loopback, make_server

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(f"--host {host} is reachable from other machines; add --allow-remote to mean it")
    preview = Preview(root=project.resolve(), topics=tuple(topics), clinic_file=clinic)
    server = make_server(preview, host, port)  # first: a taken port is said before a minute of rendering
    try:
        preview.reload()
    except BaseException:
        server.server_close()
        raise
    watcher = Watcher(preview).start()
    click.echo(f"Previewing on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        server.server_close()
