"""A real nodelet cluster for end-to-end tests.

Every host is a network namespace this module creates: a switch namespace holds
a bridge, the control-plane namespace runs schedd, and each node namespace runs
a nodelet; veth pairs wire them to the switch in 10.250.<k>.0/24. Processes are
started with `nsenter --net=...` so they share the host's mount namespace (the
overlay mounts a nodelet makes are visible to the clean-up here).

Everything a cluster creates carries its unique prefix `nlt<hex>`: namespaces,
cgroup parents, links; its files live under one temporary directory. close()
removes it all, by pid and by name, and the suite checks that nothing leaked.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The build to test: build/ (make test) or build-san/ (make test SAN=1).
BUILD = Path(os.environ.get("NODELET_BUILD", REPO / "build"))
BIN = BUILD / "bin"
IMAGES = BUILD / "images"
TMP_BASE = Path(os.environ.get("NODELET_E2E_TMP", "/tmp/nodelet-e2e"))
PREFIX = "nlt"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def sh(*args, check=True, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in args], check=check, timeout=timeout,
                          capture_output=True, text=True, **kw)


def wait_for(cond, timeout=30.0, what="condition", interval=0.1):
    """Polls cond() until it returns a truthy value; fails with the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = cond()
        except Exception as e:  # a transient failure counts as "not yet"
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")
        time.sleep(interval)


def cgroup_hierarchies():
    """Every mounted cgroup hierarchy root (v1 controllers and the v2 tree)."""
    roots = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            sep = parts.index("-")
            fstype = parts[sep + 1]
            if fstype in ("cgroup", "cgroup2"):
                roots.append(Path(parts[4]))
    return roots


def cgroup_pids(name_prefix):
    """Pids in any cgroup whose top-level directory starts with name_prefix."""
    pids = set()
    for root in cgroup_hierarchies():
        if not root.is_dir():
            continue
        for top in root.iterdir():
            if top.is_dir() and top.name.startswith(name_prefix):
                for procs in top.rglob("cgroup.procs"):
                    try:
                        pids.update(int(p) for p in procs.read_text().split())
                    except OSError:
                        pass
    return pids


def remove_cgroups(name_prefix):
    for root in cgroup_hierarchies():
        if not root.is_dir():
            continue
        for top in root.iterdir():
            if top.is_dir() and top.name.startswith(name_prefix):
                dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
                for d in dirs + [top]:
                    for _ in range(50):
                        try:
                            d.rmdir()
                            break
                        except FileNotFoundError:
                            break
                        except OSError:
                            time.sleep(0.05)


def mounts_under(path):
    path = str(path)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


def pids_mentioning(text):
    """Pids whose command line mentions text (a unique test directory)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append(int(d.name))
    return found


def kill_pids(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in pids:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{p}").exists():
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
            st = Path(f"/proc/{p}/stat")
            try:
                if st.read_text().split(") ")[1].startswith("Z"):
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.02)


class Proc:
    """A daemon started in a namespace, its stderr going to a log file."""

    def __init__(self, argv, log_path):
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.logf = open(self.log_path, "ab")
        self.p = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            os.kill(self.pid, sig)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait(timeout=10)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Node:
    def __init__(self, cluster, name, index, labels=None, extra=None):
        self.cluster = cluster
        self.name = name
        self.netns = f"{cluster.id}{name}"[:15]
        self.ip = f"10.250.{cluster.k}.{10 + index}"
        self.dir = cluster.dir / name
        self.root = self.dir / "root"
        self.logdir = self.dir / "logs"
        self.cgroup_parent = f"{cluster.id}-{name}"
        self.labels = labels or {}
        self.extra = extra or []
        self.proc = None
        self.swlink = f"{cluster.id}s{index}"[:15]
        self.dir.mkdir(parents=True)
        cluster._add_host(self.netns, self.swlink, self.ip)

    def start(self):
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", BIN / "nodelet",
                "--server", f"ws://{self.cluster.cp_ip}:7080", "--name", self.name,
                "--root", self.root, "--cgroup-parent", self.cgroup_parent,
                "--bridge", "nlbr0", "--image-dir", IMAGES, "--log-dir", self.logdir,
                "--address", self.ip, "--crash-backoff", "1s"]
        if self.labels:
            argv += ["--labels", ",".join(f"{k}={v}" for k, v in self.labels.items())]
        argv += self.extra
        self.proc = Proc(argv, self.dir / "nodelet.log")
        return self

    def exec(self, *args, check=False, timeout=30):
        """Runs a command in this node's network namespace."""
        return sh("nsenter", f"--net=/run/netns/{self.netns}", *args, check=check, timeout=timeout)

    def pod_pids(self):
        """Shims and containers of this node: by cgroup, and by the node's directory."""
        return cgroup_pids(self.cgroup_parent) | set(pids_mentioning(str(self.dir)))

    def kill_all(self):
        """kill -9 of the nodelet, its shims and its containers, by pid."""
        if self.proc:
            self.proc.kill()
        kill_pids(sorted(self.pod_pids()))

    def partition(self, down=True):
        """Cuts (or restores) this host's link to the switch."""
        sh("ip", "-n", self.cluster.sw, "link", "set", self.swlink, "down" if down else "up")


