#!/usr/bin/env bash
# Set up leaflets and build the default documents into output/.
#
#   ./install.sh            the system libraries WeasyPrint needs (when missing), a virtual environment
#                           in .venv with leaflets in it, then `leaflets build`
#   ./install.sh --dev      the same, plus the test tools (pytest, hypothesis, playwright)
#   ./install.sh --detect   only say which system libraries are missing (one per line); changes nothing
#
# Environment: PYTHON (default python3) picks the interpreter, VENV (default .venv) the environment.
# Works as root or as a normal user (then apt-get runs through sudo), on Debian/Ubuntu with or without
# ldconfig on PATH, and on macOS with Homebrew (brew install pango).
# LIB_DIRS and SBIN_DIRS (space-separated folders) change where libraries and ldconfig are looked for;
# the tests use them to stand in for other machines.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
LIBS=(libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1)
APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1)
read -r -a LIB_DIRS <<< "${LIB_DIRS:-/lib /usr/lib /lib64 /usr/lib64 /usr/local/lib /opt/homebrew/lib /usr/local/opt/pango/lib}"
read -r -a SBIN_DIRS <<< "${SBIN_DIRS-/sbin /usr/sbin}"

# Is a shared library present? ldconfig's cache where it can be found (it lives in /sbin, which a
# normal user's PATH often lacks), else a look through the usual library folders.
have_lib() {
  local lib=$1 ldconfig_bin search=$PATH dir
  for dir in "${SBIN_DIRS[@]}"; do search="$search:$dir"; done
  ldconfig_bin=$(PATH="$search" command -v ldconfig 2>/dev/null || true)
  if [ -n "$ldconfig_bin" ] && "$ldconfig_bin" -p 2>/dev/null | grep -qF "$lib"; then
    return 0
  fi
  local stem=${lib%%.so*}
  for dir in "${LIB_DIRS[@]}"; do
    [ -d "$dir" ] || continue
    if find "$dir" -maxdepth 2 \( -name "$lib" -o -name "$stem.*dylib" \) -print -quit 2>/dev/null | grep -q .; then
      return 0
    fi
  done
  return 1
}

missing_libs() {
  local lib
  for lib in "${LIBS[@]}"; do
    have_lib "$lib" || echo "$lib"
  done
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install.sh: need root to run '$*': run it as root (or install sudo), then ./install.sh again." >&2
    exit 1
  fi
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

install_system_libraries() {
  local need
  need=$(missing_libs)
  [ -z "$need" ] && return 0
  if command -v apt-get >/dev/null 2>&1; then
    apt_install "${APT_PACKAGES[@]}"
  elif [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
    brew install pango
  elif [ "$(uname -s)" = Darwin ]; then
    echo "install.sh: missing system libraries: $(echo "$need" | tr '\n' ' ')- install Homebrew (https://brew.sh), then 'brew install pango'." >&2
    exit 1
  else
    echo "install.sh: missing system libraries: $(echo "$need" | tr '\n' ' ')- install Pango 1.44+ and HarfBuzz (see README)." >&2
    exit 1
  fi
}

# The interpreter must exist and be 3.11 or later (pyproject's requires-python), said plainly.
check_python() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "install.sh: no '$PYTHON' found: install Python 3.11 or later, or set PYTHON=/path/to/python3." >&2
    exit 1
  fi
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "install.sh: leaflets needs Python 3.11 or later, found $("$PYTHON" --version 2>&1): set PYTHON=/path/to/python3.11." >&2
    exit 1
  fi
}

# On macOS, WeasyPrint finds Homebrew's Pango through DYLD_FALLBACK_LIBRARY_PATH (Apple Silicon puts it
# in /opt/homebrew/lib, which the loader does not search by itself).
homebrew_library_path() {
  if [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
    export DYLD_FALLBACK_LIBRARY_PATH="$(brew --prefix)/lib${DYLD_FALLBACK_LIBRARY_PATH:+:$DYLD_FALLBACK_LIBRARY_PATH}"
    echo "On macOS, run leaflets with: export DYLD_FALLBACK_LIBRARY_PATH=$(brew --prefix)/lib"
  fi
}

# A virtual environment, because Debian 12 and Ubuntu 24.04 refuse `pip install` into their own
# python3 (PEP 668). Debian ships venv's pip in a separate package: install it when venv fails.
make_venv() {
  [ -x "$VENV/bin/python" ] && return 0
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if command -v apt-get >/dev/null 2>&1; then
      local minor
      minor=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt_install python3-venv "python$minor-venv"
      "$PYTHON" -m venv "$VENV"
    else
      echo "install.sh: '$PYTHON -m venv' failed; install Python's venv module and run again." >&2
      exit 1
    fi
  fi
}

main() {
  local extras=""
  case "${1:-}" in
    --detect) missing_libs; return 0 ;;
    --dev) extras="[test]" ;;
    "") ;;
    *) echo "install.sh: unknown option '$1' (expected --dev or --detect)" >&2; exit 2 ;;
  esac
  check_python
  install_system_libraries
  make_venv
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$extras"
  homebrew_library_path
  "$VENV/bin/leaflets" build
  echo "Installed in $VENV: run $VENV/bin/leaflets (or 'source $VENV/bin/activate' first)."
}

main "$@"
