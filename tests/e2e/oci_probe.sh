#!/bin/sh
# Probe run as the container's process by tests/e2e/test_oci_diff.py under
# ocirun, crun and runc with the same bundle. It prints what the config
# controls as "key: value" lines; the test normalizes the few values that
# legitimately differ between runtimes and compares the rest.
#
# Only busybox is in the rootfs; applets are called through it so the
# rootfs needs no symlinks. Facts about the shell itself are read from
# /proc/$$ (the process the runtime exec'd), not /proc/self (a child).
#
# Environment (all optional, set in process.env by the test):
#   PROBE_MASKED    space-separated masked paths to check
#   PROBE_RO        space-separated read-only paths to check
#   PROBE_SYSCTL    space-separated /proc/sys keys to print (dotted)
#   PROBE_FILES     space-separated files to print the content of
#   PROBE_WRITE     space-separated paths to try creating a file in
#   PROBE_EXEC      space-separated dirs to try executing a copy of busybox from
#   PROBE_STAT      space-separated paths to describe (type, mode, dev, owner)
#   PROBE_STATFS    space-separated mount points to print the size of
#   PROBE_READ      space-separated paths to try opening for reading
#   PROBE_TRY       busybox command lines separated by "|" to run, with result
#   PROBE_EXIT      exit with this code at the end ("kill9": kill -9 $$)
B=/bin/busybox

echo "id: $($B id)"
# CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp (and Seccomp_filters)
while read -r k v; do
	case "$k" in
	Cap*|NoNewPrivs:|Seccomp:|Seccomp_filters:) echo "status.$k $v" ;;
	Groups:) echo "status.Groups: $v" ;;
	Uid:|Gid:) echo "status.$k $(echo $v | $B tr '\t' ' ')" ;;
	esac
done </proc/$$/status

echo "umask: $(umask)"
echo "cwd: $(pwd)"
# the environment the runtime exec'd us with, not the shell's own additions
$B tr '\0' '\n' </proc/$$/environ | $B sort | while read -r l; do echo "env: $l"; done
echo "hostname: $($B hostname)"
echo "domainname: $($B cat /proc/sys/kernel/domainname)"
echo "oom_score_adj: $($B cat /proc/$$/oom_score_adj)"
# limits of the exec'd process, one per line: name soft hard
$B tail -n +2 /proc/$$/limits | while read -r l; do
	echo "limit: $(echo "$l" | $B sed -E 's/  +/|/g')"
done

# mount table: mount point, fs type, per-mount ro/rw nosuid nodev noexec
# (in that order), in mount order. Sources, sizes, device numbers and
# super-block options are left out here; the test normalizes further.
while read -r mid pid dev root mp opts rest; do
	fstype=$(echo "$rest" | $B sed -E 's/.*- ([^ ]+) .*/\1/')
	super=$(echo "$rest" | $B sed -E 's/.*- [^ ]+ [^ ]+ //')
	# propagation (shared:N master:N unbindable), peer group numbers dropped
	prop=$(echo "$rest" | $B sed -E 's/ ?- .*//; s/:[0-9]+//g')
	flags=""
	for o in ro rw nosuid nodev noexec; do
		case ",$opts," in *",$o,"*) flags="$flags,$o" ;; esac
	done
	echo "mount: $mp $fstype ${flags#,} root=$root prop=${prop:-private} super=$super"
done </proc/$$/mountinfo

