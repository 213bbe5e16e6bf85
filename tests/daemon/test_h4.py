#!/usr/bin/env python3
"""h4:unix: against a scripted H4 controller: the daemon runs the init
sequence, scans, dumps the reports; garbage bytes and a Hardware Error in
the stream don't crash it (the watchdog resets the controller and scanning
resumes); SIGTERM disables the scan before exiting 0. Extended scanning is
used when the controller supports it, and a controller that rejects the
extended commands falls back to legacy ones. A dropped link is reopened."""
import json
import os
import socket
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (BEACONGW, TempDir, check, clean_env, finish, terminate,  # noqa: E402
                     wait_for)
from hcitest import (IBEACON, FakeController, FakeTtyController, hw_error,  # noqa: E402
                     le_adv_report, le_ext_adv_report)

LEGACY_SEQ = [0x0C03, 0x1001, 0x1003, 0x2003, 0x0C01, 0x2001, 0x200C, 0x200B, 0x200C]
EXT_SEQ = [0x0C03, 0x1001, 0x1003, 0x2003, 0x0C01, 0x2001, 0x2042, 0x2041, 0x2042]


class Daemon:
    def __init__(self, spec, conf=None):
        args = [BEACONGW, "--source", spec, "--dump", "-v"]
        if conf:
            args += ["-c", conf]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=clean_env())
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(json.loads(line))

    def wait_lines(self, n, timeout=15):
        return wait_for(lambda: len(self.lines) >= n, timeout)

    def stop(self):
        """SIGTERM: the exit status (None when it had to be killed) and stderr."""
        rc = terminate(self.p, 10)
        self.t.join(timeout=5)
        return rc, self.p.stderr.read()

    def exited(self, timeout=30):
        """The exit status once it exits by itself (-9: killed after the
        timeout) and stderr."""
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        return rc, self.p.stderr.read()


d = TempDir("daemon").path

# ---- legacy controller, faults in the stream ----
sock = os.path.join(d, "ctrl.sock")
ctrl = FakeController(sock)
state = {"enables": 0}


