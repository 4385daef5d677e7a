"""OCI hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle").

Each hook writes what it saw into markers: the state it got on stdin, its
mount namespace, its environment, and appends its name to an order file.
Where the markers are written says where the hook ran:

- prestart, createRuntime, poststart, poststop run on the host (runtime
  namespace): /bin/sh of the host with a script that exists only there;
- createContainer runs in the container's mount namespace after its mounts
  but before pivot_root: same host script (its path resolves in the
  runtime namespace), the container's /proc is already mounted in the rootfs;
- startContainer runs in the container after pivot_root: its path
  resolves in the container (a script that exists only in the rootfs).

Expected statuses (runtime.md "State" and runtime-tools hooks_stdin):
prestart "created"; createRuntime and createContainer "creating" or
"created"; startContainer "created" (the user program has not run yet);
poststart "running"; poststop "stopped".
"""

import json
import os
import time

import pytest

from conftest import pid_alive, wait_for

HOST_KINDS = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
ALL_KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
             "poststop"]

# The container's program: note it ran, then wait for /stop.
PROGRAM = ["sh", "-c",
           "echo program >> /hookout/order; touch /started; "
           "while [ ! -e /stop ]; do sleep 0.05; done"]

HOST_HOOK = """\
kind=$1
out=$2
cat > "$out/$kind.state"
readlink /proc/self/ns/mnt > "$out/$kind.mntns"
if [ -e "$ROOTFS/proc/self/status" ]; then echo yes; else echo no; fi > "$out/$kind.rootfs-proc"
env > "$out/$kind.env"
echo "$kind" >> "$out/order"
"""

# Runs inside the container after pivot_root (busybox sh).
CONTAINER_HOOK = """\
#!/bin/sh
cat > /hookout/startContainer.state
readlink /proc/self/ns/mnt > /hookout/startContainer.mntns
if [ -e /only-in-container ]; then echo yes; else echo no; fi > /hookout/startContainer.root
if [ -e /started ]; then echo yes; else echo no; fi > /hookout/startContainer.program-ran
env > /hookout/startContainer.env
echo startContainer >> /hookout/order
"""


class Hooks:
    """Sets up the hook scripts of a bundle and reads their markers."""

    def __init__(self, bundle):
        self.bundle = bundle
        self.out = bundle.in_rootfs("/hookout")
        os.makedirs(self.out)
        open(bundle.in_rootfs("/only-in-container"), "w").close()
        self.rootfs = os.path.realpath(bundle.rootfs)
        # Outside the rootfs: only the host (runtime namespace) has it.
        self.host_script = os.path.join(os.path.dirname(bundle.path), "host-hook.sh")
        with open(self.host_script, "w") as f:
            f.write(HOST_HOOK)
        os.makedirs(bundle.in_rootfs("/usr/local/bin"), exist_ok=True)
        self.container_script = "/usr/local/bin/start-hook"
        path = bundle.in_rootfs(self.container_script)
        with open(path, "w") as f:
            f.write(CONTAINER_HOOK)
        os.chmod(path, 0o755)
        bundle.config["hooks"] = {}

    def host_hook(self, kind, **extra):
        h = {"path": "/bin/sh",
             "args": ["sh", self.host_script, kind, self.out],
             "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"ROOTFS={self.rootfs}",
                     "HOOK_MARK=from-config"]}
        h.update(extra)
        return h

    def container_hook(self):
        return {"path": self.container_script,
                "env": ["PATH=/bin:/usr/bin", "HOOK_MARK=from-config"]}

    def add(self, kind, hook):
        self.bundle.config["hooks"].setdefault(kind, []).append(hook)

    def add_all(self):
        for kind in HOST_KINDS:
            self.add(kind, self.host_hook(kind))
        self.add("startContainer", self.container_hook())

    def path(self, name):
        return os.path.join(self.out, name)

    def ran(self, kind):
        return os.path.exists(self.path(f"{kind}.state"))

    def state(self, kind):
        with open(self.path(f"{kind}.state")) as f:
            return json.load(f)

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read().strip()

    def order(self):
        try:
            return self.read("order").split()
        except FileNotFoundError:
            return []


def mntns(pid="self"):
    return os.readlink(f"/proc/{pid}/ns/mnt")


def failing_hook(script, **extra):
    h = {"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin"]}
    h.update(extra)
    return h


def assert_gone(crt, cid):
    r = crt("state", cid)
    assert r.returncode != 0, f"{cid} still exists: {r.stdout}"
    assert not os.path.exists(os.path.join(crt.root, cid))


