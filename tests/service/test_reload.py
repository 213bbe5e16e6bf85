#!/usr/bin/env python3
"""SIGHUP reload keeps open visits and the broker session: a live run with
beaconsim (a consented tag standing inside the zone) and a real mosquitto.
After the enter trigger, the configuration file is edited and SIGHUP sent;
while the tag stays, the visit is still open afterwards -- the same single
row in the visits table with no exit time, no second enter trigger and no
exit trigger over MQTT, no reconnect -- and the metrics file follows the
reloaded [metrics] settings. SIGTERM then closes the visit (exit trigger)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest  # noqa: E402
from bgwtest import (BEACONGW, BEACONSIM, PREFIX, BrokerRun, TempDir,  # noqa: E402
                     add_consented, check, clean_env, ctl, finish, need_built, need_mqtt, sql,
                     terminate, wait_for)
from promtext import read_metrics, value  # noqa: E402

need_built("beacongw", "beaconctl", "beaconsim")
need_mqtt()

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
d = TempDir("service", remove_at_exit=True).path
db = os.path.join(d, "gw.db")
ctl(db, "init")
add_consented(db, "cust-reload", "ibeacon", UUID + ":100:1")
ctl(db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter", "--channel", "push")
ctl(db, "campaign", "add", "bye", "--zone", "entrance", "--event", "exit", "--channel", "push")

scn = os.path.join(d, "store.scn")
with open(scn, "w") as f:
    f.write("seed 11\nduration 30m\nnoise 1\n"
            "tag alice\n    ibeacon %s:100:1\n    interval 200ms\n    distance 1.5\n" % UUID)
sock = os.path.join(d, "sim.sock")
sim = subprocess.Popen([BEACONSIM, "--scenario", scn, "--listen", "unix:" + sock],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
run = BrokerRun("reload")
broker = run.start_broker()
sub = run.subscribe([PREFIX + "/#"])
proc = None
log = []


def triggers():
    return [json.loads(pl).get("event") for _, pl in sub.messages("trigger")]


def visits():
    return sql(db, "SELECT entered_at, exited_at IS NULL FROM visits")


def metrics(path):
    try:
        return read_metrics(path)
    except (OSError, KeyError):
        return None


try:
    check(wait_for(lambda: os.path.exists(sock), 10), "beaconsim listens")
    prom1, prom2 = os.path.join(d, "one.prom"), os.path.join(d, "two.prom")
    conf = os.path.join(d, "gw.conf")
    text = ("[gateway]\nsite = s1\nid = g1\nzone = entrance\n[storage]\ndb = %s\n"
            "[mqtt]\nport = %d\nreconnect_min = 1\n[metrics]\ntextfile = %s\ninterval_s = 1\n"
            % (db, broker.port, prom1))
    with open(conf, "w") as f:
        f.write(text)
    proc = subprocess.Popen([BEACONGW, "-c", conf, "--source", "h4:unix:" + sock, "-v"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=clean_env())
    threading.Thread(target=lambda: [log.append(line) for line in proc.stderr],
                     daemon=True).start()

    check(wait_for(lambda: triggers() == ["enter"], 30), "enter trigger (%s)" % triggers())
    check(wait_for(lambda: len(visits()) == 1, 5), "visit row written")
    before = visits()
    check(before and before[0][1] == "1", "the visit is open: %s" % before)
    check(wait_for(lambda: (metrics(prom1) or {}).get("beacongw_mqtt_connected", {})
                   .get("samples", {}).get(()) == 1, 10), "metrics: connected to the broker")
    m = metrics(prom1)
    start_time = value(m, "beacongw_start_time_seconds") if m else None

    # Edit the file (new metrics file, a presence tunable) and reload.
    with open(conf, "w") as f:
        f.write(text.replace(prom1, prom2) + "[presence]\nenter_confirmations = 4\n")
    mark = len(log)
    proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: any("reloading the configuration" in line for line in log[mark:]),
                   10), "SIGHUP: reloading")
    check(wait_for(lambda: any("consent snapshot loaded" in line for line in log[mark:]), 10),
          "SIGHUP: consent snapshot reloaded")
    check(wait_for(lambda: metrics(prom2) is not None, 10), "metrics follow the new textfile")
    # The tag stays for a few more seconds of sightings.
    time.sleep(4)
    check(proc.poll() is None, "still running after SIGHUP")
    check(visits() == before, "visit still open and the same row: %s -> %s" % (before,
                                                                               visits()))
    check(triggers() == ["enter"], "no new enter and no exit trigger: %s" % triggers())
    m = metrics(prom2)
    if m:
        check(value(m, "beacongw_visits_entered_total") == 1, "metrics: one visit entered")
        check(value(m, "beacongw_visits_exited_total") == 0, "metrics: no visit exited")
        check(value(m, "beacongw_mqtt_reconnects_total") == 0 and
              value(m, "beacongw_mqtt_connected") == 1, "broker session kept")
        check(value(m, "beacongw_up") == 1, "metrics: up")
        check(value(m, "beacongw_start_time_seconds") == start_time,
              "the reload did not restart the uptime")
    check(not any("visit exit" in line for line in log), "no visit exit logged")

    rc = terminate(proc, 30)
    check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
    check(wait_for(lambda: triggers() == ["enter", "exit"], 10),
          "the stop closes the visit: exit trigger (%s)" % triggers())
    after = visits()
    check(len(after) == 1 and after[0][0] == before[0][0] and after[0][1] == "0",
          "the visit row is closed at the stop: %s" % after)
    m = metrics(prom2)
    check(m and value(m, "beacongw_up") == 0, "metrics: up 0 after the stop")
finally:
    if proc and proc.poll() is None:
        proc.kill()
    sim.terminate()
    sim.wait(timeout=10)
    run.close()
if bgwtest.failures:
    print("daemon log:\n" + "".join(log[-40:]))
finish()
