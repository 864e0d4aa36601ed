"""schedd on its own: the HTTP API, persistence, start-up errors, and the node
WebSocket's handshake and framing checks (with a hand-rolled WebSocket client
and hand-built protobuf frames, so no nodelet is needed)."""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cluster import BIN, TMP_BASE, wait_for

SCHEDD = Path(os.environ.get("SCHEDD_BIN", BIN / "schedd"))  # e.g. an ASan build

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "busybox",
                             "resources": {"requests": {"cpu": "100m", "memory": "16Mi"}}}]},
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Schedd:
    """A schedd process on a free loopback port with its own --data."""

    def __init__(self, data, extra=(), port=None):
        self.data = Path(data)
        self.port = port or free_port()
        self.log_path = self.data.parent / f"schedd-{self.port}.log"
        self.argv = [str(SCHEDD), "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data),
                     *extra]
        self.logf = open(self.log_path, "ab")
        self.p = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        wait_for(lambda: self.get("/healthz", raw=True) == "ok", 10, "schedd /healthz")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, path, method="GET", body=None, headers=None):
        """Returns (status, parsed JSON or text)."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                code, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            code, text = e.code, e.read().decode()
        try:
            return code, json.loads(text)
        except ValueError:
            return code, text

    def get(self, path, raw=False):
        code, out = self.request(path)
        return out if raw else (code, out)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            self.p.wait(10)
        if not self.logf.closed:
            self.logf.close()
        return self.p.returncode


@pytest.fixture
def workdir():
    TMP_BASE.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="nlt-schedd-", dir=TMP_BASE))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def schedd(workdir, request):
    made = []

    def start(**kw):
        s = Schedd(workdir / "data", **kw)
        made.append(s)
        return s

    yield start
    failed = getattr(request.node, "rep_call", None)
    for s in made:
        rc = s.kill(signal.SIGTERM)
        if failed is not None and failed.failed:
            print(f"---- schedd log ({s.port}) ----\n" + s.log()[-6000:])
        # SIGTERM is a clean shutdown (exit 0); a killed one (-9) was meant to be
        assert rc in (0, -signal.SIGKILL), f"schedd exited {rc}:\n{s.log()[-4000:]}"


# ---- HTTP API ---------------------------------------------------------------

def test_healthz_and_metrics(schedd):
    s = schedd()
    assert s.get("/healthz") == (200, "ok")
    code, text = s.get("/metrics")
    assert code == 200
    assert 'schedd_pods{phase="Pending"} 0' in text
    assert "schedd_http_requests_total" in text


def test_apply_get_reapply_delete(schedd):
    s = schedd()
    code, pod = s.request("/api/v1/namespaces/default/pods", "POST", POD)
    assert code == 201, pod
    assert pod["metadata"]["uid"]
    assert pod["metadata"]["creationTimestamp"]
    assert pod["status"]["phase"] == "Pending"

    code, got = s.get("/api/v1/namespaces/default/pods/web")
    assert code == 200
    assert got["status"]["phase"] == "Pending"
    assert got["status"]["reason"] == "Unschedulable"
    assert got["status"]["message"].startswith("0/0 nodes available")
    assert "nodeName" not in got["spec"]

    code, again = s.request("/api/v1/namespaces/default/pods", "POST", POD)
    assert code == 200, again
    assert again["metadata"]["uid"] == pod["metadata"]["uid"]

    changed = json.loads(json.dumps(POD))
    changed["spec"]["containers"][0]["image"] = "busybox:1.36"
    code, st = s.request("/api/v1/namespaces/default/pods", "POST", changed)
    assert code == 409
    assert st["reason"] == "AlreadyExists"
    assert st["message"] == 'pod "web" already exists with a different spec; delete it first'

    code, deleted = s.request("/api/v1/namespaces/default/pods/web", "DELETE")
    assert code == 200
    assert deleted["metadata"]["deletionTimestamp"]
    code, st = s.get("/api/v1/namespaces/default/pods/web")
    assert code == 404
    assert st["kind"] == "Status" and st["reason"] == "NotFound"
    assert st["message"] == 'pods "web" not found'


def test_invalid_pod_is_refused_and_not_stored(schedd):
    s = schedd()
    bad = json.loads(json.dumps(POD))
    bad["spec"]["containers"][0]["resources"] = {"limits": {"memory": "12XB"}}
    code, st = s.request("/api/v1/namespaces/default/pods", "POST", bad)
    assert code == 422, st
    assert st["reason"] == "Invalid" and st["code"] == 422
    assert st["message"].startswith("spec.containers[0].resources.limits.memory:"), st
    assert "12XB" in st["message"]
    assert s.get("/api/v1/pods")[1]["items"] == []


def test_malformed_json(schedd):
    s = schedd()
    code, st = s.request("/api/v1/namespaces/default/pods", "POST", b'{"apiVersion": "v1",\n  "kind": }')
    assert code == 400, st
    assert st["reason"] == "BadRequest"
    assert st["message"].startswith("line 2 column"), st
    assert s.get("/api/v1/pods")[1]["items"] == []


def test_namespace_mismatch(schedd):
    s = schedd()
    p = json.loads(json.dumps(POD))
    p["metadata"]["namespace"] = "other"
    code, st = s.request("/api/v1/namespaces/default/pods", "POST", p)
    assert code == 400, st
    assert s.get("/api/v1/pods")[1]["items"] == []


def test_missing_content_length(schedd):
    """urllib always sends Content-Length; a raw socket sends a chunked body."""
    s = schedd()
    body = json.dumps(POD).encode()
    req = (b"POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
        c.sendall(req)
        head = c.recv(4096)
    assert head.startswith(b"HTTP/1.1 411"), head
    assert s.get("/api/v1/pods")[1]["items"] == []
    assert s.get("/healthz") == (200, "ok")


def test_list_all_namespaces_and_nodes(schedd):
    s = schedd()
    for ns in ("default", "team-a"):
        p = json.loads(json.dumps(POD))
        assert s.request(f"/api/v1/namespaces/{ns}/pods", "POST", p)[0] == 201
    code, lst = s.get("/api/v1/pods")
    assert code == 200 and lst["kind"] == "PodList"
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in lst["items"]] == \
        [("default", "web"), ("team-a", "web")]
    code, lst = s.get("/api/v1/namespaces/team-a/pods")
    assert [i["metadata"]["namespace"] for i in lst["items"]] == ["team-a"]
    code, nodes = s.get("/api/v1/nodes")
    assert code == 200 and nodes == {"apiVersion": "v1", "kind": "NodeList", "metadata": {},
                                     "items": []}
    assert s.get("/api/v1/nodes/n1")[0] == 404


def test_bearer_token(schedd, workdir):
    tok = workdir / "token"
    tok.write_text("s3cret\n")
    s = schedd(extra=["--token-file", str(tok)])
    assert s.get("/healthz") == (200, "ok")
    code, st = s.get("/api/v1/pods")
    assert code == 401 and st["reason"] == "Unauthorized"
    code, st = s.request("/api/v1/namespaces/default/pods", "POST", POD)
    assert code == 401
    code, lst = s.request("/api/v1/pods", headers={"Authorization": "Bearer s3cret"})
    assert code == 200 and lst["items"] == []


# ---- persistence and start-up -----------------------------------------------

def test_kill9_restart_keeps_pods(schedd, workdir):
    s = schedd()
    code, pod = s.request("/api/v1/namespaces/default/pods", "POST", POD)
    assert code == 201
    pinned = json.loads(json.dumps(POD))
    pinned["metadata"]["name"] = "pinned"
    pinned["spec"]["nodeName"] = "n7"
    assert s.request("/api/v1/namespaces/default/pods", "POST", pinned)[0] == 201
    s.kill(signal.SIGKILL)

    s2 = schedd(port=s.port)
    code, got = s2.get("/api/v1/namespaces/default/pods/web")
    assert code == 200
    assert got["metadata"]["uid"] == pod["metadata"]["uid"]
    assert got["status"]["phase"] == "Pending"
    code, got = s2.get("/api/v1/namespaces/default/pods/pinned")
    assert code == 200
    assert 'node "n7"' in got["status"]["message"]
    # the same pod applied again is "unchanged", pin included
    assert s2.request("/api/v1/namespaces/default/pods", "POST", pinned)[0] == 200


def test_port_in_use(schedd, workdir):
    s = schedd()
    r = subprocess.run([str(SCHEDD), "--listen", f"127.0.0.1:{s.port}", "--data",
                        str(workdir / "other")], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1:{s.port}: Address already in use" in r.stderr
    assert s.get("/healthz") == (200, "ok")


def test_bad_flags():
    for argv, what in ((["--node-grace", "soon"], "--node-grace soon: invalid duration"),
                       (["--listen", "nowhere"], "--listen nowhere"),
                       (["--bogus"], "unknown flag --bogus"),
                       (["--cluster-cidr", "10.0.0.0/40"], "--cluster-cidr")):
        r = subprocess.run([str(SCHEDD), *argv], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (argv, r.stderr)
        assert what in r.stderr, (argv, r.stderr)
    r = subprocess.run([str(SCHEDD), "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--eviction-timeout" in r.stdout


# ---- node WebSocket: a minimal client and protobuf by hand -------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint((num << 3) | 2) + varint(len(b)) + b


def parse_pb(buf):
    """{field: [values]}; varints as int, length-delimited as bytes."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def register_frame(name="n1", version=1, pods=()):
    cap = field_varint(1, 2000) + field_varint(2, 4 << 30) + field_varint(3, 110)
    reg = (field_varint(1, version) + field_bytes(2, name) + field_bytes(4, cap)
           + field_bytes(5, "127.0.0.1"))
    for uid, gen in pods:
        reg += field_bytes(6, field_bytes(1, uid) + field_varint(2, gen))
    return field_bytes(1, reg)


