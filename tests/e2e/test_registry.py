"""Pulling images from a registry: Debian's docker-registry on a loopback port with
a temporary store, the locally built busybox image pushed into it with skopeo,
then pulled by libruntime (build/tests/rt-image-tool pull) into a content store.

Covered: by tag and by digest, OCI and Docker schema2 manifests, an OCI index
resolved to this machine's platform, pulls joined in one process, a registry's
error message, digest mismatches and size limits that keep nothing, bearer
tokens from a token endpoint this file runs (docker-registry's `auth: token`
with a signing certificate made here), basic auth (htpasswd) from a
credentials file, HTTPS with a CA file.

Every registry and token server is stopped and every directory removed at the
end, even when a test fails.
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from cluster import BUILD, mounts_under  # noqa: E402
from image_fixtures import TOOL, tool, workdir  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
TMP_BASE = Path(os.environ.get("NODELET_E2E_TMP", "/tmp/nodelet-e2e"))
REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
SKOPEO = shutil.which("skopeo") or "/usr/bin/skopeo"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(REGISTRY_BIN) and os.path.exists(SKOPEO)),
    reason="needs Debian's docker-registry and skopeo (make deps)")


def run(*args, check=True, timeout=120, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, check=check, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, what, timeout=15):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception as e:  # noqa: BLE001 - report the last failure
            last = e
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last error: {last}")


# ---- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def layout(workdir):
    """The busybox OCI layout, built into this module's own directory."""
    out = workdir / "busybox-layout"
    r = run("sh", REPO / "deploy" / "images" / "build-busybox.sh", out, check=False, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


class Registry:
    """docker-registry on 127.0.0.1:<free port> with its own storage directory."""

    def __init__(self, base, auth_yaml="", tls=None, netns=None, port=None):
        self.dir = base / ("reg-" + secrets.token_hex(3))
        self.storage = self.dir / "data"
        self.storage.mkdir(parents=True)
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.tls = tls
        tls_yaml = ""
        if tls:
            tls_yaml = f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n"
        cfg = self.dir / "config.yml"
        cfg.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.storage}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n  secret: {secrets.token_hex(8)}\n{tls_yaml}"
            + auth_yaml)
        self.log = open(self.dir / "log", "w")
        cmd = [REGISTRY_BIN, "serve", str(cfg)]
        if netns:
            cmd = ["nsenter", f"--net=/run/netns/{netns}"] + cmd
        self.netns = netns
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        wait_for(self._up, f"docker-registry on {self.host}" + (f" in {netns}" if netns else ""))

    def _up(self):
        assert self.proc.poll() is None, "docker-registry exited:\n" + self.logtext()
        if self.netns:
            r = run(*self.nsenter(), "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    f"{'https' if self.tls else 'http'}://{self.host}/v2/", "-k", check=False)
            return r.stdout.strip() not in ("", "000")
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def nsenter(self):
        return ["nsenter", f"--net=/run/netns/{self.netns}"] if self.netns else []

    def logtext(self):
        self.log.flush()
        return (self.dir / "log").read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def push(self, layout, name, fmt=None, creds=None, extra=()):
        args = [*self.nsenter(), SKOPEO, "copy", "-q", "--dest-tls-verify=false", *extra]
        if fmt:
            args += ["--format", fmt]
        if creds:
            args += ["--dest-creds", creds]
        args += [f"oci:{layout}:busybox:latest", f"docker://{self.host}/{name}"]
        r = run(*args, check=False, timeout=120)
        assert r.returncode == 0, f"skopeo push failed: {r.stderr}\nregistry log:\n{self.logtext()}"

    def blob_data(self, digest):
        hx = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hx[:2] / hx / "data"


@pytest.fixture
def registries(workdir):
    started = []

    def start(**kw):
        r = Registry(workdir, **kw)
        started.append(r)
        return r

    try:
        yield start
    finally:
        for r in started:
            r.stop()
        for r in started:
            shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_registry(workdir, layout):
    """One plain-HTTP registry holding busybox (OCI) and team/bb (Docker schema2)."""
    r = Registry(workdir)
    try:
        r.push(layout, "library/busybox:latest")
        r.push(layout, "team/bb:v2s2", fmt="v2s2")
        yield r
    finally:
        r.stop()
        shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def store(workdir):
    d = workdir / ("store-" + secrets.token_hex(3))
    try:
        yield d
    finally:
        for m in sorted(mounts_under(d), key=len, reverse=True):
            run("umount", "-l", m, check=False)
        shutil.rmtree(d, ignore_errors=True)


def pull(tool, store, ref, *opts, check=True):
    r = run(tool, "pull", store, ref, *opts, check=False)
    if check:
        assert r.returncode == 0, f"pull {ref} failed: {r.stderr}"
    return r


def parse_image(out):
    info = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return info


def layout_manifest_digest(layout):
    idx = json.loads((layout / "index.json").read_text())
    return idx["manifests"][0]["digest"]


def assert_store_empty(store):
    """A failed pull keeps nothing: no blob, no staging file, no index entry."""
    blobs = store / "blobs" / "sha256"
    assert not blobs.exists() or list(blobs.iterdir()) == []
    tmp = store / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    idx = store / "index.json"
    assert not idx.exists() or json.loads(idx.read_text())["manifests"] == []


# ---- pulls ------------------------------------------------------------------------------


def test_pull_by_tag_then_unpack_and_mount(tool, shared_registry, layout, store, workdir):
    ref = f"{shared_registry.host}/library/busybox:latest"
    r = pull(tool, store, ref, "--insecure", shared_registry.host)
    img = parse_image(r.stdout)
    assert img["ref"] == ref
    assert img["manifest"] == layout_manifest_digest(layout)
    assert img["cmd"] == "sh"
    assert "progress: 0/" in r.stderr
    # The store is an OCI layout: index.json names the image, every blob is there.
    idx = json.loads((store / "index.json").read_text())
    names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in idx["manifests"]]
    assert names == [ref]
    for d in [img["manifest"]] + img["layers"].split():
        data = (store / "blobs/sha256" / d.split(":")[1]).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == d
    assert list((store / "tmp").iterdir()) == []
    # ...which the existing resolve/unpack/mount path reads as it is.
    r = run(tool, "resolve", store, ref)
    assert parse_image(r.stdout)["manifest"] == img["manifest"]
    cdir = workdir / ("ctr-" + secrets.token_hex(3))
    try:
        run(tool, "mount", store, ref, store / "layers", cdir)
        assert (cdir / "rootfs/bin/busybox").is_file()
        assert (cdir / "rootfs/var/www/index.html").read_text().startswith("<!DOCTYPE html>")
    finally:
        run(tool, "remove", cdir, check=False)
    # A second pull of the same tag downloads no blob again (0 to done at once).
    r = pull(tool, store, ref, "--insecure", shared_registry.host)
    assert parse_image(r.stdout)["manifest"] == img["manifest"]


