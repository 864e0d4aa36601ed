"""Images for real: the busybox OCI layout from deploy/images/build-busybox.sh,
resolved, unpacked and mounted on overlayfs by libruntime (build/tests/rt-image-tool).

Everything lives under a unique directory below the e2e temporary base, and every
mount is removed at the end, even when a test fails.
"""

import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from cluster import BUILD, mounts_under  # noqa: E402
from image_fixtures import TOOL, tool, workdir  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
TMP_BASE = Path(os.environ.get("NODELET_E2E_TMP", "/tmp/nodelet-e2e"))


def run(*args, check=True, timeout=60):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, check=check)


@pytest.fixture(scope="module")
def layout(workdir):
    out = workdir / "busybox"
    r = run("sh", REPO / "deploy/images/build-busybox.sh", out, timeout=120)
    assert "built busybox:latest" in r.stdout
    return out


def test_build_script_layout(layout):
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    (m,) = index["manifests"]
    assert m["annotations"]["org.opencontainers.image.ref.name"] == "busybox:latest"
    blob = layout / "blobs" / "sha256" / m["digest"].split(":")[1]
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == m["digest"].split(":")[1]
    man = json.loads(blob.read_text())
    cfg = json.loads((layout / "blobs/sha256" / man["config"]["digest"][7:]).read_text())
    assert cfg["os"] == "linux" and cfg["config"]["Cmd"] == ["sh"]
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in cfg["config"]["Env"]
    layer = layout / "blobs/sha256" / man["layers"][0]["digest"][7:]
    with tarfile.open(layer) as t:
        names = {i.name: i for i in t.getmembers()}
    assert names["bin/busybox"].isfile() and names["bin/busybox"].uid == 0
    assert names["bin/sh"].issym() and names["bin/sh"].linkname == "/bin/busybox"
    assert names["tmp"].mode == 0o1777
    assert "var/www/index.html" in names and "etc/passwd" in names
    # a second run with nothing changed does nothing
    r = run("sh", REPO / "deploy/images/build-busybox.sh", layout)
    assert "up to date" in r.stdout


def test_resolve_busybox(tool, layout):
    out = run(tool, "resolve", layout, "docker.io/library/busybox").stdout
    assert "ref: busybox:latest" in out
    assert "cmd: sh" in out
    r = run(tool, "resolve", layout, "busybox:nope", check=False)
    assert r.returncode == 1 and "image `busybox:nope` not found" in r.stderr


def test_unpack_mount_run_remove(tool, layout, workdir):
    layers = workdir / "layers"
    c1, c2 = workdir / "c1", workdir / "c2"
    try:
        run(tool, "mount", layout, "busybox", layers, c1)
        run(tool, "mount", layout, "busybox", layers, c1)  # idempotent
        run(tool, "mount", layout, "busybox:latest", layers, c2)
        assert mounts_under(c1) == [str(c1 / "rootfs")]
        root = c1 / "rootfs"
        assert (root / "bin/busybox").is_file()
        assert os.readlink(root / "bin/sh") == "/bin/busybox"
        assert (root / "tmp").stat().st_mode & 0o7777 == 0o1777
        assert "Hello" in (root / "var/www/index.html").read_text()
        # the rootfs runs: busybox is static
        r = run("chroot", root, "/bin/sh", "-c", "echo ok > /tmp/x && wc -l /etc/passwd")
        assert r.stdout.split()[0] == "2"
        # writes land in c1's upper dir only
        assert (c1 / "upper/tmp/x").read_text() == "ok\n"
        assert not (c2 / "rootfs/tmp/x").exists()
        # one unpacked layer, no temporaries
        assert [p.name for p in layers.iterdir()] == [
            json.loads((layout / "blobs/sha256" / json.loads((layout / "index.json").read_text())
                        ["manifests"][0]["digest"][7:]).read_text())["layers"][0]["digest"][7:]]
    finally:
        run(tool, "remove", c1, check=False)
        run(tool, "remove", c2, check=False)
    assert not c1.exists() and not c2.exists()
    assert mounts_under(workdir) == []
    run(tool, "remove", c1)  # missing is fine


def put_blob(layout, data):
    h = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / h).write_bytes(data)
    return "sha256:" + h, len(data)


