"""ocirun end to end: real containers from a busybox bundle, run as root."""

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from ocirun_helpers import (CGROUP_V1, OCIRUN, PREFIX, Bundle, create_with_console,
                            exec_with_console, run_detached, seccomp_listener, unique, wait_for)

# No test waits without a deadline: every ocirun call has a 30 s timeout and
# every wait polls with one (wait_for).
pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")


def test_run_prints_output_and_propagates_exit_code(bundle):
    bundle.write(["sh", "-c", "echo hello from $(hostname); exit 7"])
    cid = bundle.new_id()
    r = bundle.ocirun("run", "--bundle", bundle.dir, cid)
    assert r.stdout == "hello from ocirun\n", r.stderr
    assert r.returncode == 7
    # run deletes what it made
    assert bundle.ocirun("state", cid).returncode == 1
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_lifecycle_states(bundle):
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    pidfile = bundle.dir / "pid"
    r = bundle.ocirun("create", "--bundle", bundle.dir, "--pid-file", pidfile, cid)
    assert r.returncode == 0, r.stderr
    st = bundle.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid and st["bundle"] == str(bundle.dir)
    assert st["pid"] == int(pidfile.read_text())
    # the init waits before exec: still ocirun's image, not sleep
    assert Path(f"/proc/{st['pid']}/exe").resolve() == OCIRUN.resolve()
    assert cid in bundle.ocirun("list", "-q").stdout.split()
    assert bundle.ocirun("start", cid).returncode == 0
    st = bundle.state(cid)
    assert st["status"] == "running"
    wait_for(lambda: Path(f"/proc/{st['pid']}/exe").resolve().name == "busybox", 5,
             "the container to exec")
    r = bundle.ocirun("start", cid)
    assert r.returncode == 1 and "not created" in r.stderr
    r = bundle.ocirun("delete", cid)
    assert r.returncode == 1 and "running" in r.stderr
    assert bundle.ocirun("kill", cid, "KILL").returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 5, "stopped")
    assert bundle.ocirun("delete", cid).returncode == 0
    r = bundle.ocirun("state", cid)
    assert r.returncode == 1 and f"container `{cid}` does not exist" in r.stderr
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_delete_force_killsrun_detached(bundle):
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    assert bundle.ocirun("start", cid).returncode == 0
    pid = bundle.state(cid)["pid"]
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or
             "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3], 5, "init gone")
    assert not (CGROUP_V1 / "pids" / bundle.cgroup).exists()


