"""make install honours PREFIX and DESTDIR and installs a working set."""

import subprocess

from cluster import BUILD, REPO


def test_make_install_prefix_destdir(tmp_path):
    dest = tmp_path / "dest"
    r = subprocess.run(["make", "-s", "--no-print-directory", "install", f"B={BUILD}", f"DESTDIR={dest}",
                        "PREFIX=/opt/nl"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    bindir = dest / "opt" / "nl" / "bin"
    for b in ("schedd", "schedctl", "nodelet", "nodelet-shim", "nodelet-pause", "ocirun"):
        assert (bindir / b).is_file(), b
        h = subprocess.run([str(bindir / b), "--help"], capture_output=True, text=True, timeout=10)
        assert h.returncode == 0 and h.stdout + h.stderr, b
    unit = (dest / "opt" / "nl" / "lib" / "systemd" / "system" / "nodelet.service").read_text()
    assert "ExecStart=/opt/nl/bin/nodelet " in unit and "KillMode=process" in unit