class Cluster:
    def __init__(self, node_grace="40s", eviction_timeout="300s", heartbeat="1s"):
        self.id = PREFIX + "%05x" % random.randrange(16 ** 5)
        self.k = random.randrange(1, 250)
        TMP_BASE.mkdir(parents=True, exist_ok=True)
        self.dir = TMP_BASE / self.id
        self.dir.mkdir()
        self.nodes = {}
        self.netns = []
        self.sw = f"{self.id}sw"
        self.cp = f"{self.id}cp"
        self.cp_ip = f"10.250.{self.k}.1"
        self.server = f"http://{self.cp_ip}:7080"
        self.schedd = None
        self.schedd_args = ["--node-grace", node_grace, "--eviction-timeout", eviction_timeout,
                            "--heartbeat-interval", heartbeat]
        sh("ip", "netns", "add", self.sw)
        self.netns.append(self.sw)
        sh("ip", "-n", self.sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.sw, "link", "set", "br0", "up")
        self._add_host(self.cp, f"{self.id}s0", self.cp_ip)

    def _add_host(self, netns, swlink, ip):
        sh("ip", "netns", "add", netns)
        self.netns.append(netns)
        sh("ip", "-n", netns, "link", "set", "lo", "up")
        sh("ip", "-n", self.sw, "link", "add", swlink, "type", "veth", "peer", "name", "eth0",
           "netns", netns)
        sh("ip", "-n", self.sw, "link", "set", swlink, "master", "br0", "up")
        sh("ip", "-n", netns, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh("ip", "-n", netns, "link", "set", "eth0", "up")

    # ---- daemons ----
    def start_schedd(self):
        data = self.dir / "schedd-data"
        argv = ["nsenter", f"--net=/run/netns/{self.cp}", BIN / "schedd",
                "--listen", f"{self.cp_ip}:7080", "--data", data] + self.schedd_args
        self.schedd = Proc(argv, self.dir / "schedd.log")
        wait_for(lambda: self.curl("/healthz", raw=True) == "ok", 15, "schedd /healthz",
                 interval=0.05)
        return self.schedd

    def add_node(self, name, start=True, labels=None, extra=None):
        node = Node(self, name, len(self.nodes) + 1, labels, extra)
        self.nodes[name] = node
        if start:
            node.start()
        return node

    # ---- clients ----
    def schedctl(self, *args, check=True, input=None, timeout=60):
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.cp}", str(BIN / "schedctl"),
                            "--server", self.server] + [str(a) for a in args],
                           capture_output=True, text=True, input=input, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"schedctl {' '.join(map(str, args))} exited {r.returncode}:\n"
                                 f"{r.stdout}{r.stderr}")
        return r

    def curl(self, path, method="GET", body=None, raw=False):
        argv = ["nsenter", f"--net=/run/netns/{self.cp}", "curl", "-s", "-X", method,
                "-w", "\n%{http_code}", "--max-time", "5"]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        r = subprocess.run(argv + [self.server + path], capture_output=True, text=True,
                           input=body, timeout=15)
        text, _, code = r.stdout.rpartition("\n")
        if raw:
            return text.strip() if code == "200" else None
        try:
            return int(code), json.loads(text) if text else None
        except ValueError:
            return int(code or 0), text

    def pod(self, name, ns="default"):
        code, obj = self.curl(f"/api/v1/namespaces/{ns}/pods/{name}")
        return obj if code == 200 else None

    def node_obj(self, name):
        code, obj = self.curl(f"/api/v1/nodes/{name}")
        return obj if code == 200 else None

    def node_ready(self, name):
        n = self.node_obj(name)
        if not n:
            return None
        for c in n.get("status", {}).get("conditions", []):
            if c.get("type") == "Ready":
                return c.get("status")
        return None

    def apply(self, pod):
        """Applies a pod (a dict or a path) with schedctl."""
        if isinstance(pod, dict):
            return self.schedctl("apply", "-f", "-", input=json.dumps(pod))
        return self.schedctl("apply", "-f", pod)

    def wait_pod(self, name, pred, timeout=30, what=None, ns="default"):
        def check():
            p = self.pod(name, ns)
            return p if p is not None and pred(p) else None
        return wait_for(check, timeout, what or f"pod {name}", interval=0.2)

    def wait_running(self, name, timeout=30, ns="default"):
        return self.wait_pod(name, lambda p: p.get("status", {}).get("phase") == "Running" and all(
            "running" in c.get("state", {}) for c in p["status"].get("containerStatuses", []))
            and len(p["status"].get("containerStatuses", [])) == len(p["spec"]["containers"]),
            timeout, f"pod {name} Running", ns)

    def logs(self):
        out = []
        if self.schedd:
            out.append("---- schedd ----\n" + self.schedd.log()[-6000:])
        for n in self.nodes.values():
            if n.proc:
                out.append(f"---- nodelet {n.name} ----\n" + n.proc.log()[-8000:])
        return "\n".join(out)

    # ---- clean-up ----
    def close(self):
        for n in self.nodes.values():
            n.kill_all()
        if self.schedd:
            self.schedd.kill()
        kill_pids(sorted(set(pids_mentioning(str(self.dir))) | cgroup_pids(self.id)))
        for mp in reversed(mounts_under(self.dir)):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        remove_cgroups(self.id)
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if not os.environ.get("NODELET_E2E_KEEP"):
            subprocess.run(["rm", "-rf", "--one-file-system", str(self.dir)], capture_output=True)


def leaks():
    """What the tests left behind: namespaces, mounts, cgroups, processes."""
    found = []
    r = sh("ip", "netns", "list", check=False)
    found += [f"netns {l.split()[0]}" for l in r.stdout.splitlines() if l.startswith(PREFIX)]
    found += [f"mount {m}" for m in mounts_under(TMP_BASE)]
    for root in cgroup_hierarchies():
        if root.is_dir():
            found += [f"cgroup {d}" for d in root.iterdir() if d.is_dir() and d.name.startswith(PREFIX)]
    found += [f"process {p}" for p in pids_mentioning(str(TMP_BASE))]
    return found
