"""ocirun end to end: the process attributes of config.json beyond user and
capabilities (ioPriority, scheduler, personality, memoryPolicy, consoleSize),
idmapped bind mounts, and the fields this host cannot honour (AppArmor,
SELinux, Intel RDT), which must be refused by name and leave nothing behind.
Everything is read from the host side: busybox has no ionice or chrt."""

import ctypes
import fcntl
import json
import os
import select
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pytest

from ocirun_helpers import (CGROUP_V1, OCIRUN, PREFIX, create_with_console, exec_with_console,
                            wait_for)

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")

SYS_ioprio_get = 252  # x86_64
IOPRIO_WHO_PROCESS = 1


def created(bundle, args=("sleep", "30"), **proc):
    """Creates (not starts) a container with process fields proc; returns (id, pid)."""
    bundle.config["process"].update(proc)
    bundle.write(list(args))
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    return cid, bundle.state(cid)["pid"]


def refused(bundle, text, args=("true",)):
    """create fails naming text, and leaves no state, cgroup or mount."""
    bundle.write(list(args))
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1, r.stdout
    assert text in r.stderr, r.stderr
    assert not (Path(bundle.root) / cid).exists()
    for h in ("memory", "cpu", "pids"):
        assert not (CGROUP_V1 / h / bundle.cgroup).exists()
    with open("/proc/self/mountinfo") as f:
        assert str(bundle.dir) not in f.read()
    return r.stderr


def ioprio_of(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid)
    assert v >= 0, os.strerror(ctypes.get_errno())
    return v >> 13, v & 0xFF


def test_io_priority_applies_before_exec(bundle):
    cid, pid = created(bundle, ioPriority={"class": "IOPRIO_CLASS_IDLE", "priority": 0})
    # the init has applied it by the time create returns, and exec keeps it
    assert ioprio_of(pid) == (3, 0)
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: Path(f"/proc/{pid}/exe").resolve().name == "busybox", 10, "exec")
    assert ioprio_of(pid) == (3, 0)
    bundle.ocirun("delete", "--force", cid)
    cid, pid = created(bundle, ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 6})
    assert ioprio_of(pid) == (2, 6)


