"""linux.netDevices end to end (runtime-spec v1.2 config-linux.md "Network
Devices"): host devices moved into the container's network namespace.

Host networking is never touched: each test makes a network namespace of its
own (`ip netns add`), puts a veth pair in it (this kernel has no dummy
driver) and runs ocirun inside it with `nsenter --net` (not `ip netns exec`,
which remounts /sys and so would hide the cgroup trees), so "the runtime's
network namespace" is the test's.
"""

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from ocirun_helpers import OCIRUN, PREFIX, REPO, Bundle, run_to_files, unique

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")

# The cases that need ocirun to call rt__netdev_move_in at create.

UNIT = Path(os.environ.get("NODELET_BUILD", REPO / "build")) / "tests/unit/runtime/test-netdev"


def ip(ns, *args, check=True):
    r = subprocess.run(["ip", "-n", ns, *args], capture_output=True, text=True, timeout=10)
    if check:
        assert r.returncode == 0, f"ip -n {ns} {' '.join(args)}: {r.stderr}"
    return r


class NetBundle(Bundle):
    """A bundle whose ocirun runs inside the test's network namespace, which
    holds a veth pair: self.dev (10.250.77.2/24, 2001:db8:77::2/64, up) and
    its peer self.peer."""

    def __init__(self, base, root):
        self.ns = unique("nd-")
        subprocess.run(["ip", "netns", "add", self.ns], check=True, timeout=10)
        try:
            super().__init__(base, root)  # runs `ocirun spec` in the namespace
        except BaseException:
            subprocess.run(["ip", "netns", "delete", self.ns], timeout=10)
            raise
        self.netns.append(self.ns)
        tag = self.ns[-6:]
        self.dev, self.peer = f"nd{tag}", f"np{tag}"
        ip(self.ns, "link", "add", self.dev, "type", "veth", "peer", "name", self.peer)
        ip(self.ns, "addr", "add", "10.250.77.2/24", "dev", self.dev)
        ip(self.ns, "-6", "addr", "add", "2001:db8:77::2/64", "dev", self.dev, "nodad")
        ip(self.ns, "link", "set", self.dev, "up")

    def ocirun(self, *args, timeout=30):
        """ocirun in the test's network namespace (the runtime's namespace)."""
        return run_to_files(["nsenter", f"--net=/var/run/netns/{self.ns}", str(OCIRUN),
                             "--root", str(self.root), *map(str, args)], timeout)

    def addr(self, dev):
        """`ip addr show dev` in the test's namespace ('' when there is none)."""
        return ip(self.ns, "addr", "show", dev, check=False).stdout

    def create_fails(self, want):
        """create fails naming want, and leaves no state behind."""
        cid = self.new_id()
        r = self.ocirun("create", "-b", self.dir, cid)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert want in r.stderr, r.stderr
        assert not (Path(self.root) / cid).exists()
        return r


@pytest.fixture
def nb(state_root):
    b = NetBundle(tempfile.mkdtemp(prefix=PREFIX + "bundle-"), state_root)
    yield b
    b.cleanup()


# ---- config checks (config.c calls the parser already) -------------------

@pytest.mark.parametrize("devs,want", [
    ({"abcdefghijklmnop": {}}, "`abcdefghijklmnop` is not a valid interface name: it is "
                               "longer than 15 bytes"),
    ({"eth0": {"name": "a b"}}, "linux.netDevices.eth0.name: `a b` is not a valid "
                                "interface name: it holds '/', ':' or white space"),
    ({"a/b": {}}, "holds '/', ':' or white space"),
    ({"eth0": {"name": ".."}}, "cannot be `.` or `..`"),
    ({"eth0": {"name": ""}}, "linux.netDevices.eth0.name: `` is not a valid interface name"),
    ({"eth0": {"name": "x%d%d"}}, "holds '%' other than one `%d` template"),
    ({"eth0": {"name": 3}}, "linux.netDevices.eth0.name: expected string"),
    ({"eth0": "c0"}, "linux.netDevices.eth0: expected object"),
    ({"eth0": {"name": "c0"}, "eth1": {"name": "c0"}},
     "linux.netDevices.eth1: `c0` is the container name of `eth0` too"),
])
def test_bad_netdevices_name_the_field(nb, devs, want):
    nb.write(["true"], netDevices=devs)
    nb.create_fails(want)


def test_netdevices_need_a_network_namespace(nb):
    nb.config["linux"]["namespaces"] = [n for n in nb.config["linux"]["namespaces"]
                                        if n["type"] != "network"]
    nb.write(["true"], netDevices={nb.dev: {}})
    nb.create_fails("linux.netDevices: needs a network namespace of the container's own")
    assert "10.250.77.2/24" in nb.addr(nb.dev)


# ---- the move, through libruntime directly -------------------------------