class WS:
    """Just enough RFC 6455 for tests: handshake, masked binary frames out,
    unmasked frames in."""

    def __init__(self, port, protocol="nodelet.v1", path="/v1/node"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"handshake: connection closed after {head!r}")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, payload, opcode=2, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """(opcode, payload) of the next frame, skipping pings (answered)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 9:
                self.send(payload, opcode=10)
                continue
            return op, payload

    def recv_envelope(self):
        op, payload = self.recv()
        assert op == 2, (op, payload)
        return parse_pb(payload)

    def close(self):
        self.sock.close()


def test_garbage_frame_closes_only_that_connection(schedd):
    s = schedd()
    good = WS(s.port)
    bad = WS(s.port)
    bad.send(b"\xff\xff\xff\xff junk that is no protobuf \x00\x01")
    op, payload = bad.recv()
    assert op == 8, (op, payload)
    assert struct.unpack(">H", payload[:2])[0] == 1007  # invalid payload data
    bad.close()
    assert s.get("/healthz") == (200, "ok")
    # the other connection still works: it can register
    good.send(register_frame("n1"))
    env = good.recv_envelope()
    reply = parse_pb(env[2][0])
    assert reply.get(1) == [1], reply
    good.close()
    assert "undecodable frame" in s.log()
    assert s.p.poll() is None


def test_wrong_protocol_version_is_refused(schedd):
    s = schedd()
    ws = WS(s.port)
    ws.send(register_frame("n1", version=7))
    env = ws.recv_envelope()
    assert 2 in env, env  # register_reply
    reply = parse_pb(env[2][0])
    assert reply.get(1, [0]) == [0]  # accepted=false
    assert reply[2][0].decode() == "protocol version 7 not supported (schedd speaks 1)"
    op, _ = ws.recv()
    assert op == 8  # then closed
    ws.close()
    assert s.get("/api/v1/nodes")[1]["items"] == []


def test_register_fragmented_and_schedule(schedd):
    """A Register split over fragments is reassembled; the node gets its pod
    CIDR and heartbeat interval, then RunPod for a pod that fits; a restart
    of the node with no pods gets RunPod again (reconcile)."""
    s = schedd(extra=["--heartbeat-interval", "1s"])
    assert s.request("/api/v1/namespaces/default/pods", "POST", POD)[0] == 201
    ws = WS(s.port)
    frame = register_frame("n1")
    ws.send(frame[:5], fin=False)
    ws.send(frame[5:], opcode=0)
    reply = parse_pb(ws.recv_envelope()[2][0])
    assert reply[1] == [1]
    assert reply[3][0].decode() == "10.244.1.0/24"
    assert reply[4] == [1000]
    run = parse_pb(ws.recv_envelope()[4][0])
    pod = json.loads(run[3][0])
    assert pod["spec"]["nodeName"] == "n1"
    uid, gen = run[1][0].decode(), run[2][0]
    assert gen == 1
    code, node = s.get("/api/v1/nodes/n1")
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    assert node["status"]["conditions"][0]["status"] == "True"

    # status from the node lands on the pod
    status = field_bytes(1, uid) + field_varint(2, gen) + field_bytes(3, "Running")
    ws.send(field_bytes(6, status))
    wait_for(lambda: s.get("/api/v1/namespaces/default/pods/web")[1]["status"]["phase"]
             == "Running", 5, "pod Running")
    ws.close()

    # reconnect reporting a stale copy and not the bound one
    ws = WS(s.port)
    ws.send(register_frame("n1", pods=[("no-such-uid", 3)]))
    reply = parse_pb(ws.recv_envelope()[2][0])
    assert reply[3][0].decode() == "10.244.1.0/24"  # stable per node name
    stop = parse_pb(ws.recv_envelope()[5][0])
    assert stop[1][0].decode() == "no-such-uid" and stop[4][0].decode() == "pod deleted"
    run = parse_pb(ws.recv_envelope()[4][0])
    assert run[1][0].decode() == uid
    ws.close()


# ---- node lifecycle with fake nodes -----------------------------------------

def heartbeat_frame(seq=1):
    usage = field_varint(1, 100) + field_varint(2, 64 << 20) + field_varint(3, 1)
    return field_bytes(3, field_varint(1, seq) + field_bytes(2, usage))


def pod_status_frame(uid, gen, phase="Running", removed=False):
    st = field_bytes(1, uid) + field_varint(2, gen) + field_bytes(3, phase)
    if removed:
        st += field_varint(10, 1)
    return field_bytes(6, st)


class FakeNode:
    """A registered node: the RegisterReply is read and checked."""

    def __init__(self, port, name, pods=()):
        self.ws = WS(port)
        self.ws.send(register_frame(name, pods=pods))
        reply = parse_pb(self.ws.recv_envelope()[2][0])
        assert reply.get(1) == [1], reply
        self.cidr = reply[3][0].decode()
        self.seq = 0

    def beat(self):
        self.seq += 1
        self.ws.send(heartbeat_frame(self.seq))

    def expect(self, field):
        """Next envelope must carry oneof field (4 RunPod, 5 StopPod)."""
        env = self.ws.recv_envelope()
        assert field in env, env
        return parse_pb(env[field][0])


def pod_of(s, name="web"):
    return s.get(f"/api/v1/namespaces/default/pods/{name}")[1]


def test_node_lost_pod_replaced_and_stale_copy_stopped(schedd):
    s = schedd(extra=["--node-grace", "1s", "--eviction-timeout", "2s",
                      "--heartbeat-interval", "200ms"])
    n1 = FakeNode(s.port, "n1")
    assert s.request("/api/v1/namespaces/default/pods", "POST", POD)[0] == 201
    run = n1.expect(4)
    uid = run[1][0].decode()
    assert run[2] == [1]
    n1.ws.send(pod_status_frame(uid, 1))
    wait_for(lambda: pod_of(s)["status"]["phase"] == "Running", 5, "Running on n1")
    n2 = FakeNode(s.port, "n2")
    assert n2.cidr == "10.244.2.0/24"

    # n1 goes silent; n2 keeps beating
    def n1_not_ready():
        n2.beat()
        return s.get("/api/v1/nodes/n1")[1]["status"]["conditions"][0]["status"] == "Unknown"
    wait_for(n1_not_ready, 5, "n1 NotReady", interval=0.2)
    assert s.get("/api/v1/nodes/n2")[1]["status"]["conditions"][0]["status"] == "True"

    def on_n2():
        n2.beat()
        return pod_of(s)["spec"].get("nodeName") == "n2"
    wait_for(on_n2, 6, "pod re-placed on n2", interval=0.2)
    run = n2.expect(4)
    assert run[1][0].decode() == uid and run[2] == [3]
    assert "node n1 NotReady: no heartbeat for 1s" in s.log()

    # n1 comes back still running generation 1: told to stop it, nothing to run
    n1.ws.close()
    n1 = FakeNode(s.port, "n1", pods=[(uid, 1)])
    assert n1.cidr == "10.244.1.0/24"
    stop = n1.expect(5)
    assert stop[1][0].decode() == uid and stop[2] == [1]
    assert stop[4][0].decode() == "pod re-placed"
    # a status for the stale copy is ignored
    n1.ws.send(pod_status_frame(uid, 1, "Failed"))
    n2.ws.send(pod_status_frame(uid, 3, "Running"))
    wait_for(lambda: pod_of(s)["status"].get("phase") == "Running", 5, "Running on n2")
    assert pod_of(s)["spec"]["nodeName"] == "n2"
    n1.ws.close()
    n2.ws.close()


def test_delete_bound_pod_waits_for_node(schedd):
    s = schedd()
    n1 = FakeNode(s.port, "n1")
    assert s.request("/api/v1/namespaces/default/pods", "POST", POD)[0] == 201
    run = n1.expect(4)
    uid, gen = run[1][0].decode(), run[2][0]
    code, p = s.request("/api/v1/namespaces/default/pods/web", "DELETE")
    assert code == 200 and p["metadata"]["deletionTimestamp"]
    stop = n1.expect(5)
    assert stop[1][0].decode() == uid and stop[4][0].decode() == "pod deleted"
    assert stop[3] == [30]  # terminationGracePeriodSeconds default
    assert s.get("/api/v1/namespaces/default/pods/web")[0] == 200  # still there
    assert s.request("/api/v1/namespaces/default/pods/web", "DELETE")[0] == 200
    n1.ws.send(pod_status_frame(uid, gen, "Succeeded", removed=True))
    wait_for(lambda: s.get("/api/v1/namespaces/default/pods/web")[0] == 404, 5, "pod gone")
    n1.ws.close()


def test_restart_keeps_binding_node_not_ready_until_it_returns(schedd):
    s = schedd()
    n1 = FakeNode(s.port, "n1")
    assert s.request("/api/v1/namespaces/default/pods", "POST", POD)[0] == 201
    run = n1.expect(4)
    uid = run[1][0].decode()
    s.kill(signal.SIGKILL)
    n1.ws.close()

    s2 = schedd(port=s.port)
    p = pod_of(s2)
    assert p["spec"]["nodeName"] == "n1" and p["metadata"]["uid"] == uid
    node = s2.get("/api/v1/nodes/n1")[1]
    assert node["status"]["conditions"][0]["status"] == "Unknown"
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    # the node returns with the pod: nothing to stop or run, Ready again
    n1 = FakeNode(s2.port, "n1", pods=[(uid, 1)])
    assert n1.cidr == "10.244.1.0/24"
    assert s2.get("/api/v1/nodes/n1")[1]["status"]["conditions"][0]["status"] == "True"
    # a new node gets the next CIDR, not a reused one
    n2 = FakeNode(s2.port, "n2")
    assert n2.cidr == "10.244.2.0/24"
    # SIGTERM with sessions open is a clean exit (checked by the fixture)
    rc = s2.kill(signal.SIGTERM)
    assert rc == 0, s2.log()
    n1.ws.close()
    n2.ws.close()