def layer_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def test_many_layers_and_whiteouts(tool, workdir):
    """55 layers: absolute lowerdir paths overflow the mount options, so the
    relative (chdir) form is used; upper layers win and whiteouts hide files."""
    layout = workdir / "many"
    (layout / "blobs/sha256").mkdir(parents=True)
    descs = []
    n = 55
    for i in range(n):
        files = {f"f{i}": b"x", "layer": str(i).encode()}
        if i == 1:
            files[".wh.f0"] = b""
        d, size = put_blob(layout, layer_tar(files))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": d, "size": size})
    cd, cs = put_blob(layout, json.dumps({"os": "linux", "config": {"Cmd": ["sh"]}}).encode())
    man = json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": cd, "size": cs},
                      "layers": descs}).encode()
    md, ms = put_blob(layout, man)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
         "annotations": {"org.opencontainers.image.ref.name": "many:latest"}}]}))
    layers = workdir / ("layers-" + "x" * 40)  # long enough to need the relative form
    c = workdir / "cm"
    try:
        run(tool, "mount", layout, "many", layers, c)
        root = c / "rootfs"
        opts = [l.split()[3] for l in open("/proc/mounts") if l.split()[1] == str(root)][0]
        assert opts.split("lowerdir=")[1][0] != "/"  # the relative form was used
        assert (root / "layer").read_text() == str(n - 1)
        assert not (root / "f0").exists()
        assert all((root / f"f{i}").exists() for i in range(1, n))
    finally:
        run(tool, "remove", c, check=False)
    assert mounts_under(workdir) == []


# ---- nodelet images: list and import ------------------------------------------------------

NODELET = BUILD / "bin" / "nodelet"


def images_list(root, image_dir):
    r = run(NODELET, "images", "--root", root, "--image-dir", image_dir)
    rows = [l.split() for l in r.stdout.splitlines()[1:]]
    return {(row[0], row[-1]): int(row[-2]) for row in rows}


def test_nodelet_images_import_and_list(layout, workdir):
    if not NODELET.exists():
        pytest.skip("build/bin/nodelet not built")
    root = workdir / ("root-" + secrets.token_hex(3))
    empty = workdir / ("empty-" + secrets.token_hex(3))
    empty.mkdir()
    # an OCI layout tar, as `tar -C layout -c .` makes it
    tarball = workdir / ("bb-" + secrets.token_hex(3) + ".tar")
    run("tar", "-C", layout, "-cf", tarball, ".")
    r = run(NODELET, "images", "import", tarball, "--root", root, "--default-registry",
            "registry.local:5000")
    assert r.stdout.strip() == "imported registry.local:5000/library/busybox:latest"
    listed = images_list(root, layout)
    man = json.loads((layout / "index.json").read_text())["manifests"][0]
    blob = json.loads((layout / "blobs/sha256" / man["digest"][7:]).read_text())
    size = sum(l["size"] for l in blob["layers"])
    assert listed[("registry.local:5000/library/busybox:latest", "store")] == size
    assert listed[("busybox:latest", "image-dir")] == size
    # a gzip'd archive from skopeo (oci-archive) works too
    arch = workdir / ("bb-" + secrets.token_hex(3) + ".tar")
    run("skopeo", "copy", "-q", f"oci:{layout}:busybox:latest", f"oci-archive:{arch}:app:2")
    run("gzip", arch)
    r = run(NODELET, "images", "import", str(arch) + ".gz", "--root", root)
    assert r.stdout.strip() == "imported docker.io/library/app:2"
    assert ("docker.io/library/app:2", "store") in images_list(root, empty)


def hostile_tar(path, layout, extra):
    """The busybox layout plus one crafted member."""
    with tarfile.open(path, "w") as tar:
        tar.add(layout, arcname=".")
        extra(tar)