def test_move_in_move_out_and_undo_through_libruntime():
    """rt__netdev_move_in / rt__netdev_move_out on veth pairs, in network
    namespaces the unit binary unshares for itself (renames, addresses, up
    state, a template name, a namespace joined by path, the undo after a
    failure part-way, the errors)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not UNIT.exists():
        pytest.skip(f"{UNIT} not built (make unit-runtime)")
    r = subprocess.run([str(UNIT)], env={**os.environ, "NODELET_NETDEV_MOVE_TEST": "1"},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[  PASSED  ] 3 test(s)" in r.stdout + r.stderr, r.stdout + r.stderr


# ---- the move, through ocirun --------------------------------------------

def test_device_moved_renamed_with_addresses_and_up(nb):
    nb.write(["ip", "addr", "show"], netDevices={nb.dev: {"name": "ctr0"}})
    r = nb.ocirun("run", "-b", nb.dir, nb.new_id())
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "ctr0@" in out and "10.250.77.2/24" in out and "2001:db8:77::2/64" in out, out
    assert ",UP" in out.split("ctr0@", 1)[1].splitlines()[0], out
    # gone from the runtime's namespace; a veth dies with the container's
    # namespace (physical devices go back to the initial one): the spec
    # forbids moving it back at delete.
    assert nb.addr(nb.dev) == ""


def test_device_keeps_its_name_without_name(nb):
    nb.write(["ip", "-o", "link", "show"], netDevices={nb.dev: {}})
    r = nb.ocirun("run", "-b", nb.dir, nb.new_id())
    assert r.returncode == 0, r.stderr
    assert f"{nb.dev}@" in r.stdout, r.stdout


def test_missing_device_fails_create_and_leaves_nothing(nb):
    nb.write(["true"], netDevices={"nope0": {}})
    nb.create_fails("linux.netDevices.nope0: no such device in the runtime's network namespace")


def test_runtime_namespace_refused(nb):
    for n in nb.config["linux"]["namespaces"]:
        if n["type"] == "network":
            n["path"] = f"/var/run/netns/{nb.ns}"
    nb.write(["true"], netDevices={nb.dev: {}})
    nb.create_fails("the container's network namespace is the runtime's own")
    assert "10.250.77.2/24" in nb.addr(nb.dev)


def test_joined_namespace_name_taken_and_free(nb):
    other = unique("nd-")
    subprocess.run(["ip", "netns", "add", other], check=True, timeout=10)
    nb.netns.append(other)
    ip(other, "link", "add", "taken0", "type", "veth", "peer", "name", "taken1")
    for n in nb.config["linux"]["namespaces"]:
        if n["type"] == "network":
            n["path"] = f"/var/run/netns/{other}"
    nb.write(["true"], netDevices={nb.dev: {"name": "taken0"}})
    nb.create_fails(f"linux.netDevices.{nb.dev}: a device named `taken0` exists in the "
                    "container's network namespace already")
    assert "10.250.77.2/24" in nb.addr(nb.dev)
    # a free name: moved into the joined namespace, which outlives the
    # container, so the device stays there after delete
    nb.write(["true"], netDevices={nb.dev: {"name": "free0"}})
    r = nb.ocirun("run", "-b", nb.dir, nb.new_id())
    assert r.returncode == 0, r.stderr
    assert "10.250.77.2/24" in ip(other, "addr", "show", "free0").stdout
    assert nb.addr(nb.dev) == ""


def test_failure_part_way_moves_back_what_moved(nb):
    br = "nb" + nb.ns[-6:]
    ip(nb.ns, "link", "add", br, "type", "bridge")  # a bridge cannot change namespace
    nb.write(["true"], netDevices={nb.dev: {"name": "c0"}, br: {}})
    nb.create_fails(f"linux.netDevices.{br}: moving it into the container's network namespace")
    out = nb.addr(nb.dev)
    assert "10.250.77.2/24" in out and "2001:db8:77::2/64" in out and ",UP" in out, out


def test_failed_create_after_the_move_gives_devices_back(nb):
    # the init fails after the devices moved (no such executable): a failed
    # create leaves nothing behind, and the device is back, as it was (passes
    # unwired too, where nothing moves)
    nb.write(["/no/such/binary"], netDevices={nb.dev: {"name": "c0"}})
    nb.create_fails("executable `/no/such/binary`")
    out = nb.addr(nb.dev)
    assert "10.250.77.2/24" in out and "2001:db8:77::2/64" in out and ",UP" in out, out


def test_device_moved_into_a_user_namespace_container(nb):
    nb.config["linux"]["namespaces"].append({"type": "user"})
    nb.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    nb.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    nb.dir.chmod(0o755)  # the container's root (host uid 100000) must reach the rootfs
    nb.write(["ip", "addr", "show", "c0"], netDevices={nb.dev: {"name": "c0"}})
    r = nb.ocirun("run", "-b", nb.dir, nb.new_id())
    assert r.returncode == 0, r.stderr
    assert "10.250.77.2/24" in r.stdout, r.stdout