def test_pull_by_digest(tool, shared_registry, layout, store):
    digest = layout_manifest_digest(layout)
    ref = f"{shared_registry.host}/library/busybox@{digest}"
    img = parse_image(pull(tool, store, ref, "--insecure", shared_registry.host).stdout)
    assert img["manifest"] == digest
    assert parse_image(run(tool, "resolve", store, ref).stdout)["manifest"] == digest
    # a digest the registry does not have: its message comes through
    bad = f"{shared_registry.host}/library/busybox@sha256:" + "0" * 64
    r = pull(tool, store, bad, "--insecure", shared_registry.host, check=False)
    assert r.returncode == 1
    assert "HTTP 404" in r.stderr and "MANIFEST_UNKNOWN" in r.stderr, r.stderr


def test_pull_docker_schema2_and_default_registry(tool, shared_registry, store):
    r = pull(tool, store, "team/bb:v2s2", "--default-registry", shared_registry.host,
             "--insecure", shared_registry.host)
    img = parse_image(r.stdout)
    assert img["ref"] == f"{shared_registry.host}/team/bb:v2s2"
    idx = json.loads((store / "index.json").read_text())
    assert idx["manifests"][0]["mediaType"] == \
        "application/vnd.docker.distribution.manifest.v2+json"
    # a one-component name on the default registry reads as library/<name>
    r = pull(tool, store, "busybox", "--default-registry", shared_registry.host,
             "--insecure", shared_registry.host)
    assert parse_image(r.stdout)["ref"] == f"{shared_registry.host}/library/busybox:latest"


