"""make run's script: a one-machine cluster that starts, serves the example pod,
and cleans up on Ctrl-C so that it starts again at once."""

import os
import signal
import subprocess
import time

from cluster import PREFIX, REPO, TMP_BASE, cgroup_hierarchies, mounts_under, sh, wait_for


def start(netns, rundir, cgroup):
    env = dict(os.environ, NODELET_RUN_DIR=str(rundir), NODELET_CGROUP=cgroup)
    logf = open(rundir.parent / "run-local.out", "ab")
    return subprocess.Popen(["nsenter", f"--net=/run/netns/{netns}", "sh",
                             str(REPO / "deploy" / "run-local.sh")], env=env, stdout=logf,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def test_make_run_twice_cleans_up():
    tag = PREFIX + "%05x" % (os.getpid() & 0xFFFFF)
    netns = tag + "run"
    base = TMP_BASE / (tag + "-run")
    base.mkdir(parents=True, exist_ok=True)
    rundir = base / "run"
    out = base / "run-local.out"
    sh("ip", "netns", "add", netns)
    try:
        sh("ip", "-n", netns, "link", "set", "lo", "up")
        for attempt in range(2):
            p = start(netns, rundir, tag + "-cg")
            try:
                wait_for(lambda: "is running" in out.read_text(), 90,
                         "make run reporting the example pod running", interval=0.3)
                text = out.read_text()
                ip = text.split("curl http://")[-1].split(":")[0]
                page = sh("nsenter", f"--net=/run/netns/{netns}", "curl", "-sf", "--max-time", "3",
                          f"http://{ip}:8080/", check=False).stdout
                assert "hello from nodelet" in page, text
            finally:
                os.killpg(p.pid, signal.SIGINT)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            # Ctrl-C left nothing: no state, mounts, cgroups, bridge.
            assert "everything removed" in out.read_text()
            assert not rundir.exists()
            assert not mounts_under(base)
            for root in cgroup_hierarchies():
                assert not (root / (tag + "-cg")).exists()
            links = sh("ip", "-n", netns, "-o", "link").stdout
            assert "nodelet0" not in links and " nl" not in links, links
            out.write_text("")
    finally:
        sh("ip", "netns", "del", netns, check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(base)])
