"""Images: pull + unpack of a multi-layer image from a local registry, and the
set-up of a container rootfs from an image already on the node.

A 6-layer image (the busybox layer from build/images plus five gzip'd layers of
generated files, ~6 MB compressed in all) is pushed with skopeo into Debian's
docker-registry on a loopback port. Then, N times each:
  - libruntime: `rt-image-tool pull` into an empty content store, then
    `rt-image-tool unpack` into an empty layers directory;
  - reference: `skopeo copy docker://... oci:DIR` and every layer extracted with
    `tar -xzf` into one directory (umoci is not packaged for Debian 12; tar is the
    floor of what its unpack does);
  - rootfs: rt_rootfs_mount of the unpacked image (one overlay mount), timed
    in-process by `rt-image-tool time-mount` (target: under 5 ms).
Prints median and p95 of each and the ratio libruntime/reference.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("NODELET_BUILD", REPO / "build")) / "tests" / "rt-image-tool"
N = int(os.environ.get("BENCH_N", "5"))
MOUNTS = int(os.environ.get("BENCH_MOUNTS", "50"))


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          timeout=600, **kw)


def add_blob(layout, data):
    hx = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / hx).write_bytes(data)
    return "sha256:" + hx, len(data)


def make_layer(i):
    """A gzip'd tar of 4 MB of files: half random (incompressible), half text."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        d = tarfile.TarInfo(f"data{i}")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(d)
        for k in range(64):
            payload = os.urandom(32 * 1024) if k % 2 else (f"line {k}\n" * 4096).encode()[:32768]
            t = tarfile.TarInfo(f"data{i}/f{k:03d}")
            t.size, t.mode = len(payload), 0o644
            tar.addfile(t, io.BytesIO(payload))
    raw = buf.getvalue()
    return gzip.compress(raw, compresslevel=6, mtime=0), "sha256:" + hashlib.sha256(raw).hexdigest()


def build_image(src, layout):
    """Copies busybox's layer and config from src and adds five layers."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    idx = json.loads((src / "index.json").read_text())
    man = json.loads((src / "blobs/sha256" / idx["manifests"][0]["digest"][7:]).read_text())
    cfg = json.loads((src / "blobs/sha256" / man["config"]["digest"][7:]).read_text())
    layers = []
    for l in man["layers"]:
        data = (src / "blobs/sha256" / l["digest"][7:]).read_bytes()
        add_blob(layout, data)
        layers.append(l)
    for i in range(5):
        data, diff_id = make_layer(i)
        d, n = add_blob(layout, data)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": d, "size": n})
        cfg["rootfs"]["diff_ids"].append(diff_id)
    cd, cn = add_blob(layout, json.dumps(cfg).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": cd, "size": cn}, "layers": layers}
    md, mn = add_blob(layout, json.dumps(man).encode())
    (layout / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "bench:1"}}]}))
    return sum(l["size"] for l in layers), len(layers)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(ts):
    ts = sorted(ts)
    return statistics.median(ts), ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))]


def main():
    if not TOOL.exists() or not (REPO / "build/images/index.json").exists():
        print("bench_image: build first (make e2e-tools image)", file=sys.stderr)
        return 1
    for b in ("docker-registry", "skopeo"):
        if shutil.which(b) is None:
            print(f"bench_image: {b} missing (make deps)", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="nodelet-bench-image-"))
    reg = None
    try:
        size, nlayers = build_image(REPO / "build/images", work / "layout")
        port = free_port()
        host = f"127.0.0.1:{port}"
        (work / "reg").mkdir()
        (work / "reg.yml").write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {work}/reg\n"
            f"http:\n  addr: {host}\n  secret: bench\n")
        reg = subprocess.Popen(["docker-registry", "serve", str(work / "reg.yml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        ref = f"{host}/bench/multi:1"
        run("skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{work}/layout:bench:1",
            f"docker://{ref}")

        ours, theirs = [], []
        for i in range(N):
            store, layers = work / f"store{i}", work / f"layers{i}"
            t0 = time.monotonic()
            run(TOOL, "pull", store, ref, "--insecure", host)
            run(TOOL, "unpack", store, ref, layers)
            ours.append(time.monotonic() - t0)
            oci, root = work / f"oci{i}", work / f"root{i}"
            root.mkdir()
            t0 = time.monotonic()
            run("skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}",
                f"oci:{oci}:x")
            idx = json.loads((oci / "index.json").read_text())
            man = json.loads((oci / "blobs/sha256" / idx["manifests"][0]["digest"][7:]).read_text())
            for l in man["layers"]:
                run("tar", "-xzf", oci / "blobs/sha256" / l["digest"][7:], "-C", root)
            theirs.append(time.monotonic() - t0)
            if i < N - 1:
                for d in (store, oci, root):
                    shutil.rmtree(d)
                if i > 0:
                    shutil.rmtree(layers)
        last = N - 1
        r = run(TOOL, "time-mount", work / f"store{last}", ref, work / f"layers{last}",
                work / "ctr", MOUNTS)
        mounts = [int(x) / 1000.0 for x in r.stdout.split()]

        print(f"image: {nlayers} layers, {size / 1e6:.1f} MB compressed; N={N}, mounts={MOUNTS}")
        print(f"{'what':44} {'median':>10} {'p95':>10}")
        om, op = stats(ours)
        tm, tp = stats(theirs)
        mm, mp = stats(mounts)
        print(f"{'pull+unpack (libruntime)':44} {om * 1000:8.0f}ms {op * 1000:8.0f}ms")
        print(f"{'skopeo copy + tar -xzf (reference)':44} {tm * 1000:8.0f}ms {tp * 1000:8.0f}ms")
        print(f"{'rootfs overlay mount (image on the node)':44} {mm:8.2f}ms {mp:8.2f}ms")
        print(f"ratio pull+unpack libruntime/reference: {om / tm:.2f}")
        print(f"rootfs mount under 5 ms: {'yes' if mm < 5 else 'NO'}")
        return 0
    finally:
        if reg is not None:
            reg.terminate()
            reg.wait(timeout=10)
        subprocess.run(["umount", "-l", str(work / "ctr" / "rootfs")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
