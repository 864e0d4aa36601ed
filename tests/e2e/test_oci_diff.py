"""Differential conformance: ocirun against crun and runc on the same bundle.

The OCI runtime-tools suite cannot be built here (no internet), so the two
reference runtimes Debian ships (crun 1.8, runc 1.1) are the oracle. For each
config variant the same busybox bundle runs under all three with
`<runtime> --root <state> run <id>`; the container's process is
tests/e2e/oci_probe.sh, which prints what the config controls as
"key: value" lines (stdout captured to a file, not a pipe). The facts are
normalized where runtimes legitimately differ (each normalization says why),
then compared:

- crun and runc must agree with each other, otherwise the test fails asking
  for a normalization with a reason (never a silent skip);
- ocirun must agree with them. A divergence that has been reported is listed
  in KNOWN with its exact diff lines; the variant is then marked
  xfail(strict=True, raises=KnownDivergence): it xfails only when the diff
  is exactly the reported one. Any other difference is a plain failure, and
  once ocirun is fixed the variant XPASSes, which strict mode turns into a
  failure so the mark gets removed.

Where crun and runc disagree and the spec says which is right (domainname,
the status hooks see), the line leaves the three-way comparison and is
checked against the spec for ocirun and the reference that follows it
(spec_checks). OCIDIFF_DUMP=<dir> keeps every runtime's raw probe output.

All three runtimes run inside `unshare -m --propagation private` with
/sys/fs/cgroup/unified unmounted, as tests/bench/bench_runtime.py does:
Debian's crun refuses this hybrid host otherwise ("cgroups in hybrid mode not
supported"). runc would run without it but then also joins the cgroup2 tree,
which ocirun (and crun) cannot see in that namespace, so it is run the same
way for equal terms.
"""

import difflib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from ocirun_helpers import APPLETS, BUSYBOX, OCIRUN, run_to_files

HERE = Path(__file__).resolve().parent
PROBE = HERE / "oci_probe.sh"
CGROUP_ROOT = Path("/sys/fs/cgroup")
RUNTIMES = ("ocirun", "crun", "runc")
SESSION = uuid.uuid4().hex[:8]
CG_PREFIX = f"ocidiff-{SESSION}"  # every cgroupsPath of this module starts with it
TIMEOUT = 20  # seconds, per runtime command


class KnownDivergence(AssertionError):
    """ocirun differs from crun and runc exactly as already reported."""


# ---------------------------------------------------------------- runtimes

def runtime_binary(name):
    if name == "ocirun":
        if not OCIRUN.exists():
            pytest.fail(f"{OCIRUN} is not built: run `make -j2 all`")
        return str(OCIRUN)  # copied to the module's temp dir by Runtimes
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed; `make deps` installs it (Debian package {name}); "
                    "this test needs it as the reference runtime")
    return path


