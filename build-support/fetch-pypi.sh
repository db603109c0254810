#!/usr/bin/env bash
# Downloads one pinned file from PyPI with pip (the only registry client this project needs)
# and checks its SHA-256 before anything uses it.
#
#   fetch-pypi.sh DEST_DIR SHA256 PIP_ARGS...
#
# Prints the verified file's path. A file whose checksum does not match is deleted and the
# script fails naming both checksums, so a corrupt or tampered download never reaches a build.
set -euo pipefail
dest=$1 want=$2
shift 2
mkdir -p "$dest"
# Already here and verified once: check it again and reuse it (pip would download it anew).
for f in "$dest"/*; do
  [ -f "$f" ] || continue
  if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ]; then
    echo "$f"
    exit 0
  fi
done
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "$@" >&2
files=("$tmp"/*)
if [ ${#files[@]} -ne 1 ] || [ ! -f "${files[0]}" ]; then
  echo "error: pip download $* gave ${#files[@]} files, expected one" >&2
  exit 1
fi
got=$(sha256sum "${files[0]}" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "error: $(basename "${files[0]}"): sha256 $got, expected $want (pip download $*); deleted" >&2
  exit 1
fi
mv -f "${files[0]}" "$dest/"
echo "$dest/$(basename "${files[0]}")"
