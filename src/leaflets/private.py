"""Keep patient data owner-only on disk: private folders and files, and the clinic's packet key.

Files are 0600 and folders 0700 whatever the umask, because clinics run on shared computers. The
key (HMAC) that names packets lives outside the output folder, one per clinic, made on first use.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path

from leaflets.errors import Issue, LeafletsError, OutputError
from leaflets.output import clear_for_writing, write_atomic

log = logging.getLogger(__name__)


def default_key_file(clinic_id: str) -> Path:
    """Return where a clinic's packet key lives: $XDG_CONFIG_HOME/leaflets/keys/<clinic>.key (~/.config)."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "leaflets" / "keys" / f"{clinic_id}.key"


def load_key(path: Path, out: Path) -> bytes:
    """Return the clinic's packet key, creating it owner-only on first use; never inside the output folder."""
    if path.resolve().is_relative_to(out.resolve()):
        raise LeafletsError(f"{path}: expected the packet key outside the output folder {out}, found it inside")
    if not path.exists():
        _create_key(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        mode = stat.S_IMODE(path.stat().st_mode)
    except (OSError, UnicodeDecodeError):
        raise LeafletsError(f"{path}: cannot read the packet key") from None
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise LeafletsError(f"{path}: expected a packet key of 64 hex digits, found something else")
    if mode & 0o077:
        log.warning("%s: other users can read this packet key (mode %o); run chmod 600 on it", path, mode)
    return bytes.fromhex(text)


def _create_key(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(secrets.token_hex(32) + "\n")
    except FileExistsError:
        return  # another run made it first
    except OSError as exc:
        raise LeafletsError(f"{path}: cannot create the packet key: {exc.strerror}") from None
    log.info("created the packet key %s (keep it: without it, packets are rebuilt under new names)", path)


def prepare_private_folder(out: Path) -> list[Issue]:
    """Create the output folder owner-only (0700); warn once if an existing one lets others in."""
    issues = []
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: expected an output folder, found a file")
    if out.exists():
        mode = stat.S_IMODE(out.stat().st_mode)
        if mode & 0o077:
            message = (
                f"other accounts on this machine can open this folder (mode {mode:o}); the packets in it are "
                "owner-only, but choose a private folder or run chmod 700 on it"
            )
            issues.append(Issue(str(out), 0, "", message, "warning", "packets"))
    else:
        try:
            out.mkdir(parents=True, mode=0o700)
            os.chmod(out, 0o700)  # mkdir's mode passes through the umask
        except OSError as exc:
            raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from None
    clear_for_writing(out)
    return issues


def write_private(path: Path, data: bytes) -> None:
    """Write `data` owner-only (0600, whatever the umask) through a temporary file, so no reader sees half."""
    write_atomic(path, data, mode=0o600)


def make_private(path: Path) -> None:
    """Make a file kept from an earlier run owner-only too."""
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        os.chmod(path, 0o600)
