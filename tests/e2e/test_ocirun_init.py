"""The container's init and the process set-up it shares with `exec`
(runtime/container-init.c, linux-mount.c, caps.c, seccomp.c): HOME, masked
files, noNewPrivileges false with a seccomp filter, oomScoreAdj in a user
namespace, linux.devices over existing files, /dev/console, startContainer
failures, capabilities the runtime cannot grant. Each checks what crun and
runc do (see test_oci_diff.py) or what the runtime-spec requires."""

import json
import os
from pathlib import Path

import pytest

from ocirun_helpers import create_with_console, run_detached, start_and_read_console

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")

DEFAULT_CAPS = "00000000a80425fb"  # Docker's default set, what `ocirun spec` writes


def _run(bundle, args, **linux):
    bundle.write(list(args), **linux)
    return bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())


def _status(out):
    return dict(l.split(":\t", 1) for l in out.splitlines() if ":\t" in l)


# ---- HOME --------------------------------------------------------------------

def test_home_is_slash_without_a_passwd_entry(bundle):
    """No HOME in process.env and no /etc/passwd: HOME=/ (crun, runc)."""
    assert not any(e.startswith("HOME=") for e in bundle.config["process"]["env"])
    r = _run(bundle, ["sh", "-c", "echo home=$HOME"])
    assert r.returncode == 0 and r.stdout.strip() == "home=/", r.stdout + r.stderr


def test_home_from_the_containers_passwd(bundle):
    """HOME is the home of the process's uid in the container's /etc/passwd;
    a HOME given in process.env is left alone; exec does the same."""
    (bundle.dir / "rootfs" / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment line\n"
        "u:x:1000:1000:a user:/home/u:/bin/sh\n")
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    r = _run(bundle, ["sh", "-c", "echo home=$HOME"])
    assert r.returncode == 0 and r.stdout.strip() == "home=/home/u", r.stdout + r.stderr
    bundle.config["process"]["env"].append("HOME=/given")
    r = _run(bundle, ["sh", "-c", "echo home=$HOME"])
    assert r.returncode == 0 and r.stdout.strip() == "home=/given", r.stdout + r.stderr
    bundle.config["process"]["env"].remove("HOME=/given")
    bundle.config["process"]["user"] = {"uid": 0, "gid": 0}
    cid = run_detached(bundle)
    r = bundle.ocirun("exec", cid, "sh", "-c", "echo home=$HOME")
    assert r.returncode == 0 and r.stdout.strip() == "home=/root", r.stdout + r.stderr
    r = bundle.ocirun("exec", "--user", "1000:1000", cid, "sh", "-c", "echo home=$HOME")
    assert r.returncode == 0 and r.stdout.strip() == "home=/home/u", r.stdout + r.stderr
    r = bundle.ocirun("exec", "--user", "4242:4242", cid, "sh", "-c", "echo home=$HOME")
    assert r.returncode == 0 and r.stdout.strip() == "home=/", r.stdout + r.stderr
    r = bundle.ocirun("exec", "-e", "HOME=/x", cid, "sh", "-c", "echo home=$HOME")
    assert r.returncode == 0 and r.stdout.strip() == "home=/x", r.stdout + r.stderr
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


# ---- masked paths ------------------------------------------------------------

def test_masked_file_reads_empty_and_swallows_writes(bundle):
    """A masked file is /dev/null, as in crun and runc: open() works, it reads
    as empty, a write is discarded (nothing reaches the real file); a masked
    directory is an empty read-only tmpfs."""
    r = _run(bundle, ["sh", "-c",
                      "head -c 64 /proc/keys | wc -c; echo rc=$?; "
                      "stat -c '%F %t:%T' /proc/keys; "
                      "(echo x > /proc/keys) 2>/dev/null; head -c 64 /proc/keys | wc -c; "
                      "ls -A /sys/firmware | wc -l; "
                      "touch /sys/firmware/x 2>/dev/null && echo touched; "
                      "grep ' /proc/keys ' /proc/self/mountinfo"])
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[:5] == ["0", "rc=0", "character special file 1:3", "0", "0"], r.stdout
    assert "touched" not in r.stdout
    opts = out[5].split()[5].split(",")
    assert "ro" in opts and "nodev" not in opts and "nosuid" in opts, out[5]


