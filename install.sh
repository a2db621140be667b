#!/usr/bin/env bash
# Set up leaflets on a fresh machine and build the default documents into output/.
# Installs the system libraries WeasyPrint needs (Debian/Ubuntu: Pango, HarfBuzz subset) when missing,
# then this package with its test tools, then runs `leaflets build`.
set -euo pipefail
cd "$(dirname "$0")"

need=()
for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 >/dev/null
  else
    echo "Missing system libraries: ${need[*]}. Install Pango 1.44+ and HarfBuzz (see README)." >&2
    exit 1
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
leaflets build