def test_pull_zstd_layer(tool, registries, layout, store, workdir):
    """A layer recompressed with zstd on push is pulled, verified and unpacked."""
    reg = registries()  # empty: skopeo would reuse a gzip blob already there
    reg.push(layout, "library/busybox:zstd",
             extra=["--dest-compress-format", "zstd", "--dest-compress"])
    ref = f"{reg.host}/library/busybox:zstd"
    img = parse_image(pull(tool, store, ref, "--insecure", reg.host).stdout)
    man = json.loads((store / "blobs/sha256" / img["manifest"].split(":")[1]).read_text())
    assert man["layers"][0]["mediaType"].endswith("+zstd"), man
    cdir = workdir / ("ctr-" + secrets.token_hex(3))
    try:
        run(tool, "mount", store, ref, store / "layers", cdir)
        assert (cdir / "rootfs/bin/busybox").is_file()
    finally:
        run(tool, "remove", cdir, check=False)


def go_arch():
    m = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def test_pull_index_picks_this_platform(tool, shared_registry, layout, store):
    """An OCI index with another platform first: the pull takes linux/<this arch>."""
    man_digest = layout_manifest_digest(layout)
    man = (layout / "blobs/sha256" / man_digest.split(":")[1]).read_bytes()
    other = "s390x" if go_arch() != "s390x" else "amd64"
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest,
             "size": len(man), "platform": {"os": "linux", "architecture": other}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest,
             "size": len(man), "platform": {"os": "linux", "architecture": go_arch()}},
        ]}).encode()
    req = urllib.request.Request(
        f"http://{shared_registry.host}/v2/library/busybox/manifests/multi", data=index,
        method="PUT", headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
    ref = f"{shared_registry.host}/library/busybox:multi"
    img = parse_image(pull(tool, store, ref, "--insecure", shared_registry.host).stdout)
    assert img["manifest"] == man_digest
    idx = json.loads((store / "index.json").read_text())
    top = idx["manifests"][0]
    assert top["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert top["digest"] == "sha256:" + hashlib.sha256(index).hexdigest()
    # an index without this platform is refused with a message saying so
    only_other = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [json.loads(index)["manifests"][0]]}).encode()
    req = urllib.request.Request(
        f"http://{shared_registry.host}/v2/library/busybox/manifests/foreign", data=only_other,
        method="PUT", headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    urllib.request.urlopen(req, timeout=10).close()
    r = pull(tool, store, f"{shared_registry.host}/library/busybox:foreign",
             "--insecure", shared_registry.host, check=False)
    assert r.returncode == 1 and f"no manifest for linux/{go_arch()}" in r.stderr, r.stderr


def test_concurrent_pulls_happen_once(tool, shared_registry, store):
    ref = f"{shared_registry.host}/library/busybox:latest"
    r = pull(tool, store, ref, "--insecure", shared_registry.host, "--threads", "6")
    # only the one pull that did the work reports progress; the others waited for it
    starts = [l for l in r.stderr.splitlines() if l.startswith("progress: 0/")]
    assert len(starts) == 1, r.stderr
    assert parse_image(r.stdout)["ref"] == ref


def test_missing_image_and_plain_https_mismatch(tool, shared_registry, store):
    r = pull(tool, store, f"{shared_registry.host}/library/nope:1", "--insecure",
             shared_registry.host, check=False)
    assert r.returncode == 1
    assert f"pulling `{shared_registry.host}/library/nope:1`" in r.stderr
    assert "HTTP 404" in r.stderr, r.stderr
    assert_store_empty(store)
    # not listed as insecure: spoken to over HTTPS, which this registry does not serve
    r = pull(tool, store, f"{shared_registry.host}/library/busybox", check=False)
    assert r.returncode == 1 and "https://" in r.stderr, r.stderr
    assert_store_empty(store)


def test_stale_staging_swept(tool, shared_registry, store):
    """What a crashed pull left in <store>/tmp goes once it is a day old."""
    old = store / "tmp" / "pull-crashed"
    fresh = store / "tmp" / "pull-running"
    for d in (old, fresh):
        d.mkdir(parents=True)
        (d / "partial").write_bytes(b"x" * 100)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    pull(tool, store, f"{shared_registry.host}/library/busybox", "--insecure",
         shared_registry.host)
    assert not old.exists()
    assert fresh.exists()


def test_size_limit_keeps_nothing(tool, shared_registry, store):
    r = pull(tool, store, f"{shared_registry.host}/library/busybox", "--insecure",
             shared_registry.host, "--max-blob", "4096", check=False)
    assert r.returncode == 1 and "over the 4096 byte limit" in r.stderr, r.stderr
    assert_store_empty(store)


def test_digest_mismatch_keeps_nothing(tool, registries, layout, store):
    reg = registries()
    reg.push(layout, "library/busybox:latest")
    man = json.loads((layout / "blobs/sha256" /
                      layout_manifest_digest(layout).split(":")[1]).read_text())
    layer = man["layers"][0]["digest"]
    data = reg.blob_data(layer)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, other bytes
    data.write_bytes(bytes(raw))
    r = pull(tool, store, f"{reg.host}/library/busybox", "--insecure", reg.host, check=False)
    assert r.returncode == 1
    assert f"blob {layer}: digest mismatch" in r.stderr, r.stderr
    assert_store_empty(store)


# ---- auth and TLS -------------------------------------------------------------------------


def make_cert(d, cn, san=None):
    key, cert = d / f"{cn}.key", d / f"{cn}.crt"
    args = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-out", cert, "-days", "2", "-subj", f"/CN={cn}"]
    if san:
        args += ["-addext", f"subjectAltName={san}"]
    run(*args)
    return cert, key


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class TokenServer:
    """A token endpoint as docker-registry's `auth: token` expects: RS256 JWTs with
    the signing certificate in x5c, granted only to user:password over basic auth."""

    def __init__(self, d, user, password, service, issuer):
        self.cert, self.key = make_cert(d, "token-signer")
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             capture_output=True, check=True, timeout=30).stdout
        self.x5c = base64.b64encode(der).decode()
        self.want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.service, self.issuer = service, issuer
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                server.requests.append((q, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != server.want:
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                    self.send_response(401)
                else:
                    body = json.dumps({"token": server.sign(q.get("scope", []))}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, scopes):
        access = []
        for s in scopes:
            for one in s.split(" "):
                typ, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": "puller", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing, capture_output=True, check=True, timeout=30).stdout
        return signing.decode() + "." + b64url(sig)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def creds_file(d, host, user, password, style="auth"):
    f = d / ("creds-" + secrets.token_hex(3) + ".json")
    if style == "auth":
        ent = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    else:
        ent = {"username": user, "password": password}
    f.write_text(json.dumps({"auths": {f"http://{host}/v2/": ent}}))
    return f


def test_bearer_token_auth(tool, registries, layout, store, workdir):
    d = workdir / ("tok-" + secrets.token_hex(3))
    d.mkdir()
    tok = TokenServer(d, "puller", "s3cret", "test-registry", "test-issuer")
    try:
        reg = registries(auth_yaml=(
            "auth:\n  token:\n"
            f"    realm: http://127.0.0.1:{tok.port}/token\n"
            "    service: test-registry\n    issuer: test-issuer\n"
            f"    rootcertbundle: {tok.cert}\n"))
        reg.push(layout, "library/busybox:latest", creds="puller:s3cret")
        ref = f"{reg.host}/library/busybox:latest"
        # anonymous: the token endpoint refuses, and says so
        r = pull(tool, store, ref, "--insecure", reg.host, check=False)
        assert r.returncode == 1
        assert "token request" in r.stderr and "HTTP 401" in r.stderr, r.stderr
        assert "bad credentials" in r.stderr
        assert_store_empty(store)
        # with the node's credentials: a token for this repository, then the pull
        tok.requests.clear()
        creds = creds_file(d, reg.host, "puller", "s3cret")
        img = parse_image(pull(tool, store, ref, "--insecure", reg.host, "--creds", creds).stdout)
        assert img["manifest"] == layout_manifest_digest(layout)
        q, _ = tok.requests[0]
        assert q["service"] == ["test-registry"]
        assert q["scope"] == ["repository:library/busybox:pull"]
        # wrong password
        bad = creds_file(d, reg.host, "puller", "nope", style="userpass")
        r = pull(tool, workdir / ("s-" + secrets.token_hex(3)), ref, "--insecure", reg.host,
                 "--creds", bad, check=False)
        assert r.returncode == 1 and "bad credentials" in r.stderr, r.stderr
    finally:
        tok.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_basic_auth_htpasswd(tool, registries, layout, store, workdir):
    d = workdir / ("htp-" + secrets.token_hex(3))
    d.mkdir()
    try:
        htpasswd = d / "htpasswd"
        run("htpasswd", "-Bbc", htpasswd, "puller", "pa55")
        reg = registries(auth_yaml=(
            f"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"))
        reg.push(layout, "library/busybox:latest", creds="puller:pa55")
        ref = f"{reg.host}/library/busybox:latest"
        r = pull(tool, store, ref, "--insecure", reg.host, check=False)
        assert r.returncode == 1 and "HTTP 401" in r.stderr and "UNAUTHORIZED" in r.stderr
        assert "no credentials for this registry" in r.stderr, r.stderr
        assert_store_empty(store)
        creds = creds_file(d, reg.host, "puller", "pa55", style="userpass")
        img = parse_image(pull(tool, store, ref, "--insecure", reg.host, "--creds", creds).stdout)
        assert img["manifest"] == layout_manifest_digest(layout)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_https_with_ca_file(tool, registries, layout, store, workdir):
    d = workdir / ("tls-" + secrets.token_hex(3))
    d.mkdir()
    try:
        cert, key = make_cert(d, "registry", san="IP:127.0.0.1")
        reg = registries(tls=(cert, key))
        reg.push(layout, "library/busybox:latest")
        ref = f"{reg.host}/library/busybox:latest"
        r = pull(tool, store, ref, check=False)
        assert r.returncode == 1 and "https://" in r.stderr and "certificate" in r.stderr, \
            r.stderr
        img = parse_image(pull(tool, store, ref, "--ca", cert).stdout)
        assert img["manifest"] == layout_manifest_digest(layout)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_insecure_registry_https_unverified_then_http(tool, registries, shared_registry, layout,
                                                      store, workdir):
    """Docker's --insecure-registry: HTTPS with no certificate check first (a
    self-signed registry, no CA given, pulls), plain HTTP when HTTPS fails."""
    d = workdir / ("tls-" + secrets.token_hex(3))
    d.mkdir()
    try:
        cert, key = make_cert(d, "registry", san="IP:127.0.0.1")
        reg = registries(tls=(cert, key))
        reg.push(layout, "library/busybox:latest")
        ref = f"{reg.host}/library/busybox:latest"
        img = parse_image(pull(tool, store, ref, "--insecure", reg.host).stdout)
        assert img["manifest"] == layout_manifest_digest(layout)
        # a plain-HTTP registry listed as insecure: HTTPS fails, HTTP answers; its
        # errors name the http:// URL
        r = pull(tool, store, f"{shared_registry.host}/library/nope:1", "--insecure",
                 shared_registry.host, check=False)
        assert r.returncode == 1 and "HTTP 404" in r.stderr
        assert f"http://{shared_registry.host}/v2/library/nope/manifests/1" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- pods pull through the nodelet -------------------------------------------------------------


def pod_with(name, image, policy=None, script="echo started; sleep 3600"):
    c = {"name": "main", "image": image, "command": ["sh", "-c", script]}
    if policy:
        c["imagePullPolicy"] = policy
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Always", "terminationGracePeriodSeconds": 1,
                     "containers": [c]}}


