#!/usr/bin/env python3
"""Health metrics ([metrics] textfile): the file parses as Prometheus text
(a strict parser, itself checked on broken texts first), is replaced
atomically with mode 0644 whatever the umask, holds no customer or device
identifier, and its counters agree with the run:
  - a --once replay of tests/data/legacy.btsnoop: reports_total equals the
    reports in the capture (its reviewed --dump output), decoded those with
    a beacon frame;
  - a beaconsim capture replayed with a real mosquitto and a consented
    customer: visits and triggers agree with the database and with what the
    broker delivered.
Bad [metrics] settings are refused with exit 78."""
import json
import os
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest  # noqa: E402
from bgwtest import (BEACONGW, BEACONSIM, PREFIX, SOURCE, BrokerRun, TempDir,  # noqa: E402
                     add_consented, check, ctl, finish, missing_mqtt, need_built, run_beacongw,
                     skip, sql, wait_for, write_config, write_file)
from promtext import PromError, parse_prom, read_metrics, value  # noqa: E402

need_built("beacongw", "beaconctl")
d = TempDir("service", remove_at_exit=True).path


def skip_rest(reason):
    """The first part passed (or failed: then say so); the rest cannot run."""
    if bgwtest.failures:
        finish()
    skip(reason + ": the broker part did not run")

# ---- the parser is strict ----
GOOD = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
for bad in (GOOD[:-1],                                              # no final newline
            GOOD + "a_total 2\n",                                   # duplicate sample
            "a_total 1\n",                                          # no HELP/TYPE
            "# HELP a A.\n# TYPE a counter\na 1\n",                 # counter without _total
            "# HELP a_total A.\n# TYPE a_total counter\na_total -1\n",
            "# HELP g G.\n# TYPE g gauge\ng{x=\"1\",} 1\n",         # trailing comma
            "# HELP g G.\n# TYPE g gauge\ng{x=\"a\\q\"} 1\n",       # bad escape
            "# HELP g G.\n# TYPE g gauge\ng one\n",                 # not a number
            "# HELP g G.\n# TYPE g gauge\n# TYPE g gauge\ng 1\n",   # TYPE twice
            "# HELP g G.\n# TYPE g gauge\ng 1\n# HELP h H.\n# TYPE h gauge\nh 1\ng 2\n",
            "# HELP g G.\n# TYPE g gauge\n\ng 1\n",                 # empty line
            "# HELP g G.\n# TYPE g meter\ng 1\n"):                  # unknown type
    try:
        parse_prom(bad)
        check(False, "the parser accepts %r" % bad)
    except PromError:
        pass
check(value(parse_prom('# HELP g G.\n# TYPE g gauge\ng{b="x\\"y",a="1"} 2.5\n'), "g",
            a="1", b='x"y') == 2.5, "the parser reads labels")


def write_conf(name, text):
    return write_file(os.path.join(d, name), text)


def beacongw(args, timeout=60, umask=None):
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return run_beacongw(args, timeout=timeout, preexec_fn=pre)


# ---- bad settings ----
db = os.path.join(d, "gw.db")
ctl(db, "init")
for bad, word in (("textfile = %s/beacongw.txt\n" % d, ".prom"),
                  ("textfile = %s/\n" % d, ".prom"),
                  ("textfile = .prom\n", ".prom"),
                  ("interval_s = 0\n", "interval_s"),
                  ("interval_s = 3601\n", "interval_s"),
                  ("port = 9464\n", "port")):
    conf = write_conf("bad.conf", "[storage]\ndb = %s\n[metrics]\n%s" % (db, bad))
    p = beacongw(["-c", conf, "--check-config"])
    check(p.returncode == 78 and word in p.stderr,
          "[metrics] %s refused with 78 (got %d: %s)" % (bad.strip(), p.returncode, p.stderr))

# ---- legacy.btsnoop, --once: counters agree with the capture ----
legacy = os.path.join(SOURCE, "tests", "data", "legacy.btsnoop")
reports = [json.loads(line) for line in open(os.path.join(SOURCE, "tests", "data",
                                                          "legacy.jsonl"))]
mdir = os.path.join(d, "textfile")
os.mkdir(mdir)
prom = os.path.join(mdir, "beacongw.prom")
conf = write_conf("legacy.conf", "[storage]\ndb = %s\n[mqtt]\nport = 1\n"
                  "[metrics]\ntextfile = %s\ninterval_s = 1\n" % (db, prom))
p = beacongw(["-c", conf, "--source", "btsnoop:" + legacy, "--once"], umask=0o077)
check(p.returncode == 0, "legacy --once: exit 0 (got %d: %s)" % (p.returncode, p.stderr))
check(os.listdir(mdir) == ["beacongw.prom"],
      "only the metrics file is left in its directory: %s" % os.listdir(mdir))
mode = stat.S_IMODE(os.stat(prom).st_mode)
check(mode == 0o644, "metrics file mode 0644 under umask 077 (got %o)" % mode)
try:
    m = read_metrics(prom)
except PromError as e:
    check(False, "metrics file is not valid Prometheus text: %s" % e)
    finish()
check(all(n.startswith("beacongw_") for n in m), "every metric is beacongw_*")
check(value(m, "beacongw_reports_total") == len(reports),
      "reports_total %s == %d reports in the capture" % (value(m, "beacongw_reports_total"),
                                                        len(reports)))
