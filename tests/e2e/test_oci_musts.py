"""ocirun against the MUSTs of the OCI runtime specification (runtime.md,
config.md, config-linux.md, features.md) not shown by test_ocirun.py.
docs/oci-conformance.md names, for each requirement, the test that shows it."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from ocirun_helpers import (CGROUP_V1, create_with_console, seccomp_listener,
                            start_and_read_console, unique, wait_for)

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")


def _create(bundle, args=("sleep", "30"), **linux):
    bundle.write(list(args), **linux)
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    return cid


def _stopped(bundle, cid):
    wait_for(lambda: bundle.state(cid)["status"] == "stopped", 5, "stopped")


def _hook(out_dir, name, fail=False, extra=""):
    """A hook that saves its stdin to out_dir/name and appends name to out_dir/log."""
    cmd = f"cat > {out_dir}/{name}; {extra} echo {name} >> {out_dir}/log"
    if fail:
        cmd += "; exit 3"
    return {"path": "/bin/sh", "args": ["sh", "-c", cmd]}


def _log(out):
    p = out / "log"
    return p.read_text().split() if p.exists() else []


# ---- seccomp SCMP_ACT_NOTIFY for `exec` ------------------------------------

def test_exec_with_seccomp_notify_sends_fd_to_listener(bundle):
    """A process of `exec` into a container whose profile notifies connects
    to listenerPath (a host path) and hands its own notify fd over, with
    the container's state and its own host pid; its mkdir is answered by
    the listener (EXDEV)."""
    sock = bundle.dir / "listener.sock"
    seen = {}
    t = seccomp_listener(sock, seen, 2)
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(sock),
        "listenerMetadata": "exec-test",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    cid = _create(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    init_pid = bundle.state(cid)["pid"]
    pidfile = bundle.dir / "exec.pid"
    r = bundle.ocirun("exec", "--pid-file", pidfile, cid, "sh", "-c",
                      "mkdir /tmp/y; echo rc=$?; test -d /tmp/y || echo absent")
    t.join(10)
    assert "error" not in seen, seen
    assert r.returncode == 0, r.stderr
    assert "rc=1" in r.stdout and "absent" in r.stdout, (r.stdout, r.stderr)
    assert "cross-device" in r.stderr, r.stderr
    assert len(seen["msgs"]) == 2, seen
    m = seen["msgs"][1]
    exec_pid = int(pidfile.read_text())
    assert m["fds"] == ["seccompFd"] and m["metadata"] == "exec-test"
    assert m["pid"] == exec_pid != init_pid
    assert m["state"]["id"] == cid and m["state"]["status"] == "running"
    assert m["state"]["pid"] == init_pid
    # without a listener any more: refused, naming the path
    r = bundle.ocirun("exec", cid, "true")
    assert r.returncode == 1 and "listener.sock" in r.stderr, r.stderr
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


# ---- runtime.md: operations ------------------------------------------------

def test_create_with_id_in_use_fails_and_keeps_the_first(bundle):
    cid = _create(bundle)
    st = bundle.state(cid)
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1 and f"container `{cid}` already exists" in r.stderr, r.stderr
    assert bundle.state(cid) == st  # the first one is untouched
    assert Path(f"/proc/{st['pid']}").exists()
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_create_with_invalid_or_missing_id_fails_and_makes_nothing(bundle):
    bundle.write(["true"])
    for bad in ("../escape", "a/b", "..", "x" * 300):
        r = bundle.ocirun("create", "-b", bundle.dir, bad)
        assert r.returncode == 1 and "container id" in r.stderr, (bad, r.stderr)
    r = bundle.ocirun("create", "-b", bundle.dir)
    assert r.returncode == 1 and "container id missing" in r.stderr
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()
    assert list(Path(bundle.root).iterdir()) == [] or all(
        not p.name.startswith(("..", "x")) for p in Path(bundle.root).iterdir())


def test_user_process_not_run_before_start(bundle):
    """create makes everything but MUST NOT run process.args; start MUST."""
    out = bundle.dir / "marker"
    out.mkdir()
    bundle.config["mounts"].append({"destination": "/marker", "source": str(out),
                                    "options": ["rbind", "rw"]})
    cid = _create(bundle, ["sh", "-c", "touch /marker/ran; sleep 30"])
    assert bundle.state(cid)["status"] == "created"
    assert not (out / "ran").exists()
    assert (CGROUP_V1 / "memory" / bundle.cgroup).is_dir()  # resources exist already
    assert bundle.ocirun("start", cid).returncode == 0
    assert bundle.state(cid)["status"] == "running"
    wait_for(lambda: (out / "ran").exists(), 5, "the process to run")
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_config_changes_after_create_do_not_affect_the_container(bundle):
    """runtime.md, Lifecycle 2: updates to config.json after create MUST NOT
    affect the container (hooks, and what exec takes from it)."""
    out = bundle.dir / "hookout"
    out.mkdir()
    cid = _create(bundle)
    bundle.config["hooks"] = {"poststart": [_hook(out, "poststart")],
                              "poststop": [_hook(out, "poststop")]}
    bundle.config["process"]["env"].append("ADDED=later")
    bundle.write(["false"])
    assert bundle.ocirun("start", cid).returncode == 0
    r = bundle.ocirun("exec", cid, "sh", "-c", "echo [$ADDED]")
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
    assert bundle.state(cid)["status"] == "running"  # still sleep, not false
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert _log(out) == []


def test_start_errors_leave_the_container_alone(bundle):
    r = bundle.ocirun("start")
    assert r.returncode == 1 and "container id missing" in r.stderr
    r = bundle.ocirun("start", unique())
    assert r.returncode == 1 and "does not exist" in r.stderr
    cid = _create(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    pid = bundle.state(cid)["pid"]
    r = bundle.ocirun("start", cid)
    assert r.returncode == 1 and "not created" in r.stderr
    st = bundle.state(cid)
    assert st["status"] == "running" and st["pid"] == pid
    assert bundle.ocirun("kill", cid, "KILL").returncode == 0
    _stopped(bundle, cid)
    r = bundle.ocirun("start", cid)
    assert r.returncode == 1 and "stopped, not created" in r.stderr
    assert bundle.ocirun("delete", cid).returncode == 0


def test_kill_errors_unless_created_or_running(bundle):
    r = bundle.ocirun("kill")
    assert r.returncode == 1 and "container id missing" in r.stderr
    r = bundle.ocirun("kill", unique(), "TERM")
    assert r.returncode == 1 and "does not exist" in r.stderr
    cid = _create(bundle)
    # created: the signal goes to the container's process
    assert bundle.ocirun("kill", cid, "KILL").returncode == 0
    _stopped(bundle, cid)
    for args in (("KILL",), ("--all", "KILL")):
        r = bundle.ocirun("kill", *args[:-1], cid, args[-1])
        assert r.returncode == 1 and "not running (stopped)" in r.stderr, (args, r.stderr)
    assert bundle.state(cid)["status"] == "stopped"
    assert bundle.ocirun("delete", cid).returncode == 0


def test_stopped_container_keeps_its_state_until_delete(bundle):
    """The process's exit does not remove the container: state says stopped
    (no pid) until delete, which then removes it and its cgroup."""
    cid = _create(bundle, ["true"])
    assert bundle.ocirun("start", cid).returncode == 0
    _stopped(bundle, cid)
    st = bundle.state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0 and st["id"] == cid
    assert (CGROUP_V1 / "memory" / bundle.cgroup).is_dir()
    assert bundle.ocirun("delete", cid).returncode == 0
    assert bundle.ocirun("state", cid).returncode == 1
    assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_delete_errors_unless_stopped(bundle):
    r = bundle.ocirun("delete")
    assert r.returncode == 1 and "container id missing" in r.stderr
    r = bundle.ocirun("delete", unique())
    assert r.returncode == 1 and "does not exist" in r.stderr
    cid = _create(bundle)
    st = bundle.state(cid)
    r = bundle.ocirun("delete", cid)
    assert r.returncode == 1 and "created" in r.stderr, r.stderr
    assert bundle.state(cid) == st and Path(f"/proc/{st['pid']}").exists()
    assert bundle.ocirun("start", cid).returncode == 0  # still usable
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_delete_keeps_resources_it_did_not_create(bundle):
    """A cgroup that existed before create and a network namespace joined by
    path are the container's but not created by it: delete leaves them."""
    cg = unique("cg-")
    bundle.cgroups.append(cg)
    for h in ("memory", "pids", "cpu,cpuacct"):
        if (CGROUP_V1 / h).is_dir():
            (CGROUP_V1 / h / cg).mkdir()
    ns = unique("ns-")
    subprocess.run(["ip", "netns", "add", ns], check=True)
    bundle.netns.append(ns)
    bundle.config["linux"]["cgroupsPath"] = cg
    for n in bundle.config["linux"]["namespaces"]:
        if n["type"] == "network":
            n["path"] = f"/var/run/netns/{ns}"
    cid = _create(bundle, ["true"], cgroup=False)
    assert bundle.ocirun("start", cid).returncode == 0
    _stopped(bundle, cid)
    assert bundle.ocirun("delete", cid).returncode == 0
    assert (CGROUP_V1 / "memory" / cg).is_dir()
    assert Path(f"/var/run/netns/{ns}").exists()
    # a failed create does not remove it either
    bundle.config["process"]["args"] = ["no-such-binary"]
    bundle.write()
    r = bundle.ocirun("create", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1
    assert (CGROUP_V1 / "memory" / cg).is_dir()


def test_state_has_the_required_fields_and_annotations(bundle):
    bundle.config["annotations"] = {"org.example.key": "value", "org.example.empty": ""}
    cid = _create(bundle)
    r = bundle.ocirun("state")
    assert r.returncode == 1 and "container id missing" in r.stderr
    st = bundle.state(cid)
    import re
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", st["ociVersion"]), st
    assert st["id"] == cid and st["status"] == "created"
    assert st["pid"] > 0 and Path(f"/proc/{st['pid']}").exists()
    assert st["bundle"] == str(bundle.dir) and os.path.isabs(st["bundle"])
    assert st["annotations"] == {"org.example.key": "value", "org.example.empty": ""}
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


# ---- runtime.md / config.md: hooks ----------------------------------------

def test_hooks_of_one_kind_run_in_listed_order_with_their_args_and_env(bundle):
    out = bundle.dir / "hookout"
    out.mkdir()
    env_probe = {"path": "/bin/sh",
                 "args": ["sh", "-c", f"echo \"$0 $1 [$FOO] [$HOME]\" > {out}/env", "a1", "a2"],
                 "env": ["FOO=bar"]}
    bundle.config["hooks"] = {"prestart": [_hook(out, "p1"), env_probe, _hook(out, "p2")],
                              "createRuntime": [_hook(out, "r1"), _hook(out, "r2")]}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert _log(out) == ["p1", "p2", "r1", "r2"]
    # args as given (args[0] is argv[0]), env exactly the hook's own
    assert (out / "env").read_text() == "a1 a2 [bar] []\n"


def test_failing_create_hooks_fail_create_destroy_and_run_poststop(bundle):
    """runtime.md, Lifecycle 3-5: a failing prestart, createRuntime or
    createContainer hook is an error; the container is destroyed (step 12)
    and the poststop hooks run (step 13); later hooks do not run."""
    out = bundle.dir / "hookout"
    out.mkdir()
    for kind in ("prestart", "createRuntime", "createContainer"):
        (out / "log").unlink(missing_ok=True)
        hooks = {"prestart": [_hook(out, "prestart")],
                 "createRuntime": [_hook(out, "createRuntime")],
                 "createContainer": [_hook(out, "createContainer")],
                 "poststop": [_hook(out, "poststop")]}
        hooks[kind] = [_hook(out, kind, fail=True), _hook(out, "after")]
        bundle.config["hooks"] = hooks
        bundle.write(["true"])
        cid = bundle.new_id()
        r = bundle.ocirun("create", "-b", bundle.dir, cid)
        assert r.returncode == 1, (kind, r.stderr)
        assert f"hooks.{kind}[0] `/bin/sh`: exited with status 3" in r.stderr, r.stderr
        log = _log(out)
        assert "after" not in log and log[-1] == "poststop", (kind, log)
        assert json.loads((out / "poststop").read_text())["status"] == "stopped"
        assert bundle.ocirun("state", cid).returncode == 1
        assert not (CGROUP_V1 / "memory" / bundle.cgroup).exists()


def test_failing_poststart_hook_fails_start_and_stops_the_container(bundle):
    """runtime.md, Lifecycle 9 (runtime-spec after PR #1262): a failing
    poststart hook is an error and the container is stopped; delete then
    destroys it and runs poststop."""
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["hooks"] = {"poststart": [_hook(out, "poststart", fail=True)],
                              "poststop": [_hook(out, "poststop")]}
    cid = _create(bundle)
    r = bundle.ocirun("start", cid)
    assert r.returncode == 1, r.stderr
    assert "hooks.poststart[0] `/bin/sh`: exited with status 3" in r.stderr, r.stderr
    assert bundle.state(cid)["status"] == "stopped"
    assert bundle.ocirun("delete", cid).returncode == 0
    assert _log(out) == ["poststart", "poststop"]


def test_failing_start_container_hook_fails_start(bundle):
    """runtime.md, Lifecycle 7: a failing startContainer hook is an error of
    start, the container is stopped and the user process never runs."""
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}
    out = bundle.dir / "marker"
    out.mkdir()
    bundle.config["mounts"].append({"destination": "/marker", "source": str(out),
                                    "options": ["rbind", "rw"]})
    cid = _create(bundle, ["sh", "-c", "touch /marker/ran; sleep 30"])
    r = bundle.ocirun("start", cid)
    _stopped(bundle, cid)
    assert not (out / "ran").exists()
    assert r.returncode == 1 and "hooks.startContainer[0]" in r.stderr, r.stderr