def main_status(p):
    for c in p.get("status", {}).get("containerStatuses", []):
        if c["name"] == "main":
            return c
    return None


def waiting(p):
    st = main_status(p)
    return (st or {}).get("state", {}).get("waiting")


def test_pods_pull_from_registry(make_cluster, registries, layout, workdir):
    """A registry inside the node's network namespace; pods name its images by
    tag and by digest, share the layers, and see pull errors in their status."""
    from cluster import wait_for as cwait

    c = make_cluster()
    c.start_schedd()
    port = 5000
    host = f"127.0.0.1:{port}"
    node = c.add_node("n1", start=False, extra=["--insecure-registry", host])
    reg = registries(netns=node.netns, port=port)
    reg.push(layout, "library/busybox:latest")
    reg.push(layout, "team/bb:1.0", fmt="v2s2")
    node.start()
    cwait(lambda: c.node_ready("n1") == "True", 20, "node n1 Ready")
    digest = layout_manifest_digest(layout)

    c.apply(pod_with("by-tag", f"{host}/library/busybox:latest"))
    c.apply(pod_with("by-digest", f"{host}/library/busybox@{digest}"))
    c.apply(pod_with("schema2", f"{host}/team/bb:1.0", policy="IfNotPresent"))
    for name in ("by-tag", "by-digest", "schema2"):
        c.wait_running(name, timeout=60)
    # pulled once into <root>/images, one unpacked layer shared by the three pods
    store = node.root / "images"
    idx = json.loads((store / "index.json").read_text())
    names = sorted(m["annotations"]["org.opencontainers.image.ref.name"]
                   for m in idx["manifests"])
    # (the digest pod may find the image the tag pod pulled: IfNotPresent by default)
    assert {f"{host}/library/busybox:latest", f"{host}/team/bb:1.0"} <= set(names), names
    assert set(names) <= {f"{host}/library/busybox:latest", f"{host}/team/bb:1.0",
                          f"{host}/library/busybox@{digest}"}, names
    assert len([d for d in (node.root / "layers").iterdir()
                if not d.name.startswith(".")]) == 1

    assert f'Successfully pulled image "{host}/library/busybox:latest"' in node.proc.log()

    # a missing image: ErrImagePull with the registry's message, then ImagePullBackOff
    c.apply(pod_with("missing", f"{host}/library/nope:1"))
    seen = {}

    def err_seen():
        w = waiting(c.pod("missing")) or {}
        if w.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
            seen.setdefault(w["reason"], w.get("message", ""))
        return "ErrImagePull" in seen and "ImagePullBackOff" in seen
    cwait(err_seen, 40, "ErrImagePull then ImagePullBackOff", interval=0.05)
    assert "MANIFEST_UNKNOWN" in seen["ErrImagePull"] or "NAME_UNKNOWN" in seen["ErrImagePull"], seen
    assert "Back-off pulling image" in seen["ImagePullBackOff"]

    # Never: not present -> ErrImageNeverPull; present -> runs
    c.apply(pod_with("never-missing", f"{host}/team/bb:2.0", policy="Never"))
    cwait(lambda: (waiting(c.pod("never-missing")) or {}).get("reason") == "ErrImageNeverPull",
          30, "ErrImageNeverPull")
    c.apply(pod_with("never-present", f"{host}/team/bb:1.0", policy="Never"))
    c.wait_running("never-present", timeout=30)


