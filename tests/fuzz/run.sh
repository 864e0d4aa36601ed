#!/bin/sh
# make fuzz: runs each libFuzzer target for a bounded time.
# Usage: tests/fuzz/run.sh FUZZ_DIR SECONDS TARGET...
# FUZZ_ARGS (environment) adds libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1"
# to keep fuzzing past a known crash (each crash still lands in artifacts/).
# Each target starts from tests/fuzz/corpus/<target> (the seeds, read-only) and
# $FUZZ_DIR/corpus/<target> (what earlier runs found; new finds go there).
# A crash leaves its input in $FUZZ_DIR/artifacts/<target>/ and fails the run.
# Prints one line per target: time, executions, exec/s, corpus size, result.
set -u
dir=$1; secs=$2; shift 2
failed=0
for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "$dir/logs" "tests/fuzz/corpus/$t"
	log="$dir/logs/$t.log"
	stamp="$dir/logs/$t.start"
	: >"$stamp"
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# -close_fd_mask=3: the code under test may log; libFuzzer keeps its own
	# copy of stderr for its status and the sanitizer report.
	"$dir/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-close_fd_mask=3 -print_final_stats=1 $dict ${FUZZ_ARGS:-} \
		-artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [ -z "$runs" ]; then # fork mode: the last "#N: cov: ... exec/s: E" line
		last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
		runs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
		eps=$(echo "$last" | sed -n 's/.*exec\/s:\{0,1\} \([0-9]*\).*/\1/p')
	fi
	case "${eps:-0}" in 0) [ -n "$runs" ] && eps=$((runs / secs)) ;; esac
	ncrash=$(find "$dir/artifacts/$t" -type f -newer "$stamp" | grep -cE '/(crash|leak|timeout|oom)-')
	corp=$(ls "$dir/corpus/$t" | wc -l)
	if [ "$rc" -eq 0 ] && [ "$ncrash" -eq 0 ]; then
		res=ok
	else
		res="CRASH (exit $rc, $ncrash crash input(s) in $dir/artifacts/$t/, log $log)"
		failed=1
		grep -m3 -E 'ERROR: |runtime error|property failed|SUMMARY' "$log" | sed 's/^/    /'
	fi
	printf 'fuzz %-12s %5ss %10s runs %7s exec/s  corpus %5s  %s\n' "$t" "$secs" \
		"${runs:-?}" "${eps:-?}" "$corp" "$res"
done
exit $failed
