"""The systemd cgroup driver next to runc's and crun's: the same bundle
run by each with --systemd-cgroup, and the scope systemd made for each
read back (its properties, and the files of its cgroup). Engines and
their users see these, so crt must make the scope runc and crun make.
Where runc and crun agree, crt must agree with them; where they differ,
crt must match one of them, and DIFFERENCES says which and why. And
when systemd writes the unit's cgroup again (set-property), crt's limits
must stay (runc loses its io.weight there).

Runs in the VM booted with systemd as PID 1 (the vm-systemd session of
tests/run.sh):

  ../shared/vm/run-in-vm.sh -s -t 600 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cgroup/test_systemd_parity_vm.py
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "engines"))
import cgutil  # noqa: E402
from enginelib import SYSTEMD_VM_MARKS  # noqa: E402
from enginelib import unit_properties as show  # noqa: E402
from cgutil import CRT, read  # noqa: E402

pytestmark = SYSTEMD_VM_MARKS

MiB = 2 ** 20
RESOURCES = {"memory": {"limit": 64 * MiB, "reservation": 16 * MiB, "swap": 96 * MiB},
             "pids": {"limit": 20},
             "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
             "blockIO": {"weight": 300}}

PROPERTIES = ["Slice", "Delegate", "MemoryMax", "MemoryLow", "MemorySwapMax", "TasksMax",
              "CPUWeight", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "AllowedCPUs",
              "AllowedMemoryNodes", "IOWeight", "MemoryAccounting", "TasksAccounting",
              "CPUAccounting", "IOAccounting", "DefaultDependencies", "CollectMode",
              "KillMode", "SendSIGKILL", "TimeoutStopUSec", "ActiveState"]

FILES = ["memory.max", "memory.low", "memory.swap.max", "pids.max", "cpu.max", "cpu.weight",
         "cpuset.cpus", "cpuset.mems", "io.weight", "cgroup.type"]

# What crt does where it does not simply match both (runc 1.1.5, crun
# 1.8.1, systemd 252 here): {key: (the runtime crt follows, why)}.
CRUN_CHILD = ("runc", "crun gives systemd no resource property and writes the limits into "
              "a child cgroup `container` of the scope, where it puts the process; runc "
              "sets them as the unit's properties and in the scope's own files. crt does "
              "as runc: systemd's view of the unit holds the limits, so a daemon-reload "
              "or a set-property cannot undo them, and the container's cgroup is the "
              "unit's, where engines look for it by name. (The files themselves agree.)")
DIFFERENCES = {
    "AllowedCPUs": CRUN_CHILD, "AllowedMemoryNodes": CRUN_CHILD,
    "CPUQuotaPerSecUSec": CRUN_CHILD, "CPUQuotaPeriodUSec": CRUN_CHILD,
    "MemoryLow": CRUN_CHILD, "MemoryMax": CRUN_CHILD, "MemorySwapMax": CRUN_CHILD,
    "TasksMax": CRUN_CHILD, "(the process's cgroup, from the scope)": CRUN_CHILD,
    # Both leave it unset. runc writes io.weight only, and systemd, which
    # thinks the unit has the default weight, puts 100 back at the next
    # set-property (seen here: 2930 -> 100; crun's child cgroup is not
    # systemd's to rewrite). crt sets the property to the value of the
    # file (runc's map of blkio weight: 2930 for 300), as for every other
    # limit, and keeps it.
    "IOWeight": ("crt", "the property set to the file's value, which systemd then keeps"),
}


def runtimes():
    found = [("crt", CRT)]
    for name in ("runc", "crun"):
        path = shutil.which(name)
        if path:
            found.append((name, path))
    return found


def read_files(d):
    return {f: read(os.path.join(d, f)).strip() if os.path.exists(os.path.join(d, f)) else None
            for f in FILES}


def observe(name, binary, maker):
    """Run the bundle with BINARY; the scope's properties, its cgroup's
    files, and those files after a set-property."""
    unit = f"crtparity-{name}.scope"
    workdir = maker.workdir
    root = os.path.join(workdir, "state-" + name)
    # (crun 1.8.1 takes ociVersion 1.0.x only.)
    b = maker.bundle(["sleep", "1000"], resources=RESOURCES,
                     cgroups_path=f"crt-parity.slice:crtparity:{name}",
                     mutate=lambda c: c.update(ociVersion="1.0.2"))
    base = [binary, "--root", root, "--systemd-cgroup"]
    with open(os.path.join(workdir, name + ".out"), "w") as log:
        r = subprocess.run(base + ["run", "-d", "--bundle", b, name], stdin=subprocess.DEVNULL,
                           stdout=log, stderr=log, timeout=60)
    try:
        assert r.returncode == 0, read(os.path.join(workdir, name + ".out"))
        props = show(unit, "ControlGroup", *PROPERTIES)
        scope = props.pop("ControlGroup")
        state = json.loads(subprocess.run(base + ["state", name], capture_output=True,
                                          text=True, check=True).stdout)
        own = [line.split(":", 2)[2].strip() for line in read(f"/proc/{state['pid']}/cgroup")
               .splitlines() if line.startswith("0::")][0]
        # The container's cgroup as the engines read it (stats, OOM
        # events): its process's, the scope or a child of it.
        d = cgutil.cgroup_dir(own)
        files = read_files(d)
        files["(the process's cgroup, from the scope)"] = os.path.relpath(own, scope)
        # systemd writes a unit's cgroup files again from its properties
        # whenever it realizes the unit (a set-property of anything, some
        # reloads): what the runtime wrote without telling systemd goes.
        subprocess.run(["systemctl", "set-property", "--runtime", unit, "CPUWeight=20"],
                       check=True, timeout=60)
        return props, files, read_files(d)
    finally:
        subprocess.run(base + ["delete", "--force", name], capture_output=True, timeout=60)
        subprocess.run(["systemctl", "stop", unit], capture_output=True, timeout=60)


def test_scope_as_runc_and_crun_make_it(tmp_path):
    rts = runtimes()
    if len(rts) < 3:
        pytest.skip("runc and crun are both needed (apt-get install runc crun)")
    maker = cgutil.Crt(str(tmp_path))          # the rootfs and the bundles
    seen = {name: observe(name, binary, maker) for name, binary in rts}
    print(json.dumps(seen, indent=1, sort_keys=True))
    problems = []
    for kind, index in (("property", 0), ("file", 1)):
        for key in seen["crt"][index]:
            got = {n: seen[n][index].get(key) for n in ("crt", "runc", "crun")}
            if key in DIFFERENCES:
                follows, why = DIFFERENCES[key]
                print(f"{kind} {key}: {got}; crt follows {follows}: {why}")
                if follows != "crt" and got["crt"] != got[follows]:
                    problems.append(f"{kind} {key}: crt {got['crt']!r}, {follows} "
                                    f"{got[follows]!r} (DIFFERENCES says crt follows {follows})")
            elif got["runc"] != got["crun"]:
                problems.append(f"{kind} {key}: runc {got['runc']!r} and crun {got['crun']!r} "
                                f"differ (crt {got['crt']!r}): say which crt follows in "
                                "DIFFERENCES, and why")
            elif got["crt"] != got["runc"]:
                problems.append(f"{kind} {key}: crt {got['crt']!r}, runc and crun {got['runc']!r}")
    # crt's files stay as they were when systemd writes them again.
    for name in seen:
        changed = {f: (seen[name][1][f], seen[name][2][f]) for f in FILES
                   if seen[name][1][f] != seen[name][2][f]}
        print(f"{name}: after a set-property, changed: {changed}")
        if name == "crt" and changed:
            problems.append(f"crt's cgroup files changed after a set-property: {changed}")
    assert problems == []
