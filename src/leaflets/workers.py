"""The processes that make PDFs: started first, so each imports WeasyPrint (half a second) while the
main process loads the content and renders the HTML, and fed each document as soon as its HTML is ready.

Only the standard library is imported here (and, to prestart, leaflets.output's file-time guess):
`leaflets build` starts one worker before it imports the rest of the library (`prestart`); `build()`
takes it over (or starts its own when called from Python) and adds one per further core, or up to
--jobs, once it knows how many documents changed. On a one-core machine, unless --jobs asks for
workers, PDFs are made in the main process.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: What a worker is given: the folders it may read, the templates folder, the HTML, the document's name.
Task = tuple[tuple[Path, ...], Path, str, str]

_CONTEXT = multiprocessing.get_context("fork")
_PRESTARTED: list[PdfWorkers] = []


class PdfWorkers:
    """Worker processes sharing one queue of documents; none at all on a one-core machine."""

    def __init__(self, count: int = 0):
        self.processes: list[Any] = []
        self.tasks: Any = None
        self.results: Any = None
        self.sent = 0
        self.grow(count)

    @property
    def active(self) -> bool:
        return bool(self.processes)

    def grow(self, count: int) -> None:
        """Have at least `count` workers."""
        if count > 0 and self.tasks is None:
            self.tasks, self.results = _CONTEXT.Queue(), _CONTEXT.Queue()
        while len(self.processes) < count:
            process = _CONTEXT.Process(target=_serve, args=(self.tasks, self.results), daemon=True)
            process.start()
            self.processes.append(process)

    def submit(self, name: str, task: Task) -> None:
        """Queue one document; its PDF comes back from `collect`."""
        assert self.active
        self.tasks.put((name, task))
        self.sent += 1

    def collect(self) -> Iterator[tuple[str, tuple[bytes, int]]]:
        """Yield (name, (pdf, pages)) for every document submitted, as each is done; a worker's error is
        raised here, and a worker that died is an error, not a wait forever."""
        while self.sent:
            try:
                name, ok, value = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.processes if not p.is_alive()]
                if dead:
                    raise RuntimeError(f"a PDF worker stopped (exit code {dead[0].exitcode})") from None
                continue
            self.sent -= 1
            if not ok:
                raise value
            yield name, value

    def stop(self) -> None:
        """Stop the workers at once, wherever they are; documents still queued are dropped."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.join()
        self.processes = []
        self._close_queues(drop=True)

    def close(self) -> None:
        """Let the workers finish and exit."""
        for _ in self.processes:
            self.tasks.put(None)
        for process in self.processes:
            process.join()
        self.processes = []
        self._close_queues(drop=False)

    def _close_queues(self, drop: bool) -> None:
        for channel in (self.tasks, self.results):
            if channel is not None:
                if drop:  # nobody reads it any more: do not wait at exit for its pipe to drain
                    channel.cancel_join_thread()
                channel.close()
        self.tasks = self.results = None
        self.sent = 0


def worker_count(jobs: int | None) -> int:
    """`jobs` workers when given; otherwise one per core, and none on a one-core machine."""
    if jobs:
        return jobs
    cores = os.cpu_count() or 1
    return 0 if cores == 1 else cores


def prestart(jobs: int | None, project: Path, out: Path) -> None:
    """Start one worker now, for the next `pdf_workers` to take over, unless `out` looks up to date.

    Up to date is a guess from file times, to spare a rebuild with nothing to do a worker competing
    with it for the cores; `build()` decides from hashes, and starts workers itself if the guess was wrong.
    """
    from leaflets.output import changed_since_built

    if not _PRESTARTED and worker_count(jobs) and changed_since_built(out, project):
        _PRESTARTED.append(PdfWorkers(1))


@contextmanager
def pdf_workers() -> Iterator[PdfWorkers]:
    """Yield the prestarted workers, or none yet (`grow` adds them); stop them on error, close them after."""
    workers = _PRESTARTED.pop() if _PRESTARTED else PdfWorkers()
    try:
        yield workers
    except BaseException:
        workers.stop()
        raise
    workers.close()


def _serve(tasks: Any, results: Any) -> None:
    """A worker: warm up, then make PDFs until told to stop (None)."""
    from leaflets.pdf import warm_up

    warm_up()
    while (item := tasks.get()) is not None:
        name, task = item
        try:
            results.put((name, True, make_pdf(task)))
        except Exception as exc:  # the main process raises it; an unpicklable one is said in words
            results.put((name, False, _picklable(exc)))


def _picklable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


_MAKERS: dict[tuple[Any, ...], Any] = {}


def make_pdf(task: Task) -> tuple[bytes, int]:
    """Make one PDF, reusing this process's maker (and its font configuration) for the same folders."""
    roots, templates, html, name = task
    key = (roots, templates)
    if key not in _MAKERS:
        from leaflets.pdf import PdfMaker

        _MAKERS[key] = PdfMaker(roots=roots, base_url=templates.as_uri() + "/")
    result: tuple[bytes, int] = _MAKERS[key].make(html, name)
    return result
