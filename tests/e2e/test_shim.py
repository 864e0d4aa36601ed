"""nodelet-shim on its own: a real container from a busybox bundle, its CRI log,
its exit record (code, signal, OOM), signal forwarding, surviving the process
that launched it, and nothing left behind.

Each test gets a fresh directory under the e2e temporary base and a unique
cgroup parent `nodelet-shimtest-<hex>`; both are checked empty and removed at
the end. NODELET_SHIM overrides the shim binary (default build/bin/).
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

import cluster as cl

SHIM = Path(os.environ.get("NODELET_SHIM", cl.BIN / "nodelet-shim"))
PAUSE = cl.BIN / "nodelet-pause"
BUSYBOX = Path("/bin/busybox")
APPLETS = ["sh", "echo", "sleep", "cat", "true", "false", "dd", "head", "tail", "tr", "ls",
           "readlink", "hostname"]
CRI_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF])(?: (.*))?$")

pytestmark = [
    pytest.mark.skipif(not SHIM.exists(), reason=f"{SHIM} not built"),
    pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static not installed"),
]

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def parse_time(s):
    """RFC 3339 with up to nine fractional digits -> datetime (microseconds)."""
    m = re.match(r"^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    assert m, f"not RFC 3339: {s!r}"
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}")


def read_log(path):
    """The CRI log as (time, stream, tag, message) tuples; every line must parse."""
    recs = []
    for line in Path(path).read_text().split("\n")[:-1]:
        m = CRI_LINE.match(line)
        assert m, f"not a CRI log line: {line!r}"
        recs.append((parse_time(m.group(1)), m.group(4), m.group(5), m.group(6) or ""))
    return recs


class Env:
    """A scratch directory with a busybox rootfs, a state root, a cgroup parent."""

    def __init__(self):
        self.name = "nodelet-shimtest-%06x" % random.randrange(16 ** 6)
        cl.TMP_BASE.mkdir(parents=True, exist_ok=True)
        self.dir = cl.TMP_BASE / self.name
        self.dir.mkdir()
        self.rootfs = self.dir / "rootfs"
        for d in ["bin", "proc", "dev", "sys", "etc", "tmp"]:
            (self.rootfs / d).mkdir(parents=True)
        shutil.copy(BUSYBOX, self.rootfs / "bin" / "busybox")
        for a in APPLETS:
            (self.rootfs / "bin" / a).symlink_to("busybox")
        (self.rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        self.pause_rootfs = self.dir / "pause-rootfs"
        for d in ["proc", "dev"]:
            (self.pause_rootfs / d).mkdir(parents=True)
        if PAUSE.exists():
            shutil.copy(PAUSE, self.pause_rootfs / "pause")
        self.state_root = self.dir / "run"
        self.procs = []

    def bundle(self, cid, args, memory=None, join_pid=None, env=None):
        """Writes DIR/cid/config.json the way node_ctr_write_config does."""
        b = self.dir / cid
        b.mkdir()
        res = {"cpu": {"shares": 2}}
        if memory:
            res["memory"] = {"limit": memory, "swap": memory}
        ns = [{"type": "pid"}, {"type": "mount"}]
        for t, f in [("network", "net"), ("ipc", "ipc"), ("uts", "uts")]:
            ns.append({"type": t, "path": f"/proc/{join_pid}/ns/{f}"} if join_pid else {"type": t})
        cfg = {
            "ociVersion": "1.0.2",
            "process": {
                "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                "env": (env or []) + ["PATH=/bin", "HOSTNAME=shimtest"], "cwd": "/",
                "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
                "noNewPrivileges": True,
            },
            "root": {"path": str(self.rootfs), "readonly": False},
            "hostname": "shimtest",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc",
                 "options": ["nosuid", "noexec", "nodev"]},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            ],
            "annotations": {"io.kubernetes.container.name": cid},
            "linux": {"namespaces": ns, "cgroupsPath": f"{self.name}/{cid}", "resources": res,
                      "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]},
        }
        (b / "config.json").write_text(json.dumps(cfg, indent=2))
        return b

    def sandbox_bundle(self, cid):
        """The pause sandbox, as node_sandbox_write_config writes it."""
        b = self.dir / cid
        b.mkdir()
        cfg = {
            "ociVersion": "1.0.2",
            "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/pause"],
                        "env": ["PATH=/"], "cwd": "/",
                        "capabilities": {"bounding": [], "effective": [], "permitted": []},
                        "noNewPrivileges": True},
            "root": {"path": str(self.pause_rootfs), "readonly": True},
            "hostname": "shimtest",
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc",
                        "options": ["nosuid", "noexec", "nodev"]},
                       {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "strictatime", "mode=755", "size=1024k"]}],
            "linux": {"namespaces": [{"type": t} for t in ["pid", "mount", "network", "ipc", "uts"]],
                      "cgroupsPath": f"{self.name}/{cid}"},
        }
        (b / "config.json").write_text(json.dumps(cfg, indent=2))
        return b

    def argv(self, cid, bundle, log=True):
        a = [str(SHIM), "--id", f"{self.name}-{cid}", "--bundle", str(bundle),
             "--state-root", str(self.state_root), "--status-dir", str(self.status(cid))]
        if log:
            a += ["--log", str(self.log(cid))]
        return a

    def status(self, cid):
        return self.dir / "status" / cid

    def log(self, cid):
        return self.dir / "logs" / cid / "0.log"

    def launch(self, cid, bundle, log=True):
        """Runs the shim; returns (shim pid, container pid)."""
        r = subprocess.run(self.argv(cid, bundle, log), capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, f"nodelet-shim exited {r.returncode}: {r.stderr}"
        m = re.fullmatch(r"ok (\d+) (\d+)\n", r.stdout)
        assert m, f"unexpected shim output {r.stdout!r} (stderr {r.stderr!r})"
        shim, ctr = int(m.group(1)), int(m.group(2))
        self.procs += [shim, ctr]
        pid_file = (self.status(cid) / "pid").read_text()
        assert pid_file == f"{shim} {ctr}\n"
        return shim, ctr

    def wait_exit(self, cid, shim_pid, timeout=30):
        """Waits for the shim to finish; returns exit.json."""
        path = self.status(cid) / "exit.json"
        cl.wait_for(lambda: path.exists() and not alive(shim_pid), timeout,
                    f"exit.json of {cid} and the shim gone")
        return json.loads(path.read_text())

    def leftover_cgroups(self):
        found = []
        for root in cl.cgroup_hierarchies():
            top = root / self.name
            if top.is_dir():
                found += [str(d) for d in top.rglob("*") if d.is_dir()]
        return found

    def close(self):
        cl.kill_pids(sorted(set(cl.pids_mentioning(str(self.dir))) | cl.cgroup_pids(self.name)
                            | {p for p in self.procs if alive(p)}))
        for mp in reversed(cl.mounts_under(self.dir)):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        cl.remove_cgroups(self.name)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.dir)], capture_output=True)


def alive(pid):
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not st.rsplit(") ", 1)[1].startswith("Z")


@pytest.fixture
def env():
    e = Env()
    yield e
    e.close()


def assert_clean(e):
    """What the shim must have removed by itself once its container ended."""
    assert e.leftover_cgroups() == [], "cgroups left behind"
    # A monitor that reported an error may still be on its way out.
    cl.wait_for(lambda: not cl.pids_mentioning(str(e.dir)), 10, "no processes left behind")
    left = list(e.state_root.iterdir()) if e.state_root.exists() else []
    assert left == [], f"state left behind: {left}"


def test_help_and_usage():
    r = subprocess.run([str(SHIM), "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--status-dir" in r.stdout
    r = subprocess.run([str(SHIM), "--bundle", "/x"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "--id is required" in r.stderr


def test_logs_and_exit_code(env):
    b = env.bundle("c1", ["sh", "-c", "echo hello; sleep 0.2; echo oops >&2; sleep 0.2; "
                          "printf 'no newline'; exit 3"])
    before = time.time()
    shim, ctr = env.launch("c1", b)
    st = env.wait_exit("c1", shim)
    assert st["exitCode"] == 3 and st["signal"] == 0
    assert st["reason"] == "Error" and st["oomKilled"] is False
    assert before * 1000 - 1000 <= st["startedAt"] <= st["finishedAt"] <= time.time() * 1000 + 1000
    recs = read_log(env.log("c1"))
    assert [(r[1], r[2], r[3]) for r in recs] == [
        ("stdout", "F", "hello"), ("stderr", "F", "oops"), ("stdout", "P", "no newline")]
    assert recs[0][0] <= recs[1][0] <= recs[2][0]
    assert abs(recs[0][0].timestamp() - before) < 30
    assert oct(env.log("c1").stat().st_mode & 0o777) == "0o640"
    assert_clean(env)


def test_completed_without_log(env):
    b = env.bundle("c1", ["true"])
    shim, _ = env.launch("c1", b, log=False)
    st = env.wait_exit("c1", shim)
    assert st["exitCode"] == 0 and st["reason"] == "Completed"
    assert not env.log("c1").exists()
    assert_clean(env)


def test_long_line_is_split(env):
    b = env.bundle("c1", ["sh", "-c", "head -c 20000 /dev/zero | tr '\\0' a; echo; echo end"])
    shim, _ = env.launch("c1", b)
    env.wait_exit("c1", shim)
    recs = read_log(env.log("c1"))
    assert [(r[2], len(r[3])) for r in recs] == [("P", 16384), ("F", 20000 - 16384), ("F", 3)]
    assert "".join(r[3] for r in recs[:2]) == "a" * 20000


def test_killed_by_signal(env):
    b = env.bundle("c1", ["sleep", "100"])
    shim, ctr = env.launch("c1", b)
    assert alive(ctr)
    os.kill(ctr, signal.SIGKILL)
    st = env.wait_exit("c1", shim)
    assert st["signal"] == 9 and st["exitCode"] == 137 and st["reason"] == "Error"
    assert_clean(env)


def test_sigterm_is_forwarded(env):
    b = env.bundle("c1", ["sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; "
                          "while true; do sleep 0.1; done"])
    shim, ctr = env.launch("c1", b)
    cl.wait_for(lambda: any(r[3] == "ready" for r in read_log(env.log("c1"))), 10, "ready")
    os.kill(shim, signal.SIGTERM)
    st = env.wait_exit("c1", shim)
    assert st["exitCode"] == 7
    assert ("stdout", "F", "got TERM") in [(r[1], r[2], r[3]) for r in read_log(env.log("c1"))]
    assert_clean(env)


def test_oom_killed(env):
    b = env.bundle("c1", ["sh", "-c", "head -c 200m /dev/zero | tail"], memory=16 << 20)
    shim, _ = env.launch("c1", b)
    st = env.wait_exit("c1", shim, timeout=60)
    assert st["reason"] == "OOMKilled" and st["oomKilled"] is True, st
    assert st["exitCode"] == 137, st
    assert_clean(env)


def test_survives_its_launcher(env):
    """kill -9 of the launching process group: the monitor goes on."""
    b = env.bundle("c1", ["sh", "-c", "sleep 2; echo done; exit 5"])
    argv = " ".join(f"'{a}'" for a in env.argv("c1", b))
    launcher = subprocess.Popen(["sh", "-c", f"{argv} >{env.dir}/launch.out; sleep 100"],
                                start_new_session=True)
    pid_file = env.status("c1") / "pid"
    cl.wait_for(lambda: pid_file.exists() and pid_file.read_text(), 20, "status/pid")
    shim, ctr = map(int, pid_file.read_text().split())
    env.procs += [shim, ctr]
    os.killpg(launcher.pid, signal.SIGKILL)
    launcher.wait(timeout=10)
    assert alive(shim) and alive(ctr)
    st = env.wait_exit("c1", shim)
    assert st["exitCode"] == 5
    assert [r[3] for r in read_log(env.log("c1"))] == ["done"]
    assert_clean(env)


def test_create_failure_is_reported(env):
    b = env.dir / "empty-bundle"
    b.mkdir()
    r = subprocess.run(env.argv("c1", b), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert "config.json" in r.stderr, r.stderr
    assert not (env.status("c1") / "pid").exists()
    assert not (env.status("c1") / "exit.json").exists()
    assert_clean(env)


@pytest.mark.skipif(not PAUSE.exists(), reason="nodelet-pause not built")
def test_container_joins_sandbox(env):
    sb = env.sandbox_bundle("sandbox")
    sshim, spid = env.launch("sandbox", sb, log=False)
    b = env.bundle("c1", ["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; "
                          "cat /proc/1/cmdline; echo"], join_pid=spid)
    shim, _ = env.launch("c1", b)
    st = env.wait_exit("c1", shim)
    assert st["exitCode"] == 0, st
    out = [r[3] for r in read_log(env.log("c1"))]
    assert out[0] == os.readlink(f"/proc/{spid}/ns/net")
    assert out[1] == os.readlink(f"/proc/{spid}/ns/uts")
    assert out[2].startswith("sh")  # its own pid namespace
    # pause exits 0 on SIGTERM, forwarded by its shim
    os.kill(sshim, signal.SIGTERM)
    st = env.wait_exit("sandbox", sshim)
    assert st["exitCode"] == 0 and st["reason"] == "Completed"
    assert_clean(env)
