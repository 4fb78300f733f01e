#!/usr/bin/env bash
# Installs the Debian packages listed in deps/packages.txt that are missing.
# Idempotent and quick when everything is present; runs `apt-get update` only when
# something must be installed. Needs root (or sudo) only in that case.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
manifest="$here/deps/packages.txt"

missing=()
while read -r name _version _why; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  status=$(dpkg-query -W -f='${Status}' "$name" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$name")
done < "$manifest"
# Node.js and npm run third-party readers of the exports in the tests (tests/js). Any
# installation will do (hosts often have one from elsewhere): Debian's only when none is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo=(sudo); else
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
