#!/usr/bin/env bash
# Rebuilds the committed raw-file seeds of fuzz_nsys_import (corpus/nsys_import/*.sqlite) with the sqlite3 CLI:
# the empty export of nsys_schema.sql plus one of the SQL seeds, in 512-byte pages so each file stays ~3 KB.
set -euo pipefail
cd "$(dirname "$0")"
for seed in two_gpus nvtx_only; do
  out=corpus/nsys_import/$seed.sqlite
  rm -f "$out"
  { echo "PRAGMA page_size = 512;"; cat nsys_schema.sql "corpus/nsys_import/$seed.sql"; echo "VACUUM;"; } |
    sqlite3 "$out"
  echo "$out: $(stat -c %s "$out") bytes"
done