def test_poststop_failure_is_a_warning_and_later_hooks_run(bundle):
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["hooks"] = {"poststop": [_hook(out, "first", fail=True),
                                           _hook(out, "second")]}
    cid = _create(bundle, ["true"])
    assert bundle.ocirun("start", cid).returncode == 0
    _stopped(bundle, cid)
    r = bundle.ocirun("delete", cid)
    assert r.returncode == 0 and "warning" in r.stderr and "hooks.poststop[0]" in r.stderr
    assert bundle.ocirun("state", cid).returncode == 1
    # runtime.md: "the remaining hooks ... continue as if the hook had succeeded"
    assert _log(out) == ["first", "second"], _log(out)


# ---- config.md -------------------------------------------------------------

def test_oci_version_must_be_semver_of_a_supported_major(bundle):
    for v, ok in (("1.0.0", True), ("1.2.1", True), ("1.0.2-dev", True),
                  ("1.1.0-rc.2+build.5", True), ("1.0", False), ("v1.0.0", False),
                  ("01.0.0", False), ("2.0.0", False), ("1.0.0-", False)):
        bundle.config["ociVersion"] = v
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert (r.returncode == 0) == ok, (v, r.stderr)
        if not ok:
            assert "ociVersion" in r.stderr, (v, r.stderr)
    feats = json.loads(bundle.ocirun("features").stdout)
    for key in ("ociVersionMin", "ociVersionMax"):  # features.md: MUST accept both
        bundle.config["ociVersion"] = feats[key]
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 0, (key, r.stderr)


