"""Helpers for the ocirun end-to-end tests: busybox bundles and the CLI."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OCIRUN = Path(os.environ.get("OCIRUN", Path(os.environ.get("NODELET_BUILD", REPO / "build")) / "bin" / "ocirun"))
BUSYBOX = Path("/bin/busybox")
APPLETS = ["sh", "echo", "cat", "sleep", "true", "false", "hostname", "id", "ls", "mount",
           "ps", "dd", "readlink", "wc", "grep", "mkdir", "touch", "head", "ip", "umount",
           "unshare", "nsenter", "env", "pwd", "tr", "mknod", "stat", "cut", "tty", "test"]
CGROUP_V1 = Path("/sys/fs/cgroup")
PREFIX = "ocirun-test-"


def unique(tag=""):
    return f"{PREFIX}{tag}{uuid.uuid4().hex[:8]}"


def wait_for(cond, timeout, what):
    """Polls cond() until truthy; fails with what was last seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def run_to_files(cmd, timeout=30):
    """subprocess.run of cmd with stdout and stderr (text) through temporary
    files, not pipes: a created container keeps the stdio it inherits open,
    so a pipe would never reach its end."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True,
                           timeout=timeout)
        out.seek(0)
        err.seek(0)
        r.stdout, r.stderr = out.read(), err.read()
    return r


class Bundle:
    """A bundle dir with a busybox rootfs and a config from `ocirun spec`."""

    def __init__(self, base, root):
        self.dir = Path(base)
        self.root = root  # ocirun --root
        rootfs = self.dir / "rootfs"
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            (rootfs / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
        for a in APPLETS:
            (rootfs / "bin" / a).symlink_to("busybox")
        r = self.ocirun("spec", "--bundle", str(self.dir))
        assert r.returncode == 0, r.stderr
        self.config = json.loads((self.dir / "config.json").read_text())
        self.ids = []
        self.cgroups = []
        self.netns = []

    def ocirun(self, *args, timeout=30):
        """Runs ocirun (output through files: see run_to_files)."""
        return run_to_files([str(OCIRUN), "--root", str(self.root), *map(str, args)], timeout)

    def write(self, args=None, cgroup=True, **linux):
        """Writes config.json; args sets process.args; cgroup gives a unique cgroupsPath."""
        if args is not None:
            self.config["process"]["args"] = args
        if cgroup and "cgroupsPath" not in self.config["linux"]:
            cg = unique("cg-")
            self.cgroups.append(cg)
            self.config["linux"]["cgroupsPath"] = cg
        self.config["linux"].update(linux)
        (self.dir / "config.json").write_text(json.dumps(self.config, indent=2))

    @property
    def cgroup(self):
        return self.config["linux"].get("cgroupsPath")

    def new_id(self):
        i = unique()
        self.ids.append(i)
        return i

    def state(self, cid):
        r = self.ocirun("state", cid)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def cleanup(self):
        for cid in self.ids:
            self.ocirun("delete", "--force", cid)
        for cg in self.cgroups:
            for h in CGROUP_V1.iterdir():
                p = h / cg
                if p.is_dir():
                    for sub in sorted(p.rglob("*"), key=lambda x: -len(x.parts)):
                        if sub.is_dir():
                            sub.rmdir()
                    p.rmdir()
        for ns in self.netns:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.dir)], check=False)


def leftovers(root):
    """Anything of these tests still on the host."""
    found = []
    for h in CGROUP_V1.iterdir():
        if h.is_dir():
            found += [str(d) for d in h.iterdir() if d.is_dir() and d.name.startswith(PREFIX)]
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    found += [l.split()[0] for l in r.stdout.splitlines() if l.startswith(PREFIX)]
    if Path(root).is_dir():
        found += [str(p) for p in Path(root).iterdir()]
    with open("/proc/self/mountinfo") as f:
        found += [l.split()[4] for l in f if PREFIX in l.split()[4]]
    return found


def answer_seccomp_notifications(nfd, on_call):
    """Answers every SCMP_ACT_NOTIFY call on notify fd nfd with -EXDEV,
    calling on_call(pid, syscall_nr) for each, until the filter's last user
    is gone; then closes nfd."""
    import fcntl
    import struct
    while True:
        buf = bytearray(80)  # struct seccomp_notif
        try:
            fcntl.ioctl(nfd, 0xc0502100, buf, True)  # SECCOMP_IOCTL_NOTIF_RECV
        except OSError:
            break  # the filter's last user is gone
        nid, npid, _, nr = struct.unpack_from("<QIIi", buf)
        on_call(npid, nr)
        resp = bytearray(struct.pack("<QqiI", nid, 0, -18, 0))  # -EXDEV
        try:
            fcntl.ioctl(nfd, 0xc0182101, resp, True)  # SECCOMP_IOCTL_NOTIF_SEND
        except OSError:
            pass
    os.close(nfd)


def run_detached(bundle, args=("sleep", "30"), **linux):
    """`ocirun run -d` of args in bundle (linux: config.linux updates); the id."""
    bundle.write(list(args), **linux)
    cid = bundle.new_id()
    r = bundle.ocirun("run", "-d", "-b", bundle.dir, cid)
    assert r.returncode == 0, r.stderr
    return cid


def exec_with_console(bundle, cid, exec_args, until):
    """`ocirun exec -t --console-socket` with exec_args (options and/or the
    process) into container cid: reads the pty master it receives until
    `until` (bytes) shows or 10 s pass, and waits for the process with the
    master still open (closing it would hang the terminal up). Returns
    (exit code, what the master gave, ocirun's stderr)."""
    import select
    import socket
    path = str(bundle.dir / "exec-console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(10)
    p = subprocess.Popen([str(OCIRUN), "--root", str(bundle.root), "exec", "-t",
                          "--console-socket", path, *exec_args],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    conn, _ = srv.accept()
    _, fds, _, _ = socket.recv_fds(conn, 64, 1)
    conn.close()
    srv.close()
    out = b""
    try:
        deadline = time.monotonic() + 10
        while until not in out and time.monotonic() < deadline:
            if select.select([fds[0]], [], [], 0.5)[0]:
                try:
                    out += os.read(fds[0], 1024)
                except OSError:
                    break
        code = p.wait(timeout=10)
    finally:
        os.close(fds[0])
    return code, out, p.stderr.read().decode(errors="replace")


def seccomp_listener(path, seen, conns=1):
    """A linux.seccomp.listenerPath at path in a thread (returned, started):
    accepts conns connections; each one's message goes to seen["msgs"], and
    every syscall notified on its fd is answered with EXDEV and recorded in
    seen["calls"] as (pid, syscall nr). An exception lands in seen["error"]."""
    import socket
    import threading
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(conns)
    srv.settimeout(20)

    def serve_fd(nfd):
        answer_seccomp_notifications(
            nfd, lambda pid, nr: seen.setdefault("calls", []).append((pid, nr)))

    def serve():
        try:
            for _ in range(conns):
                conn, _ = srv.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
                seen.setdefault("msgs", []).append(json.loads(msg))
                conn.close()
                threading.Thread(target=serve_fd, args=(fds[0],), daemon=True).start()
        except Exception as e:  # reported by the test
            seen["error"] = repr(e)
        finally:
            srv.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def create_with_console(bundle, args):
    """`ocirun create --console-socket` of args with process.terminal (the
    rest of bundle.config as the caller set it). Returns (id, the pty master
    fd the init sent, the message that came with it); the caller closes the
    master."""
    import socket
    path = str(bundle.dir / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(10)
    try:
        bundle.config["process"]["terminal"] = True
        bundle.write(list(args))
        cid = bundle.new_id()
        r = bundle.ocirun("create", "-b", bundle.dir, "--console-socket", path, cid)
        assert r.returncode == 0, r.stderr
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
        conn.close()
    finally:
        srv.close()
    assert len(fds) == 1, msg
    return cid, fds[0], msg


def start_and_read_console(bundle, cid, master, until):
    """Starts created container cid and reads its pty master until `until`
    (bytes) shows or 10 s pass; closes the master. Returns the text."""
    import select
    out = b""
    try:
        assert bundle.ocirun("start", cid).returncode == 0
        deadline = time.monotonic() + 10
        while until not in out and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    out += os.read(master, 1024)
                except OSError:
                    break
    finally:
        os.close(master)
    return out.decode(errors="replace")
