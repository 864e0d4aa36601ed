"""End to end: schedctl -> schedd -> nodelet -> shim -> container, all real."""

import copy
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from cluster import REPO, cgroup_hierarchies, mounts_under, wait_for

WEB_DB = json.loads((REPO / "deploy" / "examples" / "web-db.json").read_text())


def pod(name, *containers, restart="Always", grace=2, **spec):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
         "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": grace,
                  "containers": list(containers)}}
    p["spec"].update(spec)
    return p


def ctr(name, script, **kw):
    c = {"name": name, "image": "busybox", "command": ["sh", "-c", script]}
    c.update(kw)
    return c


def cstatus(p, name):
    for c in p.get("status", {}).get("containerStatuses", []):
        if c["name"] == name:
            return c
    return None


def ctr_pid(node, p, name):
    """The host pid of a running container, from the shim's pid file."""
    uid = p["metadata"]["uid"]
    files = sorted((node.root / "pods" / uid / "containers" / name).glob("status-*/pid"),
                   key=lambda f: int(f.parent.name.split("-")[1]))
    shim, cpid = files[-1].read_text().split()
    return int(cpid)


def ns_of(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def cgroup_of(pid, controller="memory"):
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(","):
            return path
    return None


def test_web_db_runs_end_to_end(one_node):
    c = one_node
    n1 = c.nodes["n1"]
    r = c.apply(REPO / "deploy" / "examples" / "web-db.json")
    assert "pod/web-db created" in r.stdout
    out = c.schedctl("get", "pods").stdout
    assert re.search(r"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", out, re.M), out
    assert re.search(r"^web-db\s+\d/2\s+\S+\s+0\s+\S+", out, re.M), out

    p = c.wait_running("web-db", 60)
    assert p["spec"]["nodeName"] == "n1"
    ip = p["status"]["podIP"]
    assert ip.startswith("10.244."), ip

    # kubectl's table, wide: READY 2/2, Running, node and IP shown.
    wide = c.schedctl("get", "pods", "-o", "wide").stdout
    assert re.search(rf"^web-db\s+2/2\s+Running\s+0\s+\S+\s+{re.escape(ip)}\s+n1", wide, re.M), wide

    # The node reaches the pod on the bridge; web reaches db on 127.0.0.1 inside the pod.
    page = wait_for(lambda: n1.exec("curl", "-sf", "--max-time", "2", f"http://{ip}:8080/").stdout,
                    20, "web answering on the pod IP")
    assert "hello from nodelet" in page
    db = wait_for(lambda: n1.exec("curl", "-sf", "--max-time", "2",
                                  f"http://{ip}:8080/db.txt").stdout, 20, "web fetching db over 127.0.0.1")
    assert "db: 42 rows" in db

    # One network namespace for the pod; its own pid and mount namespace per container.
    web, dbp = ctr_pid(n1, p, "web"), ctr_pid(n1, p, "db")
    assert ns_of(web, "net") == ns_of(dbp, "net")
    assert ns_of(web, "net") != ns_of(os.getpid(), "net")
    assert ns_of(web, "pid") != ns_of(dbp, "pid")
    assert ns_of(web, "mnt") != ns_of(dbp, "mnt")
    assert ns_of(web, "pid") != ns_of(os.getpid(), "pid")

    # A cgroup per container under the pod's cgroup, with the limits applied.
    uid = p["metadata"]["uid"]
    cg_web, cg_db = cgroup_of(web), cgroup_of(dbp)
    assert cg_web == f"/{n1.cgroup_parent}/pod-{uid}/web", cg_web
    assert cg_db == f"/{n1.cgroup_parent}/pod-{uid}/db", cg_db
    mem = Path("/sys/fs/cgroup/memory") / cg_web.lstrip("/") / "memory.limit_in_bytes"
    assert int(mem.read_text()) == 64 * 1024 * 1024
    quota = Path("/sys/fs/cgroup/cpu") / cg_web.lstrip("/") / "cpu.cfs_quota_us"
    assert int(quota.read_text()) == 50000

    # Usage flows back: per container in the pod status, per node in get nodes.
    p = c.wait_pod("web-db", lambda q: all(
        cs.get("usage", {}).get("memory") for cs in q["status"]["containerStatuses"]),
        20, "container usage reported")
    nodes = c.schedctl("get", "nodes").stdout
    assert re.search(r"^n1\s+Ready\s", nodes, re.M), nodes
    n = c.node_obj("n1")
    assert n["status"]["capacity"]["cpu"] and n["status"]["allocatable"]["memory"]
    assert n["status"].get("usage", {}).get("memory")

    # -o json is shaped as the Kubernetes API shapes it.
    lst = json.loads(c.schedctl("get", "pods", "-o", "json").stdout)
    assert lst["kind"] == "PodList" and lst["items"][0]["metadata"]["name"] == "web-db"
    it = lst["items"][0]
    assert it["status"]["phase"] == "Running"
    cs = cstatus(it, "web")
    assert "running" in cs["state"] and cs["restartCount"] == 0 and "lastState" in cs
    nl = json.loads(c.schedctl("get", "nodes", "-o", "json").stdout)
    assert nl["kind"] == "NodeList"
    assert any(cd["type"] == "Ready" and cd["status"] == "True"
               for cd in nl["items"][0]["status"]["conditions"])

    d = c.schedctl("describe", "pod", "web-db").stdout
    for want in ("Name:", "web-db", "Node:", "n1", "IP:", ip, "web:", "db:", "Running",
                 "Restart Count:"):
        assert want in d, f"{want!r} missing from describe:\n{d}"

    # CRI logs on the node, in the documented place and format.
    logdir = n1.logdir / f"default_web-db_{uid}"
    assert (logdir / "web").is_dir() and (logdir / "db").is_dir(), list(n1.logdir.rglob("*"))


def test_delete_cleans_up_everything(one_node):
    c = one_node
    n1 = c.nodes["n1"]
    # A container that traps SIGTERM and says so: proves SIGTERM comes before SIGKILL.
    c.apply(pod("bye", ctr("main", "trap 'echo got-term; exit 0' TERM; while true; do sleep 0.1; done"),
                grace=10))
    p = c.wait_running("bye", 60)
    uid = p["metadata"]["uid"]
    pid = ctr_pid(n1, p, "main")
    pod_dir = n1.root / "pods" / uid
    assert pod_dir.is_dir()
    host_links = n1.exec("ip", "-o", "link").stdout
    assert "nlbr0" in host_links

    t0 = time.monotonic()
    r = c.schedctl("delete", "pod", "bye", timeout=60)
    took = time.monotonic() - t0
    assert 'pod "bye" deleted' in r.stdout
    assert took < 10, f"delete waited {took:.1f}s although the container exits on SIGTERM"
    assert c.pod("bye") is None
    code, _ = c.curl("/api/v1/namespaces/default/pods/bye")
    assert code == 404

    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "container process gone")
    logs = list((n1.logdir).rglob("main/0.log"))
    assert logs and "got-term" in logs[0].read_text()
    # Nothing left: processes, cgroups, mounts, veth, IP lease, state.
    wait_for(lambda: not pod_dir.exists(), 10, "pod directory removed")
    for root in cgroup_hierarchies():
        assert not (root / n1.cgroup_parent / f"pod-{uid}").exists(), root
    assert not [m for m in mounts_under(n1.root) if uid in m]
    links = n1.exec("ip", "-o", "link").stdout
    assert "veth" not in links and not re.search(r"\bnl[0-9a-f]{6,}", links), links
    leases = [f for f in (n1.root / "ipam").rglob("*") if f.is_file() and uid in f.read_text()]
    assert not leases


