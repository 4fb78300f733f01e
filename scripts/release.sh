#!/usr/bin/env bash
# Packages a release: build/release/hotline-VERSION-linux-ARCH.tar.gz (the binary, README,
# SECURITY.md, docs/), SHA256SUMS over it, and a detached minisign signature of both.
# The signing key is generated on first use at $HOTLINE_SIGNING_KEY (default
# ~/.config/hotline/minisign.key, mode 0600, never in the repository); its public half is
# published next to the artifacts as hotline.pub.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(hotline VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(uname -m)
out=build/release
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
key=${HOTLINE_SIGNING_KEY:-$home/.config/hotline/minisign.key}
pub=${key%.key}.pub
[[ -x build/hotline ]] || { echo "release: build first (make build)" >&2; exit 1; }
if [[ ! -f $key ]]; then
  mkdir -p "$(dirname "$key")"
  (umask 077 && minisign -G -W -p "$pub" -s "$key" > /dev/null)
  echo "release: generated signing key $key (public key $pub)" >&2
fi
rm -rf "$out"
mkdir -p "$out/stage/hotline-$version"
cp build/hotline README.md SECURITY.md "$out/stage/hotline-$version/"
cp -r docs "$out/stage/hotline-$version/"
name=hotline-$version-linux-$arch.tar.gz
# Deterministic archive: fixed owner, order and mtime (the commit's time).
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$out/stage" -cf - "hotline-$version" |
  gzip -n > "$out/$name"
rm -rf "$out/stage"
(cd "$out" && sha256sum "$name" > SHA256SUMS)
for f in "$name" SHA256SUMS; do
  minisign -S -s "$key" -m "$out/$f" -t "hotline $version $f" > /dev/null
done
cp "$pub" "$out/hotline.pub"
chmod 644 "$out/hotline.pub"
echo "release: $out/$name, SHA256SUMS, .minisig signatures, hotline.pub"
