#!/usr/bin/env bash
# Debian packages used by the speech scripts and tests: espeak-ng and flite
# (synthetic speech for the corpora), sox, and a TrueType font for the history
# plots. Installs only what is missing; sudo only when not root. Every failure
# is one line that names the packages to install by hand.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v flite >/dev/null || missing+=(flite)
command -v sox >/dev/null || missing+=(sox)
# A TrueType font for the text in sori-train's history plots (history.png/.svg).
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
fail() {
  echo "setup: error: $1; install ${missing[*]} with your package manager and run 'make setup' again" >&2
  exit 1
}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "not root and no sudo"
  SUDO=sudo
fi
command -v apt-get >/dev/null || fail "apt-get not found"
echo "setup: installing ${missing[*]} (apt-get)" >&2
# Always refresh the lists first: stale lists name package versions the
# mirror no longer has.
$SUDO apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed (no network to the Debian mirror?)"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || fail "apt-get install ${missing[*]} failed"
