#!/usr/bin/env bash
# Verifies a release directory: every artifact's minisign signature against hotline.pub
# (or $HOTLINE_PUBKEY) and the SHA256SUMS. With --self-test, also checks that a tampered
# copy of the archive is rejected (so this verification can fail).
set -euo pipefail
dir=${RELEASE_DIR:-$(dirname "$0")/../build/release}
pub=${HOTLINE_PUBKEY:-$dir/hotline.pub}
verify() {
  local d=$1
  for sig in "$d"/*.minisig; do
    minisign -V -q -p "$pub" -m "${sig%.minisig}" || { echo "verify-release: bad signature: ${sig%.minisig}" >&2; return 1; }
  done
  (cd "$d" && sha256sum --quiet -c SHA256SUMS) || { echo "verify-release: checksum mismatch" >&2; return 1; }
}
verify "$dir"
echo "verify-release: signatures and checksums of $dir are valid"
if [[ ${1:-} == --self-test ]]; then
  tampered=$(mktemp -d)
  trap 'rm -rf "$tampered"' EXIT
  cp "$dir"/* "$tampered/"
  archive=$(ls "$tampered"/*.tar.gz)
  printf '\x00' | dd of="$archive" bs=1 seek=100 conv=notrunc status=none
  if verify "$tampered" 2> /dev/null; then
    echo "verify-release: a tampered archive was accepted" >&2
    exit 1
  fi
  echo "verify-release: a tampered archive is rejected"
fi
