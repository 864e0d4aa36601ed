#!/bin/sh
# make run: a one-machine cluster in the foreground.
#
# Starts schedd and one nodelet on this machine, applies
# deploy/examples/web-db.json, waits until it runs, shows the pod and how to
# reach it, then follows the daemons' logs. Ctrl-C deletes the pod, stops the
# daemons and removes what they made (bridge, cgroups, state), so `make run`
# works again at once.
set -u
cd "$(dirname "$0")/.."
BUILD=${NODELET_BUILD:-$PWD/build}
BIN=$BUILD/bin
RUN=${NODELET_RUN_DIR:-$PWD/build/run}
PORT=${NODELET_PORT:-7080}
SERVER=http://127.0.0.1:$PORT
BRIDGE=${NODELET_BRIDGE:-nodelet0}
CGROUP=${NODELET_CGROUP:-nodelet-run}
POD=${1:-deploy/examples/web-db.json}
SCHEDCTL="$BIN/schedctl --server $SERVER"

if [ "$(id -u)" != 0 ]; then
	echo "make run: needs root (namespaces, cgroups, a bridge)" >&2
	exit 1
fi

schedd_pid=""; nodelet_pid=""; tail_pid=""
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "== stopping: deleting pods, stopping nodelet and schedd"
	if [ -n "$schedd_pid" ] && kill -0 "$schedd_pid" 2>/dev/null; then
		for p in $($SCHEDCTL get pods -A -o name 2>/dev/null); do
			$SCHEDCTL delete pod "${p#pod/}" --timeout=30s >/dev/null 2>&1
		done
	fi
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	[ -n "$nodelet_pid" ] && kill "$nodelet_pid" 2>/dev/null
	[ -n "$schedd_pid" ] && kill "$schedd_pid" 2>/dev/null
	wait 2>/dev/null
	sweep
	echo "== stopped; everything removed"
}

# The daemons run in their own session (setsid) so that Ctrl-C reaches only this
# script, which then deletes the pods through them before stopping them.

# Removes what an earlier run may have left (a killed make run, a crash).
sweep() {
	# Daemons of a run that was killed without its clean-up (terminal closed).
	if [ -f "$RUN/daemons.pid" ]; then
		for pid in $(cat "$RUN/daemons.pid"); do
			# Only if the pid is still one of ours, not a reused number.
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "^$BIN/" && kill "$pid"
		done
		sleep 0.5
	fi
	for pf in "$RUN"/node/pods/*/containers/*/status-*/pid; do
		[ -f "$pf" ] || continue
		for pid in $(cat "$pf"); do kill -9 "$pid" 2>/dev/null; done
	done
	for c in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/unified/"$CGROUP"; do
		[ -d "$c" ] || continue
		for procs in $(find "$c" -name cgroup.procs); do
			for pid in $(cat "$procs"); do kill -9 "$pid" 2>/dev/null; done
		done
	done
	sleep 0.2
	grep " $RUN/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	for c in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/unified/"$CGROUP"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
	for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^nl'); do
		ip link del "$l" 2>/dev/null
	done
	rm -rf --one-file-system "$RUN"
}

sweep
mkdir -p "$RUN"
trap cleanup INT TERM HUP EXIT

echo "== starting schedd on $SERVER"
setsid "$BIN/schedd" --listen "127.0.0.1:$PORT" --data "$RUN/schedd" --heartbeat-interval 2s \
	>"$RUN/schedd.log" 2>&1 &
schedd_pid=$!
echo "$schedd_pid" >>"$RUN/daemons.pid"
i=0
until curl -sf "$SERVER/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $schedd_pid 2>/dev/null; then
		echo "schedd did not start:" >&2; cat "$RUN/schedd.log" >&2; exit 1
	fi
	sleep 0.1
done

echo "== starting nodelet $(hostname) (bridge $BRIDGE, state $RUN/node)"
setsid "$BIN/nodelet" --server "ws://127.0.0.1:$PORT" --root "$RUN/node" --cgroup-parent "$CGROUP" \
	--bridge "$BRIDGE" --image-dir "$BUILD/images" --log-dir "$RUN/pods" \
	>"$RUN/nodelet.log" 2>&1 &
nodelet_pid=$!
echo "$nodelet_pid" >>"$RUN/daemons.pid"

i=0
until $SCHEDCTL get nodes 2>/dev/null | grep -q ' Ready'; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $nodelet_pid 2>/dev/null; then
		echo "nodelet did not become Ready:" >&2; cat "$RUN/nodelet.log" >&2; exit 1
	fi
	sleep 0.1
done
$SCHEDCTL get nodes

echo "== schedctl apply -f $POD"
$SCHEDCTL apply -f "$POD" || exit 1
name=$(sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' "$POD" | head -1)
i=0
until $SCHEDCTL get pods "$name" 2>/dev/null | grep -q ' Running '; do
	i=$((i + 1))
	if [ $i -gt 300 ]; then
		echo "pod $name did not reach Running in 60s:" >&2
		$SCHEDCTL describe pod "$name" >&2; exit 1
	fi
	sleep 0.2
done
$SCHEDCTL get pods -o wide
ip=$($SCHEDCTL get pod "$name" -o json | sed -n 's/.*"podIP": *"\([^"]*\)".*/\1/p' | head -1)
port=$(sed -n 's/.*"containerPort": *\([0-9]*\).*/\1/p' "$POD" | head -1)
cat <<EOF

== $name is running. Try:
   curl http://$ip:${port:-80}/            # the pod, from this machine
   curl http://$ip:${port:-80}/db.txt      # web fetched it from db over 127.0.0.1
   $BIN/schedctl describe pod $name
   $BIN/schedctl get nodes
   ls $RUN/pods/                        # CRI logs of every container
== following the daemons' logs; Ctrl-C stops the cluster and cleans up
EOF
tail -n +1 -F "$RUN/schedd.log" "$RUN/nodelet.log" &
tail_pid=$!
wait $tail_pid
