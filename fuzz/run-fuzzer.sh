#!/bin/sh
# run-fuzzer.sh HARNESS SEEDDIR: run one libFuzzer harness on a scratch copy
# of its seed corpus, print its execution count, fail on any crash, leak or
# sanitizer report.
#
# Budget: $BGW_FUZZ_SECONDS of fuzzing (default 20). With $BGW_FUZZ_RUNS set,
# the run ends after that many executions instead, and the time (then 24 h
# unless $BGW_FUZZ_SECONDS says otherwise) only caps it: a long campaign
# says BGW_FUZZ_RUNS=10000000 for every harness alike.
#
# A harness may carry options of its own in fuzz/NAME.options ("key = value"
# lines in a [libfuzzer] section, the layout ClusterFuzz reads), e.g. the
# longest input worth trying; they are passed on as -key=value.
set -eu
harness=$1 seeds=$2
here=$(cd "$(dirname "$0")" && pwd)
case $harness in
/*) ;;
*) harness=$(pwd)/$harness ;;
esac
case $seeds in
/*) ;;
*) seeds=$(pwd)/$seeds ;;
esac

runs=
if [ -n "${BGW_FUZZ_RUNS:-}" ]; then
  case $BGW_FUZZ_RUNS in
  *[!0-9]* | 0*) echo "run-fuzzer.sh: BGW_FUZZ_RUNS must be a positive integer" >&2; exit 64 ;;
  esac
  runs=-runs=$BGW_FUZZ_RUNS
  secs=${BGW_FUZZ_SECONDS:-86400}
else
  secs=${BGW_FUZZ_SECONDS:-20}
fi

opts=
optfile=$here/$(basename "$harness").options
if [ -f "$optfile" ]; then
  opts=$(sed -n -e '/^\[libfuzzer\]/,/^\[/{' \
    -e 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/-\1=\2/p' \
    -e '}' "$optfile")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [ -d "$seeds" ]; then
  cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
fi
cd "$work"
# Scratch files a harness makes (fuzz_csv_import's database) go with the rest,
# even when a crash or a timeout ends it before its own clean-up.
TMPDIR=$work
export TMPDIR
# shellcheck disable=SC2086 # $runs and $opts are lists of flags
"$harness" -max_total_time="$secs" $runs $opts -print_final_stats=1 -timeout=10 \
  -rss_limit_mb=2048 corpus > log 2>&1 || { tail -60 log; exit 1; }
grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' log | tail -2
