#!/bin/sh
# make test: every suite in order (unit, fuzz corpus replay, end to end), then
# one closing line "N passed, N failed[, N skipped]". Exit 1 if anything failed.
# Usage: tests/run-all.sh UNIT_TEST_BINARIES...
set -u
B=${B:-build}
mkdir -p "$B/reports"
total_pass=0; total_fail=0; total_skip=0

echo "== unit tests"
unit_out=$(sh tests/unit/run.sh "$@"); unit_rc=$?
printf '%s\n' "$unit_out"
line=$(printf '%s\n' "$unit_out" | tail -1)
p=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
f=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
[ "$unit_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && total_fail=$((total_fail + 1))

if [ -d tests/fuzz/corpus ] && [ -x "$B/tests/fuzz-replay" ]; then
	echo "== fuzz corpus replay"
	if "$B/tests/fuzz-replay" tests/fuzz/corpus; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); fi
fi

echo "== end-to-end tests (pytest, real processes, as root)"
rm -f "$B/reports/e2e.xml"
/usr/bin/python3 -m pytest tests/e2e -v -p no:cacheprovider --junitxml="$B/reports/e2e.xml" -o junit_family=xunit2
e2e_rc=$?
if [ -f "$B/reports/e2e.xml" ]; then
	counts=$(/usr/bin/python3 - "$B/reports/e2e.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else r.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e, s)
PY
)
	set -- $counts
	total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); total_skip=$((total_skip + $3))
elif [ "$e2e_rc" -ne 0 ]; then
	total_fail=$((total_fail + 1))
fi
[ "$e2e_rc" -ne 0 ] && [ "$e2e_rc" -ne 5 ] && [ "$total_fail" -eq 0 ] && total_fail=1

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
