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

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (BEACONGW, TempDir, check, clean_env, ctl, finish, free_port,  # noqa: E402
                     need_built, sql, terminate, wait_for, write_config)
from hcitest import IBEACON, FakeController, le_adv_report  # noqa: E402

need_built("beaconctl")

tmp = TempDir("daemon")
d = tmp.path
db = tmp("gw.db")

ctl(db, "init")
ctl(db, "customer", "add", "cust-live")
ctl(db, "identifier", "add", "cust-live", "ibeacon",
    "b9407f30-f5f8-466e-aff9-25556b57fe6d:12345:54321")
ctl(db, "consent", "grant", "cust-live", "presence")

dead_port = free_port()   # nothing listens there
conf = write_config(tmp, db, dead_port, plain=True, storage={"poll_ms": "200"},
                    presence={"enter_confirmations": "2"})

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

env = clean_env(NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="400000")
p = subprocess.Popen([BEACONGW, "-c", conf, "--source", "h4:unix:" + sock, "-v"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
log = []
threading.Thread(target=lambda: [log.append(line) for line in p.stderr], daemon=True).start()


def wait_log(text, after=0, timeout=10):
    return wait_for(lambda: any(text in line for line in log[after:]), timeout, 0.02)


check(wait_log("visit enter: customer cust-live"), "visit entered")
check(any(n.startswith("READY=1") or "\nREADY=1" in n for n in notes), "READY=1 sent")
check(any("STATUS=" in n for n in notes), "STATUS= sent")
time.sleep(0.5)
check(any("WATCHDOG=1" in n for n in notes), "WATCHDOG=1 sent")

# A change with beaconctl is picked up by polling (poll_ms = 200).
mark = len(log)
t = time.time()
ctl(db, "segment", "add", "cust-live", "vip")
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
rc = terminate(p, 15)
check(rc == 0, "SIGTERM: exit 0 (got %s)" % rc)
check(any("visit exit: customer cust-live" in line for line in log), "visit closed on stop")
check(any("STOPPING=1" in n for n in notes), "STOPPING=1 sent")
rows = sql(db, "SELECT exited_at IS NOT NULL FROM visits")
check(rows == [["1"]], "visit row closed in the database: %s" % rows)
check(ctrl.commands[-1] == (0x200C, b"\x00\x00"), "scan disabled on stop")
ctrl.close()
finish()
