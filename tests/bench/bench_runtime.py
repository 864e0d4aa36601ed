"""Container start-up: create+start+wait+delete of busybox running /bin/true.

ocirun, crun and runc run the same bundle, N times each, in one private mount
namespace where /sys/fs/cgroup/unified is unmounted (Debian's crun refuses this
hybrid host otherwise), so all three see the same cgroup layout. The floors are
a bare fork+exec of /bin/true and `unshare` with the same namespaces.
Prints median and p95 per runtime and the ratio ocirun/crun.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("NODELET_BUILD", REPO / "build"))
N = int(os.environ.get("BENCH_N", "50"))


def reexec_in_private_mount_ns():
    if os.environ.get("NODELET_BENCH_INNER"):
        return
    env = dict(os.environ, NODELET_BENCH_INNER="1")
    script = ("mount --make-rprivate / && (umount /sys/fs/cgroup/unified 2>/dev/null || true) && "
              f"exec /usr/bin/python3 {sys.argv[0]}")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env)
    sys.exit(r.returncode)


def make_bundle(d):
    rootfs = d / "rootfs"
    for sub in ("bin", "proc", "sys", "dev", "tmp", "etc"):
        (rootfs / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("true", "sh"):
        os.symlink("busybox", rootfs / "bin" / applet)
    subprocess.run(["runc", "spec", "--bundle", str(d)], check=True)
    cfg = json.loads((d / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["root"]["readonly"] = False
    (d / "config.json").write_text(json.dumps(cfg, indent=1))


def time_runtime(binary, bundle, state_root, n):
    times = []
    for i in range(n):
        cid = f"bench{os.getpid()}-{i}"
        t0 = time.perf_counter()
        r = subprocess.run([binary, "--root", str(state_root), "run", "--bundle", str(bundle), cid],
                           stdin=subprocess.DEVNULL, capture_output=True)
        subprocess.run([binary, "--root", str(state_root), "delete", "--force", cid],
                       capture_output=True)
        t1 = time.perf_counter()
        if r.returncode != 0:
            return None, (r.stderr or r.stdout).decode(errors="replace").strip()[:300]
        times.append((t1 - t0) * 1000)
    return times, None


def time_cmd(argv, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main():
    reexec_in_private_mount_ns()
    with tempfile.TemporaryDirectory(prefix="nodelet-bench-") as tmp:
        tmp = Path(tmp)
        bundle = tmp / "bundle"
        make_bundle(bundle)
        rows = {}
        rows["fork+exec /bin/true (floor)"] = (time_cmd(["/bin/true"], N), None)
        rows["unshare -pmiun --fork (floor)"] = (time_cmd(
            ["unshare", "-p", "-m", "-i", "-u", "-n", "--fork", "/bin/true"], N), None)
        for name, binary in (("ocirun", str(BUILD / "bin" / "ocirun")),
                             ("crun", shutil.which("crun")), ("runc", shutil.which("runc"))):
            if not binary or not os.path.exists(binary):
                rows[name] = (None, "not installed")
                continue
            rows[name] = time_runtime(binary, bundle, tmp / f"state-{name}", N)
        print(f"container create+start+wait+delete, busybox /bin/true, {N} runs each")
        print(f"{'runtime':34} {'median ms':>10} {'p95 ms':>10}")
        for name, (ts, err) in rows.items():
            if ts:
                print(f"{name:34} {statistics.median(ts):10.2f} {p95(ts):10.2f}")
            else:
                print(f"{name:34} {'-':>10} {'-':>10}   ({err})")
        o, c = rows.get("ocirun", (None, None))[0], rows.get("crun", (None, None))[0]
        if o and c:
            print(f"ratio ocirun/crun (median): {statistics.median(o) / statistics.median(c):.2f}")
        r = rows.get("runc", (None, None))[0]
        if o and r:
            print(f"ratio ocirun/runc (median): {statistics.median(o) / statistics.median(r):.2f}")
        floor = rows["unshare -pmiun --fork (floor)"][0]
        if o:
            print(f"ratio ocirun/unshare floor (median): {statistics.median(o) / statistics.median(floor):.2f}")


if __name__ == "__main__":
    main()