def test_grace_period_then_sigkill(one_node):
    c = one_node
    c.apply(pod("stubborn", ctr("main", "trap '' TERM; while true; do sleep 0.1; done"), grace=2))
    c.wait_running("stubborn", 60)
    t0 = time.monotonic()
    c.schedctl("delete", "pod", "stubborn", timeout=60)
    took = time.monotonic() - t0
    assert 1.5 <= took < 12, f"delete of a SIGTERM-ignoring container took {took:.1f}s (grace 2s)"
    assert c.pod("stubborn") is None


def test_restart_policies(one_node):
    c = one_node
    c.apply(pod("always", ctr("main", "echo run; sleep 0.5; exit 0"), restart="Always"))
    c.apply(pod("onfail", ctr("main", "sleep 0.3; exit 3"), restart="OnFailure"))
    c.apply(pod("never", ctr("main", "sleep 0.3; exit 4"), restart="Never"))
    c.apply(pod("done", ctr("main", "exit 0"), restart="OnFailure"))

    c.wait_pod("always", lambda p: (cstatus(p, "main") or {}).get("restartCount", 0) >= 2, 60,
               "Always restarts a container that exits 0")
    p = c.wait_pod("onfail", lambda p: (cstatus(p, "main") or {}).get("restartCount", 0) >= 2, 60,
                   "OnFailure restarts a failing container")
    last = cstatus(p, "main")["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["reason"] == "Error"
    p = c.wait_pod("never", lambda p: p["status"]["phase"] == "Failed", 60, "Never -> Failed")
    term = cstatus(p, "main")["state"]["terminated"]
    assert term["exitCode"] == 4 and cstatus(p, "main")["restartCount"] == 0
    p = c.wait_pod("done", lambda p: p["status"]["phase"] == "Succeeded", 60, "exit 0 -> Succeeded")
    assert cstatus(p, "main")["state"]["terminated"]["reason"] == "Completed"

    out = c.schedctl("get", "pods").stdout
    assert re.search(r"^never\s+0/1\s+Error\s+0", out, re.M), out
    assert re.search(r"^done\s+0/1\s+Completed\s+0", out, re.M), out
    assert re.search(r"^onfail\s+\d/1\s+(CrashLoopBackOff|Running|Error)\s+[1-9]", out, re.M), out


def test_memory_limit_oomkilled(one_node):
    c = one_node
    hog = ctr("hog", "sleep 0.5; head -c 200m /dev/zero | tail > /dev/null; sleep 100",
              resources={"limits": {"memory": "24Mi"}})
    c.apply(pod("hog", hog, restart="Never"))
    p = c.wait_pod("hog", lambda p: "terminated" in (cstatus(p, "hog") or {}).get("state", {}), 60,
                   "the memory hog terminated")
    term = cstatus(p, "hog")["state"]["terminated"]
    assert term["reason"] == "OOMKilled", term
    assert term["exitCode"] == 137
    assert re.search(r"^hog\s+0/1\s+OOMKilled", c.schedctl("get", "pods").stdout, re.M)


def test_missing_image_reports_errimagepull(one_node):
    c = one_node
    c.apply(pod("noimg", {"name": "main", "image": "no-such-image:1.0"}))
    p = c.wait_pod("noimg", lambda p: ((cstatus(p, "main") or {}).get("state", {})
                                       .get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")),
                   30, "ErrImagePull")
    assert "no-such-image" in cstatus(p, "main")["state"]["waiting"].get("message", "")
    assert c.nodes["n1"].proc.alive()
    c.apply(pod("fine", ctr("main", "sleep 100")))
    c.wait_running("fine", 60)


def test_bad_input_is_refused_and_nothing_stored(one_node, tmp_path):
    c = one_node
    bad = pod("bad", ctr("web", "true", resources={"limits": {"memory": "12XB"}}),
              ctr("db", "true"))
    f = tmp_path / "pod.json"
    f.write_text(json.dumps(bad))
    r = c.schedctl("apply", "-f", f, check=False)
    assert r.returncode == 1
    assert f'{f}: spec.containers[0].resources.limits.memory: invalid quantity "12XB"' in r.stderr

    dup = pod("dup", ctr("a", "true"), ctr("a", "true"))
    f.write_text(json.dumps(dup))
    r = c.schedctl("apply", "-f", f, check=False)
    assert r.returncode == 1 and "spec.containers[1].name" in r.stderr

    f.write_text('{"apiVersion": "v1", "kind": "Pod", ')
    r = c.schedctl("apply", "-f", f, check=False)
    assert r.returncode == 1 and str(f) in r.stderr

    unsupported = pod("unsup", ctr("a", "true", lifecycle={"preStop": {}}))
    code, body = c.curl("/api/v1/namespaces/default/pods", "POST", json.dumps(unsupported))
    assert code in (400, 422)
    assert "spec.containers[0].lifecycle: not supported" in body["message"]
    code, body = c.curl("/api/v1/namespaces/default/pods", "POST", "{nope")
    assert code == 400

    code, lst = c.curl("/api/v1/pods")
    assert code == 200 and lst["items"] == []


def test_schedd_restart_keeps_pods(one_node):
    c = one_node
    c.apply(pod("keep", ctr("main", "sleep 1000")))
    p1 = c.wait_running("keep", 60)
    c.schedd.kill(signal.SIGKILL)
    c.start_schedd()
    p2 = c.pod("keep")
    assert p2 is not None, "schedd lost the pod across kill -9"
    assert p2["metadata"]["uid"] == p1["metadata"]["uid"]
    assert p2["spec"]["nodeName"] == "n1"
    wait_for(lambda: c.node_ready("n1") == "True", 30, "n1 reconnects to the restarted schedd")
    p3 = c.wait_running("keep", 30)
    assert cstatus(p3, "main")["restartCount"] == 0


def test_nodelet_restart_adopts_running_pods(one_node):
    c = one_node
    n1 = c.nodes["n1"]
    c.apply(pod("adopt", ctr("main", "sleep 1000")))
    p = c.wait_running("adopt", 60)
    pid = ctr_pid(n1, p, "main")
    n1.proc.kill(signal.SIGKILL)
    assert Path(f"/proc/{pid}").exists(), "the container died with its nodelet"
    n1.start()
    wait_for(lambda: c.node_ready("n1") == "True", 30, "n1 back")
    time.sleep(2)
    p = c.wait_running("adopt", 30)
    assert cstatus(p, "main")["restartCount"] == 0
    assert ctr_pid(n1, p, "main") == pid
    # Still under the nodelet's control: delete works after the restart.
    c.schedctl("delete", "pod", "adopt", timeout=60)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 15, "adopted container stopped")


def test_unschedulable_reason(make_cluster):
    c = make_cluster()
    c.start_schedd()
    c.add_node("n1", labels={"disk": "hdd"}, extra=["--memory", "256Mi"])
    c.add_node("n2", labels={"disk": "ssd"}, extra=["--memory", "256Mi"])
    wait_for(lambda: c.node_ready("n1") == "True" and c.node_ready("n2") == "True", 20, "nodes Ready")
    big = pod("big", ctr("main", "sleep 100", resources={"requests": {"memory": "1Gi"}}))
    c.apply(big)
    p = c.wait_pod("big", lambda p: p["status"].get("reason") == "Unschedulable", 20, "Unschedulable")
    assert p["status"]["message"] == "0/2 nodes available: 2 insufficient memory", p["status"]
    sel = pod("sel", ctr("main", "sleep 100"), nodeSelector={"disk": "nvme"})
    c.apply(sel)
    p = c.wait_pod("sel", lambda p: p["status"].get("reason") == "Unschedulable", 20, "Unschedulable")
    assert p["status"]["message"] == "0/2 nodes available: 2 did not match nodeSelector"
    ssd = pod("ssd", ctr("main", "sleep 100"), nodeSelector={"disk": "ssd"})
    c.apply(ssd)
    assert c.wait_running("ssd", 60)["spec"]["nodeName"] == "n2"


@pytest.mark.multihost
@pytest.mark.parametrize("fault", ["kill", "partition"])
def test_node_death_replaces_pod(make_cluster, fault):
    c = make_cluster(node_grace="3s", eviction_timeout="3s", heartbeat="500ms")
    c.start_schedd()
    c.add_node("n1")
    wait_for(lambda: c.node_ready("n1") == "True", 20, "n1 Ready")
    c.apply(pod("mover", ctr("main", "sleep 1000")))
    p = c.wait_running("mover", 60)
    assert p["spec"]["nodeName"] == "n1"
    old_pid = ctr_pid(c.nodes["n1"], p, "main")
    c.add_node("n2")
    wait_for(lambda: c.node_ready("n2") == "True", 20, "n2 Ready")

    n1 = c.nodes["n1"]
    if fault == "kill":
        n1.kill_all()
    else:
        n1.partition(True)
    wait_for(lambda: c.node_ready("n1") in ("False", "Unknown"), 15, "n1 NotReady")
    assert re.search(r"^n1\s+NotReady", c.schedctl("get", "nodes").stdout, re.M)
    p = c.wait_pod("mover", lambda p: p["spec"].get("nodeName") == "n2"
                   and p["status"].get("phase") == "Running", 60, "pod re-placed on n2")
    assert re.search(r"^mover\s+1/1\s+Running\s+\d+\s+\S+\s+\S+\s+n2", c.schedctl(
        "get", "pods", "-o", "wide").stdout, re.M)

    if fault == "partition":
        # The old copy still runs on the cut-off node; when it comes back it is told to stop it.
        assert Path(f"/proc/{old_pid}").exists()
        n1.partition(False)
        wait_for(lambda: c.node_ready("n1") == "True", 30, "n1 back")
        wait_for(lambda: not Path(f"/proc/{old_pid}").exists(), 30, "stale copy on n1 stopped")
    else:
        n1.start()
        wait_for(lambda: c.node_ready("n1") == "True", 30, "n1 back")
        assert not list((n1.root / "pods").glob("*/containers/main")) or wait_for(
            lambda: not list((n1.root / "pods").glob("*/containers/main")), 30, "stale state removed")
    p = c.pod("mover")
    assert p["spec"]["nodeName"] == "n2" and p["status"]["phase"] == "Running"
