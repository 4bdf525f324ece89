#!/usr/bin/env bash
# Fails when ARCHITECTURE.md names a path that does not exist: every
# `backticked` word with a slash that is not a generated location (target/,
# ~/.cache, .libtorch) must be a file or folder of the checkout; a bare file
# name (`open.rs`, in a table row that names its folder) must be the name of
# some tracked file. Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=${1:-ARCHITECTURE.md}
missing=0
# Listed once (a `git ls-files | grep -q` pipe under pipefail fails at random
# when grep stops reading early).
tracked=$(git ls-files)
while IFS= read -r p; do
  case "$p" in
    target/*|~*|.libtorch*|*' '*|*'*'*|*'<'*|*'{'*|*'('*|*::*|*'$'*) continue;;
  esac
  case "$p" in
    */*|*.rs|*.sh|*.py|*.toml|*.md) ;;
    *) continue;;
  esac
  if [[ "$p" != */* ]]; then
    grep -qE "(^|/)${p//./\\.}\$" <<<"$tracked" && continue
  elif [ -e "$p" ]; then
    continue
  fi
  if true; then
    echo "check-architecture: $doc names $p, which does not exist" >&2
    missing=$((missing + 1))
  fi
done < <(grep -o '`[^`]*`' "$doc" | tr -d '`' | sort -u)
[ "$missing" -eq 0 ]
