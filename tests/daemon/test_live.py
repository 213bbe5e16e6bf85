#!/usr/bin/env python3
"""A live full run against a scripted H4 controller (no broker reachable):
systemd notification (READY=1, STATUS=, WATCHDOG=1 through NOTIFY_SOCKET),
a consent change made with beaconctl reaches the daemon within a second
(data_version polling), SIGHUP reloads without stopping, a bad config on
SIGHUP is refused and the daemon keeps running, SIGTERM stops it cleanly
with the visit recorded."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from bgwtest import (BEACONGW, BUILD, IBEACON, FakeController, check, finish, le_adv_report,
                     tmpdir)

BEACONCTL = os.path.join(BUILD, "beaconctl")
if not os.path.exists(BEACONCTL):
    print("SKIP: beaconctl not built")
    sys.exit(77)

d = tmpdir()
db = os.path.join(d, "gw.db")


def ctl(*args):
    subprocess.run([BEACONCTL, "--db", db] + list(args), check=True, capture_output=True)


ctl("init")
ctl("customer", "add", "cust-live")
ctl("identifier", "add", "cust-live", "ibeacon", "b9407f30-f5f8-466e-aff9-25556b57fe6d:12345:54321")
ctl("consent", "grant", "cust-live", "presence")

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    dead_port = s.getsockname()[1]   # nothing listens there
conf = os.path.join(d, "gw.conf")
open(conf, "w").write("[gateway]\nsite = s1\nid = g1\nzone = entrance\n[storage]\ndb = %s\n"
                      "poll_ms = 200\n[mqtt]\nhost = 127.0.0.1\nport = %d\n"
                      "[presence]\nenter_confirmations = 2\n" % (db, dead_port))

sock = os.path.join(d, "ctrl.sock")
ctrl = FakeController(sock)
stop_reports = threading.Event()


def reporter(c):
    while not stop_reports.is_set():
        try:
            c.send_event(le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -50,
                                         IBEACON)]))
        except OSError:
            return
        time.sleep(0.1)


ctrl.on_scan_enable = lambda c: threading.Thread(target=reporter, args=(c,), daemon=True).start()

notify_path = os.path.join(d, "notify.sock")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
notify.settimeout(0.2)
notes = []


def listen_notify():
    while True:
        try:
            notes.append(notify.recv(4096).decode())
        except socket.timeout:
            continue
        except OSError:
            return


threading.Thread(target=listen_notify, daemon=True).start()

env = dict(os.environ)
for k in ("JOURNAL_STREAM", "INVOCATION_ID"):
    env.pop(k, None)
env["NOTIFY_SOCKET"] = notify_path
env["WATCHDOG_USEC"] = "400000"
env.pop("WATCHDOG_PID", None)
p = subprocess.Popen([BEACONGW, "-c", conf, "--source", "h4:unix:" + sock, "-v"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
log = []
threading.Thread(target=lambda: [log.append(line) for line in p.stderr], daemon=True).start()


def wait_log(text, after=0, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if any(text in line for line in log[after:]):
            return True
        time.sleep(0.02)
    return False


check(wait_log("visit enter: customer cust-live"), "visit entered")
check(any(n.startswith("READY=1") or "\nREADY=1" in n for n in notes), "READY=1 sent")
check(any("STATUS=" in n for n in notes), "STATUS= sent")
time.sleep(0.5)
check(any("WATCHDOG=1" in n for n in notes), "WATCHDOG=1 sent")

# A change with beaconctl is picked up by polling (poll_ms = 200).
mark = len(log)
t = time.time()
ctl("segment", "add", "cust-live", "vip")
check(wait_log("consent snapshot loaded", mark, timeout=3), "database change noticed")
check(time.time() - t < 1.5, "noticed within a second or so")

# SIGHUP: reload; the daemon keeps running and the visit stays open.
mark = len(log)
p.send_signal(signal.SIGHUP)
check(wait_log("reloading the configuration", mark), "SIGHUP reloads")
check(wait_log("consent snapshot loaded", mark), "SIGHUP reloads the consent snapshot")
check(p.poll() is None, "still running after SIGHUP")
check(not any("visit exit" in line for line in log), "visit not closed by the reload")

# A broken config on SIGHUP is refused; the running one stays.
open(conf, "a").write("[presence]\nbogus = 1\n")
mark = len(log)
p.send_signal(signal.SIGHUP)
check(wait_log("reload failed", mark), "bad config on SIGHUP refused")
check(p.poll() is None, "still running after a bad reload")

stop_reports.set()
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(timeout=15)
except subprocess.TimeoutExpired:
    p.kill()
    rc = -9
check(rc == 0, "SIGTERM: exit 0 (got %d)" % rc)
check(any("visit exit: customer cust-live" in line for line in log), "visit closed on stop")
check(any("STOPPING=1" in n for n in notes), "STOPPING=1 sent")
rows = subprocess.run(["sqlite3", db, "SELECT exited_at IS NOT NULL FROM visits"],
                      capture_output=True, text=True).stdout.split()
check(rows == ["1"], "visit row closed in the database: %s" % rows)
check(ctrl.commands[-1] == (0x200C, b"\x00\x00"), "scan disabled on stop")
ctrl.close()
finish()
