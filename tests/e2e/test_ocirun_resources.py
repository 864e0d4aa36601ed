"""ocirun end to end: linux.resources beyond memory/cpu/pids limits (memory
swappiness and OOM killer, cpu real-time/idle/burst, blockIO throttling and
per-device weights, hugepageLimits, network, rdma, unified) on this hybrid
host: v1 controllers under /sys/fs/cgroup/<ctrl>, a cgroup2 tree at
/sys/fs/cgroup/unified holding hugetlb."""

import os
import random
import tempfile
from pathlib import Path

import pytest

from ocirun_helpers import CGROUP_V1, PREFIX, Bundle

UNIFIED = CGROUP_V1 / "unified"

pytestmark = pytest.mark.skipif(not Path("/bin/busybox").exists(),
                                reason="busybox-static not installed")


def hybrid_with(ctl):
    try:
        return ctl in (UNIFIED / "cgroup.controllers").read_text().split()
    except OSError:
        return False


def root_disk():
    """major, minor of the whole disk holding / (blkio throttling takes disks,
    not partitions)."""
    dev = os.stat("/").st_dev
    maj, mi = os.major(dev), os.minor(dev)
    part = Path(f"/sys/dev/block/{maj}:{mi}")
    if (part / "partition").exists():
        maj, mi = map(int, (part.resolve().parent / "dev").read_text().split(":"))
    return maj, mi


def create(bundle, args=None, **resources):
    bundle.config["linux"]["resources"] = resources
    bundle.write(args or ["sleep", "30"])
    cid = bundle.new_id()
    return cid, bundle.ocirun("create", "--bundle", bundle.dir, cid)


def sleepers(marker):
    """pids whose command line is `sleep <marker>`."""
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "cmdline").read_bytes() == f"sleep\0{marker}\0".encode():
                    found.append(int(p.name))
            except OSError:
                pass
    return found


def assert_refused_leaving_nothing(bundle, cid, r, *needles, marker=None):
    assert r.returncode != 0, r.stdout
    for n in needles:
        assert n in r.stderr, r.stderr
    for h in CGROUP_V1.iterdir():
        assert not (h / bundle.cgroup).exists(), f"{h / bundle.cgroup} left behind"
    assert not (Path(bundle.root) / cid).exists(), "state dir left behind"
    assert bundle.ocirun("state", cid).returncode != 0
    if marker is not None:
        assert sleepers(marker) == []


def test_memory_swappiness_and_oom_killer(bundle):
    cid, r = create(bundle, memory={"limit": 64 << 20, "swappiness": 7,
                                    "disableOOMKiller": True, "useHierarchy": True,
                                    "kernel": -1, "kernelTCP": -1})
    assert r.returncode == 0, r.stderr
    mem = CGROUP_V1 / "memory" / bundle.cgroup
    assert (mem / "memory.swappiness").read_text().strip() == "7"
    assert "oom_kill_disable 1" in (mem / "memory.oom_control").read_text()
    assert (mem / "memory.use_hierarchy").read_text().strip() == "1"
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not mem.exists()


def test_swappiness_out_of_range_names_field(bundle):
    cid, r = create(bundle, memory={"swappiness": 101})
    assert_refused_leaving_nothing(bundle, cid, r,
                                   "linux.resources.memory.swappiness: 101 out of range")


def test_blkio_throttle_on_root_disk(bundle):
    maj, mi = root_disk()
    cid, r = create(bundle, blockIO={
        "throttleReadBpsDevice": [{"major": maj, "minor": mi, "rate": 1048576}],
        "throttleWriteBpsDevice": [{"major": maj, "minor": mi, "rate": 2097152}],
        "throttleReadIOPSDevice": [{"major": maj, "minor": mi, "rate": 300}],
        "throttleWriteIOPSDevice": [{"major": maj, "minor": mi, "rate": 200}]})
    assert r.returncode == 0, r.stderr
    blk = CGROUP_V1 / "blkio" / bundle.cgroup
    dev = f"{maj}:{mi}"
    assert f"{dev} 1048576" in (blk / "blkio.throttle.read_bps_device").read_text()
    assert f"{dev} 2097152" in (blk / "blkio.throttle.write_bps_device").read_text()
    assert f"{dev} 300" in (blk / "blkio.throttle.read_iops_device").read_text()
    assert f"{dev} 200" in (blk / "blkio.throttle.write_iops_device").read_text()
    pid = bundle.state(cid)["pid"]
    assert str(pid) in (blk / "cgroup.procs").read_text().split()
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not blk.exists()


def test_blkio_weight_device(bundle):
    maj, mi = root_disk()
    marker = str(random.randint(100000, 999999))
    cid, r = create(bundle, ["sleep", marker],
                    blockIO={"weightDevice": [{"major": maj, "minor": mi, "weight": 500}]})
    if r.returncode == 0:
        d = CGROUP_V1 / "blkio" / bundle.cgroup
        f = d / "blkio.weight_device"
        if not f.exists():
            f = d / "blkio.bfq.weight_device"
        assert f"{maj}:{mi} 500" in f.read_text()
    else:
        # no CFQ, or a disk not on BFQ: refused naming the entry, nothing left
        assert_refused_leaving_nothing(bundle, cid, r,
                                       "linux.resources.blockIO.weightDevice[0]",
                                       marker=marker)