def private_copy(src, dst, timeout=60):
    """Copies the ocirun binary once it is complete: the build tree may be
    relinked by other work while the module runs (a half-written file has
    no exec bit yet). The module then uses the copy throughout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            before = os.stat(src)
            if os.access(src, os.X_OK):
                shutil.copy2(src, dst)
                after = os.stat(src)
                if (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size) \
                        and os.path.getsize(dst) == after.st_size:
                    return str(dst)
            last = "not executable yet"
        except OSError as e:
            last = e
        time.sleep(0.2)
    pytest.fail(f"{src} did not settle to a complete executable in {timeout}s (last: {last})")


class Runtimes:
    """The three runtimes, each with its own state dir under one temp base."""

    def __init__(self, base):
        self.base = Path(base)
        self.bin = {n: runtime_binary(n) for n in RUNTIMES}
        self.bin["ocirun"] = private_copy(self.bin["ocirun"], self.base / "ocirun")
        self.roots = {n: self.base / f"state-{n}" for n in RUNTIMES}
        for r in self.roots.values():
            r.mkdir()
        self.ids = {n: [] for n in RUNTIMES}
        self.cgroups = []
        spec = self.base / "spec"
        spec.mkdir()
        r = subprocess.run([self.bin["ocirun"], "spec", "--bundle", str(spec)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, f"ocirun spec: {r.stderr}"
        self.spec = (spec / "config.json").read_text()

    def new_id(self, rt, tag):
        cid = f"ocidiff-{tag}-{uuid.uuid4().hex[:8]}"
        self.ids[rt].append(cid)
        return cid

    def new_cgroup(self, rt, tag):
        cg = f"/{CG_PREFIX}-{tag}-{rt}"
        self.cgroups.append(cg)
        return cg

    def call(self, rt, *args, pre="", timeout=TIMEOUT):
        """Runs `<rt> --root <state> args...` in a private mount namespace
        without the cgroup2 tree (see the module doc); `pre` is shell run in
        that namespace first. stdout and stderr go to files: a created
        container keeps them open, a pipe would never reach EOF."""
        cmd = shlex.join([self.bin[rt], "--root", str(self.roots[rt]), *map(str, args)])
        script = f"umount /sys/fs/cgroup/unified 2>/dev/null; {pre}\nexec {cmd}"
        return run_to_files(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            timeout)

    def cleanup(self):
        """Deletes every container, state dir and cgroup; returns what had to
        be cleaned up that the tests should have removed themselves."""
        left = []
        for rt in RUNTIMES:
            # each runtime keeps a directory per container under --root
            present = {p.name for p in self.roots[rt].iterdir()} if self.roots[rt].is_dir() else set()
            for cid in self.ids[rt]:
                if cid in present:
                    left.append(f"{rt} container {cid}")
                    self.call(rt, "delete", "--force", cid)
            if self.roots[rt].is_dir():
                left += [f"{rt} state {p}" for p in self.roots[rt].iterdir()]
        for h in CGROUP_ROOT.iterdir():
            if not h.is_dir() or h.is_symlink():
                continue
            for d in sorted(h.glob(f"{CG_PREFIX}*"), reverse=True):
                left.append(str(d))
                for sub in sorted((p for p in d.rglob("*") if p.is_dir()),
                                  key=lambda p: -len(p.parts)):
                    sub.rmdir()
                d.rmdir()
        with open("/proc/self/mountinfo") as f:
            mounts = [l.split()[4] for l in f if l.split()[4].startswith(str(self.base))]
        for m in reversed(mounts):
            left.append(f"mount {m}")
            subprocess.run(["umount", "-l", m], capture_output=True)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.base)], check=False)
        return left


@pytest.fixture(scope="module")
def runtimes():
    if os.geteuid() != 0:
        pytest.fail("test_oci_diff needs root (containers, cgroups, mounts)")
    if not BUSYBOX.exists():
        pytest.fail("busybox-static is not installed (`make deps`); it is the test rootfs")
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is missing")
    base = tempfile.mkdtemp(prefix="ocidiff-")
    # traversable by the root of a user namespace (host uid 100000 in the
    # userns variant): runc, like ocirun, bind-mounts the rootfs after
    # switching to the mapped uid and fails under a 0700 dir; crun does not
    os.chmod(base, 0o755)
    try:
        rts = Runtimes(base)
    except BaseException:
        subprocess.run(["rm", "-rf", "--one-file-system", base], check=False)
        raise
    yield rts
    left = rts.cleanup()
    assert not left, f"test_oci_diff left things behind (now removed): {left}"


# ---------------------------------------------------------------- bundles

class DiffBundle:
    """One bundle per variant, shared by the three runtimes: a busybox rootfs
    as ocirun_helpers.Bundle makes it, the `ocirun spec` config, the probe at
    /probe.sh. Only cgroupsPath changes between runtimes (each gets a unique
    one so a leak names its runtime)."""

    def __init__(self, rts, tag):
        self.rts = rts
        self.tag = tag
        self.dir = rts.base / f"bundle-{tag}"
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            (self.rootfs / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, self.rootfs / "bin" / "busybox")
        for a in APPLETS:
            (self.rootfs / "bin" / a).symlink_to("busybox")
        shutil.copy(PROBE, self.rootfs / "probe.sh")
        self.config = json.loads(rts.spec)
        self.config["process"]["args"] = ["/bin/sh", "/probe.sh"]
        self.probe_env = {}
        self.pre = ""
        self.normalizers = []  # line -> line or None, see normalize()
        self.after_run = []  # (rt, container id) -> more fact lines, read on the host
        self.spec_checks = []  # (line, runtimes that must print it)

    @property
    def rootfs(self):
        return self.dir / "rootfs"

    def write(self, rt):
        cfg = json.loads(json.dumps(self.config))
        cfg["process"]["env"] = cfg["process"].get("env", []) + [
            f"{k}={v}" for k, v in sorted(self.probe_env.items())]
        cg = self.rts.new_cgroup(rt, self.tag)
        cfg["linux"]["cgroupsPath"] = cg
        (self.dir / "config.json").write_text(json.dumps(cfg, indent=1))
        return cfg

    def run(self, rt):
        """`run` under rt; returns (exit code, stdout, stderr, config used)."""
        cfg = self.write(rt)
        cid = self.rts.new_id(rt, self.tag)
        r = self.rts.call(rt, "run", "--bundle", self.dir, cid, pre=self.pre)
        extra = [l for fn in self.after_run for l in fn(rt, cid)]
        return r.returncode, r.stdout + "".join(l + "\n" for l in extra), r.stderr, cfg


# ---------------------------------------------------------------- facts

def own_cgroups():
    """hierarchy id:controllers -> this process's path (the container's
    parent when a runtime does not move it)."""
    out = {}
    for l in Path("/proc/self/cgroup").read_text().splitlines():
        n, ctl, path = l.split(":", 2)
        out[f"{n}:{ctl}"] = path
    return out


def normalize(text, cfg, extra=()):
    """Probe output -> list of comparable lines. `extra`: the variant's own
    normalizers, line -> line or None (dropped)."""
    cg = cfg["linux"]["cgroupsPath"]
    masked = set(cfg["linux"].get("maskedPaths", []))
    readonly = set(cfg["linux"].get("readonlyPaths", []))
    lines = []
    # The order in which a runtime applies maskedPaths and readonlyPaths is
    # implementation-defined (crun does the read-only ones first, runc the
    # masks): their mounts are compared as a sorted group after the others.
    # So are the per-hierarchy mounts under a "cgroup" mount: crun mounts
    # them in /proc/self/cgroup order, runc in mountinfo order.
    mask_ro, cgroup_mounts, dev_binds = [], [], []
    for l in text.splitlines():
        if not l.strip():
            continue
        key, _, val = l.partition(": ")
        if key == "mount":
            mp, fstype, flags, root, prop, super_ = val.split(" ", 5)
            if root.startswith("root=" + cg):
                root = "root=<cgroupsPath>" + root[len("root=" + cg):]
            # Superblock ro/rw: crun mounts sysfs rw and makes the mount
            # read-only; runc mounts the superblock ro. The per-mount flags
            # (compared) are what the config's "ro" asks for.
            super_ = ",".join(o for o in super_.removeprefix("super=").split(",")
                              if o not in ("ro", "rw"))
            if mp in masked:
                # How a path is masked is implementation-defined: crun binds
                # the host's /dev/null (devtmpfs, flags "ro"), runc the
                # container's (tmpfs, "rw,nosuid"); dirs get an empty ro
                # tmpfs. What must hold (it reads as empty) is the
                # "masked:" fact.
                val = f"{mp} masked {'dir' if fstype == 'tmpfs' and root == 'root=/' else 'file'}"
            elif mp == "/sys/fs/cgroup" and fstype == "tmpfs":
                # the tmpfs a runtime puts under a "cgroup" mount: crun gives
                # it size=1024k, runc mode=755
                val = f"{mp} {fstype} {flags} {root} {prop}"
            else:
                val = f"{mp} {fstype} {flags} {root} {prop} super={super_}"
            if mp in masked or mp in readonly:
                mask_ro.append(f"{key}: {val}")
                continue
            if mp.startswith("/sys/fs/cgroup/"):
                cgroup_mounts.append(f"{key}: {val}")
                continue
            if mp.startswith("/dev/") and fstype == "devtmpfs":
                # In a user namespace device nodes cannot be made; each
                # runtime bind-mounts the host's, in its own order and with
                # its own flags (crun nosuid,noexec; runc none): compared as
                # a sorted group of mount point and source node only.
                dev_binds.append(f"{key}: {mp} {fstype} {root}")
                continue
        elif key == "dev" and val.startswith("/dev/core "):
            # crun adds /dev/core -> /proc/kcore unconditionally; runc only
            # when /proc/kcore exists (it does not on this kernel).
            continue
        elif key == "dev" and val.startswith("/dev/null "):
            # with a non-root process.user, crun's container /dev/null is
            # owned by that user, runc's by root (seen here with stdin on
            # /dev/null): the owner is dropped; type, mode and numbers stay.
            val = val.rsplit(" ", 1)[0]
        elif key == "cgroup":
            n, ctl, path = val.split(":", 2)
            if path == cg or path.startswith(cg + "/"):
                path = "<cgroupsPath>" + path[len(cg):]
            val = f"{n}:{ctl}:{path}"
        line = f"{key}: {val}"
        for fn in extra:
            line = fn(line)
            if line is None:
                break
        if line is not None:
            lines.append(line)
    return lines + sorted(dev_binds) + sorted(cgroup_mounts) + sorted(mask_ro)


def diff_lines(ocirun, ref):
    """'-line': the references have it, ocirun not; '+line': ocirun only."""
    return [l for l in difflib.unified_diff(ref, ocirun, lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]


# ---------------------------------------------------------------- known divergences
# Each: (what is wrong, function (config, reference lines) -> the exact diff
# lines it causes). A variant lists the ones it hits; it xfails only when
# its diff is exactly their union.

# None is open: the six found when this file was written (HOME, the v1
# hierarchies joined, masked files, no_new_privs with seccomp, the cgroup
# mount, allow rules for linux.devices) are fixed, and the variants below
# must now match crun and runc exactly.
KNOWN = {}


def known_lines(names, cfg, ref):
    out = set()
    for n in names:
        out |= KNOWN[n][1](cfg, ref)
    return out


# ---------------------------------------------------------------- variants

def v_default(b):
    # `ocirun spec` as it is: default caps, no_new_privs, seccomp profile,
    # masked and read-only paths, read-only root.
    lx = b.config["linux"]
    b.probe_env.update(PROBE_MASKED=" ".join(lx["maskedPaths"]),
                       PROBE_RO=" ".join(lx["readonlyPaths"]),
                       PROBE_WRITE="/ /tmp /dev /dev/shm",
                       PROBE_READ="/dev/null /dev/zero /dev/full /dev/tty /dev/random /dev/urandom",
                       PROBE_SYSCTL="kernel.hostname net.ipv4.ip_forward")


def v_user(b):
    b.config["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20, 1002],
                                   "umask": 0o027}
    b.config["process"]["cwd"] = "/tmp"
    b.probe_env.update(PROBE_WRITE="/tmp /dev/shm", PROBE_READ="/dev/null /proc/1/environ")


def v_caps_nonroot_ambient(b):
    caps = b.config["process"]["capabilities"]
    caps["bounding"] = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_KILL", "CAP_CHOWN",
                        "CAP_SYS_ADMIN"]
    caps["permitted"] = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_KILL"]
    caps["effective"] = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    caps["inheritable"] = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
    caps["ambient"] = ["CAP_NET_BIND_SERVICE"]
    b.config["process"]["noNewPrivileges"] = False
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000}


def v_caps_root_nnp_false(b):
    caps = b.config["process"]["capabilities"]
    caps["bounding"] = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"]
    caps["permitted"] = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SETUID"]
    caps["effective"] = ["CAP_CHOWN", "CAP_SYS_ADMIN"]
    caps["inheritable"] = ["CAP_CHOWN"]
    caps["ambient"] = ["CAP_CHOWN"]
    b.config["process"]["noNewPrivileges"] = False


def v_rlimits(b):
    b.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 1048576, "hard": 2097152},
    ]


def v_oom_score_adj(b):
    b.config["process"]["oomScoreAdj"] = 500


def v_mounts(b):
    for d in ("host-ro", "host-r/sub", "host-nx"):
        (b.dir / d).mkdir(parents=True)
    (b.dir / "host-ro" / "hello").write_text("hello-ro\n")
    (b.dir / "host-r" / "top").write_text("top\n")
    # a submount under the rbind source, made in the runtime's private
    # mount namespace (gone with it): rbind must carry it, bind must not
    b.pre = (f"mount -t tmpfs -o size=1m ocidiff-sub {shlex.quote(str(b.dir / 'host-r/sub'))} && "
             f"echo inner > {shlex.quote(str(b.dir / 'host-r/sub/inner'))} || exit 99")
    for d in ("mnt/tmp", "mnt/ro", "mnt/rbind", "mnt/bind", "mnt/nx"):
        (b.rootfs / d).mkdir(parents=True)
    b.config["mounts"] += [
        {"destination": "/mnt/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "noexec", "mode=1750", "size=2m", "uid=1000", "gid=1000"]},
        {"destination": "/mnt/ro", "type": "bind", "source": str(b.dir / "host-ro"),
         "options": ["bind", "ro"]},
        {"destination": "/mnt/rbind", "type": "bind", "source": str(b.dir / "host-r"),
         "options": ["rbind"]},
        {"destination": "/mnt/bind", "type": "bind", "source": str(b.dir / "host-r"),
         "options": ["bind"]},
        {"destination": "/mnt/nx", "type": "bind", "source": str(b.dir / "host-nx"),
         "options": ["bind", "nosuid", "nodev", "noexec"]},
        # a tmpfs created where the rootfs has no directory (root is ro)
        {"destination": "/mnt/tmp/inner", "type": "tmpfs", "source": "tmpfs",
         "options": ["size=1m", "mode=700"]},
    ]

    def tmpfs_root_mode(line):
        # runc 1.1 chmods a tmpfs root to the mode of the directory it is
        # mounted on (755 here), crun keeps mode=1750: the mode is dropped
        # from this stat line; mode=1750 itself is compared in the mount's
        # options ("super=...mode=1750...") and the owner stays compared.
        if line.startswith("stat: /mnt/tmp directory "):
            f = line.split(" ")
            f[3] = "<mode>"
            return " ".join(f)
        return line

    b.normalizers.append(tmpfs_root_mode)
    b.probe_env.update(PROBE_STAT="/mnt/tmp /mnt/tmp/inner /mnt/ro /mnt/nx",
                       PROBE_STATFS="/mnt/tmp /mnt/tmp/inner",
                       PROBE_FILES="/mnt/ro/hello /mnt/rbind/top /mnt/rbind/sub/inner "
                                   "/mnt/bind/top /mnt/bind/sub/inner",
                       PROBE_WRITE="/mnt/tmp /mnt/ro /mnt/nx /mnt/bind",
                       PROBE_EXEC="/mnt/tmp /mnt/nx /mnt/bind")


def v_masked_readonly(b):
    b.config["root"]["readonly"] = False
    for d in ("secret-dir/x", "ro-dir"):
        (b.rootfs / d).mkdir(parents=True)
    (b.rootfs / "secret-dir" / "x" / "f").write_text("s\n")
    (b.rootfs / "etc" / "secret").write_text("secret\n")
    (b.rootfs / "etc" / "ro-file").write_text("ro\n")
    lx = b.config["linux"]
    lx["maskedPaths"] += ["/proc/cpuinfo", "/sys/kernel/mm", "/etc/secret", "/secret-dir",
                          "/nonexistent-masked"]
    lx["readonlyPaths"] += ["/ro-dir", "/etc/ro-file", "/nonexistent-ro"]
    b.probe_env.update(PROBE_MASKED=" ".join(lx["maskedPaths"]),
                       PROBE_RO=" ".join(lx["readonlyPaths"]),
                       PROBE_WRITE="/ /etc /secret-dir")


def v_sysctl(b):
    b.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}
    b.probe_env.update(PROBE_SYSCTL="net.ipv4.ip_forward kernel.shmmax")


def v_hostname_domainname(b):
    b.config["hostname"] = "ocidiff-host"
    b.config["domainname"] = "ocidiff.example"
    # runc 1.1.5 ignores "domainname" (the UTS domain stays "(none)"); crun
    # sets it as the spec says. The line is left out of the three-way
    # comparison and checked against the config for ocirun and crun.
    b.normalizers.append(lambda l: None if l.startswith("domainname: ") else l)
    b.spec_checks.append(("domainname: ocidiff.example", ("ocirun", "crun")))


def v_devices(b):
    b.config["linux"]["devices"] = [
        {"path": "/dev/ocidiff-null", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o640, "uid": 1000, "gid": 1001},
        {"path": "/dev/ocidiff-blk", "type": "b", "major": 7, "minor": 200,
         "fileMode": 0o600, "uid": 0, "gid": 0},
        {"path": "/dev/sub/ocidiff-zero", "type": "c", "major": 1, "minor": 5},
    ]
    b.probe_env.update(PROBE_STAT="/dev/ocidiff-null /dev/ocidiff-blk /dev/sub /dev/sub/ocidiff-zero",
                       PROBE_READ="/dev/ocidiff-null /dev/ocidiff-blk /dev/sub/ocidiff-zero")


def v_rootfs_rw(b):
    b.config["root"]["readonly"] = False
    b.probe_env.update(PROBE_WRITE="/ /tmp /etc")


def v_cgroup_limits(b):
    b.config["linux"]["resources"].update(memory={"limit": 64 << 20}, pids={"limit": 77})
    b.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                               "source": "cgroup",
                               "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    b.probe_env.update(PROBE_FILES="/sys/fs/cgroup/memory/memory.limit_in_bytes "
                                   "/sys/fs/cgroup/pids/pids.max",
                       PROBE_STAT="/sys/fs/cgroup/memory /sys/fs/cgroup/pids",
                       PROBE_WRITE="/sys/fs/cgroup/memory")


def v_hooks(b):
    # Each hook (run by the runtime, on the host) logs its name and the
    # state it got on stdin; the facts are the order of hooks, the status
    # each saw and whether id, pid and bundle were right.
    log = b.dir / "hooks.log"

    def hook(name):
        script = f"printf '%s ' {name} >>{shlex.quote(str(log))}; " \
                 f"tr -d '\\n' >>{shlex.quote(str(log))}; echo >>{shlex.quote(str(log))}"
        return {"path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 10}

    b.config["hooks"] = {k: [hook(k)] for k in ("prestart", "createRuntime", "poststart",
                                                "poststop")}
    b.config["hooks"]["poststart"].append(hook("poststart2"))

    def read_log(rt, cid):
        out = []
        if not log.exists():
            return ["hook: none ran"]
        for l in log.read_text().splitlines():
            name, _, js = l.partition(" ")
            try:
                st = json.loads(js)
            except ValueError:
                out.append(f"hook: {name} stdin is not JSON: {js[:200]}")
                continue
            pid = st.get("pid", 0)
            out.append(f"hook: {name} status={st.get('status')} id_ok={st.get('id') == cid} "
                       f"bundle_ok={st.get('bundle') == str(b.dir)} pid={'yes' if pid else 'no'}")
        log.unlink()
        return out

    b.after_run.append(read_log)

    # The status in the state a hook gets differs between the references:
    # crun says "created" to prestart/createRuntime, runc "created" to
    # poststart. runtime.md's lifecycle has the container "creating" until
    # create returns and "running" once the process is started, so those
    # statuses are checked against the spec (and the reference that agrees
    # with it) instead of across the three.
    def hook_status(line):
        for h in ("prestart", "createRuntime", "poststart", "poststart2"):
            if line.startswith(f"hook: {h} status="):
                f = line.split(" ")
                f[2] = "status=<see spec_checks>"
                return " ".join(f)
        return line

    b.normalizers.append(hook_status)
    ok = "id_ok=True bundle_ok=True pid=yes"
    for h in ("prestart", "createRuntime"):
        b.spec_checks.append((f"hook: {h} status=creating {ok}", ("ocirun", "runc")))
    for h in ("poststart", "poststart2"):
        b.spec_checks.append((f"hook: {h} status=running {ok}", ("ocirun", "crun")))


def v_seccomp_custom(b):
    # a profile of its own: allow by default, errnoRet per rule, an
    # argument filter (chmod only with mode 0777 refused)
    b.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
            {"names": ["sethostname"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        ],
    }
    b.probe_env.update(PROBE_TRY="mkdir /dev/shm/d|touch /dev/shm/f|chmod 0777 /dev/shm/f|"
                                 "chmod 0755 /dev/shm/f|hostname other|rm -f /dev/shm/f")


def v_userns(b):
    # a user namespace mapping container 0-65535 to host 100000-165535:
    # the rootfs (host root's files) then shows as nobody's
    lx = b.config["linux"]
    lx["namespaces"].append({"type": "user"})
    lx["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    lx["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.probe_env.update(PROBE_STAT="/ /bin/busybox /proc/1", PROBE_WRITE="/dev/shm /tmp",
                       PROBE_MASKED=" ".join(lx["maskedPaths"]),
                       PROBE_READ="/dev/null /dev/zero /dev/tty")

    def mqueue_owner(line):
        # The owner of /dev/mqueue in a user namespace differs in all three
        # (crun 0:0, runc 0:65534, ocirun 65534:65534): it depends on the
        # ids the runtime holds when it mounts mqueue. Not compared.
        if line.startswith("dev: /dev/mqueue directory "):
            return line.rsplit(" ", 1)[0]
        return line

    b.normalizers.append(mqueue_owner)


def v_propagation(b):
    # rootfsPropagation and per-mount propagation flags (the mount table
    # prints shared/master, peer group numbers dropped)
    (b.dir / "host-p").mkdir()
    for d in ("mnt/shared", "mnt/slave", "mnt/private"):
        (b.rootfs / d).mkdir(parents=True)
    b.config["linux"]["rootfsPropagation"] = "slave"
    b.config["mounts"] += [
        {"destination": "/mnt/shared", "type": "bind", "source": str(b.dir / "host-p"),
         "options": ["rbind", "rshared"]},
        {"destination": "/mnt/slave", "type": "bind", "source": str(b.dir / "host-p"),
         "options": ["rbind", "rslave"]},
        {"destination": "/mnt/private", "type": "bind", "source": str(b.dir / "host-p"),
         "options": ["rbind", "rprivate"]},
    ]


def v_exit_3(b):
    b.probe_env.update(PROBE_EXIT="3")
    b.spec_checks.append(("exit: 3", RUNTIMES))


def v_kill_9(b):
    # In its own pid namespace the shell is pid 1, and pid 1 ignores a
    # SIGKILL sent from inside: this variant shares the host's pid
    # namespace so that `kill -9 $$` kills the container's process.
    b.config["linux"]["namespaces"] = [n for n in b.config["linux"]["namespaces"]
                                       if n["type"] != "pid"]
    b.probe_env.update(PROBE_EXIT="kill9")
    b.spec_checks.append(("exit: 137", RUNTIMES))


# name, config builder, reported divergences (KNOWN keys)
VARIANTS = [
    ("default", v_default, []),
    ("user", v_user, []),
    ("caps_nonroot_ambient", v_caps_nonroot_ambient, []),
    ("caps_root_nnp_false", v_caps_root_nnp_false, []),
    ("rlimits", v_rlimits, []),
    ("oom_score_adj", v_oom_score_adj, []),
    ("mounts", v_mounts, []),
    ("masked_readonly", v_masked_readonly, []),
    ("sysctl", v_sysctl, []),
    ("hostname_domainname", v_hostname_domainname, []),
    ("devices", v_devices, []),
    ("rootfs_rw", v_rootfs_rw, []),
    ("cgroup_limits", v_cgroup_limits, []),
    ("hooks", v_hooks, []),
    ("seccomp_custom", v_seccomp_custom, []),
    ("userns", v_userns, []),
    ("propagation", v_propagation, []),
    ("exit_3", v_exit_3, []),
    ("kill_9", v_kill_9, []),
]


def _param(name, fn, known):
    marks = []
    if known:
        reason = "ocirun: " + "; ".join(KNOWN[k][0] for k in known) + " (reported)"
        marks.append(pytest.mark.xfail(strict=True, raises=KnownDivergence, reason=reason))
    return pytest.param(name, fn, known, id=name, marks=marks)


@pytest.mark.parametrize("name,build,known", [_param(*v) for v in VARIANTS])
def test_same_facts_as_crun_and_runc(runtimes, name, build, known):
    b = DiffBundle(runtimes, name)
    build(b)
    got, raw = {}, {}
    for rt in RUNTIMES:
        rc, out, err, cfg = b.run(rt)
        raw[rt] = out
        if os.environ.get("OCIDIFF_DUMP"):
            d = Path(os.environ["OCIDIFF_DUMP"])
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{name}.{rt}.out").write_text(f"exit: {rc}\n{out}\n--stderr--\n{err}")
        facts = normalize(out, cfg, b.normalizers)
        assert any(l.startswith("cgroup: ") for l in facts), \
            f"{rt}: the probe did not finish (exit {rc}):\nstdout:\n{out}\nstderr:\n{err}"
        got[rt] = [f"exit: {rc}"] + facts
        # the runtime must leave no cgroup behind after `run`
        for h in CGROUP_ROOT.iterdir():
            assert not (h / cfg["linux"]["cgroupsPath"].lstrip("/")).exists(), \
                f"{rt} left {h}/{cfg['linux']['cgroupsPath']} after run"
    # crun and runc must agree: where they do not, the difference is
    # implementation-defined and needs a normalization (with its reason)
    refdiff = diff_lines(got["runc"], got["crun"])
    assert not refdiff, ("crun ('-') and runc ('+') disagree; normalize this with a reason:\n"
                         + "\n".join(refdiff))
    for line, rts in b.spec_checks:
        for rt in rts:
            assert line in raw[rt].splitlines() + got[rt][:1], \
                f"{rt} does not print `{line}` (the config asks for it)"
    d = diff_lines(got["ocirun"], got["crun"])
    expected = known_lines(known, cfg, got["crun"])
    if set(d) != expected:
        raise AssertionError(
            "ocirun ('+') differs from crun and runc ('-'):\n" + "\n".join(d)
            + "\n\nnot in the reported divergences:\n" + "\n".join(sorted(set(d) - expected))
            + "\n\nreported but not seen (fixed? update KNOWN/VARIANTS):\n"
            + "\n".join(sorted(expected - set(d))))
    if d:
        raise KnownDivergence("ocirun ('+') differs from crun and runc ('-') as reported:\n"
                              + "\n".join(sorted(d)))
    # no diff: a variant still marked xfail XPASSes, which strict mode fails


# ---------------------------------------------------------------- lifecycle

STATE_KEYS_REQUIRED = {"ociVersion", "id", "status", "pid", "bundle"}


def _lifecycle(rts, rt, b):
    """create, state, start, state, delete (refused while running), let the
    process exit, state, delete, state. Returns the facts to compare."""
    facts = []
    cfg = b.write(rt)
    cid = rts.new_id(rt, "life")
    r = rts.call(rt, "create", "--bundle", b.dir, cid)
    assert r.returncode == 0, f"{rt} create: {r.stderr}"

    def state():
        s = rts.call(rt, "state", cid)
        assert s.returncode == 0, f"{rt} state: {s.stderr}"
        return json.loads(s.stdout)

    st = state()
    assert st["id"] == cid and st["bundle"] == str(b.dir) and st["pid"] > 0, (rt, st)
    assert Path(f"/proc/{st['pid']}").exists(), (rt, st)
    facts.append(("created", st["status"], sorted(st)))
    pid = st["pid"]
    r = rts.call(rt, "start", cid)
    facts.append(("start rc", r.returncode))
    st = state()
    assert st["pid"] == pid, (rt, st)
    facts.append(("started", st["status"], sorted(st)))
    r = rts.call(rt, "delete", cid)
    facts.append(("delete running rc!=0", r.returncode != 0))
    facts.append(("after refused delete", state()["status"]))
    (b.dir / "ctl" / "go").write_text("")
    deadline = time.monotonic() + 10
    while (st := state())["status"] != "stopped":
        assert time.monotonic() < deadline, f"{rt}: still {st} 10 s after the go file"
        time.sleep(0.02)
    # the pid of a stopped container: runc reports 0, crun the old pid
    # (the spec only requires pid while created or running)
    st.pop("pid", None)
    facts.append(("stopped", st["status"], sorted(st)))
    r = rts.call(rt, "delete", cid)
    facts.append(("delete stopped rc", r.returncode))
    r = rts.call(rt, "state", cid)
    facts.append(("state after delete rc!=0", r.returncode != 0))
    for h in CGROUP_ROOT.iterdir():
        assert not (h / cfg["linux"]["cgroupsPath"].lstrip("/")).exists(), \
            f"{rt} left {h}/{cfg['linux']['cgroupsPath']} after delete"
    return facts


def test_lifecycle_state_json(runtimes):
    b = DiffBundle(runtimes, "life")
    (b.dir / "ctl").mkdir()
    b.config["mounts"].append({"destination": "/ctl", "type": "bind", "source": str(b.dir / "ctl"),
                               "options": ["bind"]})
    (b.rootfs / "ctl").mkdir()
    b.config["process"]["args"] = ["/bin/sh", "-c",
                                   "while [ ! -e /ctl/go ]; do /bin/busybox sleep 0.02; done"]
    got = {}
    for rt in RUNTIMES:
        got[rt] = _lifecycle(runtimes, rt, b)
        (b.dir / "ctl" / "go").unlink()

    def keys_common(facts_a, facts_b):
        out = []
        for fa, fb in zip(facts_a, facts_b):
            if len(fa) == 3:
                # state keys beyond the spec's differ between crun and runc
                # (rootfs, created, owner, systemd-scope...): compare the
                # keys both have
                common = sorted(set(fa[2]) & set(fb[2]))
                out.append((fa[0], fa[1], common))
            else:
                out.append(fa)
        return out

    ref = keys_common(got["crun"], got["runc"])
    assert ref == keys_common(got["runc"], got["crun"]), (got["crun"], got["runc"])
    for f in ref:
        if len(f) == 3 and f[0] != "stopped":
            assert STATE_KEYS_REQUIRED <= set(f[2]), f
    # statuses, exit codes and refusals must match exactly; state keys: all
    # that crun and runc both have must be in ocirun's (extra ones are fine)
    strip = [f[:2] for f in ref]
    assert [f[:2] for f in got["ocirun"]] == strip, \
        f"ocirun {got['ocirun']}\ncrun and runc (common keys) {ref}"
    missing_all = set()
    for fo, fr in zip(got["ocirun"], ref):
        if len(fr) == 3:
            missing_all |= set(fr[2]) - set(fo[2])
    if missing_all:
        if missing_all == {"owner"}:
            raise KnownDivergence("ocirun's state JSON has no \"owner\" key; crun and runc "
                                  f"have it in every state: {got['ocirun']}")
        raise AssertionError(f"ocirun's state JSON lacks {sorted(missing_all)} that crun and "
                             f"runc both have: ocirun {got['ocirun']}\ncrun and runc {ref}")
