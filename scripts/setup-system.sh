#!/usr/bin/env bash
# Debian packages used by the speech scripts and tests: espeak-ng (synthetic
# speech) and sox. Installs only what is missing; sudo only when not root.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
# A TrueType font for the text in sori-train's history plots (history.png/.svg).
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
if ! command -v apt-get >/dev/null; then
  echo "setup: please install ${missing[*]} with your package manager (apt-get not found)" >&2
  exit 1
fi
echo "setup: installing ${missing[*]} (apt-get)" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