# ---- image garbage collection ------------------------------------------------------------


def layout_plus_layer(base, out, files):
    """A copy of the OCI layout base (one image, busybox:latest) with one more
    layer holding files: a second image sharing base's layers."""
    import gzip
    import io
    import tarfile
    shutil.copytree(base, out)
    blobs = out / "blobs" / "sha256"

    def put(data):
        h = hashlib.sha256(data).hexdigest()
        (blobs / h).write_bytes(data)
        return "sha256:" + h, len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    ld, ls = put(gzip.compress(raw.getvalue(), mtime=0))
    idx = json.loads((out / "index.json").read_text())
    man = json.loads((blobs / idx["manifests"][0]["digest"][7:]).read_text())
    cfg = json.loads((blobs / man["config"]["digest"][7:]).read_text())
    cfg["rootfs"]["diff_ids"].append(diff_id)
    cd, cs = put(json.dumps(cfg).encode())
    man["config"] = dict(man["config"], digest=cd, size=cs)
    man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                          "digest": ld, "size": ls})
    md, ms = put(json.dumps(man).encode())
    idx["manifests"][0] = dict(idx["manifests"][0], digest=md, size=ms)
    (out / "index.json").write_text(json.dumps(idx))
    return ld


def index_names(store):
    idx = json.loads((store / "index.json").read_text())
    return {m["annotations"]["org.opencontainers.image.ref.name"] for m in idx["manifests"]}