decoded = sum(1 for r in reports if r.get("beacons"))
check(value(m, "beacongw_reports_decoded_total") == decoded,
      "reports_decoded_total == %d reports with a beacon frame (got %s)" %
      (decoded, value(m, "beacongw_reports_decoded_total")))
check(value(m, "beacongw_reports_consented_total") == 0, "nobody consented")
check(value(m, "beacongw_up") == 0, "beacongw_up 0 after the run ended")
check(value(m, "beacongw_build_info", version=subprocess.run(
    [BEACONGW, "--version"], capture_output=True, text=True).stdout.split()[1]) == 1,
      "build_info carries the version")
check(value(m, "beacongw_gateway_info", site="site", gateway="gw", zone="entrance") == 1,
      "gateway_info carries the gateway's names")
check(value(m, "beacongw_hci_events_malformed_total") == 0, "no malformed events in legacy")
check(value(m, "beacongw_last_error") == 1, "broker unreachable: last_error flag set")
for fam in ("triggers_total", "triggers_queued_total", "triggers_sent_total",
            "triggers_dropped_total", "outbox_depth", "visits_entered_total",
            "uptime_seconds", "mqtt_connected", "mqtt_reconnects_total"):
    check("beacongw_" + fam in m, "beacongw_%s present" % fam)
check(value(m, "beacongw_watchdog_steps_total", action="rescan") == 0 and
      value(m, "beacongw_watchdog_steps_total", action="reset") == 0, "watchdog steps")
text = open(prom).read().lower()
for r in reports:
    check(r["addr"].lower() not in text, "no device address in the metrics")
    for b in r.get("beacons", []):
        if "uuid" in b:
            check(b["uuid"] not in text, "no beacon id in the metrics")

# ---- a consented customer through a real broker ----
why = missing_mqtt()
if why:
    skip_rest(why)
if not os.access(BEACONSIM, os.X_OK):
    skip_rest("beaconsim is not built")

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
db2 = os.path.join(d, "store.db")
ctl(db2, "init")
add_consented(db2, "cust-metrics", "ibeacon", UUID + ":100:1")
ctl(db2, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter", "--channel",
    "push")
ctl(db2, "campaign", "add", "bye", "--zone", "entrance", "--event", "exit", "--channel", "push")
scn = write_conf("store.scn", """seed 5
duration 120s
noise 2
tag alice
    ibeacon %s:100:1
    interval 500ms
    path 0s:20 10s:1.5 60s:1.5 70s:40
crowd shoppers
    count 6
    dwell 20s..60s
""" % UUID)
cap = os.path.join(d, "store.btsnoop")
p = subprocess.run([BEACONSIM, "--scenario", scn, "--btsnoop", cap, "--start-time",
                    str(int(time.time()))], capture_output=True, text=True, timeout=60)
check(p.returncode == 0, "beaconsim wrote the capture (%s)" % p.stderr)
dump = beacongw(["-c", conf, "--source", "btsnoop:" + cap, "--dump"])
n_reports = len(dump.stdout.splitlines())
check(dump.returncode == 0 and n_reports > 100, "--dump of the capture: %d reports" % n_reports)

with BrokerRun("metrics") as run:
    broker = run.start_broker()
    sub = run.subscribe([PREFIX + "/#"])
    prom2 = os.path.join(mdir, "store.prom")
    conf = write_config(run.tmp, db2, broker.port, name="store.conf", plain=True,
                        metrics={"textfile": prom2})
    p = beacongw(["-c", conf, "--source", "btsnoop:" + cap, "--once"], timeout=120)
    check(p.returncode == 0, "store --once: exit 0 (got %d: %s)" % (p.returncode, p.stderr))
    wait_for(lambda: len(sub.messages("trigger")) >= 2, 10)
    triggers = [json.loads(pl) for _, pl in sub.messages("trigger")]
m = read_metrics(prom2)
check(value(m, "beacongw_reports_total") == n_reports,
      "reports_total %s == %d reports (--dump)" % (value(m, "beacongw_reports_total"), n_reports))
check(value(m, "beacongw_reports_consented_total") > 0, "consented reports counted")
visits = sql(db2, "SELECT exited_at IS NOT NULL FROM visits")
check(len(visits) == 1, "one visit row (%s)" % visits)
check(value(m, "beacongw_visits_entered_total") == len(visits) and
      value(m, "beacongw_visits_exited_total") == len(visits),
      "visits entered/exited agree with the database")
check([t.get("event") for t in triggers] == ["enter", "exit"],
      "enter and exit triggers delivered: %s" % [t.get("event") for t in triggers])
for fam in ("triggers_total", "triggers_queued_total", "triggers_sent_total"):
    check(value(m, "beacongw_" + fam) == len(triggers),
          "%s %s == %d triggers delivered" % (fam, value(m, "beacongw_" + fam), len(triggers)))
check(value(m, "beacongw_triggers_dropped_total") == 0, "nothing dropped")
check(value(m, "beacongw_outbox_depth") == 0, "outbox empty")
check(value(m, "beacongw_last_error") == 0, "no error")
text = open(prom2).read()
check("cust-metrics" not in text and UUID not in text.lower(), "no customer identifier")
finish()
