#!/bin/sh
# Runs each unit-test binary given; prints a summary line per binary and a
# closing "unit: N passed, N failed". Exit status 1 if any failed.
pass=0; fail=0; failed=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ]; then failed="$failed $t"; printf '%s\n' "$out"; fi
	printf '  %-50s %3d passed, %d failed\n' "$(basename "$t")" "$p" "$f"
done
echo "unit: $pass passed, $fail failed"
[ -n "$failed" ] && exit 1
exit 0