def on_enable(c):
    state["enables"] += 1
    if state["enables"] == 1:
        c.send(bytes(range(0x80, 0xA0)))                        # garbage
        c.send_event(le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -71, IBEACON)]))
        c.send(b"\x00\xff\x07\x09")                             # bytes of no packet type
        c.send_event(le_adv_report([("adv_ind", 0, "00:26:AB:12:34:56", -50, b"\x02\x01\x06")]))
        c.send_event(hw_error(0x42))
    else:
        c.send_event(le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:10", -60, IBEACON)]))


ctrl.on_scan_enable = on_enable
dm = Daemon("h4:unix:" + sock)
check(wait_for(lambda: state["enables"] >= 2, 15),
      "scan enabled twice (after the hardware error)")
check(ctrl.opcodes[:9] == LEGACY_SEQ,
      "init sequence %s" % [hex(o) for o in ctrl.opcodes[:9]])
params = dict(ctrl.commands)
check(params.get(0x200B, b"")[:1] == b"\x00", "passive scan by default")
check(dict(ctrl.commands[8:9]).get(0x200C) == b"\x01\x00", "duplicate filtering off")
check(ctrl.opcodes[9:10] == [0x0C03], "hardware error -> controller reset")
check(dm.wait_lines(2), "reports dumped")
addrs = [x["addr"] for x in dm.lines]
check("C4:7B:1A:22:E0:0F" in addrs, "first report dumped")
check(dm.wait_lines(3) and "C4:7B:1A:22:E0:10" in [x["addr"] for x in dm.lines],
      "reports after the reset dumped")
before = len(ctrl.opcodes)
rc, err = dm.stop()
check(rc == 0, "SIGTERM: exit 0 (got %s: %s)" % (rc, err[-500:]))
check(0x200C in ctrl.opcodes[before:] and ctrl.commands[-1] == (0x200C, b"\x00\x00"),
      "scan disabled on exit")
check("C4:7B:1A:22:E0:0F" not in err, "no address in the log")
ctrl.close()

# ---- extended controller, active scan from the config ----
sock2 = os.path.join(d, "ext.sock")
conf = os.path.join(d, "active.conf")
open(conf, "w").write("[source]\nscan = active\ninterval_ms = 200\nwindow_ms = 50\n")
ctrl = FakeController(sock2, ext=True)
ctrl.on_scan_enable = lambda c: c.send_event(
    le_ext_adv_report("D0:11:22:33:44:55", 1, -60, IBEACON, tx_power=4, sid=3))
dm = Daemon("h4:unix:" + sock2, conf)
check(dm.wait_lines(1), "extended report dumped")
check(ctrl.opcodes[:9] == EXT_SEQ, "extended sequence %s" % [hex(o) for o in ctrl.opcodes[:9]])
p = dict(ctrl.commands).get(0x2041, b"")
# own addr type, filter policy, PHYs = 1M, then type, interval, window per PHY
check(p[:3] == b"\x00\x00\x01" and p[3] == 1, "active extended scan on LE 1M")
check(p[4:8] == bytes.fromhex("40015000"), "interval 200 ms / window 50 ms in 0.625 ms units")
if dm.lines:
    check(dm.lines[0]["kind"] == "ext" and dm.lines[0]["sid"] == 3, "ext fields")
rc, err = dm.stop()
check(rc == 0 and ctrl.commands[-1][0] == 0x2042, "extended scan disabled on exit")
ctrl.close()

# ---- a controller that rejects the extended commands: legacy fallback ----
sock3 = os.path.join(d, "rej.sock")
ctrl = FakeController(sock3, ext=True, reject=(0x2041,))
ctrl.on_scan_enable = lambda c: c.send_event(
    le_adv_report([("adv_ind", 0, "00:00:00:00:00:07", -40, b"\x02\x01\x06")]))
dm = Daemon("h4:unix:" + sock3)
check(dm.wait_lines(1), "legacy fallback: report dumped")
check(0x200B in ctrl.opcodes and 0x200C in ctrl.opcodes, "legacy fallback: legacy commands")
rc, err = dm.stop()
check(rc == 0, "legacy fallback: exit 0")
ctrl.close()

# ---- the link drops and comes back ----
sock4 = os.path.join(d, "drop.sock")
ctrl = FakeController(sock4)
ctrl.on_scan_enable = lambda c: c.send_event(
    le_adv_report([("adv_ind", 0, "00:00:00:00:00:%02X" % len(c.opcodes), -40,
                    b"\x02\x01\x06")]))
dm = Daemon("h4:unix:" + sock4)
check(dm.wait_lines(1), "drop: first report")
with ctrl.lock:
    conn = ctrl.conn
conn.shutdown(2)
check(dm.wait_lines(2, timeout=20), "drop: reports again after reconnecting")
check(ctrl.opcodes.count(0x0C03) >= 2, "drop: controller set up again")
rc, err = dm.stop()
check(rc == 0, "drop: exit 0 (got %s)" % rc)
ctrl.close()

# ---- H4 over TCP on loopback ----
ctrl = FakeController(None, tcp=True)
ctrl.on_scan_enable = lambda c: c.send_event(
    le_adv_report([("adv_ind", 0, "00:00:00:00:00:09", -40, b"\x02\x01\x06")]))
dm = Daemon("h4:tcp:127.0.0.1:%d" % ctrl.port)
check(dm.wait_lines(1), "tcp: report dumped")
check(ctrl.opcodes[:9] == LEGACY_SEQ, "tcp: init sequence")
rc, err = dm.stop()
check(rc == 0, "tcp: exit 0 (got %s)" % rc)
ctrl.close()

# ---- the watchdog: a controller that answers but never reports ----
sock5 = os.path.join(d, "quiet.sock")
conf5 = os.path.join(d, "quiet.conf")
open(conf5, "w").write("[source]\nwatchdog_silence_s = 1\nwatchdog_rescan_tries = 2\n"
                       "watchdog_reset_tries = 1\n")
ctrl = FakeController(sock5)
dm = Daemon("h4:unix:" + sock5, conf5)
rc, err = dm.exited(30)
check(rc == 69, "silent scanner: exit 69 after the ladder (got %d)" % rc)
check(err.count("re-enabling the scan") == 2, "silent scanner: two rescans logged")
check(err.count("resetting the controller") == 1, "silent scanner: one reset logged")
check("giving up" in err, "silent scanner: giving up logged")
check(ctrl.opcodes.count(0x0C03) == 2, "silent scanner: reset sent again")
ctrl.close()

# ---- the watchdog: a controller that never answers ----
sock6 = os.path.join(d, "mute.sock")
conf6 = os.path.join(d, "mute.conf")
open(conf6, "w").write("[source]\ncommand_timeout_ms = 200\nwatchdog_rescan_tries = 1\n"
                       "watchdog_reset_tries = 1\n")
mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
mute.bind(sock6)
mute.listen(1)
dm = Daemon("h4:unix:" + sock6, conf6)
rc, err = dm.exited(30)
check(rc == 69, "mute controller: exit 69 (got %d)" % rc)
check("no answer to Reset within 200 ms" in err, "mute controller: timeout logged")
mute.close()

# ---- the same over a UART (a pseudo-terminal stands in for the dongle) ----
ctrl = FakeTtyController()
ctrl.on_scan_enable = lambda c: c.send_event(
    le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -71, IBEACON)]))
dm = Daemon("h4:tty:%s@115200" % ctrl.path)
check(dm.wait_lines(1), "tty: report dumped")
check(ctrl.opcodes[:9] == LEGACY_SEQ, "tty: init sequence")
rc, err = dm.stop()
check(rc == 0, "tty: exit 0 (got %s: %s)" % (rc, err[-300:]))

# A path that is not a terminal is refused with a reason.
dm = Daemon("h4:tty:/dev/null")
rc = dm.p.wait(timeout=10)
check(rc == 69 and "not a terminal" in dm.p.stderr.read(), "tty: /dev/null refused (69)")

finish()