def test_io_priority_in_exec(bundle):
    cid, pid = created(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    proc = dict(bundle.config["process"])
    # the exec'd process sleeps so its attributes can be read from the host
    proc["args"] = ["sleep", "30"]
    proc["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 7}
    proc["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    pf = bundle.dir / "process.json"
    pf.write_text(json.dumps(proc))
    p = subprocess.Popen([str(OCIRUN), "--root", str(bundle.root), "exec", "-p", str(pf), cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        def sleeper():
            for d in Path("/proc").iterdir():
                if d.name.isdigit() and int(d.name) != pid:
                    try:
                        if (d / "cmdline").read_bytes() == b"sleep\x0030\x00" and \
                                os.readlink(d / "ns" / "pid") == os.readlink(f"/proc/{pid}/ns/pid"):
                            return int(d.name)
                    except OSError:
                        pass
            return None
        epid = wait_for(sleeper, 10, "the exec'd sleep")
        assert ioprio_of(epid) == (2, 7)
        assert os.sched_getscheduler(epid) == os.SCHED_BATCH
        assert os.getpriority(os.PRIO_PROCESS, epid) == 5
    finally:
        # gone before the cgroup is removed (delete only waits for the init)
        bundle.ocirun("kill", "--all", cid, "KILL")
        p.wait(timeout=10)
        wait_for(lambda: not (CGROUP_V1 / "pids" / bundle.cgroup / "cgroup.procs").exists()
                 or not (CGROUP_V1 / "pids" / bundle.cgroup / "cgroup.procs").read_text(),
                 10, "the container's processes to exit")


def test_scheduler_policy_and_nice(bundle):
    cid, pid = created(bundle, scheduler={"policy": "SCHED_IDLE"})
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    bundle.ocirun("delete", "--force", cid)
    cid, pid = created(bundle, scheduler={"policy": "SCHED_BATCH", "nice": 7,
                                          "flags": ["SCHED_FLAG_RESET_ON_FORK"]})
    assert os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_BATCH
    assert os.sched_getscheduler(pid) & os.SCHED_RESET_ON_FORK
    assert os.getpriority(os.PRIO_PROCESS, pid) == 7
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: Path(f"/proc/{pid}/exe").resolve().name == "busybox", 10, "exec")
    assert os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_BATCH


def test_scheduler_realtime_and_deadline(bundle):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    if (CGROUP_V1 / "cpu" / "cpu.rt_runtime_us").exists():
        # RT group scheduling: the cgroup needs a real-time budget first
        refused(bundle, "process.scheduler: sched_setattr(SCHED_FIFO) (a real-time policy in "
                        "a cpu cgroup needs linux.resources.cpu.realtimeRuntime)")
        bundle.config["linux"]["resources"]["cpu"] = {"realtimeRuntime": 10000,
                                                      "realtimePeriod": 1000000}
    cid, pid = created(bundle)
    assert os.sched_getscheduler(pid) == os.SCHED_FIFO
    assert os.sched_getparam(pid).sched_priority == 10
    bundle.ocirun("delete", "--force", cid)
    bundle.config["linux"]["resources"].pop("cpu", None)
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_DEADLINE", "runtime": 1000000,
                                             "deadline": 10000000, "period": 10000000}
    # a deadline task cannot fork: the process execs cat directly
    bundle.write(["cat", "/proc/self/sched"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    policy = [l.split()[-1] for l in r.stdout.splitlines() if l.startswith("policy")]
    assert policy == ["6"], r.stdout


def test_scheduler_errors_name_the_field(bundle):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_FAST"}
    err = refused(bundle, "process.scheduler.policy: unknown value `SCHED_FAST`")
    assert "SCHED_DEADLINE" in err
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_OTHER", "priority": 5}
    refused(bundle, "process.scheduler.priority: only SCHED_FIFO and SCHED_RR")
    # a value the kernel rejects fails in the init, named, and is cleaned up
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_ISO"}
    refused(bundle, "process.scheduler: sched_setattr(SCHED_ISO)")


def test_personality(bundle):
    cid, pid = created(bundle, args=("sleep", "30"))
    assert Path(f"/proc/{pid}/personality").read_text().strip() == "00000000"
    bundle.ocirun("delete", "--force", cid)
    bundle.config["linux"]["personality"] = {"domain": "LINUX32",
                                             "flags": ["ADDR_NO_RANDOMIZE"]}
    cid, pid = created(bundle)
    assert Path(f"/proc/{pid}/personality").read_text().strip() == "00040008"
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: Path(f"/proc/{pid}/exe").resolve().name == "busybox", 10, "exec")
    assert Path(f"/proc/{pid}/personality").read_text().strip() == "00040008"
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    bundle.config["linux"]["personality"] = {"domain": "LINUX64"}
    err = refused(bundle, "linux.personality.domain: unknown value `LINUX64`")
    assert "LINUX32" in err


def test_personality_seen_inside(bundle):
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    (bundle.dir / "rootfs" / "bin" / "uname").symlink_to("busybox")
    bundle.write(["uname", "-m"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in ("i686", "i386"), r.stdout


def test_memory_policy(bundle):
    if not Path("/proc/self/numa_maps").exists():
        pytest.skip("kernel without NUMA")
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0"}
    cid, pid = created(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: Path(f"/proc/{pid}/exe").resolve().name == "busybox", 10, "exec")
    maps = Path(f"/proc/{pid}/numa_maps").read_text()
    assert " bind:0 " in maps, maps
    bundle.ocirun("delete", "--force", cid)
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "0",
                                              "flags": ["MPOL_F_STATIC_NODES"]}
    cid, pid = created(bundle)
    maps = Path(f"/proc/{pid}/numa_maps").read_text()
    assert "interleave=static:0" in maps, maps


def test_memory_policy_errors(bundle):
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0-"}
    refused(bundle, "linux.memoryPolicy.nodes: expected a node list like \"0-3,7\"")
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_SOMETIMES", "nodes": "0"}
    refused(bundle, "linux.memoryPolicy.mode: unknown value `MPOL_SOMETIMES`")
    # node 5 does not exist here: the kernel says so, the field is named
    if not Path("/sys/devices/system/node/node5").exists():
        bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "5"}
        refused(bundle, "linux.memoryPolicy: set_mempolicy")


def test_console_size(bundle):
    (bundle.dir / "rootfs" / "bin" / "stty").symlink_to("busybox")
    bundle.config["process"]["consoleSize"] = {"height": 37, "width": 101}
    cid, master, _ = create_with_console(bundle, ["sh", "-c", "stty size; read x"])
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(master, termios.TIOCGWINSZ,
                                                             b"\0" * 8))
        assert (rows, cols) == (37, 101)
        assert bundle.ocirun("start", cid).returncode == 0
        out = b""
        deadline = time.monotonic() + 10
        while b"37 101" not in out and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    out += os.read(master, 1024)
                except OSError:
                    break
        assert b"37 101" in out, out
        os.write(master, b"x\n")
    finally:
        os.close(master)


def test_console_size_ignored_without_terminal(bundle):
    bundle.config["process"]["consoleSize"] = {"height": 10, "width": 10}
    bundle.write(["echo", "ok"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    bundle.config["process"]["consoleSize"] = {"height": "tall", "width": 10}
    refused(bundle, "process.consoleSize.height: expected integer")


def test_idmapped_bind_mount(bundle):
    vol = Path(tempfile.mkdtemp(prefix=PREFIX + "vol-"))
    try:
        os.chown(vol, 1000, 1000)
        (vol / "old").write_text("x")
        os.chown(vol / "old", 1000, 1000)
        bundle.config["mounts"].append({
            "destination": "/data", "type": "bind", "source": str(vol),
            "options": ["rbind", "rw", "idmap"],
            "uidMappings": [{"containerID": 1000, "hostID": 0, "size": 1}],
            "gidMappings": [{"containerID": 1000, "hostID": 0, "size": 1}]})
        bundle.write(["sh", "-c", "stat -c '%u:%g' /data /data/old; touch /data/new; "
                      "stat -c '%u:%g' /data/new"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 0, r.stderr
        # inside, the host's 1000 shows as root; a file root makes is 1000 on the host
        assert r.stdout.split() == ["0:0", "0:0", "0:0"], r.stdout
        st = os.stat(vol / "new")
        assert (st.st_uid, st.st_gid) == (1000, 1000)
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(vol)], check=False)


def test_idmapped_mount_errors(bundle):
    bundle.config["mounts"].append({
        "destination": "/data", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]})
    refused(bundle, "mounts[6].options: `idmap`/`ridmap` without uidMappings and gidMappings "
                    "needs a user namespace")
    bundle.config["mounts"][-1]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    refused(bundle, "mounts[6].gidMappings: missing")
    bundle.config["mounts"][-1] = {
        "destination": "/data", "type": "tmpfs", "source": "tmpfs",
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}
    refused(bundle, "mounts[6].uidMappings: only bind mounts")
    bundle.config["mounts"][-1] = {
        "destination": "/data", "type": "bind", "source": "/tmp", "options": ["bind"],
        "uidMappings": [{"containerID": 0, "hostID": "x", "size": 1}]}
    refused(bundle, "mounts[6].uidMappings[0].hostID: expected integer")


def userns_bundle(bundle, dirs=("data", "plain", "ro")):
    """A container whose root is host uid/gid 100000 (65536 ids); the mount
    points exist (its root cannot create them in the host-owned rootfs)."""
    for d in dirs:
        (bundle.dir / "rootfs" / d).mkdir(exist_ok=True)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.dir.chmod(0o755)  # the container's root (host uid 100000) must reach the rootfs


def test_idmap_takes_the_user_namespace_mappings(bundle):
    """`idmap` without mappings in a container with a user namespace: the mount
    is idmapped with the container's own namespace (as runc 1.2 does), so the
    host's root-owned directory is the container root's, and what the
    container's root writes there is the host root's; a plain bind of the same
    directory shows it unmapped (nobody)."""
    userns_bundle(bundle)
    vol = Path(tempfile.mkdtemp(prefix=PREFIX + "vol-"))  # 0700, 0:0
    try:
        (vol / "old").write_text("x")
        bundle.config["mounts"] += [
            {"destination": "/data", "type": "bind", "source": str(vol),
             "options": ["bind", "idmap"]},
            {"destination": "/plain", "type": "bind", "source": str(vol),
             "options": ["bind"]}]
        bundle.write(["sh", "-c", "stat -c '%u:%g' /data /data/old /plain; "
                      "echo hi > /data/new && stat -c '%u:%g' /data/new"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["0:0", "0:0", "65534:65534", "0:0"], r.stdout
        st = os.stat(vol / "new")
        assert (st.st_uid, st.st_gid) == (0, 0)
        assert (vol / "new").read_text() == "hi\n"
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(vol)], check=False)


def test_idmapped_mount_with_mappings_in_a_user_namespace(bundle):
    """Explicit mappings in a container with a user namespace: containerID is
    the id on the file system, hostID the host id it is shown as (runc's
    reading); host 100000 is the container's root. A file the container's root
    makes is owned by the host's 1000; an id the mount does not map is nobody.
    `ro` and `ridmap` apply to a mount the runtime made."""
    userns_bundle(bundle)
    vol = Path(tempfile.mkdtemp(prefix=PREFIX + "vol-"))
    try:
        os.chown(vol, 1000, 1001)
        (vol / "old").write_text("x")
        os.chown(vol / "old", 1000, 1001)
        (vol / "root").write_text("x")  # 0:0, unmapped by the mount
        um = [{"containerID": 1000, "hostID": 100000, "size": 1}]
        gm = [{"containerID": 1001, "hostID": 100000, "size": 1}]
        bundle.config["mounts"] += [
            {"destination": "/data", "type": "bind", "source": str(vol),
             "options": ["rbind", "rw", "ridmap"], "uidMappings": um, "gidMappings": gm},
            {"destination": "/ro", "type": "bind", "source": str(vol),
             "options": ["bind", "ro"], "uidMappings": um, "gidMappings": gm}]
        bundle.write(["sh", "-c", "stat -c '%u:%g' /data /data/old /data/root /ro/old; "
                      "touch /data/new && stat -c '%u:%g' /data/new; "
                      "touch /ro/x 2>/dev/null || echo ro"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["0:0", "0:0", "65534:65534", "0:0", "0:0", "ro"], r.stdout
        st = os.stat(vol / "new")
        assert (st.st_uid, st.st_gid) == (1000, 1001)
        assert not (vol / "x").exists()
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(vol)], check=False)


def test_idmapped_mount_failure_in_a_user_namespace(bundle):
    """A source whose file system cannot be idmapped (procfs) fails create,
    naming the mount, and leaves nothing behind: no state, cgroup, mount,
    process or helper user namespace."""
    userns_bundle(bundle)
    before = set(os.listdir("/proc"))
    bundle.config["mounts"].append({
        "destination": "/data", "type": "bind", "source": "/proc", "options": ["bind", "idmap"]})
    refused(bundle, "mounts[6]: idmapping `/proc` (does its file system support idmapped "
                    "mounts?)")
    bundle.config["mounts"][-1]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    bundle.config["mounts"][-1]["gidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    refused(bundle, "mounts[6]: idmapping `/proc`")
    # a missing source is named too
    bundle.config["mounts"][-1]["source"] = "/nonexistent-" + PREFIX
    refused(bundle, "mounts[6]: idmap: open_tree(`/nonexistent-" + PREFIX)
    # no child of ours (init, idmap helper) outlives create
    me = str(os.getpid())
    for p in set(os.listdir("/proc")) - before:
        try:
            ppid = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        assert ppid != me, p


def test_lsm_fields_refused_on_this_host(bundle):
    if Path("/sys/module/apparmor/parameters/enabled").exists():
        pytest.skip("AppArmor is enabled here")
    bundle.config["process"]["apparmorProfile"] = "ocirun-test"
    refused(bundle, "process.apparmorProfile `ocirun-test`: AppArmor is not enabled on this host")
    del bundle.config["process"]["apparmorProfile"]
    if Path("/sys/fs/selinux").exists():
        return
    bundle.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"
    refused(bundle, "process.selinuxLabel `system_u:system_r:container_t:s0`: SELinux is not "
                    "enabled on this host")
    del bundle.config["process"]["selinuxLabel"]
    bundle.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
    refused(bundle, "linux.mountLabel `system_u:object_r:container_file_t:s0`: SELinux is not "
                    "enabled on this host")
    # an empty string asks for nothing
    bundle.config["linux"]["mountLabel"] = ""
    bundle.config["process"]["apparmorProfile"] = ""
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr


def test_intel_rdt_refused(bundle):
    bundle.config["linux"]["intelRdt"] = {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0"}
    if Path("/sys/fs/resctrl/schemata").exists():
        refused(bundle, "linux.intelRdt: not implemented yet")
    else:
        refused(bundle, "linux.intelRdt: Intel RDT needs resctrl, which is not mounted")
    bundle.config["linux"]["intelRdt"] = {"closID": 7}
    refused(bundle, "linux.intelRdt.closID: expected string")


def test_io_priority_errors(bundle):
    bundle.config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_FAST", "priority": 1}
    err = refused(bundle, "process.ioPriority.class: unknown value `IOPRIO_CLASS_FAST`")
    assert "IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE" in err
    bundle.config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 8}
    refused(bundle, "process.ioPriority.priority: 8 out of range [0, 7]")
    bundle.config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE"}
    refused(bundle, "process.ioPriority.priority: missing")


def test_features_lists_what_is_supported(bundle):
    r = subprocess.run([str(OCIRUN), "features"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert {"idmap", "ridmap", "rbind", "ro"} <= set(f["mountOptions"])
    linux = f["linux"]
    assert linux["mountExtensions"]["idmap"]["enabled"] is True
    assert linux["intelRdt"]["enabled"] is False
    assert linux["apparmor"]["enabled"] is True and linux["selinux"]["enabled"] is True
    assert linux["cgroup"] == {"v1": True, "v2": True, "systemd": False, "systemdUser": False}
    # linux.memoryPolicy is accepted in config.json, but features-linux.md
    # gained it after 1.2.1, ociVersionMax here: not listed
    assert f["ociVersionMax"] == "1.2.1" and "memoryPolicy" not in linux
    assert "CAP_SYS_ADMIN" in linux["capabilities"]
    assert "SCMP_ACT_NOTIFY" in linux["seccomp"]["actions"]


def test_console_size_in_exec(bundle):
    cid, pid = created(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    (bundle.dir / "rootfs" / "bin" / "stty").symlink_to("busybox")
    proc = dict(bundle.config["process"])
    proc.update(terminal=True, consoleSize={"height": 12, "width": 34},
                args=["sh", "-c", "stty size; exit 3"])
    pf = bundle.dir / "process.json"
    pf.write_text(json.dumps(proc))
    code, out, err = exec_with_console(bundle, cid, ["-p", str(pf), cid], b"12 34")
    assert code == 3, err
    assert b"12 34" in out, out
