"""The output stage: the output folder, atomic writes, and the manifest of what a build wrote."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from leaflets.errors import OutputError

MANIFEST = "manifest.json"


def prepare_output(out: Path) -> Path:
    """Create the output folder, or say clearly why it cannot be used."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: expected an output folder, found a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    clear_for_writing(out)
    return out


def clear_for_writing(out: Path) -> None:
    """Say clearly if `out` cannot be written; remove what a run killed mid-write left behind."""
    if not os.access(out, os.W_OK):
        raise OutputError(f"{out}: expected a writable output folder, found it read-only")
    for leftover in out.rglob(".*.part"):
        leftover.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file, so no reader ever sees half a file.

    `mode` (for example 0o600 for patient data) is set whatever the umask; by default the umask decides.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The name is chosen before the file exists, so a stop (SIGTERM) at any moment, even while the
        # file is being created, leaves nothing behind: the cleanup knows what to remove.
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, mode if mode is not None else 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """Return the entries of `out`'s manifest by document id (empty when there is none)."""
    try:
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["documents"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(old, list):
        return {}
    return {e["id"]: e for e in old if isinstance(e, dict) and isinstance(e.get("id"), str)}


def changed_since_built(out: Path, project: Path) -> bool:
    """Say whether a file the build reads (content/, seeds/, templates/) is newer than `out`'s manifest,
    or there is no manifest: a guess from file times (the build itself decides from hashes)."""
    try:
        built = (out / MANIFEST).stat().st_mtime
        return any(
            path.stat().st_mtime > built
            for folder in (project / "content", project / "seeds", project / "templates")
            for path in folder.rglob("*")
            if path.is_file()
        )
    except OSError:
        return True


def write_manifest(out: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """Write `out`/manifest.json: one entry per document, sorted by id."""
    path = out / MANIFEST
    body = {"documents": [entries[k] for k in sorted(entries)]}
    write_atomic(path, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path
