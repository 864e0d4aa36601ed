"""Fixtures shared by the image suites (test_image.py, test_registry.py):
libruntime's rt-image-tool, and a work directory per module."""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from cluster import BUILD, REPO, TMP_BASE, mounts_under

TOOL = Path(os.environ.get("RT_IMAGE_TOOL", BUILD / "tests" / "rt-image-tool"))


@pytest.fixture(scope="module")
def tool():
    if "RT_IMAGE_TOOL" not in os.environ:
        r = subprocess.run(["make", "-C", str(REPO), "--no-print-directory", f"B={BUILD}",
                            str(TOOL)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "building rt-image-tool failed:\n" + r.stdout + r.stderr
    assert TOOL.exists()
    return TOOL


@pytest.fixture(scope="module")
def workdir(request):
    """A fresh directory under the e2e base, named after the module; its
    mounts are undone and it is removed at the end."""
    TMP_BASE.mkdir(parents=True, exist_ok=True)
    short = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:3]
    d = TMP_BASE / (f"nlt{short}" + secrets.token_hex(4))
    d.mkdir()
    try:
        yield d
    finally:
        for m in sorted(mounts_under(d), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
