"""ocirun update, pause and resume end to end: cgroup limits changed on a live
container, and freezing / thawing its cgroup, run as root."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from ocirun_helpers import CGROUP_V1, OCIRUN, run_detached, wait_for

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")

CGROUP_MOUNT = {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                "options": ["ro", "nosuid", "noexec", "nodev"]}


def cg_file(bundle, ctl, name):
    return (CGROUP_V1 / ctl / bundle.cgroup / name).read_text().strip()


def proc_state(pid):
    """The State letter of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return None


def saved_resources(bundle, cid):
    cfg = json.loads((Path(bundle.root) / cid / "config.json").read_text())
    return cfg["linux"]["resources"]


def test_update_memory_flag_seen_in_cgroup_and_container(bundle):
    bundle.config["mounts"].append(CGROUP_MOUNT)
    cid = run_detached(bundle, resources={"memory": {"limit": 32 << 20}})
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(32 << 20)
    r = bundle.ocirun("update", "--memory", "64m", "--memory-reservation", "16M", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_file(bundle, "memory", "memory.soft_limit_in_bytes") == str(16 << 20)
    # the container sees it through its own cgroup mount
    r = bundle.ocirun("exec", cid, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(64 << 20)
    # sizes as runc takes them: g suffix, bytes
    assert bundle.ocirun("update", "--memory", "1g", cid).returncode == 0
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(1 << 30)
    assert bundle.ocirun("update", "--memory", str(48 << 20), cid).returncode == 0
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(48 << 20)
    # the config copy kept since create has the new resources; state is fine
    assert saved_resources(bundle, cid)["memory"]["limit"] == 48 << 20
    assert saved_resources(bundle, cid)["memory"]["reservation"] == 16 << 20
    assert bundle.state(cid)["status"] == "running"


def test_update_from_resources_file_and_stdin(bundle):
    cid = run_detached(bundle, resources={"pids": {"limit": 100}})
    res = bundle.dir / "res.json"
    res.write_text(json.dumps({"pids": {"limit": 42},
                               "cpu": {"shares": 256, "quota": 30000, "period": 100000}}))
    r = bundle.ocirun("update", "--resources", res, cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(bundle, "pids", "pids.max") == "42"
    assert cg_file(bundle, "cpu", "cpu.shares") == "256"
    assert cg_file(bundle, "cpu", "cpu.cfs_quota_us") == "30000"
    assert cg_file(bundle, "cpu", "cpu.cfs_period_us") == "100000"
    # a flag overrides the file
    r = bundle.ocirun("update", "-r", res, "--pids-limit", "7", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(bundle, "pids", "pids.max") == "7"
    # `-`: standard input (what containerd's shim does)
    r = subprocess.run([str(OCIRUN), "--root", bundle.root, "update", "-r", "-", cid],
                       input=json.dumps({"pids": {"limit": 9}, "cpu": {"cpus": "0"}}),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert cg_file(bundle, "pids", "pids.max") == "9"
    assert cg_file(bundle, "cpuset", "cpuset.cpus") == "0"
    saved = saved_resources(bundle, cid)
    assert saved["pids"] == {"limit": 9} and saved["cpu"]["shares"] == 256
    assert saved["cpu"]["cpus"] == "0"


def test_update_bad_values_name_the_field_or_flag(bundle):
    cid = run_detached(bundle, resources={"pids": {"limit": 100}})
    cases = [
        (["--memory", "12x"], "--memory"),
        (["--cpu-shares", "abc"], "--cpu-shares"),
        (["--blkio-weight", "5"], "linux.resources.blockIO.weight"),
        (["--blkio-weight", "5"], "--blkio-weight"),
        (["--pids-limit", "-1"], "linux.resources.pids.limit"),
    ]
    for args, want in cases:
        r = bundle.ocirun("update", *args, cid)
        assert r.returncode == 1, (args, r.stderr)
        assert want in r.stderr, (args, r.stderr)
    res = bundle.dir / "bad.json"
    res.write_text(json.dumps({"memory": {"limit": "lots"}}))
    r = bundle.ocirun("update", "-r", res, cid)
    assert r.returncode == 1
    assert "linux.resources.memory.limit: expected integer" in r.stderr, r.stderr
    res.write_text("{not json")
    r = bundle.ocirun("update", "-r", res, cid)
    assert r.returncode == 1 and "linux.resources" in r.stderr, r.stderr
    r = bundle.ocirun("update", "-r", bundle.dir / "missing.json", cid)
    assert r.returncode == 1 and "missing.json" in r.stderr, r.stderr
    # nothing was changed by the refused updates
    assert cg_file(bundle, "pids", "pids.max") == "100"


def test_update_failing_part_way_says_what_was_applied(bundle):
    cid = run_detached(bundle, resources={"memory": {"limit": 64 << 20}})
    res = bundle.dir / "res.json"
    # pids applies; a memory limit of 4 KiB is below what the process uses
    # (the kernel refuses it on v1)
    res.write_text(json.dumps({"cpu": {"shares": 300}, "memory": {"limit": 4096}}))
    r = bundle.ocirun("update", "-r", res, cid)
    assert r.returncode == 1
    assert "applied before this failure: nothing" in r.stderr, r.stderr
    assert "linux.resources.memory" in r.stderr, r.stderr
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(64 << 20)
    # memory and pids apply, then the cpuset (no CPU 999) fails
    res.write_text(json.dumps({"memory": {"limit": 80 << 20}, "pids": {"limit": 21},
                               "cpu": {"cpus": "999"}}))
    r = bundle.ocirun("update", "-r", res, cid)
    assert r.returncode == 1
    assert "applied before this failure: memory limit/swap, pids limit" in r.stderr, r.stderr
    assert "cpuset.cpus" in r.stderr or "linux.resources.cpu.cpus" in r.stderr, r.stderr
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(80 << 20)
    assert cg_file(bundle, "pids", "pids.max") == "21"


def test_update_check_before_update_refuses_limit_below_usage(bundle):
    cid = run_detached(bundle, resources={"memory": {"limit": 64 << 20}})
    usage = int(cg_file(bundle, "memory", "memory.usage_in_bytes"))
    assert usage > 0
    res = bundle.dir / "res.json"
    res.write_text(json.dumps({"memory": {"limit": 4096, "checkBeforeUpdate": True},
                               "pids": {"limit": 20}}))
    r = bundle.ocirun("update", "-r", res, cid)
    assert r.returncode == 1
    assert "linux.resources.memory.limit" in r.stderr and "checkBeforeUpdate" in r.stderr, \
        r.stderr
    assert "below the current usage" in r.stderr, r.stderr
    # refused whole: nothing written
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_file(bundle, "pids", "pids.max") == "max"
    # a limit above the usage passes
    res.write_text(json.dumps({"memory": {"limit": 128 << 20, "checkBeforeUpdate": True}}))
    assert bundle.ocirun("update", "-r", res, cid).returncode == 0
    assert cg_file(bundle, "memory", "memory.limit_in_bytes") == str(128 << 20)


def test_update_stopped_or_unknown_container_fails(bundle):
    bundle.write(["true"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    # created: update works
    r = bundle.ocirun("update", "--pids-limit", "12", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(bundle, "pids", "pids.max") == "12"
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 10, "the container to stop")
    r = bundle.ocirun("update", "--pids-limit", "10", cid)
    assert r.returncode == 1 and "stopped" in r.stderr, r.stderr
    r = bundle.ocirun("update", "--pids-limit", "10", "no-such-container-x")
    assert r.returncode == 1 and "`no-such-container-x` does not exist" in r.stderr, r.stderr
    r = bundle.ocirun("update")
    assert r.returncode == 1 and "container id missing" in r.stderr
    assert bundle.ocirun("delete", cid).returncode == 0


def test_pause_resume_state_and_frozen_process(bundle):
    cid = run_detached(bundle)
    pid = bundle.state(cid)["pid"]
    r = bundle.ocirun("pause", cid)
    assert r.returncode == 0, r.stderr
    assert bundle.state(cid)["status"] == "paused"
    assert cg_file(bundle, "freezer", "freezer.state") == "FROZEN"
    assert proc_state(pid) == "D"  # a frozen task sleeps in the freezer
    listed = json.loads(bundle.ocirun("list", "--format", "json").stdout)
    assert [c["status"] for c in listed if c["id"] == cid] == ["paused"]
    # paused twice, exec into a paused container, resume of a running one: errors
    r = bundle.ocirun("pause", cid)
    assert r.returncode == 1 and "paused, not running" in r.stderr, r.stderr
    # update works on a paused container
    assert bundle.ocirun("update", "--pids-limit", "33", cid).returncode == 0
    r = bundle.ocirun("resume", cid)
    assert r.returncode == 0, r.stderr
    assert bundle.state(cid)["status"] == "running"
    assert cg_file(bundle, "freezer", "freezer.state") == "THAWED"
    wait_for(lambda: proc_state(pid) == "S", 5, "the process to run again")
    r = bundle.ocirun("resume", cid)
    assert r.returncode == 1 and "running, not paused" in r.stderr, r.stderr


def test_pause_of_created_stopped_or_unknown_fails(bundle):
    bundle.write(["true"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    r = bundle.ocirun("pause", cid)
    assert r.returncode == 1 and "created, not running" in r.stderr, r.stderr
    assert bundle.ocirun("start", cid).returncode == 0
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 10, "the container to stop")
    r = bundle.ocirun("pause", cid)
    assert r.returncode == 1 and "stopped, not running" in r.stderr, r.stderr
    r = bundle.ocirun("pause", "no-such-container-y")
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    r = bundle.ocirun("resume", "no-such-container-y")
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    assert bundle.ocirun("delete", cid).returncode == 0


@pytest.mark.parametrize("all_", [[], ["--all"]], ids=["init", "all"])
def test_kill_9_of_paused_container(bundle, all_):
    cid = run_detached(bundle, args=("sh", "-c", "sleep 30 & exec sleep 30"))
    assert bundle.ocirun("pause", cid).returncode == 0
    # KILL thaws the cgroup after it is sent (a frozen v1 task would not die)
    r = bundle.ocirun("kill", *all_, cid, "9")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 10, "the container to stop")
    wait_for(lambda: cg_file(bundle, "memory", "cgroup.procs") == "", 10, "the cgroup to empty")
    assert bundle.ocirun("delete", cid).returncode == 0
    assert not (CGROUP_V1 / "freezer" / bundle.cgroup).exists()


def test_delete_force_of_paused_container_leaves_nothing(bundle):
    cid = run_detached(bundle, args=("sh", "-c", "sleep 30 & exec sleep 30"))
    pid = bundle.state(cid)["pid"]
    assert bundle.ocirun("pause", cid).returncode == 0
    r = bundle.ocirun("delete", cid)
    assert r.returncode == 1 and "paused" in r.stderr, r.stderr
    r = bundle.ocirun("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert bundle.ocirun("state", cid).returncode == 1
    for h in ("memory", "freezer", "pids", "cpu"):
        assert not (CGROUP_V1 / h / bundle.cgroup).exists(), h
    assert not (Path(bundle.root) / cid).exists()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or proc_state(pid) in ("Z", None), 5,
             "the init to go")


def test_help_of_new_verbs():
    for cmd in ("update", "pause", "resume"):
        r = subprocess.run([str(OCIRUN), cmd, "--help"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, (cmd, r.stderr)
        assert r.stdout.startswith(f"usage: ocirun {cmd} "), r.stdout
    r = subprocess.run([str(OCIRUN), "update", "--help"], capture_output=True, text=True,
                       timeout=30)
    for flag in ("--resources", "--memory", "--memory-swap", "--cpu-quota", "--cpuset-cpus",
                 "--pids-limit", "--blkio-weight"):
        assert flag in r.stdout, flag