def test_pid_namespace(bundle):
    bundle.write(["sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$' | wc -l"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    pid, nprocs = r.stdout.split()
    assert pid == "1"
    assert int(nprocs) <= 4  # sh, ls, grep, wc: no host process


def test_hostname(bundle):
    bundle.config["hostname"] = "box-" + uuid.uuid4().hex[:6]
    bundle.write(["hostname"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.stdout.strip() == bundle.config["hostname"], r.stderr


def test_memory_limit_in_v1_cgroup(bundle):
    bundle.write(["sleep", "30"], resources={"memory": {"limit": 32 << 20},
                                             "cpu": {"shares": 512, "quota": 20000,
                                                     "period": 100000},
                                             "pids": {"limit": 50}})
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    cg = bundle.cgroup
    pid = bundle.state(cid)["pid"]
    assert (CGROUP_V1 / "memory" / cg / "memory.limit_in_bytes").read_text().strip() == str(32 << 20)
    assert (CGROUP_V1 / "cpu" / cg / "cpu.shares").read_text().strip() == "512"
    assert (CGROUP_V1 / "cpu" / cg / "cpu.cfs_quota_us").read_text().strip() == "20000"
    assert (CGROUP_V1 / "pids" / cg / "pids.max").read_text().strip() == "50"
    # the init is in the cgroup before it execs
    assert str(pid) in (CGROUP_V1 / "memory" / cg / "cgroup.procs").read_text().split()
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    for h in ("memory", "cpu", "pids"):
        assert not (CGROUP_V1 / h / cg).exists()


def test_oom_killed_exit_137(bundle):
    bundle.write(["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
                 resources={"memory": {"limit": 16 << 20}})
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 137, (r.stdout, r.stderr)


def test_oom_kill_counted_in_cgroup(bundle):
    out = bundle.dir / "out"
    bundle.write(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; "
                  "exec sleep 30"], resources={"memory": {"limit": 16 << 20}})
    cid = bundle.new_id()
    with open(out, "w") as f, open(bundle.dir / "err", "w+") as e:
        r = subprocess.run([str(OCIRUN), "--root", bundle.root, "create", "-b", str(bundle.dir),
                            cid], stdout=f, stderr=e, text=True, timeout=30)
        e.seek(0)
        assert r.returncode == 0, e.read()
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: "dd=" in out.read_text(), 10, "dd to end")
    assert out.read_text().strip() == "dd=137"
    oom = (CGROUP_V1 / "memory" / bundle.cgroup / "memory.oom_control").read_text()
    kills = int(dict(l.split() for l in oom.splitlines())["oom_kill"])
    assert kills >= 1
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_bad_config_names_field_and_leaves_nothing(bundle):
    bundle.write(["true"], resources={"memory": {"limit": "16M"}})
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1
    assert "linux.resources.memory.limit: expected integer" in r.stderr
    assert not (Path(bundle.root) / cid).exists()
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_failure_in_init_is_reported_and_cleaned_up(bundle):
    bundle.write(["/no/such/binary"])
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1
    assert "executable `/no/such/binary`" in r.stderr and "No such file" in r.stderr
    assert not (Path(bundle.root) / cid).exists()
    for h in ("memory", "cpu", "pids"):
        assert not (CGROUP_V1 / h / bundle.cgroup).exists()
    # a bad root fails in the init too (pivot_root needs a mount point it makes)
    bundle.config["root"]["path"] = "missing-rootfs"
    bundle.write(["true"])
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1 and "missing-rootfs" in r.stderr, r.stderr
    assert not (Path(bundle.root) / cid).exists()


def test_join_network_namespace_by_path(bundle):
    ns = unique("ns-")
    subprocess.run(["ip", "netns", "add", ns], check=True)
    bundle.netns.append(ns)
    nets = bundle.config["linux"]["namespaces"]
    for n in nets:
        if n["type"] == "network":
            n["path"] = f"/var/run/netns/{ns}"
    bundle.write(["readlink", "/proc/self/ns/net"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    ino = os.stat(f"/var/run/netns/{ns}").st_ino
    assert r.stdout.strip() == f"net:[{ino}]"


def test_secure_defaults(bundle):
    bundle.write(["sh", "-c", "cat /proc/timer_list 2>/dev/null | wc -c; ls /sys/firmware | wc -l; "
                  "(echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo wrote; "
                  "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; "
                  "touch /rootfs-file 2>/dev/null && echo touched; echo done"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0].strip() == "0"  # a file masked by /dev/null: reads empty
    assert lines[1].strip() == "0"  # a directory masked by an empty tmpfs
    assert "wrote" not in r.stdout and "touched" not in r.stdout
    assert "CapEff:\t00000000a80425fb" in r.stdout  # Docker's default set
    assert "CapBnd:\t00000000a80425fb" in r.stdout
    assert "NoNewPrivs:\t1" in r.stdout


DEFAULT_PROFILE_PROBE = (
    "ls -d /proc/[0-9]* | wc -l; "
    "mount -t tmpfs x /mnt 2>/dev/null && echo mounted; "
    "unshare -U true 2>/dev/null && echo unshared-user; "
    "unshare -n true 2>/dev/null && echo unshared-net; "
    "(echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo wrote-sys; "
    "(echo x > /proc/keys) 2>/dev/null; echo masked-bytes $(wc -c < /proc/keys); "
    "touch /sys/firmware/x 2>/dev/null && echo wrote-masked-dir; "
    "grep -E '^(CapEff|Seccomp):' /proc/self/status; echo done")


def test_default_profile_secures_the_container(bundle):
    """What `ocirun spec` gives: a pid namespace showing no host pid, a seccomp
    allowlist that refuses mount and unshare (even unshare -U, which needs no
    capability), read-only /proc/sys, masked paths, Docker's capability set."""
    assert bundle.config["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    bundle.write(["sh", "-c", DEFAULT_PROFILE_PROBE])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert int(lines[0]) <= 3, r.stdout  # sh, ls and maybe wc: no host pid
    for bad in ("mounted", "unshared-user", "unshared-net", "wrote-sys", "wrote-masked-dir"):
        assert bad not in r.stdout, r.stdout
    # A masked file is /dev/null, as in crun and runc: it reads empty and what
    # is written to it goes nowhere.
    assert "masked-bytes 0" in r.stdout, r.stdout
    assert "CapEff:\t00000000a80425fb" in r.stdout
    assert "Seccomp:\t2" in r.stdout
    assert lines[-1] == "done"


def test_unshare_refused_by_the_profile_not_by_capabilities(bundle):
    """Control for the test above: without the profile, unshare -U works with
    the same capabilities, so it is the profile that refuses it."""
    del bundle.config["linux"]["seccomp"]
    bundle.write(["sh", "-c", "unshare -U true && echo unshared-user"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert "unshared-user" in r.stdout


def test_default_profile_runs_ordinary_work(bundle):
    """Forks, pipes, sockets, signals, files: what a normal container does."""
    bundle.config["root"]["readonly"] = False
    bundle.write(["sh", "-c", "mkdir -p /tmp/d && echo hi > /tmp/d/f && cat /tmp/d/f | wc -c; "
                  "(sleep 5 & kill $!; wait $!; echo killed=$?); "
                  "ip -o link show lo | grep -c lo; id -u; echo ok"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3", "killed=143", "1", "0", "ok"], r.stdout + r.stderr


def test_seccomp_from_config(bundle):
    bundle.write(["sh", "-c", "mkdir /tmp/x && echo made || echo refused"],
                 seccomp={"defaultAction": "SCMP_ACT_ALLOW",
                          "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": ["mkdir", "mkdirat"],
                                        "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})
    bundle.config["root"]["readonly"] = False
    bundle.write()
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.stdout.strip() == "refused", r.stderr


def test_user_and_cwd(bundle):
    bundle.config["process"]["user"] = {"uid": 1234, "gid": 99, "additionalGids": [7]}
    bundle.config["process"]["cwd"] = "/tmp"
    bundle.write(["sh", "-c", "id; pwd"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert "uid=1234 gid=99 groups=7" in r.stdout
    assert r.stdout.split("\n")[1] == "/tmp"


def test_kill_signals_and_errors(bundle):
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    r = bundle.ocirun("kill", cid, "NOPE")
    assert r.returncode == 1 and "unknown signal" in r.stderr
    assert bundle.ocirun("kill", "--all", cid, "SIGKILL").returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 5, "stopped")
    r = bundle.ocirun("kill", cid, "9")
    assert r.returncode == 1 and "not running" in r.stderr
    r = bundle.ocirun("kill", unique(), "9")
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert bundle.ocirun("delete", cid).returncode == 0


def test_spec_features_help(bundle, state_root):
    spec = bundle.config
    assert spec["process"]["noNewPrivileges"] is True
    assert "/proc/kcore" in spec["linux"]["maskedPaths"]
    assert {n["type"] for n in spec["linux"]["namespaces"]} == {"pid", "network", "ipc", "uts",
                                                               "mount"}
    assert spec["process"]["args"] == ["sh"]
    r = bundle.ocirun("spec", "--bundle", bundle.dir)
    assert r.returncode == 1 and "exists" in r.stderr
    f = json.loads(bundle.ocirun("features").stdout)
    assert {"mount", "user", "time"} <= set(f["linux"]["namespaces"])
    assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer",
                          "poststart", "poststop"]
    for cmd in ("create", "start", "state", "kill", "delete", "run", "exec", "list", "ps",
                "spec", "features"):
        r = bundle.ocirun(cmd, "--help")
        assert r.returncode == 0 and "usage: ocirun " + cmd in r.stdout
    assert bundle.ocirun("--help").returncode == 0
    r = bundle.ocirun("bogus")
    assert r.returncode == 1 and "unknown command" in r.stderr


def test_log_json(bundle):
    log = bundle.dir / "log.json"
    r = subprocess.run([str(OCIRUN), "--root", bundle.root, "--log", str(log), "--log-format",
                        "json", "state", "nope-" + uuid.uuid4().hex[:6]],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and "does not exist" in entry["msg"]


def test_cgroup_namespace_rooted_at_container_cgroup(bundle):
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.write(["cat", "/proc/self/cgroup"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(":", 2)[1:] for l in r.stdout.splitlines())
    assert lines["memory"] == "/" and lines["pids"] == "/", r.stdout


def test_mounts_bind_readonly_and_tmpfs(bundle):
    src = bundle.dir / "data"
    src.mkdir()
    (src / "f").write_text("bound\n")
    bundle.config["mounts"] += [
        {"destination": "/data", "source": "data", "options": ["rbind", "ro"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "size=1m"]},
    ]
    bundle.write(["sh", "-c", "cat /data/f; touch /data/g 2>/dev/null && echo wrote-ro; "
                  "touch /scratch/x && echo scratch-ok; ls /dev"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert "bound" in r.stdout and "wrote-ro" not in r.stdout and "scratch-ok" in r.stdout
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue"):
        assert dev in r.stdout.split(), r.stdout
    assert not (src / "g").exists()


def test_pod_like_sandbox_and_container(bundle, state_root):
    """What the nodelet does: a sandbox with new net/ipc/uts namespaces, and a
    container joining them by /proc/PID/ns path, in a cgroup under the pod's."""
    pod = unique("pod-")
    bundle.cgroups.append(pod)
    bundle.config["hostname"] = "pod-host"
    bundle.config["linux"]["cgroupsPath"] = f"{pod}/sandbox"
    bundle.write(["sleep", "30"], cgroup=False)
    sandbox = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, sandbox).returncode == 0
    assert bundle.ocirun("start", sandbox).returncode == 0
    spid = bundle.state(sandbox)["pid"]

    ctr_dir = Path(tempfile.mkdtemp(prefix=PREFIX + "ctr-"))
    ctr = Bundle(ctr_dir, state_root)
    try:
        ctr.config.pop("hostname")
        ctr.config["linux"]["namespaces"] = [
            {"type": "pid"}, {"type": "mount"},
            {"type": "network", "path": f"/proc/{spid}/ns/net"},
            {"type": "ipc", "path": f"/proc/{spid}/ns/ipc"},
            {"type": "uts", "path": f"/proc/{spid}/ns/uts"},
        ]
        ctr.config["linux"]["cgroupsPath"] = f"{pod}/web"
        ctr.write(["sh", "-c", "hostname; for n in net ipc uts pid; do "
                   "readlink /proc/self/ns/$n; done; cat /proc/self/cgroup | grep memory"],
                  cgroup=False, resources={"memory": {"limit": 64 << 20}})
        r = ctr.ocirun("run", "-b", ctr.dir, ctr.new_id())
        assert r.returncode == 0, r.stderr
        out = r.stdout.split("\n")
        assert out[0] == "pod-host"
        for i, n in enumerate(("net", "ipc", "uts"), start=1):
            assert out[i] == os.readlink(f"/proc/{spid}/ns/{n}"), n
        assert out[4] != os.readlink(f"/proc/{spid}/ns/pid")
        assert out[5].endswith(f"memory:/{pod}/web")
        assert not (CGROUP_V1 / "memory" / pod / "web").exists()  # run deleted it
    finally:
        ctr.cleanup()
    assert bundle.ocirun("delete", "--force", sandbox).returncode == 0
    (CGROUP_V1 / "memory" / pod).rmdir()


def test_ps_lists_container_pids(bundle):
    bundle.write(["sh", "-c", "sleep 30 & exec sleep 30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    assert bundle.ocirun("start", cid).returncode == 0
    pid = bundle.state(cid)["pid"]
    pids = wait_for(lambda: (lambda p: p if len(p) == 2 else None)(
        json.loads(bundle.ocirun("ps", "--format", "json", cid).stdout)), 5, "two pids")
    assert pid in pids
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_exec_joins_namespaces_cgroup_and_propagates_exit(bundle):
    cid = run_detached(bundle)
    pid = bundle.state(cid)["pid"]
    r = bundle.ocirun("exec", cid, "sh", "-c",
                      "hostname; for n in pid mnt net ipc uts; do readlink /proc/self/ns/$n; "
                      "done; grep memory /proc/self/cgroup; ps -o pid,comm | grep -c sleep; "
                      "exit 5")
    assert r.returncode == 5, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "ocirun"
    for i, n in enumerate(("pid", "mnt", "net", "ipc", "uts"), start=1):
        assert out[i] == os.readlink(f"/proc/{pid}/ns/{n}"), (n, r.stdout)
    assert out[6].endswith(f"memory:/{bundle.cgroup}"), r.stdout
    assert out[7] == "1"  # sees the container's own sleep (pid namespace joined)


def test_exec_applies_caps_nnp_seccomp_and_options(bundle):
    cid = run_detached(bundle)
    r = bundle.ocirun("exec", "--env", "FOO=bar", "-e", "PATH=/bin", "--cwd", "/tmp", cid,
                      "sh", "-c", "echo $FOO $PATH; pwd; "
                      "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
                      "unshare -U true 2>/dev/null && echo unshared; true")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["bar /bin", "/tmp"], r.stdout
    assert "CapEff:\t00000000a80425fb" in r.stdout
    assert "NoNewPrivs:\t1" in r.stdout and "Seccomp:\t2" in r.stdout
    assert "unshared" not in r.stdout
    r = bundle.ocirun("exec", "--user", "1000:1000", cid, "id")
    assert r.returncode == 0 and "uid=1000 gid=1000" in r.stdout, r.stdout + r.stderr


def test_exec_process_json(bundle):
    cid = run_detached(bundle)
    proc = {"args": ["sh", "-c", "id -u; echo $X; pwd; grep CapBnd /proc/self/status"],
            "env": ["X=from-json", "PATH=/bin"], "cwd": "/etc",
            "user": {"uid": 7, "gid": 7},
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                             "permitted": ["CAP_KILL"]},
            "noNewPrivileges": True}
    pf = bundle.dir / "process.json"
    pf.write_text(json.dumps(proc))
    r = bundle.ocirun("exec", "-p", pf, cid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["7", "from-json", "/etc", "CapBnd:\t0000000000000020"]


def test_exec_errors(bundle):
    cid = run_detached(bundle)
    r = bundle.ocirun("exec", cid, "no-such-binary")
    assert r.returncode == 1 and "no-such-binary" in r.stderr and "not found" in r.stderr
    r = bundle.ocirun("exec", unique(), "true")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = bundle.ocirun("exec", cid)
    assert r.returncode == 1 and "command" in r.stderr
    r = bundle.ocirun("exec", "--help")
    assert r.returncode == 0 and "usage: ocirun exec" in r.stdout
    assert bundle.ocirun("kill", cid, "KILL").returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 5, "stopped")
    r = bundle.ocirun("exec", cid, "true")
    assert r.returncode == 1 and "stopped" in r.stderr


def test_exec_detach_pid_file(bundle):
    cid = run_detached(bundle)
    pidfile = bundle.dir / "exec.pid"
    r = bundle.ocirun("exec", "-d", "--pid-file", pidfile, cid, "sleep", "20")
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    assert Path(f"/proc/{pid}/exe").resolve().name == "busybox"
    assert pid in json.loads(bundle.ocirun("ps", "--format", "json", cid).stdout)


def test_domainname_and_rootfs_propagation(bundle):
    bundle.config["domainname"] = "example.org"
    bundle.write(["sh", "-c", "cat /proc/sys/kernel/domainname; "
                  "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo"],
                 rootfsPropagation="rshared")
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "example.org"
    assert "shared:" in lines[1], r.stdout
    bundle.write(rootfsPropagation="sideways")
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.rootfsPropagation" in r.stderr


def test_concurrent_calls_on_one_id_are_serialised(bundle):
    """Two starts and a delete at once: one start wins, the other sees the
    container running (not created), the delete without --force is refused."""
    bundle.write(["sleep", "30"])
    for _ in range(3):
        cid = bundle.new_id()
        assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
        base = [str(OCIRUN), "--root", str(bundle.root)]
        procs = [subprocess.Popen(base + ["start", cid], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        codes = []
        errs = []
        for p in procs:
            _, e = p.communicate(timeout=20)
            codes.append(p.returncode)
            errs.append(e)
        assert sorted(codes) == [0, 1], errs
        assert "not created" in "".join(errs)
        assert bundle.state(cid)["status"] == "running"
        assert bundle.ocirun("delete", "--force", cid).returncode == 0


def _hook(out_dir, name, fail=False):
    """A hook that saves its stdin to out_dir/name and appends name to out_dir/log."""
    cmd = f"cat > {out_dir}/{name}; echo {name} >> {out_dir}/log"
    if fail:
        cmd += "; exit 3"
    return {"path": "/bin/sh", "args": ["sh", "-c", cmd]}


def test_hooks_run_in_order_with_state_on_stdin(bundle):
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["mounts"].append({"destination": "/hookout", "source": str(out),
                                    "options": ["rbind", "rw"]})
    bundle.config["hooks"] = {
        "prestart": [_hook(out, "prestart")],
        "createRuntime": [_hook(out, "createRuntime")],
        "createContainer": [_hook(out, "createContainer")],
        # runs inside the container: its /bin/sh, its /hookout
        "startContainer": [_hook("/hookout", "startContainer")],
        "poststart": [_hook(out, "poststart")],
        "poststop": [_hook(out, "poststop")],
    }
    bundle.write(["sh", "-c", "echo main >> /hookout/log"])
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    log = (out / "log").read_text().split()
    assert log[:3] == ["prestart", "createRuntime", "createContainer"], log
    assert log[-1] == "poststop", log
    assert set(log) == {"prestart", "createRuntime", "createContainer", "startContainer",
                        "poststart", "poststop", "main"}, log
    assert log.index("startContainer") < log.index("main")
    for name in ("prestart", "createRuntime", "createContainer", "startContainer",
                 "poststart", "poststop"):
        st = json.loads((out / name).read_text())
        assert st["id"] == cid and st["bundle"] == str(bundle.dir), (name, st)
        assert st["ociVersion"]
        if name != "poststop":
            assert st["pid"] > 0, (name, st)
    statuses = {n: json.loads((out / n).read_text())["status"]
                for n in ("prestart", "createRuntime", "createContainer", "startContainer",
                          "poststart", "poststop")}
    assert statuses == {"prestart": "creating", "createRuntime": "creating",
                        "createContainer": "creating", "startContainer": "created",
                        "poststart": "running", "poststop": "stopped"}, statuses


def test_failing_prestart_hook_fails_create_and_leaves_nothing(bundle):
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["hooks"] = {"prestart": [_hook(out, "prestart", fail=True)]}
    bundle.write(["true"])
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1
    assert "hooks.prestart[0] `/bin/sh`: exited with status 3" in r.stderr, r.stderr
    assert bundle.ocirun("state", cid).returncode == 1
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_hook_timeout_and_failing_poststop(bundle):
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "10"],
                                                 "timeout": 1}]}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "timed out after 1 s" in r.stderr, r.stderr
    bundle.config["hooks"] = {"poststop": [_hook(out, "poststop", fail=True)]}
    bundle.write()
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "hooks.poststop[0]" in r.stderr
    assert bundle.ocirun("state", cid).returncode == 1  # deleted all the same


def test_devices_nodes_and_cgroup_rules(bundle):
    """linux.devices makes nodes (mode, owner); the default deny-all device rule
    of `ocirun spec` refuses a node made by hand; the default nodes work."""
    assert bundle.config["linux"]["resources"]["devices"] == [{"allow": False,
                                                              "access": "rwm"}]
    bundle.config["linux"]["devices"] = [{"path": "/dev/my/null", "type": "c", "major": 1,
                                          "minor": 3, "fileMode": 0o600, "uid": 5, "gid": 6}]
    bundle.write(["sh", "-c", "stat -c '%A %u %g %t:%T' /dev/my/null; echo x > /dev/my/null "
                  "&& echo wrote-mine; echo x > /dev/null && echo wrote-null; "
                  "mknod /dev/kmsg2 c 1 11 && echo made; head -c1 /dev/kmsg2 2>/dev/null "
                  "|| echo refused; cat /dev/zero | head -c 3 | wc -c"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:6] == ["crw------- 5 6 1:3", "wrote-mine", "wrote-null", "made",
                                       "refused", "3"], r.stdout + r.stderr


def test_device_rules_on_host_cgroup(bundle):
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    rules = (CGROUP_V1 / "devices" / bundle.cgroup / "devices.list").read_text().split("\n")
    assert "a *:* rwm" not in rules and "c 1:3 rwm" in rules and "c 136:* rwm" in rules, rules
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not (CGROUP_V1 / "devices" / bundle.cgroup).exists()


def test_cpuset_and_memory_reservation(bundle):
    bundle.write(["sh", "-c", "grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status; sleep 30"],
                 resources={"cpu": {"cpus": "0", "mems": "0"},
                            "memory": {"limit": 64 << 20, "reservation": 32 << 20}})
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0, "create"
    cs = CGROUP_V1 / "cpuset" / bundle.cgroup
    assert (cs / "cpuset.cpus").read_text().strip() == "0"
    assert (cs / "cpuset.mems").read_text().strip() == "0"
    pid = bundle.state(cid)["pid"]
    assert str(pid) in (cs / "cgroup.procs").read_text().split()
    mem = CGROUP_V1 / "memory" / bundle.cgroup
    assert int((mem / "memory.soft_limit_in_bytes").read_text()) == 32 << 20
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not cs.exists()


def test_blkio_weight(bundle):
    """blkio.weight (CFQ) or blkio.bfq.weight (BFQ, this kernel: only below the
    root), or refused naming the field when the scheduler has neither."""
    bundle.write(["sleep", "30"], resources={"blockIO": {"weight": 500}})
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    d = CGROUP_V1 / "blkio" / bundle.cgroup
    if r.returncode == 0:
        files = [d / "blkio.weight", d / "blkio.bfq.weight"]
        vals = [f.read_text().split()[-1] for f in files if f.exists()]
        assert vals and vals[0] == "500", vals
        assert bundle.ocirun("delete", "--force", cid).returncode == 0
    else:
        assert "linux.resources.blockIO.weight" in r.stderr, r.stderr
    assert not d.exists()


def test_user_namespace_with_mappings(bundle):
    """Container root is host uid 100000; exec joins the user namespace too."""
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    bundle.write(["sh", "-c", "id -u; cat /proc/self/uid_map; grep CapEff /proc/self/status; "
                  "exec sleep 30"])
    bundle.dir.chmod(0o755)  # the container's root (host uid 100000) must reach the rootfs
    cid = bundle.new_id()
    out = bundle.dir / "out"
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    pid = bundle.state(cid)["pid"]
    uids = [l for l in Path(f"/proc/{pid}/status").read_text().splitlines()
            if l.startswith("Uid:")][0].split()[1:]
    assert uids == ["100000"] * 4, uids  # the init, before exec, is already mapped root
    assert bundle.ocirun("start", cid).returncode == 0
    r = bundle.ocirun("exec", cid, "sh", "-c", "id -u; cat /proc/self/uid_map; "
                      "readlink /proc/self/ns/user")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2] == os.readlink(f"/proc/{pid}/ns/user")
    assert lines[2] != os.readlink("/proc/self/ns/user")
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    del out


def test_user_namespace_needs_mappings(bundle):
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.uidMappings" in r.stderr, r.stderr


def test_time_namespace_offsets(bundle):
    """A new time namespace with boottime moved by a day: uptime shows it, for
    the container's process and for one exec'd into it."""
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 0}}
    bundle.write(["sh", "-c", "cut -d. -f1 /proc/uptime; exec sleep 30"])
    cid = bundle.new_id()
    host_up = float(Path("/proc/uptime").read_text().split()[0])
    r = bundle.ocirun("run", "-d", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    r = bundle.ocirun("exec", cid, "cut", "-d.", "-f1", "/proc/uptime")
    assert r.returncode == 0, r.stderr
    assert 86400 + host_up - 5 < int(r.stdout) < 86400 + host_up + 60, (r.stdout, host_up)
    pid = bundle.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/time") != os.readlink("/proc/self/ns/time")
    bundle.write(timeOffsets={"boottime": {"secs": 1}})
    bundle.config["linux"]["namespaces"].pop()
    bundle.write()
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.timeOffsets" in r.stderr


def test_terminal_through_console_socket(bundle):
    """process.terminal: the pty master comes over --console-socket; the
    process has the slave as its controlling terminal and stdio."""
    cid, master, msg = create_with_console(
        bundle, ["sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; tty; read x; echo got-$x"])
    assert msg.startswith(b"/dev/pts/"), msg
    try:
        assert bundle.ocirun("start", cid).returncode == 0
        os.write(master, b"hello\n")
        out = b""
        deadline = __import__("time").monotonic() + 10
        while b"got-hello" not in out and __import__("time").monotonic() < deadline:
            import select
            if select.select([master], [], [], 0.5)[0]:
                try:
                    out += os.read(master, 1024)
                except OSError:
                    break
        text = out.decode(errors="replace")
        assert "is-a-tty" in text and "/dev/pts/0" in text and "got-hello" in text, text
    finally:
        os.close(master)
    r = bundle.ocirun("create", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "--console-socket" in r.stderr


def test_exec_with_tty(bundle):
    cid = run_detached(bundle)
    code, out, err = exec_with_console(bundle, cid, [cid, "sh", "-c",
                                                     "test -t 1 && echo tty-ok; exit 3"],
                                       b"tty-ok")
    assert code == 3, err
    assert b"tty-ok" in out, out
    r = bundle.ocirun("exec", "-t", cid, "true")
    assert r.returncode == 1 and "--console-socket" in r.stderr


def test_run_with_terminal_holds_the_pty(bundle):
    """process.terminal without --console-socket: `run` keeps the pty master
    and relays it to its own terminal, as runc does."""
    import pty
    import select
    import time
    bundle.config["process"]["terminal"] = True
    bundle.write(["sh", "-c", "test -t 0 && echo in-tty; read x; echo got-$x; exit 4"])
    mfd, sfd = pty.openpty()
    p = subprocess.Popen([str(OCIRUN), "--root", str(bundle.root), "run", "-b",
                          str(bundle.dir), bundle.new_id()],
                         stdin=sfd, stdout=sfd, stderr=subprocess.PIPE)
    os.close(sfd)
    out = b""
    sent = False
    try:
        deadline = time.monotonic() + 15
        while p.poll() is None and time.monotonic() < deadline:
            if select.select([mfd], [], [], 0.2)[0]:
                try:
                    out += os.read(mfd, 1024)
                except OSError:
                    break
            if b"in-tty" in out and not sent:
                os.write(mfd, b"abc\r")
                sent = True
        code = p.wait(timeout=15)
    finally:
        os.close(mfd)
    assert code == 4, (out, p.stderr.read())
    assert b"in-tty" in out and b"got-abc" in out, out
    r = bundle.ocirun("run", "-d", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "--console-socket" in r.stderr
    assert not list(Path("/tmp").glob("ocirun-console-*"))


def _userns_holder():
    """A process in a new user namespace mapping 0..65535 to host 100000..:
    the namespace a container joins by path."""
    holder = subprocess.Popen(["unshare", "-U", "sleep", "100"])
    wait_for(lambda: Path(f"/proc/{holder.pid}/comm").read_text().strip() == "sleep"
             and os.readlink(f"/proc/{holder.pid}/ns/user") != os.readlink("/proc/self/ns/user"),
             5, "the user namespace holder")
    Path(f"/proc/{holder.pid}/uid_map").write_text("0 100000 65536\n")
    Path(f"/proc/{holder.pid}/gid_map").write_text("0 100000 65536\n")
    return holder


def test_join_user_namespace_by_path(bundle):
    """linux.namespaces {type: user, path}: the container's process is in that
    user namespace (root there, host uid 100000), and its new namespaces
    belong to it (sethostname works); exec joins it too."""
    holder = _userns_holder()
    try:
        userns = f"/proc/{holder.pid}/ns/user"
        bundle.config["linux"]["namespaces"].append({"type": "user", "path": userns})
        bundle.dir.chmod(0o755)
        bundle.write(["sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; "
                      "hostname; exec sleep 30"])
        cid = bundle.new_id()
        out = bundle.dir / "out"
        # files, not pipes: the container keeps its stdio open
        with open(out, "w") as f, tempfile.TemporaryFile("w+") as err:
            r = subprocess.run([str(OCIRUN), "--root", bundle.root, "run", "-d", "-b",
                                bundle.dir, cid], stdout=f, stderr=err, timeout=30)
            err.seek(0)
            assert r.returncode == 0, err.read()
        pid = bundle.state(cid)["pid"]
        lines = wait_for(lambda: out.read_text().splitlines() if
                         len(out.read_text().splitlines()) >= 4 else None, 10, "output")
        assert lines[0] == "0"
        assert lines[1].split() == ["0", "100000", "65536"]
        assert lines[2] == os.readlink(userns)
        assert lines[3] == "ocirun"
        uids = [l for l in Path(f"/proc/{pid}/status").read_text().splitlines()
                if l.startswith("Uid:")][0].split()[1:]
        assert uids == ["100000"] * 4, uids
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        r = bundle.ocirun("exec", cid, "sh", "-c", "id -u; readlink /proc/self/ns/user")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["0", os.readlink(userns)]
        assert bundle.ocirun("delete", "--force", cid).returncode == 0
    finally:
        holder.kill()
        holder.wait()


def test_join_user_namespace_refuses_mappings(bundle):
    bundle.config["linux"]["namespaces"].append({"type": "user", "path": "/proc/1/ns/user"})
    bundle.write(["true"], uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
                 gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.uidMappings" in r.stderr, r.stderr


def test_join_user_namespace_bad_path(bundle):
    """A path that is no user namespace is named in the error; nothing stays."""
    bundle.config["linux"]["namespaces"].append({"type": "user", "path": "/proc/self/ns/user"})
    bundle.write(["true"])
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-b", bundle.dir, cid)
    assert r.returncode == 1 and "joining user namespace `/proc/self/ns/user`" in r.stderr, \
        r.stderr
    assert bundle.ocirun("state", cid).returncode == 1
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_new_user_namespace_with_joined_netns(bundle):
    """A new user namespace beside a network namespace joined by path: the
    path is joined first (by the host's root), then the user namespace made."""
    ns = unique("ns-")
    subprocess.run(["ip", "netns", "add", ns], check=True)
    bundle.netns.append(ns)
    nets = bundle.config["linux"]["namespaces"]
    bundle.config["linux"]["namespaces"] = [n for n in nets if n["type"] != "network"] + [
        {"type": "network", "path": f"/var/run/netns/{ns}"}, {"type": "user"}]
    maps = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.dir.chmod(0o755)
    bundle.write(["sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/net"],
                 uidMappings=maps, gidMappings=maps)
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]
    st = os.stat(f"/var/run/netns/{ns}")
    assert lines[2] == f"net:[{st.st_ino}]"


def test_seccomp_flags(bundle):
    """linux.seccomp.flags are taken (the filter loads with them); an
    unknown flag is refused naming its field."""
    bundle.config["linux"]["seccomp"]["flags"] = ["SECCOMP_FILTER_FLAG_LOG",
                                                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                  "SECCOMP_FILTER_FLAG_TSYNC"]
    bundle.write(["sh", "-c", "grep Seccomp: /proc/self/status"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["Seccomp:", "2"]
    bundle.config["linux"]["seccomp"]["flags"] = ["SECCOMP_FILTER_FLAG_BOGUS"]
    bundle.write()
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.seccomp.flags[0]" in r.stderr, r.stderr


def test_seccomp_notify_listener(bundle):
    """SCMP_ACT_NOTIFY: the notify fd goes to listenerPath with the state
    (runc's ContainerProcessState); the listener answers the container's
    mkdir with EXDEV."""
    sock = bundle.dir / "listener.sock"
    seen = {}
    t = seccomp_listener(sock, seen)
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(sock),
        "listenerMetadata": "hello",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.write(["sh", "-c", "mkdir /tmp/x; echo rc=$?; test -d /tmp/x || echo absent"])
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-b", bundle.dir, cid)
    t.join(10)
    assert "error" not in seen, seen
    assert r.returncode == 0, r.stderr
    assert "rc=1" in r.stdout and "absent" in r.stdout, (r.stdout, r.stderr)
    assert "cross-device" in r.stderr, r.stderr
    m = seen["msgs"][0]
    assert m["fds"] == ["seccompFd"] and m["metadata"] == "hello"
    assert m["state"]["id"] == cid and m["state"]["status"] == "creating"
    assert m["pid"] == m["state"]["pid"] > 0
    assert seen["calls"]


def test_seccomp_notify_errors(bundle):
    """NOTIFY without a listener path, or one nobody listens on: refused,
    naming the field; nothing stays."""
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "listenerPath" in r.stderr, r.stderr
    bundle.config["linux"]["seccomp"]["listenerPath"] = str(bundle.dir / "nobody.sock")
    bundle.write()
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-b", bundle.dir, cid)
    assert r.returncode == 1 and "nobody.sock" in r.stderr, r.stderr
    assert bundle.ocirun("state", cid).returncode == 1
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()
