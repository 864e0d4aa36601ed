#!/bin/sh
# make bench: every benchmark, each printing its table and its ratios against
# the references measured in the same run.
set -u
cd "$(dirname "$0")/../.."
status=0
for b in tests/bench/bench_*.py; do
	echo "== $b"
	/usr/bin/python3 "$b" || status=1
done
exit $status