def test_unknown_properties_are_ignored(bundle):
    """config.md, Extensibility: unknown properties MUST be ignored."""
    bundle.config["org.example.future"] = {"x": [1, 2]}
    bundle.config["process"]["org.example.knob"] = True
    bundle.config["linux"]["org.example.thing"] = "y"
    bundle.config["annotations"] = {"org.example.unknown.annotation": "z"}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr


def test_root_path_must_exist(bundle):
    bundle.config["root"]["path"] = "no-such-rootfs"
    bundle.write(["true"])
    cid = bundle.new_id()
    r = bundle.ocirun("create", "-b", bundle.dir, cid)
    assert r.returncode == 1 and "no-such-rootfs" in r.stderr, r.stderr
    assert bundle.ocirun("state", cid).returncode == 1


def test_mounts_are_made_in_listed_order(bundle):
    """A bind mount listed after a tmpfs on its parent is visible; listed
    before it, it is hidden by the tmpfs."""
    src = bundle.dir / "src"
    src.mkdir()
    (src / "f").write_text("bound\n")
    tmpfs = {"destination": "/data", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev"]}
    bind = {"destination": "/data/sub", "source": str(src), "options": ["bind", "ro"]}
    base = list(bundle.config["mounts"])
    bundle.config["mounts"] = base + [tmpfs, bind]
    bundle.write(["sh", "-c", "cat /data/sub/f 2>/dev/null || echo missing"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout == "bound\n", r.stdout + r.stderr
    bundle.config["mounts"] = base + [{**tmpfs, "destination": "/data2"},
                                      {**bind, "destination": "/data2/sub"},
                                      {**tmpfs, "destination": "/data2"}]
    bundle.write(["sh", "-c", "cat /data2/sub/f 2>/dev/null || echo missing"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout == "missing\n", r.stdout + r.stderr


def test_rlimits_and_oom_score_adj(bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                                           {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    bundle.config["process"]["oomScoreAdj"] = 123
    bundle.write(["sh", "-c", "ulimit -n; ulimit -H -n; cat /proc/self/oom_score_adj"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["321", "654", "123"]
    # not set: the runtime's own value is kept
    del bundle.config["process"]["oomScoreAdj"]
    bundle.write(["cat", "/proc/self/oom_score_adj"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.stdout.strip() == Path("/proc/self/oom_score_adj").read_text().strip()


def test_rlimits_unknown_or_duplicated_are_errors(bundle):
    for rl in ([{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}],
               [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}]):
        bundle.config["process"]["rlimits"] = rl
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 1 and "process.rlimits" in r.stderr, (rl, r.stderr)


def test_cwd_must_be_absolute_and_args_not_empty(bundle):
    bundle.config["process"]["cwd"] = "relative/dir"
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "process.cwd" in r.stderr, r.stderr
    bundle.config["process"]["cwd"] = "/"
    bundle.write([])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "process.args" in r.stderr, r.stderr


def test_hook_path_absolute_and_timeout_positive(bundle):
    for hook, field in (({"path": "sh"}, "hooks.prestart[0].path"),
                        ({"path": "/bin/true", "timeout": 0}, "hooks.prestart[0].timeout")):
        bundle.config["hooks"] = {"prestart": [hook]}
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 1 and field in r.stderr, (hook, r.stderr)


def test_annotations_keys_and_values_are_strings(bundle):
    for ann in ({"": "x"}, {"k": 1}):
        bundle.config["annotations"] = ann
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 1 and "annotations" in r.stderr, (ann, r.stderr)


# ---- runtime-linux.md, config-linux.md -------------------------------------

def test_dev_symlinks(bundle):
    bundle.write(["sh", "-c", "for l in fd stdin stdout stderr ptmx; do "
                  "echo $l=$(readlink /dev/$l); done"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["fd=/proc/self/fd", "stdin=/proc/self/fd/0",
                                "stdout=/proc/self/fd/1", "stderr=/proc/self/fd/2",
                                "ptmx=pts/ptmx"], r.stdout


def test_default_devices(bundle):
    bundle.write(["sh", "-c", "for d in null zero full random urandom tty; do "
                  "stat -c '%n %F %t:%T' /dev/$d; done; head -c 4 /dev/zero | wc -c"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    want = {"/dev/null": "1:3", "/dev/zero": "1:5", "/dev/full": "1:7",
            "/dev/random": "1:8", "/dev/urandom": "1:9", "/dev/tty": "5:0"}
    for line in lines[:6]:
        name, rest = line.split(" ", 1)
        assert "character special" in rest and rest.endswith(want[name]), line
    assert lines[6].strip() == "4"


def test_namespaces_path_type_and_inheritance(bundle):
    """A path of another type is an error; a type not listed is inherited
    from the runtime; a duplicated type is an error."""
    ns = bundle.config["linux"]["namespaces"]
    net = [n for n in ns if n["type"] == "network"]
    net[0]["path"] = "/proc/self/ns/ipc"
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "namespace" in r.stderr, r.stderr
    bundle.config["linux"]["namespaces"] = [n for n in ns if n["type"] != "network"]
    bundle.write(["readlink", "/proc/self/ns/net"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.readlink("/proc/self/ns/net")
    bundle.config["linux"]["namespaces"] = [n for n in ns if n["type"] != "network"] + \
        [{"type": "ipc"}, {"type": "ipc"}]
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "linux.namespaces" in r.stderr, r.stderr


def test_seccomp_errno_ret_with_an_action_that_takes_none_is_an_error(bundle):
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 5}]}
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "errnoRet" in r.stderr, r.stderr


def test_masked_and_readonly_paths_must_be_absolute(bundle):
    for key in ("maskedPaths", "readonlyPaths"):
        cfg = json.loads(json.dumps(bundle.config))
        bundle.config["linux"][key] = ["proc/kcore"]
        bundle.write(["true"])
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 1 and f"linux.{key}" in r.stderr, (key, r.stderr)
        bundle.config = cfg


# ---- features.md -----------------------------------------------------------

def test_features_lists_are_accepted_in_config(bundle):
    """features.md: what `features` lists (namespaces, capabilities, seccomp
    actions, operators, architectures, flags, hooks, mount options) MUST be
    recognised in config.json."""
    f = json.loads(bundle.ocirun("features").stdout)
    lin = f["linux"]
    assert f["ociVersionMin"] <= f["ociVersionMax"]
    # every name the runtime lists, but only those this host's runtime holds
    # (see the next test for the others)
    held = int(Path("/proc/self/status").read_text().split("CapBnd:")[1].split()[0], 16)
    caps = [c for i, c in enumerate(lin["capabilities"]) if held >> i & 1]
    assert len(lin["capabilities"]) == int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1
    bundle.config["process"]["capabilities"] = {"bounding": caps, "permitted": caps,
                                                "effective": caps}
    sc = lin["seccomp"]
    rules = []
    for i, a in enumerate(sc["actions"]):
        rule = {"names": [f"nonexistent_syscall_{i}"], "action": a}
        if a == "SCMP_ACT_NOTIFY":
            continue  # needs a listener: covered by the notify tests
        rules.append(rule)
    for op in sc["operators"]:
        rules.append({"names": ["getpid"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": op}]})
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                         "architectures": sc["archs"],
                                         "flags": sc.get("supportedFlags", []),
                                         "syscalls": rules}
    known = set(n["type"] for n in bundle.config["linux"]["namespaces"])
    assert known <= set(lin["namespaces"]), lin["namespaces"]
    bundle.config["hooks"] = {h: [{"path": "/bin/true"}] for h in f["hooks"]}
    mounts = []
    skip = {"idmap", "ridmap", "tmpcopyup", "remount", "bind", "rbind"}
    for i, o in enumerate(f["mountOptions"]):
        if o in skip:
            continue
        mounts.append({"destination": f"/mnt/o{i}", "type": "tmpfs", "source": "tmpfs",
                       "options": [o]})
    bundle.config["mounts"] += mounts
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, r.stderr


def test_capabilities_that_cannot_be_granted_are_a_warning(bundle):
    """config.md (1.1+): a capability that cannot be granted MUST be logged as
    a warning (and SHOULD NOT fail the container). The runtime here lacks
    some capability in its bounding set, or the test has nothing to show."""
    held = int(Path("/proc/self/status").read_text().split("CapBnd:")[1].split()[0], 16)
    names = json.loads(bundle.ocirun("features").stdout)["linux"]["capabilities"]
    missing = [c for i, c in enumerate(names) if not held >> i & 1]
    if not missing:
        pytest.skip("the runtime holds every capability here")
    caps = bundle.config["process"]["capabilities"]
    for k in ("bounding", "permitted", "effective"):
        caps[k] = caps[k] + missing[:1]
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and "warning" in r.stderr and missing[0] in r.stderr, r.stderr


def test_container_namespace_hooks_get_the_pid_the_container_sees(bundle):
    """runtime.md, State: pid is the runtime's view for hooks run in the
    runtime namespace (prestart, createRuntime, poststart) and the
    container's for those run in the container namespace."""
    out = bundle.dir / "hookout"
    out.mkdir()
    bundle.config["mounts"].append({"destination": "/hookout", "source": str(out),
                                    "options": ["rbind", "rw"]})
    bundle.config["hooks"] = {"createRuntime": [_hook(out, "createRuntime")],
                              "createContainer": [_hook(out, "createContainer")],
                              "startContainer": [_hook("/hookout", "startContainer")]}
    cid = _create(bundle)
    assert bundle.ocirun("start", cid).returncode == 0
    host_pid = bundle.state(cid)["pid"]
    wait_for(lambda: (out / "startContainer").exists(), 5, "startContainer")
    pids = {n: json.loads((out / n).read_text())["pid"]
            for n in ("createRuntime", "createContainer", "startContainer")}
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert pids == {"createRuntime": host_pid, "createContainer": 1, "startContainer": 1}


def test_unknown_capability_is_a_warning(bundle):
    """config.md (1.1+): a value that cannot be mapped to a kernel
    interface MUST be logged as a warning."""
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_NOT_A_CAP")
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and "warning" in r.stderr and "CAP_NOT_A_CAP" in r.stderr


def test_relative_mount_destination_is_relative_to_root(bundle):
    """config.md (1.1+, runtime-spec PR #1225): on Linux a relative
    destination MUST be interpreted as relative to "/"."""
    bundle.config["mounts"].append({"destination": "reltmp", "type": "tmpfs",
                                    "source": "tmpfs"})
    bundle.write(["sh", "-c", "grep -c ' /reltmp ' /proc/self/mountinfo"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stdout + r.stderr


def test_device_path_holding_another_file_is_an_error(bundle):
    """config-linux.md, Devices: a file already at path that does not match
    the requested device MUST be an error."""
    (bundle.dir / "rootfs" / "notadev").write_text("x")
    bundle.config["root"]["readonly"] = False
    bundle.write(["true"], devices=[{"path": "/notadev", "type": "c", "major": 1, "minor": 5}])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 1 and "/notadev" in r.stderr, r.stderr


def test_console_size_ignored_without_terminal(bundle):
    """config.md: consoleSize MUST be ignored when terminal is false."""
    bundle.config["process"]["terminal"] = False
    bundle.config["process"]["consoleSize"] = {"height": 10, "width": 20}
    bundle.write(["sh", "-c", "tty; echo done"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0 and r.stdout.split()[-1] == "done", r.stdout + r.stderr
    assert "not a tty" in r.stdout


def test_dev_console_is_the_terminal(bundle):
    """config-linux.md, Default Devices: with terminal, /dev/console is set
    up by bind mounting the pseudoterminal slave."""
    cid, master, _ = create_with_console(bundle, ["sh", "-c", "stat -c 'console=%t:%T' /dev/console; "
                                                  "stat -c 'tty=%t:%T' $(tty)"])
    text = start_and_read_console(bundle, cid, master, b"tty=")
    con = [l for l in text.split() if l.startswith("console=")]
    tty = [l for l in text.split() if l.startswith("tty=")]
    assert con and tty and con[0][8:] == tty[0][4:], text


def test_cgroups_path_absolute_is_taken_from_the_mount_point(bundle):
    """config-linux.md, cgroupsPath: an absolute path is relative to the
    cgroups mount point; the same value gives the same place."""
    cg = unique("cg-")
    bundle.cgroups.append(cg)
    bundle.config["linux"]["cgroupsPath"] = "/" + cg
    bundle.write(["sh", "-c", "grep -E '^[0-9]+:memory:' /proc/self/cgroup"], cgroup=False)
    for _ in range(2):
        r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().endswith(f":memory:/{cg}"), r.stdout
