#!/usr/bin/env python3
"""Logging under systemd: with JOURNAL_STREAM (or INVOCATION_ID) set, every
stderr line starts with a syslog priority "<N>" (N 0-7) -- normal runs,
configuration and database errors, a missing source -- and the error
priority is used for errors; without it lines read "beacongw: LEVEL: ...".
Rate limiting: a flood of malformed HCI events, from a capture and from a
live H4 stream, gives a bounded number of log lines plus a "suppressed"
summary whose counts add up to every malformed event (checked against the
metrics)."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (BEACONGW, SOURCE, TempDir, check, clean_env, ctl, finish,  # noqa: E402
                     need_built, run_beacongw, write_file)
from hcitest import IBEACON, FakeController, btsnoop_h4, evt, le_adv_report  # noqa: E402
from promtext import read_metrics, value  # noqa: E402

need_built("beacongw", "beaconctl")
d = TempDir("service", remove_at_exit=True).path
JOURNAL = {"JOURNAL_STREAM": "8:4242"}
PRIO = re.compile(r"^<[0-7]>\S")
FIRST = "malformed HCI event from the controller"
SUMMARY = re.compile(r"malformed hci event: (\d+) repeats suppressed")

db = os.path.join(d, "gw.db")
ctl(db, "init")


def conf(name, text):
    return write_file(os.path.join(d, name), text)


def beacongw(args, env=None):
    return run_beacongw(args, timeout=120, env=env)


def all_prefixed(stderr, what):
    lines = stderr.splitlines()
    check(lines, "%s: something was logged" % what)
    bad = [line for line in lines if not PRIO.match(line)]
    check(not bad, "%s: every stderr line starts with <N>: %s" % (what, bad[:3]))
    return lines


def flood_lines(lines, what, n, bound):
    """Lines about malformed events: bounded, with summaries adding up to n."""
    firsts = [line for line in lines if FIRST in line]
    summaries = [int(m.group(1)) for m in map(SUMMARY.search, lines) if m]
    check(1 <= len(firsts) + len(summaries) <= bound,
          "%s: %d malformed events gave %d log lines (at most %d)" %
          (what, n, len(firsts) + len(summaries), bound))
    check(summaries, "%s: a 'repeats suppressed' summary" % what)
    check(len(firsts) + sum(summaries) == n,
          "%s: %d logged + %d suppressed == %d malformed events" %
          (what, len(firsts), sum(summaries), n))
    check(all(line.startswith("<4>") for line in firsts), "%s: warnings are <4>" % what)


base = "[storage]\ndb = %s\n[mqtt]\nport = 1\n" % db
good = conf("good.conf", base)

# ---- a normal replay, errors ----
malformed = os.path.join(SOURCE, "tests", "data", "malformed.btsnoop")
p = beacongw(["-c", good, "--source", "btsnoop:" + malformed, "--once", "-v"], env=JOURNAL)
check(p.returncode == 0, "malformed.btsnoop --once: exit 0 (%d)" % p.returncode)
lines = all_prefixed(p.stderr, "replay")
check(any(line.startswith("<7>") for line in lines), "-v: debug lines are <7>")
check(any(line.startswith("<6>started") for line in lines), "info lines are <6>")

bad = conf("bad.conf", base + "[gateway]\nbogus = 1\n")
for args, what in ((["-c", bad, "--source", "btsnoop:" + malformed, "--once"], "bad config"),
                   (["-c", bad, "--check-config"], "bad config, --check-config"),
                   (["-c", good, "--db", os.path.join(d, "none.db"), "--check-config"],
                    "missing database"),
                   (["-c", good, "--source", "btsnoop:" + os.path.join(d, "none"), "--once"],
                    "missing capture")):
    for env in (JOURNAL, {"INVOCATION_ID": "0123456789abcdef0123456789abcdef"}):
        p = beacongw(args, env=env)
        check(p.returncode in (65, 78), "%s: exit 65 or 78 (%d)" % (what, p.returncode))
        lines = all_prefixed(p.stderr, what)
        check(any(line.startswith("<3>") for line in lines), "%s: logged as <3> error" % what)
p = beacongw(["-c", bad, "--check-config"])
check(p.stderr.startswith("beacongw: error: ") and "bad.conf:" in p.stderr,
      "outside systemd: 'beacongw: error: FILE:LINE: ...' (%s)" % p.stderr.strip())

# ---- a flood of malformed events in a capture ----
N_CAP = 1000
packets = []
for i in range(N_CAP):
    packets.append((0x04, evt(0x3E, b"")))      # an LE Meta event too short for a subevent
    if i % 100 == 0:
        packets.append((0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -50,
                                              IBEACON)])))
flood = os.path.join(d, "flood.btsnoop")
btsnoop_h4(flood, packets, step_us=1000)
prom = os.path.join(d, "flood.prom")
fconf = conf("flood.conf", base + "[metrics]\ntextfile = %s\n" % prom)
p = beacongw(["-c", fconf, "--source", "btsnoop:" + flood, "--once"], env=JOURNAL)
check(p.returncode == 0, "flood capture: exit 0 (%d: %s)" % (p.returncode, p.stderr[-300:]))
lines = all_prefixed(p.stderr, "flood capture")
m = read_metrics(prom)
check(value(m, "beacongw_hci_events_malformed_total") == N_CAP,
      "metrics count %d malformed events" % N_CAP)
# One 10 s window normally; a slow (sanitizer) run may span a few.
flood_lines(lines, "flood capture", N_CAP, 8)

# ---- a flood from a live H4 controller ----
N_LIVE = 3000
sock = os.path.join(d, "ctrl.sock")
ctrl = FakeController(sock)


def spew(c):
    for i in range(N_LIVE):
        c.send_event(evt(0x3E, b""))
        if i % 500 == 0:
            c.send_event(le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -50,
                                         IBEACON)]))


ctrl.on_scan_enable = lambda c: threading.Thread(target=spew, args=(c,), daemon=True).start()
prom = os.path.join(d, "live.prom")
lconf = conf("live.conf", base + "[metrics]\ntextfile = %s\ninterval_s = 1\n" % prom)
proc = subprocess.Popen([BEACONGW, "-c", lconf, "--source", "h4:unix:" + sock],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                        env=clean_env(**JOURNAL))
seen = 0
end = time.time() + 60
while time.time() < end and seen < N_LIVE and proc.poll() is None:
    time.sleep(0.2)
    try:
        seen = value(read_metrics(prom), "beacongw_hci_events_malformed_total")
    except (OSError, KeyError):
        pass
check(seen == N_LIVE, "live: all %d malformed events counted (%d)" % (N_LIVE, seen))
proc.send_signal(signal.SIGTERM)
try:
    _, err = proc.communicate(timeout=30)
except subprocess.TimeoutExpired:
    proc.kill()
    _, err = proc.communicate()
check(proc.returncode == 0, "live: SIGTERM, exit 0 (%d)" % proc.returncode)
ctrl.close()
lines = all_prefixed(err, "live flood")
flood_lines(lines, "live flood", N_LIVE, 16)
check(not any("c4:7b:1a:22:e0:0f" in line.lower() for line in lines),
      "no device address logged")
finish()