# /dev: every entry, type, mode, major:minor (hex), owner
for f in /dev/* /dev/.[!.]*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	if [ -L "$f" ]; then
		echo "dev: $f symlink -> $($B readlink "$f")"
	else
		echo "dev: $($B stat -c '%n %F %a %t:%T %u:%g' "$f")"
	fi
done
for f in $PROBE_STAT; do
	if [ -e "$f" ]; then echo "stat: $($B stat -c '%n %F %a %t:%T %u:%g' "$f")"; else echo "stat: $f absent"; fi
done
for f in $PROBE_STATFS; do
	echo "statfs: $f $($B stat -f -c 'blocks=%b bsize=%S' "$f" 2>&1)"
done
for f in $PROBE_READ; do
	err=$( ($B head -c 1 "$f" >/dev/null) 2>&1)
	echo "read: $f rc=$? $(echo "$err" | $B sed 's/.*: //')"
done
for f in /dev/pts/ptmx; do
	[ -e "$f" ] && echo "dev: $($B stat -c '%n %F %a %t:%T %u:%g' "$f")"
done

for p in $PROBE_MASKED; do
	if [ -d "$p" ]; then
		echo "masked: $p dir entries=$($B ls -A "$p" 2>&1 | $B wc -l)"
	elif [ -e "$p" ]; then
		out=$($B head -c 64 "$p" 2>&1 >/dev/null; echo "rc=$?")
		echo "masked: $p file bytes=$($B head -c 64 "$p" 2>/dev/null | $B wc -c) $(echo $out | $B sed 's/.*: //')"
	else
		echo "masked: $p absent"
	fi
done

for p in $PROBE_RO; do
	# never create anything: the rootfs is shared by the three runtimes
	if [ ! -e "$p" ]; then echo "ro: $p absent"; continue; fi
	t="$p"
	if [ -d "$p" ]; then
		# a dir: the first owner-writable file in it (procfs refuses new
		# files with ENOENT whether read-only or not), else a new file
		t=$($B find "$p" -maxdepth 3 -type f -perm -200 2>/dev/null | $B sort | $B head -n 1)
		[ -n "$t" ] || t="$p/.ocidiff-probe"
	fi
	# open for append without writing a byte: safe on /proc/sysrq-trigger
	# and on any sysctl
	err=$( (: >>"$t") 2>&1)
	rc=$?
	[ "$t" = "$p/.ocidiff-probe" ] && [ $rc = 0 ] && $B rm -f "$t"
	echo "ro: $p ($t) rc=$rc $(echo "$err" | $B sed 's/.*: //')"
done

for p in $PROBE_WRITE; do
	err=$( (: >"$p/.ocidiff-w" && $B rm -f "$p/.ocidiff-w") 2>&1)
	echo "write: $p rc=$? $(echo "$err" | $B sed 's/.*: //')"
done

for p in $PROBE_EXEC; do
	# named busybox so that it runs the applet named by its first argument
	err=$( ($B cp $B "$p/busybox" && "$p/busybox" true) 2>&1)
	echo "exec: $p rc=$? $(echo "$err" | $B sed 's/.*: //')"
	$B rm -f "$p/busybox" 2>/dev/null
done

for k in $PROBE_SYSCTL; do
	f=/proc/sys/$(echo "$k" | $B tr . /)
	echo "sysctl: $k=$($B cat "$f" 2>&1)"
done

for f in $PROBE_FILES; do
	echo "file: $f=$($B cat "$f" 2>&1 | $B tr '\n' ' ')"
done

# PROBE_TRY: commands separated by "|", each run through busybox
IFS_SAVE=$IFS
IFS='|'
for c in $PROBE_TRY; do
	IFS=$IFS_SAVE
	err=$(eval "$B $c" 2>&1)
	echo "try: $c rc=$? $(echo "$err" | $B sed 's/.*: //')"
	IFS='|'
done
IFS=$IFS_SAVE

for f in uid_map gid_map setgroups; do
	echo "idmap: $f $($B cat /proc/$$/$f | $B tr -s ' \n' ' ')"
done

# what the seccomp profile and capabilities allow (harmless if they do)
err=$($B mount -t tmpfs ocidiff-probe /tmp 2>&1 && $B umount /tmp)
echo "try: mount rc=$? $(echo "$err" | $B sed 's/.*: //')"
err=$($B unshare -U $B true 2>&1)
echo "try: unshare-user rc=$? $(echo "$err" | $B sed 's/.*: //')"
err=$($B unshare -n $B true 2>&1)
echo "try: unshare-net rc=$? $(echo "$err" | $B sed 's/.*: //')"

while read -r l; do echo "cgroup: $l"; done </proc/$$/cgroup

case "$PROBE_EXIT" in
"") exit 0 ;;
kill9) kill -9 $$ ;;
*) exit "$PROBE_EXIT" ;;
esac