def test_nodelet_images_import_refuses_hostile_archives(layout, workdir):
    if not NODELET.exists():
        pytest.skip("build/bin/nodelet not built")

    def symlink(tar):
        t = tarfile.TarInfo("blobs/sha256/" + "a" * 64)
        t.type, t.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(t)

    def outside(tar):
        t = tarfile.TarInfo("../escape")
        t.size = 1
        tar.addfile(t, io.BytesIO(b"x"))

    def bad_digest(tar):
        data = b"not what the name says"
        t = tarfile.TarInfo("blobs/sha256/" + "b" * 64)
        t.size = len(data)
        tar.addfile(t, io.BytesIO(data))

    def device(tar):
        t = tarfile.TarInfo("oci-layout2")
        t.type, t.devmajor, t.devminor = tarfile.CHRTYPE, 1, 3
        tar.addfile(t)

    cases = {"symlink": (symlink, "not a regular file"),
             "outside": (outside, "holds only"),
             "bad_digest": (bad_digest, "digest mismatch"),
             "device": (device, "holds only")}
    for name, (extra, msg) in cases.items():
        root = workdir / ("hroot-" + name)
        tarball = workdir / f"hostile-{name}.tar"
        hostile_tar(tarball, layout, extra)
        r = run(NODELET, "images", "import", tarball, "--root", root, check=False)
        assert r.returncode == 1 and msg in r.stderr, (name, r.stderr)
        blobs = root / "images" / "blobs" / "sha256"
        assert not blobs.exists() or list(blobs.iterdir()) == [], name
        assert not (root / "images" / "index.json").exists(), name
        tmp = root / "images" / "tmp"
        assert not tmp.exists() or list(tmp.iterdir()) == [], name
    # an archive whose index names no image
    t = workdir / "noname.tar"
    with tarfile.open(t, "w") as tar:
        data = b'{"schemaVersion":2,"manifests":[]}'
        ti = tarfile.TarInfo("index.json")
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    r = run(NODELET, "images", "import", t, "--root", workdir / "hroot-noname", check=False)
    assert r.returncode == 1 and "names no image" in r.stderr


def test_nodelet_images_prune(layout, workdir):
    """`nodelet images prune` removes every image of <root>/images that no
    <root>/pods/*/pod.json names; blobs another image still uses stay."""
    if not NODELET.exists():
        pytest.skip("build/bin/nodelet not built")
    root = workdir / ("proot-" + secrets.token_hex(3))
    empty = workdir / ("pempty-" + secrets.token_hex(3))
    empty.mkdir()
    tarball = workdir / ("pbb-" + secrets.token_hex(3) + ".tar")
    run("tar", "-C", layout, "-cf", tarball, ".")
    run(NODELET, "images", "import", tarball, "--root", root, "--default-registry",
        "registry.local:5000")
    arch = workdir / ("pbb-" + secrets.token_hex(3) + ".tar")
    run("skopeo", "copy", "-q", f"oci:{layout}:busybox:latest", f"oci-archive:{arch}:app:2")
    run(NODELET, "images", "import", arch, "--root", root)
    bb = "registry.local:5000/library/busybox:latest"
    assert set(images_list(root, empty)) == {(bb, "store"), ("docker.io/library/app:2", "store")}
    blobs = sorted(p.name for p in (root / "images/blobs/sha256").iterdir())

    pod = root / "pods" / "uid-1"
    pod.mkdir(parents=True)
    (pod / "pod.json").write_text(json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "uid": "uid-1"},
        "spec": {"containers": [{"name": "main", "image": bb}]}}))
    r = run(NODELET, "images", "prune", "--root", root, "--image-dir", empty)
    assert "removed docker.io/library/app:2" in r.stdout, r.stdout
    assert set(images_list(root, empty)) == {(bb, "store")}
    # the same content under two names: every blob is still the used image's
    assert sorted(p.name for p in (root / "images/blobs/sha256").iterdir()) == blobs

    # a pod directory it cannot read: nothing is removed
    bad = root / "pods" / "uid-2"
    bad.mkdir()
    (bad / "pod.json").write_text("{not json")
    (pod / "pod.json").unlink()
    r = run(NODELET, "images", "prune", "--root", root, "--image-dir", empty, check=False)
    assert r.returncode == 1 and "uid-2" in r.stderr, r.stderr
    assert set(images_list(root, empty)) == {(bb, "store")}

    shutil.rmtree(root / "pods")
    r = run(NODELET, "images", "prune", "--root", root, "--image-dir", empty)
    assert f"removed {bb}" in r.stdout
    assert images_list(root, empty) == {}
    assert list((root / "images/blobs/sha256").iterdir()) == []