def test_each_kind_at_its_point_with_its_state(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add_all()
    bundle.config["process"]["args"] = PROGRAM
    bundle.config["annotations"] = {"org.example.hook": "yes", "b": "two words"}
    bundle.save()
    bundle_path = os.path.realpath(bundle.path)
    env = dict(os.environ, CRT_CALLER_SECRET="must-not-leak")

    r = crt("create", "--bundle", bundle.path, "hk", env=env)
    assert r.returncode == 0, r
    pid = crt.state("hk")["pid"]
    assert hooks.order() == ["prestart", "createRuntime", "createContainer"]
    assert not hooks.ran("startContainer") and not hooks.ran("poststart")

    r = crt("start", "hk", env=env)
    assert r.returncode == 0, r
    # poststart has run before start returned.
    assert hooks.ran("startContainer") and hooks.ran("poststart")
    wait_for(lambda: os.path.exists(bundle.in_rootfs("/started")), what="the program")
    order = hooks.order()
    assert order[:4] == ["prestart", "createRuntime", "createContainer", "startContainer"], order
    assert order.index("startContainer") < order.index("program") and "poststart" in order
    assert hooks.read("startContainer.program-ran") == "no"

    open(bundle.in_rootfs("/stop"), "w").close()
    wait_for(lambda: not pid_alive(pid), what="the program to exit")
    crt.wait_status("hk", "stopped")
    assert not hooks.ran("poststop"), "poststop runs at delete, not when the program exits"
    r = crt("delete", "hk", env=env)
    assert r.returncode == 0, r
    assert hooks.order()[-1] == "poststop"

    # The state each hook read on stdin.
    statuses = {"prestart": {"created"}, "createRuntime": {"creating", "created"},
                "createContainer": {"creating", "created"}, "startContainer": {"created"},
                "poststart": {"running"}, "poststop": {"stopped"}}
    for kind in ALL_KINDS:
        st = hooks.state(kind)
        assert st["id"] == "hk", (kind, st)
        assert st["bundle"] == bundle_path, (kind, st)
        assert st["ociVersion"] == "1.2.0", (kind, st)
        assert st["status"] in statuses[kind], (kind, st)
        assert st.get("annotations") == {"org.example.hook": "yes", "b": "two words"}, (kind, st)
    # pid: as the runtime sees it in the runtime namespace, as the
    # container sees it (PID 1 of its pid namespace) in the container's.
    for kind in ("prestart", "createRuntime", "poststart"):
        assert hooks.state(kind)["pid"] == pid, kind
    for kind in ("createContainer", "startContainer"):
        assert hooks.state(kind)["pid"] == 1, kind
    assert hooks.state("poststop").get("pid", 0) == 0

    # Where each ran.
    host_ns = mntns()
    for kind in ("prestart", "createRuntime", "poststart", "poststop"):
        assert hooks.read(f"{kind}.mntns") == host_ns, f"{kind} not in the runtime namespace"
    container_ns = hooks.read("startContainer.mntns")
    assert container_ns != host_ns, "startContainer ran in the host mount namespace"
    assert hooks.read("createContainer.mntns") == container_ns, \
        "createContainer did not run in the container's mount namespace"
    # createContainer: after the mounts, before pivot_root (it wrote its
    # markers through the host path of the rootfs).
    assert hooks.read("createContainer.rootfs-proc") == "yes", \
        "createContainer ran before the container's mounts"
    assert hooks.read("createRuntime.rootfs-proc") == "no", \
        "the container's mounts are visible on the host"
    # startContainer: after pivot_root, its path resolved in the container.
    assert hooks.read("startContainer.root") == "yes"

    # The environment is the hook's env, not crt's.
    for kind in ALL_KINDS:
        text = hooks.read(f"{kind}.env")
        assert "HOOK_MARK=from-config" in text, kind
        assert "CRT_CALLER_SECRET" not in text, f"{kind} got crt's environment"


def test_run_calls_every_kind(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add_all()
    bundle.config["process"]["args"] = ["sh", "-c", "echo program >> /hookout/order"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "hk-run")
    assert r.returncode == 0, r
    order = hooks.order()
    assert order[:4] == ["prestart", "createRuntime", "createContainer", "startContainer"], order
    assert "poststart" in order and order[-1] == "poststop", order
    assert_gone(crt, "hk-run")


def test_hook_output_kept_out_of_crt_output_and_in_its_error(crt, bundle):
    """As runc: a hook's stdout and stderr are captured, never mixed into
    crt's own output (an engine parses that); a failing hook's error
    carries them."""
    hooks = Hooks(bundle)
    hooks.add("createRuntime", failing_hook("echo hook-out-ok; echo hook-err-ok >&2"))
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-out")
    assert r.returncode == 0, r
    assert "hook-out-ok" not in r.stdout + r.stderr, r
    assert "hook-err-ok" not in r.stdout + r.stderr, r
    assert crt("delete", "hk-out").returncode == 0

    bundle.config["hooks"] = {"createRuntime": [
        failing_hook("echo said-on-stdout; echo said-on-stderr >&2; exit 3")]}
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-out2")
    assert r.returncode == 1, r
    assert "hooks.createRuntime[0]" in r.stderr and "status 3" in r.stderr, r
    assert "stdout: said-on-stdout" in r.stderr and "stderr: said-on-stderr" in r.stderr, r
    assert r.stdout == "", r
    assert_gone(crt, "hk-out2")


@pytest.mark.parametrize("env", [["ONLY=this", "AND=that"], None])
def test_hook_env_is_exactly_its_env(crt, bundle, env):
    """A hook's environment is its `env`, none given: an empty one. The
    hook fails so that its error shows what it printed."""
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "/usr/bin/env; exit 1"]}
    if env is not None:
        hook["env"] = env
    Hooks(bundle).add("createRuntime", hook)
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-env",
            env={"CRT_CALLER": "x", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 1 and "stdout: " in r.stderr, r
    printed = r.stderr.split("stdout: ", 1)[1].split(", stderr: ")[0]
    # The error stays one line: crt prints the hook's newlines as \n.
    printed = printed.replace("\\n", "\n")
    names = {line.split("=", 1)[0] for line in printed.splitlines() if "=" in line}
    # sh adds PWD (and busybox or dash SHLVL); nothing of crt's.
    assert names - {"PWD", "OLDPWD", "SHLVL", "_"} == ({"ONLY", "AND"} if env else set()), r
    assert_gone(crt, "hk-env")


def test_args_without_args_key_run_path(crt, bundle):
    """No `args`: argv is just the path; no `env`: an empty environment."""
    hooks = Hooks(bundle)
    script = os.path.join(os.path.dirname(bundle.path), "noargs.sh")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\necho \"$0|$#\" > {hooks.path('noargs')}\n"
                f"/usr/bin/env > {hooks.path('noargs.env')}\n")
    os.chmod(script, 0o755)
    hooks.add("createRuntime", {"path": script})
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-noargs")
    assert r.returncode == 0, r
    assert hooks.read("noargs") == f"{script}|0"
    # sh may add PWD; nothing of crt's environment.
    names = {line.split("=", 1)[0] for line in hooks.read("noargs.env").splitlines()}
    assert names <= {"PWD", "OLDPWD", "SHLVL", "_"}, names
    assert crt("delete", "hk-noargs").returncode == 0


