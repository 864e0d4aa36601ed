"""ocirun end to end: what makes it behave like crun and runc where it did not
(cgroup joined in every v1 hierarchy, linux.devices nodes not allowed by
themselves, "owner" in the state JSON), oomScoreAdj with a user namespace,
process.execCPUAffinity for `exec`, and the config MUSTs the parser now keeps
(relative mount destinations, unknown capabilities as warnings, annotation
keys, absolute maskedPaths/readonlyPaths, errnoRet only where an action takes
one)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from ocirun_helpers import CGROUP_V1, OCIRUN, wait_for

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")


def v1_hierarchies():
    """The mounted v1 hierarchies as /proc/self/cgroup names them
    ("cpu", "name=systemd"...), without the cgroup2 line."""
    out = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        n, ctl, _ = line.split(":", 2)
        if n != "0" and ctl:
            out.append(ctl)
    return out


def hier_dir(ctl):
    """The directory under /sys/fs/cgroup of a /proc/self/cgroup name."""
    if ctl.startswith("name="):
        return CGROUP_V1 / ctl[len("name="):]
    for name in ctl.split(","):
        if (CGROUP_V1 / name).is_dir():
            return CGROUP_V1 / name
    return CGROUP_V1 / ctl


# ---- cgroup join (divergence "cgroup-join") ---------------------------------

def test_cgroup_joined_in_every_v1_hierarchy(bundle):
    """crun and runc put the container in cgroupsPath in every mounted v1
    hierarchy (blkio, cpuset, freezer, name=systemd too); delete removes it
    from all of them."""
    bundle.write(["sh", "-c", "cat /proc/self/cgroup; sleep 30"])
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    pid = bundle.state(cid)["pid"]
    want = v1_hierarchies()
    assert {"blkio", "cpuset", "freezer", "name=systemd"} <= set(want), want
    got = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        n, ctl, path = line.split(":", 2)
        if n != "0" and ctl:
            got[ctl] = path
    assert got == {ctl: "/" + bundle.cgroup for ctl in want}, got
    # cpuset: the new cgroup got its parent's cpus and mems
    cs = CGROUP_V1 / "cpuset" / bundle.cgroup
    assert (cs / "cpuset.cpus").read_text().strip() == \
        (CGROUP_V1 / "cpuset" / "cpuset.cpus").read_text().strip()
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    for ctl in want:
        assert not (hier_dir(ctl) / bundle.cgroup).exists(), ctl


def test_cgroup_mount_shows_every_hierarchy(bundle):
    """A "cgroup" mount lists the hierarchies the container has a cgroup in:
    now all of them (linux-mount.c binds each one where the cgroup exists)."""
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                                    "source": "cgroup",
                                    "options": ["nosuid", "noexec", "nodev", "ro"]})
    bundle.write(["sh", "-c", "ls /sys/fs/cgroup/cpuset/ | grep -c '^tasks$'; "
                  "ls /sys/fs/cgroup/systemd/ | grep -c '^tasks$'; "
                  "ls /sys/fs/cgroup/freezer/ | grep -c '^tasks$'"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1", "1"], r.stdout


def test_default_cgroup_in_every_hierarchy(bundle):
    """Without cgroupsPath the cgroup is ocirun/<id> in every hierarchy;
    delete removes ocirun/<id> (the empty ocirun/ parent stays, as docker's
    /docker does: cheaper, and in cpuset it hands cpus/mems down)."""
    bundle.write(["sh", "-c", "sleep 30"], cgroup=False)
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    pid = bundle.state(cid)["pid"]
    cg = Path(f"/proc/{pid}/cgroup").read_text()
    assert f"name=systemd:/ocirun/{cid}" in cg and f"cpuset:/ocirun/{cid}" in cg, cg
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    for ctl in v1_hierarchies():
        assert not (hier_dir(ctl) / "ocirun" / cid).exists(), ctl
    assert (CGROUP_V1 / "cpuset" / "ocirun" / "cgroup.clone_children").read_text().strip() == "1"


# ---- linux.devices and the device cgroup (divergence "device-allow") -------

def _dev_probe(bundle, rules):
    bundle.config["linux"]["resources"]["devices"] = rules
    bundle.write(["sh", "-c", "head -c1 /dev/myloop >/dev/null 2>/tmp/e; cat /tmp/e; "
                  "echo done"],
                 devices=[{"path": "/dev/myloop", "type": "b", "major": 7, "minor": 200,
                           "fileMode": 0o600}])
    bundle.config["root"]["readonly"] = False
    (bundle.dir / "config.json").write_text(json.dumps(bundle.config))
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_linux_devices_node_is_not_allowed_by_itself(bundle):
    """As in crun and runc: a linux.devices node that linux.resources.devices
    does not allow cannot be opened (EPERM from the device cgroup)."""
    out = _dev_probe(bundle, [{"allow": False, "access": "rwm"}])
    assert "Operation not permitted" in out, out


def test_linux_devices_node_allowed_by_a_rule(bundle):
    """With an allow rule the device cgroup lets the open through (the
    loop device itself may not exist: ENXIO, not EPERM)."""
    out = _dev_probe(bundle, [{"allow": False, "access": "rwm"},
                              {"allow": True, "type": "b", "major": 7, "minor": 200,
                               "access": "rwm"}])
    assert "Operation not permitted" not in out, out


# ---- state (divergence "state owner") --------------------------------------

def test_state_has_owner_like_runc(bundle):
    """runc's `state` prints "owner": "" (crun prints the user name): in
    created, running and stopped states."""
    bundle.write(["sh", "-c", "sleep 30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    assert bundle.state(cid)["owner"] == ""
    assert bundle.ocirun("start", cid).returncode == 0
    assert bundle.state(cid)["owner"] == ""
    assert bundle.ocirun("kill", cid, "KILL").returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 5, "stopped")
    assert bundle.state(cid)["owner"] == ""
    assert bundle.ocirun("delete", cid).returncode == 0


# ---- oomScoreAdj with a user namespace -------------------------------------

def _userns(bundle):
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    maps = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["linux"]["uidMappings"] = maps
    bundle.config["linux"]["gidMappings"] = maps
    bundle.dir.chmod(0o755)


def test_oom_score_adj_with_a_new_user_namespace(bundle):
    """The init in a new user namespace cannot raise its own oom_score_adj:
    the runtime writes it from the host before the container runs."""
    _userns(bundle)
    bundle.config["process"]["oomScoreAdj"] = 500
    bundle.write(["cat", "/proc/self/oom_score_adj"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "500"


def test_oom_score_adj_for_exec_into_a_user_namespace(bundle):
    _userns(bundle)
    bundle.config["process"]["oomScoreAdj"] = 300
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    assert bundle.ocirun("start", cid).returncode == 0
    r = bundle.ocirun("exec", cid, "cat", "/proc/self/oom_score_adj")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "300"
    proc = json.dumps({"args": ["cat", "/proc/self/oom_score_adj"], "cwd": "/",
                       "oomScoreAdj": 200})
    (bundle.dir / "proc.json").write_text(proc)
    r = bundle.ocirun("exec", "--process", bundle.dir / "proc.json", cid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "200"
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


# ---- process.execCPUAffinity ------------------------------------------------

def _cpus():
    return len(os.sched_getaffinity(0))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_exec_cpu_affinity_final(bundle):
    """final: the exec'd process runs on those CPUs once in the container's
    cgroup; the init is not affected (not applicable to it)."""
    bundle.config["process"]["execCPUAffinity"] = {"initial": "0", "final": "1"}
    bundle.write(["sh", "-c", "grep Cpus_allowed_list /proc/self/status; sleep 30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    assert bundle.ocirun("start", cid).returncode == 0
    r = bundle.ocirun("exec", cid, "grep", "Cpus_allowed_list", "/proc/self/status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["Cpus_allowed_list:", "1"], r.stdout
    pid = bundle.state(cid)["pid"]
    init = [l for l in Path(f"/proc/{pid}/status").read_text().splitlines()
            if l.startswith("Cpus_allowed_list")][0]
    assert init.split()[1] != "1", init
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_exec_cpu_affinity_from_process_json(bundle):
    """exec --process carries its own execCPUAffinity; a bad list is refused
    naming the field."""
    bundle.write(["sleep", "30"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    p = bundle.dir / "proc.json"
    p.write_text(json.dumps({"args": ["grep", "Cpus_allowed_list", "/proc/self/status"],
                             "cwd": "/", "execCPUAffinity": {"final": "0"}}))
    r = bundle.ocirun("exec", "--process", p, cid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["Cpus_allowed_list:", "0"], r.stdout
    p.write_text(json.dumps({"args": ["true"], "cwd": "/",
                             "execCPUAffinity": {"initial": "0-x"}}))
    r = bundle.ocirun("exec", "--process", p, cid)
    assert r.returncode != 0 and "process.execCPUAffinity.initial" in r.stderr, r.stderr
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


# ---- config MUSTs kept by the parser ----------------------------------------

def test_relative_mount_destination(bundle):
    bundle.config["mounts"].append({"destination": "reltmp", "type": "tmpfs",
                                    "source": "tmpfs"})
    bundle.write(["sh", "-c", "grep -c ' /reltmp ' /proc/self/mountinfo"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stdout + r.stderr


def test_unknown_capability_warns(bundle):
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_FOO")
    n = len(bundle.config["process"]["capabilities"]["bounding"]) - 1
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert (f"ocirun: warning: process.capabilities.bounding[{n}]: unknown capability "
            "`CAP_FOO`, ignored") in r.stderr, r.stderr


def test_unknown_capability_warns_once_at_create(bundle):
    """The warning belongs to create; start and delete, which read the
    config saved at create, say nothing more."""
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_FOO")
    bundle.write(["true"])
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 0 and r.stderr.count("CAP_FOO") == 1, r.stderr
    for verb in ("start", "delete"):
        if verb == "delete":
            wait_for(lambda: '"stopped"' in bundle.ocirun("state", cid).stdout, 10, "stopped")
        r = bundle.ocirun(verb, cid)
        assert r.returncode == 0 and "warning" not in r.stderr, (verb, r.stderr)


@pytest.mark.parametrize("key", ["maskedPaths", "readonlyPaths"])
def test_masked_readonly_relative_refused(bundle, key):
    bundle.config["linux"][key] = ["proc/kcore"]
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and f"linux.{key}[0]: must be an absolute path" in r.stderr, \
        r.stderr


def test_empty_annotation_key_refused(bundle):
    bundle.config["annotations"] = {"": "x"}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "annotations: a key must not be empty" in r.stderr, r.stderr


@pytest.mark.parametrize("seccomp,field", [
    ({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 5}]},
     "linux.seccomp.syscalls[0].errnoRet"),
    ({"defaultAction": "SCMP_ACT_LOG", "defaultErrnoRet": 5}, "linux.seccomp.defaultErrnoRet"),
])
def test_errno_ret_with_an_action_without_errno_refused(bundle, seccomp, field):
    bundle.config["linux"]["seccomp"] = seccomp
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and field in r.stderr, r.stderr


def test_errno_ret_with_errno_action_works(bundle):
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 5}]}
    bundle.config["root"]["readonly"] = False
    bundle.write(["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert "Input/output error" in r.stdout, r.stdout


# ---- features ----------------------------------------------------------------

def test_features_nothing_newer_than_oci_version_max():
    """features-linux.md of 1.2.1 has no memoryPolicy (runtime-spec 1.3)."""
    r = subprocess.run([str(OCIRUN), "features"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert f["ociVersionMax"] == "1.2.1"
    assert set(f) <= {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux",
                      "annotations", "potentiallyUnsafeConfigAnnotations"}, f.keys()
    assert set(f["linux"]) <= {"namespaces", "capabilities", "cgroup", "seccomp", "apparmor",
                               "selinux", "intelRdt", "mountExtensions"}, f["linux"].keys()
