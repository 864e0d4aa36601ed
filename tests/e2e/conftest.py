"""Fixtures for the end-to-end suite: real schedd, nodelets and containers."""

import os
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cluster as cl  # noqa: E402
from ocirun_helpers import OCIRUN, PREFIX, Bundle, leftovers  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "multihost: a test with several node hosts")


@pytest.fixture(scope="session", autouse=True)
def no_leaks():
    """Fails the run if the suite leaves a namespace, mount, cgroup or process."""
    if os.geteuid() != 0:
        pytest.exit("the end-to-end suite needs root", returncode=1)
    yield
    left = cl.leaks()
    assert not left, "the end-to-end suite left things behind:\n" + "\n".join(left)


@pytest.fixture
def make_cluster(request):
    """Returns a function that builds a Cluster; all are closed at the end.

    On failure the daemons' logs are printed (pytest shows them with the test).
    """
    made = []

    def make(**kw):
        c = cl.Cluster(**kw)
        made.append(c)
        return c

    yield make
    failed = getattr(request.node, "rep_call", None)
    for c in made:
        if failed is not None and failed.failed:
            print(c.logs())
        c.close()


@pytest.fixture
def one_node(make_cluster):
    """schedd and one Ready node n1."""
    c = make_cluster()
    c.start_schedd()
    c.add_node("n1")
    cl.wait_for(lambda: c.node_ready("n1") == "True", 20, "node n1 Ready")
    return c


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# ---- the ocirun suites (test_ocirun*.py, test_oci_musts.py) ----------------

@pytest.fixture(scope="module")
def state_root():
    """An ocirun --root for one module; fails the module if a container,
    cgroup or mount of it is left behind."""
    if os.geteuid() != 0:
        pytest.skip("ocirun tests need root")
    if not OCIRUN.exists():
        pytest.skip(f"{OCIRUN} not built")
    root = tempfile.mkdtemp(prefix=PREFIX + "root-")
    yield root
    left = leftovers(root)
    subprocess.run(["rm", "-rf", "--one-file-system", root], check=False)
    assert not left, f"ocirun tests left things behind: {left}"


@pytest.fixture
def bundle(state_root):
    """A busybox bundle with `ocirun spec`'s config (ocirun_helpers.Bundle)."""
    b = Bundle(tempfile.mkdtemp(prefix=PREFIX + "bundle-"), state_root)
    yield b
    b.cleanup()