# ---- noNewPrivileges ---------------------------------------------------------

def test_no_new_privs_false_with_seccomp(bundle):
    """noNewPrivileges false with the default seccomp profile: the process has
    no_new_privs 0 (libseccomp's own NNP attribute is cleared), the filter is
    loaded, and root's permitted set after exec is its bounding set (crun,
    runc). A non-root user still gets through setgroups/setuid/capset."""
    bundle.config["process"]["noNewPrivileges"] = False
    probe = "grep -E '^(CapPrm|CapEff|NoNewPrivs|Seccomp):' /proc/self/status"
    r = _run(bundle, ["sh", "-c", probe])
    assert r.returncode == 0, r.stderr
    st = _status(r.stdout)
    assert st["NoNewPrivs"] == "0" and st["Seccomp"] == "2", r.stdout
    assert st["CapPrm"] == DEFAULT_CAPS and st["CapEff"] == DEFAULT_CAPS, r.stdout
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10]}
    r = _run(bundle, ["sh", "-c", "id; " + probe])
    assert r.returncode == 0, r.stderr
    st = _status(r.stdout)
    assert "uid=1000 gid=1000" in r.stdout and st["NoNewPrivs"] == "0", r.stdout
    assert st["Seccomp"] == "2" and st["CapEff"] == "0000000000000000", r.stdout


def test_no_new_privs_false_start_container_hook_runs_under_the_filter(bundle):
    """With noNewPrivileges false the filter is loaded before the
    capabilities drop, so the startContainer hook (run by the init after
    that) runs under it; it must still work, with a timeout too."""
    bundle.config["process"]["noNewPrivileges"] = False
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "cat > /tmp/state"], "timeout": 5}]}
    bundle.config["root"]["readonly"] = False
    r = _run(bundle, ["sh", "-c", "grep -c '\"pid\":1' /tmp/state; "
                      "grep NoNewPrivs /proc/self/status"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "NoNewPrivs:", "0"], r.stdout


def test_exec_with_no_new_privs_false(bundle):
    """exec shares the set-up: its process gets no_new_privs 0 and the filter."""
    bundle.config["process"]["noNewPrivileges"] = False
    cid = run_detached(bundle)
    r = bundle.ocirun("exec", cid, "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status")
    assert r.returncode == 0, r.stderr
    st = _status(r.stdout)
    assert st["NoNewPrivs"] == "0" and st["Seccomp"] == "2", r.stdout
    r = bundle.ocirun("exec", "--user", "1000:1000", cid, "id", "-u")
    assert r.returncode == 0 and r.stdout.strip() == "1000", r.stdout + r.stderr
    assert bundle.ocirun("delete", "--force", cid).returncode == 0


def test_no_new_privs_true_is_still_set(bundle):
    assert bundle.config["process"]["noNewPrivileges"] is True
    r = _run(bundle, ["grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status"])
    assert r.returncode == 0, r.stderr
    st = _status(r.stdout)
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", r.stdout


# ---- oomScoreAdj in a user namespace -----------------------------------------

def test_oom_score_adj_with_a_user_namespace(bundle):
    """The init does not write its own oom_score_adj in a new user namespace
    (the runtime does it from the host): the value is set, create works."""
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    bundle.config["process"]["oomScoreAdj"] = 300
    bundle.dir.chmod(0o755)
    r = _run(bundle, ["cat", "/proc/self/oom_score_adj"])
    assert r.returncode == 0 and r.stdout.strip() == "300", r.stdout + r.stderr


# ---- linux.devices -----------------------------------------------------------

def test_device_over_a_matching_node_is_fine_and_other_types_are_errors(bundle):
    """config-linux.md, Devices: a node already at path that is the requested
    device is kept; one of another type or number is an error naming
    linux.devices[i].path; a missing one is made."""
    rootfs = bundle.dir / "rootfs"
    os.mknod(rootfs / "zero5", 0o666 | 0o020000, os.makedev(1, 5))
    bundle.config["root"]["readonly"] = False
    r = _run(bundle, ["sh", "-c", "stat -c '%t:%T' /zero5 /dev/made; head -c 3 /zero5 | wc -c"],
             devices=[{"path": "/zero5", "type": "c", "major": 1, "minor": 5},
                      {"path": "/dev/made", "type": "c", "major": 1, "minor": 3}])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1:5", "1:3", "3"], r.stdout
    r = _run(bundle, ["true"], devices=[{"path": "/zero5", "type": "c", "major": 1, "minor": 3}])
    assert r.returncode == 1 and "linux.devices[0].path `/zero5`" in r.stderr, r.stderr
    r = _run(bundle, ["true"], devices=[{"path": "/zero5", "type": "b", "major": 1, "minor": 5}])
    assert r.returncode == 1 and "linux.devices[0].path `/zero5`" in r.stderr, r.stderr
    assert (rootfs / "zero5").exists()  # never replaced


# ---- startContainer ----------------------------------------------------------

def test_failing_start_container_hook_fails_start_with_its_message(bundle):
    """runtime.md, Lifecycle 7: start fails naming the hook; the process never
    runs; the container is stopped; delete works."""
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "echo bad >&2; exit 4"]}]}
    bundle.write(["sh", "-c", "echo ran"])
    cid = bundle.new_id()
    assert bundle.ocirun("create", "-b", bundle.dir, cid).returncode == 0
    r = bundle.ocirun("start", cid)
    assert r.returncode == 1 and "hooks.startContainer[0]" in r.stderr, r.stderr
    assert "ran" not in r.stdout
    import time
    for _ in range(100):
        if bundle.state(cid)["status"] == "stopped":
            break
        time.sleep(0.05)
    assert bundle.state(cid)["status"] == "stopped"
    assert bundle.ocirun("delete", cid).returncode == 0