def test_cpu_realtime_idle_burst(bundle):
    cpu = CGROUP_V1 / "cpu"
    cid, r = create(bundle, cpu={"realtimePeriod": 1000000, "realtimeRuntime": 10000})
    if not (cpu / "cpu.rt_runtime_us").exists():
        assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.cpu.realtime")
        return
    assert r.returncode == 0, r.stderr
    d = cpu / bundle.cgroup
    assert (d / "cpu.rt_period_us").read_text().strip() == "1000000"
    assert (d / "cpu.rt_runtime_us").read_text().strip() == "10000"
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not d.exists()

    other = Bundle(tempfile.mkdtemp(prefix=PREFIX + "bundle-"), bundle.root)
    try:
        cid, r = create(other, cpu={"quota": 50000, "period": 100000, "burst": 20000,
                                    "idle": 1})
        if not (cpu / "cpu.idle").exists() or not (cpu / "cpu.cfs_burst_us").exists():
            assert r.returncode != 0 and "linux.resources.cpu." in r.stderr
            return
        assert r.returncode == 0, r.stderr
        d = cpu / other.cgroup
        assert (d / "cpu.idle").read_text().strip() == "1"
        assert (d / "cpu.cfs_burst_us").read_text().strip() == "20000"
    finally:
        other.cleanup()


def test_cpu_burst_above_quota_refused(bundle):
    cid, r = create(bundle, cpu={"quota": 10000, "period": 100000, "burst": 20000})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.cpu.burst")


@pytest.mark.skipif(not hybrid_with("hugetlb"), reason="no hugetlb in a cgroup2 tree here")
def test_hugepage_limits_in_unified_tree(bundle):
    sizes = [p.name for p in Path("/sys/kernel/mm/hugepages").iterdir()]
    if "hugepages-2048kB" not in sizes:
        pytest.skip("no 2MB huge pages on this host")
    cid, r = create(bundle, hugepageLimits=[{"pageSize": "2MB", "limit": 4 << 20}])
    assert r.returncode == 0, r.stderr
    d = UNIFIED / bundle.cgroup
    assert (d / "hugetlb.2MB.max").read_text().strip() == str(4 << 20)
    if (d / "hugetlb.2MB.rsvd.max").exists():
        assert (d / "hugetlb.2MB.rsvd.max").read_text().strip() == str(4 << 20)
    pid = bundle.state(cid)["pid"]
    assert str(pid) in (d / "cgroup.procs").read_text().split()
    # the v1 hierarchies hold it too
    assert str(pid) in (CGROUP_V1 / "memory" / bundle.cgroup / "cgroup.procs").read_text().split()
    r = bundle.ocirun("start", cid)
    assert r.returncode == 0, r.stderr
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not d.exists()


def test_hugepage_unknown_size_refused(bundle):
    cid, r = create(bundle, hugepageLimits=[{"pageSize": "3MB", "limit": 1 << 20}])
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.hugepageLimits[0]")


def test_hugepage_bad_page_size_names_field(bundle):
    cid, r = create(bundle, hugepageLimits=[{"pageSize": "2M", "limit": 1}])
    assert_refused_leaving_nothing(bundle, cid, r,
                                   "linux.resources.hugepageLimits[0].pageSize")


@pytest.mark.skipif(not hybrid_with("hugetlb"), reason="no hugetlb in a cgroup2 tree here")
def test_unified_key_for_hybrid_controller(bundle):
    cid, r = create(bundle, unified={"hugetlb.2MB.max": "2097152"})
    assert r.returncode == 0, r.stderr
    d = UNIFIED / bundle.cgroup
    assert (d / "hugetlb.2MB.max").read_text().strip() == "2097152"
    assert bundle.ocirun("delete", "--force", cid).returncode == 0
    assert not d.exists()


@pytest.mark.skipif(not UNIFIED.is_dir() or hybrid_with("memory"),
                    reason="needs a hybrid host whose cgroup2 tree lacks memory")
def test_unified_key_for_v1_controller_refused(bundle):
    marker = str(random.randint(100000, 999999))
    cid, r = create(bundle, ["sleep", marker], unified={"memory.max": "1000000"})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.unified.memory.max",
                                   "controller `memory` is not available", marker=marker)


def test_unified_key_with_slash_refused(bundle):
    cid, r = create(bundle, unified={"../memory.max": "1"})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.unified.../memory.max")


@pytest.mark.skipif((CGROUP_V1 / "net_cls").exists(), reason="net_cls is mounted here")
def test_net_cls_refused_leaving_nothing(bundle):
    marker = str(random.randint(100000, 999999))
    cid, r = create(bundle, ["sleep", marker], memory={"limit": 64 << 20},
                    network={"classID": 1048577})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.network.classID",
                                   "not available", marker=marker)


@pytest.mark.skipif((CGROUP_V1 / "net_prio").exists(), reason="net_prio is mounted here")
def test_net_prio_refused(bundle):
    cid, r = create(bundle, network={"priorities": [{"name": "lo", "priority": 5}]})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.network.priorities",
                                   "not available")


@pytest.mark.skipif((CGROUP_V1 / "rdma").exists(), reason="rdma is mounted here")
def test_rdma_refused(bundle):
    cid, r = create(bundle, rdma={"mlx5_1": {"hcaHandles": 3}})
    assert_refused_leaving_nothing(bundle, cid, r, "linux.resources.rdma", "not available")


def test_throttle_rate_wrong_type_names_path(bundle):
    cid, r = create(bundle, blockIO={"throttleReadBpsDevice": [
        {"major": 8, "minor": 0, "rate": "fast"}]})
    assert_refused_leaving_nothing(
        bundle, cid, r, "linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected integer")
