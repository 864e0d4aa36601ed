"""OCI conformance of the configs we generate, checked by an outside suite.

tests/conformance/oci-validate.go runs the opencontainers/runtime-tools
`validate` package (what `oci-runtime-tool validate` runs) on a bundle:
config.json against the runtime-spec JSON schema and the spec's MUSTs, the
root filesystem, and with --host-specific the checks that need this host.
Validated here: `ocirun spec`'s default config, the configs the nodelet writes
for a pod's containers and its pause sandbox, and configs using many fields
that ocirun runs. Any violation fails, showing the validator's output.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import cluster as cl

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "tests" / "conformance" / "oci-validate.go"
OUT_DIR = Path(os.environ.get("NODELET_BUILD", REPO / "build")) / "tests"
VALIDATOR = OUT_DIR / "oci-validate"
GOPATH = Path("/usr/share/gocode")
RUNTIME_TOOLS = GOPATH / "src/github.com/opencontainers/runtime-tools/validate"

# Findings of the validator that are not violations of the specification,
# dropped by their exact text. Everything else fails the test.
#
# runtime-tools' CheckSemVer refuses any ociVersion other than the one of the
# specs-go it was built against (Debian's: "1.0.2-dev", a commit between
# 1.0.2 and 1.1.0). The spec asks only that ociVersion be SemVer (checked by
# the same function, separately: "... is not valid SemVer") and says configs
# are compatible within a major version; our configs say "1.0.2".
NOT_SPEC_SEMVER = ("validate currently only handles version 1.0.2-dev, "
                   "but the supplied configuration targets 1.0.2")
# runtime-tools' CheckLinux wants a *new* UTS namespace whenever hostname is
# set. That was config.md before 1.0 ("you can only set this if your bundle
# creates a new UTS namespace"); since 1.0 hostname has no such MUST: "Depending
# on your namespace configuration, the container UTS namespace may be the
# runtime UTS namespace" (config.md#hostname, also the doc comment of
# specs-go Spec.Hostname). The nodelet's containers join the pause container's
# UTS namespace by path and set the same pod name there, as Kubernetes does;
# runc accepts it (it only asks for a uts entry, new or joined).
NOT_SPEC_HOSTNAME_JOINED_UTS = ("on Linux, hostname requires a new UTS namespace "
                                "to be specified as well")
ALWAYS_IGNORED = {NOT_SPEC_SEMVER}

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="busybox-static not installed"),
]


# ---- the validator ---------------------------------------------------------------

@pytest.fixture(scope="session")
def validator():
    """Builds tests/conformance/oci-validate.go once (reused while newer than
    the source), offline, in GOPATH mode against Debian's -dev packages."""
    go = Path("/usr/bin/go")
    if not go.exists() or not RUNTIME_TOOLS.is_dir():
        pytest.skip("needs golang-go and golang-github-opencontainers-runtime-tools-dev "
                    "(make deps installs them)")
    if VALIDATOR.exists() and VALIDATOR.stat().st_mtime > SRC.stat().st_mtime:
        return VALIDATOR
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH),
               GOCACHE=str(OUT_DIR / "gocache"), GOFLAGS="-buildvcs=false",
               HOME=os.environ.get("HOME", str(OUT_DIR)))
    tmp = VALIDATOR.with_name(VALIDATOR.name + f".tmp{os.getpid()}")
    t0 = time.monotonic()
    r = subprocess.run([str(go), "build", "-o", str(tmp), str(SRC)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"go build of {SRC} failed:\n{r.stdout}{r.stderr}"
    tmp.replace(VALIDATOR)
    print(f"built {VALIDATOR} in {time.monotonic() - t0:.1f}s")
    return VALIDATOR


def run_validator(validator, bundles, host_specific):
    """Returns (findings as dicts, human-readable output) for the bundles."""
    args = [str(validator)] + (["--host-specific"] if host_specific else [])
    bundles = [str(b) for b in bundles]
    r = subprocess.run(args + ["--json"] + bundles, capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), f"oci-validate exited {r.returncode}:\n{r.stdout}{r.stderr}"
    text = subprocess.run(args + bundles, capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout), text.stdout + text.stderr


def violations(validator, bundles, host_specific, ignore=()):
    """The validator's violations (at MUST level, or without a level) that
    are not in ALWAYS_IGNORED or ignore, and its whole output."""
    found, text = run_validator(validator, bundles, host_specific)
    drop = ALWAYS_IGNORED | set(ignore)
    bad = [f for f in found if f["fatal"] and f["message"] not in drop]
    return bad, text


def assert_conformant(validator, bundles, host_specific, ignore=()):
    bad, text = violations(validator, bundles, host_specific, ignore)
    shown = "\n".join(f"{f['bundle']}: {f['level']}: {f['check']}: {f['message']} "
                      f"[{f.get('reference', '')}]" for f in bad)
    assert not bad, f"OCI violations:\n{shown}\n---- oci-validate output ----\n{text}"


def test_validator_reports_violations_with_spec_reference(validator, tmp_path):
    """The tool itself: a broken config gives violations naming the spec."""
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "config.json").write_text(json.dumps({
        "ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"cwd": "relative", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}],
                  "seccomp": {"defaultAction": "SCMP_ACT_BOGUS"}}}))
    found, text = run_validator(validator, [tmp_path], host_specific=False)
    msgs = {f["message"]: f for f in found}
    cwd = msgs['cwd "relative" is not an absolute path']
    assert cwd["level"] == "MUST" and cwd["reference"].endswith("config.md#process"), cwd
    assert msgs['duplicated namespace "pid"']["reference"].endswith("config-linux.md#namespaces")
    assert any(f["check"] == "JSONSchema" and "linux.seccomp.defaultAction" in f["message"]
               for f in found), text
    r = subprocess.run([str(validator), str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "violation: MUST: Process: cwd" in r.stdout, r.stdout
    assert subprocess.run([str(validator), str(tmp_path / "nope")],
                          capture_output=True).returncode == 2


# ---- (a) ocirun spec ---------------------------------------------------------------

@pytest.mark.parametrize("host_specific", [False, True], ids=["portable", "host-specific"])
def test_ocirun_spec_default_config(validator, bundle, host_specific):
    assert_conformant(validator, [bundle.dir], host_specific)


# ---- (c) configs using many fields, that ocirun runs ------------------------------

def _userns(cfg, b):
    lx = cfg["linux"]
    lx["namespaces"] += [{"type": "user"}, {"type": "cgroup"}]
    lx["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    lx["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    p = cfg["process"]
    p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 0o027}
    p["cwd"] = "/tmp"
    p["env"].append("LANG=C.UTF-8")
    p["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024},
                    {"type": "RLIMIT_NPROC", "hard": 512, "soft": 512}]
    # (no oomScoreAdj here: ocirun fails it inside a new user namespace,
    # "opening `/proc/self/oom_score_adj`: Permission denied"; see _resources)
    p["capabilities"]["ambient"] = []
    p["capabilities"]["inheritable"] = []
    b.dir.chmod(0o755)  # container root (host uid 100000) must reach the rootfs


def _hooks(cfg, b):
    out = b.dir / "hookout"
    out.mkdir()

    def hook(name, timeout=None):
        h = {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {out}/{name}"],
             "env": ["HOOK=" + name]}
        if timeout:
            h["timeout"] = timeout
        return h
    cfg["hooks"] = {"prestart": [hook("prestart", 5)],
                    "createRuntime": [hook("createRuntime")],
                    "createContainer": [hook("createContainer")],
                    "startContainer": [{"path": "/bin/true"}],
                    "poststart": [hook("poststart")],
                    "poststop": [hook("poststop", 5)]}
    cfg["annotations"] = {"org.example.test": "hooks", "io.kubernetes.pod.name": "x"}


def _seccomp(cfg, b):
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [
            {"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000,
                       "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"},
        ]}


def _resources(cfg, b):
    lx = cfg["linux"]
    lx["resources"] = {
        "memory": {"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 64},
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rw"}]}
    lx["devices"] = [{"path": "/dev/my/null", "type": "c", "major": 1, "minor": 3,
                      "fileMode": 0o600, "uid": 5, "gid": 6},
                     {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]
    lx["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"}
    lx["namespaces"] = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
    lx["rootfsPropagation"] = "private"
    lx["maskedPaths"] = lx["maskedPaths"] + ["/proc/scsi"]
    cfg["domainname"] = "example.org"
    cfg["process"]["oomScoreAdj"] = 100
    cfg["mounts"] += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "size=1m", "mode=1777"]},
                      {"destination": "/mnt/etc", "type": "bind", "source": "/etc",
                       "options": ["rbind", "ro", "rprivate"]}]


RICH = {"userns-process": _userns, "hooks": _hooks, "seccomp-args": _seccomp,
        "resources-devices": _resources}


@pytest.mark.parametrize("host_specific", [False, True], ids=["portable", "host-specific"])
@pytest.mark.parametrize("name", list(RICH))
def test_rich_config(validator, bundle, name, host_specific):
    RICH[name](bundle.config, bundle)
    bundle.write(["true"])
    r = bundle.ocirun("run", "-b", bundle.dir, bundle.new_id())
    assert r.returncode == 0, f"ocirun refused the {name} config:\n{r.stderr}"
    assert_conformant(validator, [bundle.dir], host_specific)


# ---- (b) the nodelet's configs ------------------------------------------------------

@pytest.fixture(scope="module")
def pod_bundles(request):
    """A running pod on one node (schedd + nodelet, as the one_node fixture),
    and where the nodelet wrote its sandbox and container bundles."""
    if not (cl.BIN / "nodelet").exists():
        pytest.skip(f"{cl.BIN / 'nodelet'} not built")
    c = cl.Cluster()
    try:
        c.start_schedd()
        c.add_node("n1")
        cl.wait_for(lambda: c.node_ready("n1") == "True", 20, "node n1 Ready")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ocival"},
               "spec": {"restartPolicy": "Always", "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {"name": "limited", "image": "busybox",
                             "command": ["sh", "-c", "sleep 300"],
                             "env": [{"name": "GREETING", "value": "hello $(X)"}],
                             "resources": {"limits": {"memory": "64Mi", "cpu": "250m"},
                                           "requests": {"cpu": "100m"}}},
                            {"name": "plain", "image": "busybox", "command": ["sleep"],
                             "args": ["300"], "workingDir": "/tmp"}]}}
        c.apply(pod)
        p = c.wait_running("ocival", 60)
        pod_dir = c.nodes["n1"].root / "pods" / p["metadata"]["uid"]
        yield {"sandbox": pod_dir / "sandbox",
               "containers": [pod_dir / "containers" / n for n in ("limited", "plain")]}
    except BaseException:
        print(c.logs())
        raise
    finally:
        c.close()


@pytest.mark.parametrize("host_specific", [False, True], ids=["portable", "host-specific"])
def test_nodelet_container_configs(validator, pod_bundles, host_specific):
    for b in pod_bundles["containers"]:
        assert (b / "config.json").is_file(), b
    assert_conformant(validator, pod_bundles["containers"], host_specific,
                      ignore={NOT_SPEC_HOSTNAME_JOINED_UTS})


@pytest.mark.parametrize("host_specific", [False, True], ids=["portable", "host-specific"])
def test_nodelet_sandbox_config(validator, pod_bundles, host_specific):
    """The pause sandbox's bundle holds its own root (bundle.md: config.json
    and the root filesystem in a single directory)."""
    assert (pod_bundles["sandbox"] / "config.json").is_file()
    assert (pod_bundles["sandbox"] / "rootfs" / "pause").is_file()
    assert_conformant(validator, [pod_bundles["sandbox"]], host_specific)
