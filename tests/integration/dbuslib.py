"""D-Bus for the host tests of crt's systemd driver (this host has no
systemd): a private dbus-daemon, and for attacker tests a stand-in for
systemd's Manager on it, written with GLib's GDBus (python3-gi). What
the driver does with the real systemd is tests/cgroup/test_systemd_vm.py,
in a VM with systemd as PID 1."""

import contextlib
import os
import shutil
import subprocess
import sys

import pytest

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

SD_PATH = "/org/freedesktop/systemd1"
SD_MANAGER = "org.freedesktop.systemd1.Manager"


@contextlib.contextmanager
def dbus_daemon(tmp_path, name, auth="<auth>EXTERNAL</auth>"):
    """A private dbus-daemon (no service files: nothing is activated)
    listening on tmp_path/name: its address."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("no dbus-daemon (apt-get install dbus-daemon)")
    config = tmp_path / (name + ".conf")
    config.write_text(BUS_CONFIG.replace("<auth>EXTERNAL</auth>", auth)
                      .format(socket=tmp_path / name))
    p = subprocess.Popen([daemon, f"--config-file={config}", "--nofork", "--print-address"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = p.stdout.readline().strip()
        assert address.startswith("unix:path="), address
        yield address
    finally:
        p.kill()
        p.wait()


MANAGER_XML = f"""<node><interface name="{SD_MANAGER}">
  <method name="Subscribe"/>
  <method name="StartTransientUnit">
    <arg type="s" direction="in"/><arg type="s" direction="in"/>
    <arg type="a(sv)" direction="in"/><arg type="a(sa(sv))" direction="in"/>
    <arg type="o" direction="out"/>
  </method>
  <method name="ResetFailedUnit"><arg type="s" direction="in"/></method>
  <method name="KillUnit">
    <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="i" direction="in"/>
  </method>
  <method name="StopUnit">
    <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="o" direction="out"/>
  </method>
  <method name="GetUnit"><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
  <property name="Version" type="s" access="read"/>
</interface></node>"""


class FakeSystemd:
    """systemd's Manager on a private bus as far as crt's driver asks it,
    in a process of its own (GLib keeps fds for its whole process):
    StartTransientUnit answers a job, whose JobRemoved (with `result`)
    it broadcasts `delay_ms` later; no unit is ever made (GetUnit and
    StopUnit: NoSuchUnit). With `forge`, a second client of the bus (the
    attacker) sends the caller JobRemoved "done" for that job at once.
    The methods it was called with are in `self.calls` after the
    `with`; `self.forged` says whether the forgery went out."""

    def __init__(self, address, result="failed", delay_ms=300, forge=False):
        try:
            import gi  # noqa: F401
        except ImportError:
            pytest.skip("no python3-gi (apt-get install python3-gi)")
        self.argv = [sys.executable, os.path.abspath(__file__), address, result, str(delay_ms),
                     "forge" if forge else "honest"]
        self.calls = []
        self.forged = False

    def __enter__(self):
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if line != "ready":
            self.p.kill()
            self.p.wait()
            raise RuntimeError(f"the fake systemd did not start: {line!r}")
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        out, _ = self.p.communicate(timeout=10)
        for line in out.splitlines():
            if line.startswith("call "):
                self.calls.append(line[5:])
            elif line == "forged":
                self.forged = True


def serve_fake_systemd(address, result, delay_ms, forge):
    """The process of FakeSystemd: "ready", then a line per call."""
    import signal

    from gi.repository import Gio, GLib

    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
    other = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
    conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "RequestName", GLib.Variant("(su)", ("org.freedesktop.systemd1", 4)),
                   GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None)
    loop = GLib.MainLoop()
    jobs = [0]

    def call(conn, sender, path, interface, method, params, invocation):
        print("call " + method, flush=True)
        if method == "StartTransientUnit":
            unit = params.unpack()[0]
            jobs[0] += 1
            job = f"{SD_PATH}/job/{jobs[0]}"
            invocation.return_value(GLib.Variant("(o)", (job,)))
            if forge:
                other.emit_signal(sender, SD_PATH, SD_MANAGER, "JobRemoved",
                                  GLib.Variant("(uoss)", (jobs[0], job, unit, "done")))
                other.flush_sync(None)
                print("forged", flush=True)

            def job_removed():
                conn.emit_signal(None, SD_PATH, SD_MANAGER, "JobRemoved",
                                 GLib.Variant("(uoss)", (jobs[0], job, unit, result)))
                return False
            GLib.timeout_add(delay_ms, job_removed)
        elif method in ("GetUnit", "StopUnit"):
            invocation.return_dbus_error("org.freedesktop.systemd1.NoSuchUnit", "no such unit")
        else:
            invocation.return_value(None)

    node = Gio.DBusNodeInfo.new_for_xml(MANAGER_XML)
    conn.register_object(SD_PATH, node.interfaces[0], call,
                         lambda *a: GLib.Variant("s", "252.39-1~deb12u2"), None)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    serve_fake_systemd(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "forge")