def test_image_gc_removes_unused_images(make_cluster, registries, layout, workdir):
    """Two images pulled through pods (the second is the first plus one layer);
    the pod of the second goes; with the thresholds at 0 the collector removes
    that image and its own layer, and keeps the used one and the shared layer
    while its pod keeps running."""
    from cluster import wait_for as cwait

    extra = workdir / ("extra-" + secrets.token_hex(3))
    extra_layer = layout_plus_layer(layout, extra, {"extra.txt": b"only in the second image\n"})
    c = make_cluster()
    c.start_schedd()
    host = "127.0.0.1:5000"
    node = c.add_node("n1", start=False,
                      extra=["--insecure-registry", host, "--image-gc-high-threshold", "0",
                             "--image-gc-low-threshold", "0", "--image-gc-period", "1s"])
    reg = registries(netns=node.netns, port=5000)
    reg.push(layout, "library/busybox:1")
    reg.push(extra, "team/extra:1")
    node.start()
    cwait(lambda: c.node_ready("n1") == "True", 20, "node n1 Ready")
    c.apply(pod_with("keep", f"{host}/library/busybox:1"))
    c.apply(pod_with("drop", f"{host}/team/extra:1",
                     script="cat /extra.txt; sleep 3600"))
    c.wait_running("keep", timeout=60)
    c.wait_running("drop", timeout=60)
    store = node.root / "images"
    layers = node.root / "layers"
    assert index_names(store) == {f"{host}/library/busybox:1", f"{host}/team/extra:1"}
    extra_hex = extra_layer[7:]
    assert (layers / extra_hex).is_dir() and (store / "blobs/sha256" / extra_hex).exists()
    base_layers = json.loads((layout / "blobs/sha256" / json.loads(
        (layout / "index.json").read_text())["manifests"][0]["digest"][7:]).read_text())["layers"]
    # a couple of collection periods with both pods: nothing goes
    time.sleep(2.5)
    assert index_names(store) == {f"{host}/library/busybox:1", f"{host}/team/extra:1"}

    c.schedctl("delete", "pod", "drop", timeout=60)
    cwait(lambda: index_names(store) == {f"{host}/library/busybox:1"}, 20,
          "the unused image collected")
    assert not (layers / extra_hex).exists()
    assert not (store / "blobs/sha256" / extra_hex).exists()
    for l in base_layers:  # shared with the used image: kept
        assert (layers / l["digest"][7:]).is_dir()
        assert (store / "blobs/sha256" / l["digest"][7:]).exists()
    log = node.proc.log()
    assert f"image gc: removed unused image {host}/team/extra:1" in log, log[-3000:]
    assert "image gc: image filesystem was" in log and "freed" in log
    # the used image's pod keeps running, with its root filesystem intact
    time.sleep(1.5)
    p = c.wait_running("keep", timeout=5)
    assert main_status(p)["restartCount"] == 0
    rootfs = list(node.root.glob("pods/*/containers/main/rootfs"))
    assert len(rootfs) == 1 and (rootfs[0] / "bin" / "sh").exists()


def test_max_layer_size_refuses_and_keeps_nothing(make_cluster):
    """--max-layer-size: a layer unpacking to more fails the container with a
    message naming the limit, and no layer directory (or staging) is left."""
    from cluster import wait_for as cwait

    c = make_cluster()
    c.start_schedd()
    node = c.add_node("n1", extra=["--max-layer-size", "1Ki"])
    cwait(lambda: c.node_ready("n1") == "True", 20, "node n1 Ready")
    c.apply(pod_with("big", "busybox:latest", policy="Never"))
    seen = {}

    def refused():
        w = waiting(c.pod("big")) or {}
        if "1024 byte limit" in w.get("message", ""):
            seen.update(w)
            return True
        return False
    cwait(refused, 30, "the layer refused over --max-layer-size")
    assert seen["reason"] in ("ErrImagePull", "ImagePullBackOff"), seen
    assert "maximum layer size" in seen["message"], seen
    layers = node.root / "layers"
    assert not layers.exists() or list(layers.iterdir()) == []
