#!/bin/sh
# run-fuzzer.sh HARNESS SEEDDIR: run one libFuzzer harness for
# $BGW_FUZZ_SECONDS (default 20) on a scratch copy of its seed corpus,
# print its execution count, fail on any crash, leak or sanitizer report.
set -eu
harness=$1 seeds=$2
secs=${BGW_FUZZ_SECONDS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
"$harness" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  corpus > log 2>&1 || { tail -60 log; exit 1; }
grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' log | tail -2