# ---- capabilities ------------------------------------------------------------

def test_capability_outside_the_bounding_set_is_a_warning(bundle):
    """config.md: a capability the runtime cannot grant is logged as a
    warning and skipped; the others are granted."""
    held = int(Path("/proc/self/status").read_text().split("CapBnd:")[1].split()[0], 16)
    missing = [i for i in range(41) if not held >> i & 1]
    if not missing:
        pytest.skip("the runtime holds every capability here")
    names = json.loads(bundle.ocirun("features").stdout)["linux"]["capabilities"]
    caps = bundle.config["process"]["capabilities"]
    for k in ("bounding", "permitted", "effective"):
        caps[k] = caps[k] + [names[missing[0]]]
    r = _run(bundle, ["grep", "-E", "^(CapEff|CapBnd):", "/proc/self/status"])
    assert r.returncode == 0, r.stderr
    assert "ocirun: warning:" in r.stderr and names[missing[0]] in r.stderr, r.stderr
    st = _status(r.stdout)
    assert st["CapEff"] == DEFAULT_CAPS and st["CapBnd"] == DEFAULT_CAPS, r.stdout


# ---- /dev/console ------------------------------------------------------------

def _console_text(bundle, script):
    """Runs script with process.terminal through --console-socket; returns
    what the container wrote on its terminal."""
    cid, master, _ = create_with_console(bundle, ["sh", "-c", script + "; echo end"])
    return start_and_read_console(bundle, cid, master, b"end")


CONSOLE_PROBE = "ls -l /dev/console | cut -c1; test /dev/console -ef $(tty) && echo same-console"


def test_dev_console_created_when_missing(bundle):
    """process.terminal: /dev/console is the pty slave; the default /dev
    tmpfs has no console, so the mount point is made."""
    text = _console_text(bundle, CONSOLE_PROBE)
    assert "same-console" in text and text.split()[0] == "c", text


def test_dev_console_with_a_read_only_root_and_no_dev_tmpfs(bundle):
    """The mount point is made in the rootfs's own /dev before the root is
    remounted read-only."""
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    assert bundle.config["root"]["readonly"] is True
    text = _console_text(bundle, CONSOLE_PROBE)
    assert "same-console" in text and text.split()[0] == "c", text
