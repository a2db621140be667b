"""install.sh's look for system libraries, on machines this one can stand in for."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO as ROOT

LIBS = ["libpango-1.0.so.0", "libpangoft2-1.0.so.0", "libharfbuzz-subset.so.0", "libfontconfig.so.1"]
TOOLS = ("bash", "dirname", "find", "grep", "id", "tr", "cat")


@pytest.fixture
def fake_path(tmp_path: Path) -> Path:
    """A PATH with the few tools install.sh uses and no ldconfig, as a normal user's PATH often is."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    script(bin_dir / "uname", "echo Linux")
    return bin_dir


def script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def detect(bin_dir: Path, lib_dirs: list[Path], sbin_dirs: list[Path] = ()) -> list[str]:
    env = {
        "PATH": str(bin_dir),
        "LIB_DIRS": " ".join(map(str, lib_dirs)),
        "SBIN_DIRS": " ".join(map(str, sbin_dirs)),
        "HOME": os.environ.get("HOME", "/"),
    }
    result = subprocess.run(
        [str(bin_dir / "bash"), str(ROOT / "install.sh"), "--detect"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_without_ldconfig_libraries_are_found_in_their_folders(fake_path, tmp_path):
    libs = tmp_path / "usr" / "lib" / "x86_64-linux-gnu"
    libs.mkdir(parents=True)
    (libs / "libpango-1.0.so.0").write_text("")
    (libs / "libfontconfig.so.1").write_text("")
    assert detect(fake_path, [tmp_path / "usr" / "lib", tmp_path / "nowhere"]) == [
        "libpangoft2-1.0.so.0",
        "libharfbuzz-subset.so.0",
    ]


def test_without_ldconfig_or_libraries_everything_is_missing(fake_path, tmp_path):
    assert detect(fake_path, [tmp_path]) == LIBS


def test_ldconfig_outside_path_is_still_asked(fake_path, tmp_path):
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    listing = "\\n".join(f"\\t{lib} (libc6,x86-64) => /usr/lib/{lib}" for lib in LIBS)
    script(sbin / "ldconfig", f'[ "$1" = -p ] && printf "{listing}\\n"')
    assert detect(fake_path, [tmp_path / "empty"], [sbin]) == []


def test_homebrew_libraries_on_macos(fake_path, tmp_path):
    script(fake_path / "uname", "echo Darwin")
    brew = tmp_path / "opt" / "homebrew" / "lib"
    brew.mkdir(parents=True)
    for name in ("libpango-1.0.0.dylib", "libpangoft2-1.0.0.dylib", "libharfbuzz-subset.0.dylib"):
        (brew / name).write_text("")
    assert detect(fake_path, [brew]) == ["libfontconfig.so.1"]


def test_this_machine_has_what_weasyprint_needs():
    result = subprocess.run(["bash", str(ROOT / "install.sh"), "--detect"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == ""