def test_create_container_hook_cwd_is_crts(crt, bundle, tmp_path):
    """A createContainer hook starts in crt's own cwd, as every hook of
    crt: the init mounts /proc, /dev, /sys by moving its cwd onto each
    (no walk through /proc/self/fd) and must give it back. The spec says
    nothing; runc starts hooks in the rootfs, crun in the bundle."""
    import subprocess
    hooks = Hooks(bundle)
    hooks.add("createContainer", {"path": "/bin/sh",
                                  "args": ["sh", "-c", f"pwd -P > {hooks.path('cwd')}"]})
    bundle.save()
    here = tmp_path / "caller"
    here.mkdir()
    crt._remember_id(["hk-cwd"])
    # (stderr to a file: the created init holds it open.)
    with open(tmp_path / "err", "w+") as err:
        r = subprocess.run(crt.argv(["create", "--bundle", bundle.path, "hk-cwd"]), cwd=here,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                           timeout=30)
        err.seek(0)
        assert r.returncode == 0, err.read()
    assert hooks.read("cwd") == os.path.realpath(here)
    assert crt("delete", "-f", "hk-cwd").returncode == 0


def test_failing_create_runtime_hook_fails_create_and_leaves_nothing(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add("createRuntime", hooks.host_hook("createRuntime"))
    hooks.add("createRuntime", failing_hook("echo broken-hook-output >&2; exit 3"))
    hooks.add("createContainer", hooks.host_hook("createContainer"))
    hooks.add("poststop", hooks.host_hook("poststop"))
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-fail")
    assert r.returncode != 0, r
    assert "hooks.createRuntime[1]" in r.stderr and "exited with status 3" in r.stderr, r
    assert "broken-hook-output" in r.stderr, r
    assert hooks.ran("createRuntime") and not hooks.ran("createContainer")
    assert_gone(crt, "hk-fail")
    # Lifecycle step 12-13: the container is destroyed, then poststop runs.
    assert hooks.ran("poststop"), "poststop must run after a failed create (lifecycle step 13)"


def test_failing_prestart_hook_fails_create(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add("prestart", failing_hook("exit 1"))
    hooks.add("createRuntime", hooks.host_hook("createRuntime"))
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-pre")
    assert r.returncode != 0, r
    assert "hooks.prestart[0]" in r.stderr, r
    assert not hooks.ran("createRuntime"), "createRuntime ran after prestart failed"
    assert_gone(crt, "hk-pre")


def test_failing_create_container_hook_fails_create(crt, bundle):
    Hooks(bundle).add("createContainer", failing_hook("exit 7"))
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-cc")
    assert r.returncode != 0, r
    assert "hooks.createContainer[0]" in r.stderr and "status 7" in r.stderr, r
    assert_gone(crt, "hk-cc")


def test_timed_out_hook_fails_create(crt, bundle):
    Hooks(bundle).add("createRuntime", failing_hook("exec sleep 30", timeout=1))
    bundle.save()
    t0 = time.monotonic()
    r = crt("create", "--bundle", bundle.path, "hk-slow")
    took = time.monotonic() - t0
    assert r.returncode != 0, r
    assert "hooks.createRuntime[0]" in r.stderr and "timed out after 1s" in r.stderr, r
    assert took < 10, f"create took {took:.1f}s with a 1s hook timeout"
    assert_gone(crt, "hk-slow")


def test_failing_start_container_hook_fails_start(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add("startContainer", {"path": "/bin/sh", "args": ["sh", "-c", "exit 5"]})
    hooks.add("poststart", hooks.host_hook("poststart"))
    bundle.config["process"]["args"] = PROGRAM
    bundle.save()
    assert crt("create", "--bundle", bundle.path, "hk-sc").returncode == 0
    r = crt("start", "hk-sc")
    assert r.returncode != 0, r
    assert "hooks.startContainer[0]" in r.stderr, r
    assert not os.path.exists(bundle.in_rootfs("/started")), "the program ran"
    assert not hooks.ran("poststart")
    st = crt("state", "hk-sc")
    if st.returncode == 0:
        assert st.json()["status"] == "stopped", st
        assert crt("delete", "hk-sc").returncode == 0
    assert_gone(crt, "hk-sc")


@pytest.mark.parametrize("how", ["create+start", "run", "run -d"])
def test_failing_poststart_hook_stops_and_destroys(crt, bundle, how):
    """runtime-spec 1.3 runtime.md step 9: an error, the container is
    stopped and the lifecycle goes on at step 12 (destroyed, poststop
    hooks run); the next poststart hook does not run (runc and crun stop
    at the first failing hook too)."""
    hooks = Hooks(bundle)
    hooks.add("poststart", failing_hook("echo why >&2; exit 4"))
    hooks.add("poststart", hooks.host_hook("poststart"))
    hooks.add("poststop", hooks.host_hook("poststop"))
    bundle.config["process"]["args"] = PROGRAM
    bundle.save()
    if how == "create+start":
        assert crt("create", "--bundle", bundle.path, "hk-ps").returncode == 0
        r = crt("start", "hk-ps")
    else:
        r = crt(*how.split(), "--bundle", bundle.path, "hk-ps")
    assert r.returncode == 1, r
    assert "hooks.poststart[0]" in r.stderr and "status 4" in r.stderr, r
    assert "stderr: why" in r.stderr, r
    assert not hooks.ran("poststart"), "the next poststart hook ran"
    assert hooks.ran("poststop"), "the poststop hook did not run"
    assert hooks.state("poststop")["status"] == "stopped"
    assert_gone(crt, "hk-ps")


def test_failing_poststop_hooks_each_warned_and_delete_succeeds(crt, bundle):
    hooks = Hooks(bundle)
    hooks.add("poststop", failing_hook("exit 2"))
    hooks.add("poststop", failing_hook("echo told >&2; exit 3"))
    hooks.add("poststop", hooks.host_hook("poststop"))
    bundle.save()
    assert crt("create", "--bundle", bundle.path, "hk-stop").returncode == 0
    r = crt("delete", "--force", "hk-stop")
    assert r.returncode == 0, r
    lines = r.stderr.splitlines()
    assert any("warning" in ln and "hooks.poststop[0]" in ln and "status 2" in ln
               for ln in lines), r
    assert any("warning" in ln and "hooks.poststop[1]" in ln and "stderr: told" in ln
               for ln in lines), r
    assert hooks.ran("poststop"), "the next poststop hook did not run"
    assert hooks.state("poststop")["status"] == "stopped"
    assert_gone(crt, "hk-stop")


def test_hook_path_missing_fails_clearly(crt, bundle):
    Hooks(bundle).add("createRuntime", {"path": "/nonexistent/hook"})
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "hk-missing")
    assert r.returncode != 0, r
    assert "/nonexistent/hook" in r.stderr and "No such file or directory" in r.stderr, r
    assert_gone(crt, "hk-missing")
