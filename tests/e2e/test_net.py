"""libruntime networking (rt_net_*) for real, inside network namespaces made here.

A "host" namespace holds the bridge; two "pod" namespaces are attached to it with
veth pairs by build/tests/rt-net-tool. Nothing touches the machine's own network.
"""

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from cluster import BUILD  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("RT_NET_TOOL", BUILD / "tests" / "rt-net-tool"))


def run(*args, check=True):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=30, check=check)


@pytest.fixture(scope="module")
def tool():
    if "RT_NET_TOOL" not in os.environ:
        r = run("make", "-C", REPO, "--no-print-directory", f"B={BUILD}", str(BUILD / "tests" / "rt-net-tool"), check=False)
        assert r.returncode == 0, "building rt-net-tool failed:\n" + r.stdout + r.stderr
    assert TOOL.exists()
    return TOOL


@pytest.fixture
def nets():
    """Three fresh namespaces: host, pod1, pod2 (named nlt<hex>h/a/b)."""
    tag = "nlt" + secrets.token_hex(4)
    names = {k: f"{tag}{k}" for k in ("h", "a", "b")}
    made = []
    try:
        for n in names.values():
            run("ip", "netns", "add", n)
            made.append(n)
        yield names
    finally:
        for n in made:
            run("ip", "netns", "del", n, check=False)


def in_ns(ns, *args, check=True):
    return run("ip", "netns", "exec", ns, *args, check=check)


def addrs(ns, ifname):
    out = json.loads(in_ns(ns, "ip", "-j", "addr", "show", "dev", ifname).stdout)
    return [f"{a['local']}/{a['prefixlen']}" for a in out[0]["addr_info"] if a["family"] == "inet"]


def ping(ns, ip):
    return in_ns(ns, "busybox", "ping", "-c1", "-W2", ip, check=False).returncode == 0


def test_bridge_attach_ping_detach(tool, nets):
    h, a, b = nets["h"], nets["a"], nets["b"]
    assert in_ns(h, tool, "bridge-ensure", "nlbr0", "10.244.77.1/24").returncode == 0
    # idempotent
    assert in_ns(h, tool, "bridge-ensure", "nlbr0", "10.244.77.1/24").returncode == 0
    assert addrs(h, "nlbr0") == ["10.244.77.1/24"]

    in_ns(h, tool, "attach", f"/run/netns/{a}", "nlbr0", "nlvaaaaaaaaaaaa", "10.244.77.2/24",
          "10.244.77.1")
    in_ns(h, tool, "attach", f"/run/netns/{b}", "nlbr0", "nlvb", "10.244.77.3/24", "10.244.77.1")

    # pod side: eth0 with the address, up; lo up; default route via the gateway
    assert addrs(a, "eth0") == ["10.244.77.2/24"]
    link = json.loads(in_ns(a, "ip", "-j", "link", "show", "dev", "eth0").stdout)[0]
    assert "UP" in link["flags"]
    lo = json.loads(in_ns(a, "ip", "-j", "link", "show", "dev", "lo").stdout)[0]
    assert "UP" in lo["flags"]
    routes = json.loads(in_ns(a, "ip", "-j", "route").stdout)
    assert {"dst": "default", "gateway": "10.244.77.1", "dev": "eth0"}.items() <= \
        [r for r in routes if r["dst"] == "default"][0].items()
    # host side: the veth is on the bridge and up
    host = json.loads(in_ns(h, "ip", "-j", "link", "show", "dev", "nlvaaaaaaaaaaaa").stdout)[0]
    assert host.get("master") == "nlbr0" and "UP" in host["flags"]

    # the node reaches its pods, and pods reach each other over the bridge
    assert ping(h, "10.244.77.2")
    assert ping(h, "10.244.77.3")
    assert ping(a, "10.244.77.3")
    assert ping(b, "10.244.77.1")

    # attaching the same host name twice fails and names the link
    r = in_ns(h, tool, "attach", f"/run/netns/{b}", "nlbr0", "nlvb", "10.244.77.4/24",
              "10.244.77.1", check=False)
    assert r.returncode == 1 and "nlvb" in r.stderr

    in_ns(h, tool, "detach", "nlvaaaaaaaaaaaa")
    assert in_ns(h, tool, "exists", "nlvaaaaaaaaaaaa", check=False).returncode == 1
    assert "eth0" not in in_ns(a, "ip", "-br", "link").stdout
    assert not ping(h, "10.244.77.2")
    in_ns(h, tool, "detach", "nlvaaaaaaaaaaaa")  # missing is fine
    in_ns(h, tool, "detach", "nlvb")
    in_ns(h, tool, "bridge-delete", "nlbr0")
    in_ns(h, tool, "bridge-delete", "nlbr0")  # missing is fine
    assert in_ns(h, tool, "exists", "nlbr0", check=False).returncode == 1


def test_errors_name_the_link(tool, nets):
    h, a = nets["h"], nets["a"]
    r = in_ns(h, tool, "attach", f"/run/netns/{a}", "nobridge", "nlvx", "10.244.78.2/24",
              "10.244.78.1", check=False)
    assert r.returncode == 1 and "bridge `nobridge`" in r.stderr and "nlvx" in r.stderr
    # a link of another kind under the bridge's name is not taken over
    in_ns(h, "ip", "link", "add", "nlv1", "type", "veth", "peer", "name", "nlv2")
    r = in_ns(h, tool, "bridge-ensure", "nlv1", "10.244.78.1/24", check=False)
    assert r.returncode == 1 and "`nlv1` exists and is not a bridge (kind `veth`)" in r.stderr
    # interface names are at most 15 characters
    r = in_ns(h, tool, "bridge-ensure", "x" * 16, "10.244.78.1/24", check=False)
    assert r.returncode == 1 and "invalid interface name" in r.stderr
    r = in_ns(h, tool, "attach", f"/run/netns/{a}-missing", "nlv1", "nlvy", "10.244.78.2/24",
              "10.244.78.1", check=False)
    assert r.returncode == 1 and "opening network namespace" in r.stderr
    # a failed attach leaves no half-made veth behind
    assert in_ns(h, tool, "exists", "nlvy", check=False).returncode == 1
