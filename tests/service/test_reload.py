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
import threading
import time

from svctest import (BEACONCTL, BEACONGW, BEACONSIM, check, clean_env, ctl, finish, need_tools,
                     read_metrics, skip, sql, tmpdir, value)

import bgwtest  # noqa: E402 (found through svctest's path)

need_tools(BEACONGW, BEACONCTL, BEACONSIM)
try:
    from mqtt_harness import Broker, Subscriber, TempDir
except ImportError:
    skip("python3-paho-mqtt is not installed")

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
d = tmpdir()
db = os.path.join(d, "gw.db")
ctl(db, "init")
ctl(db, "customer", "add", "cust-reload")
ctl(db, "identifier", "add", "cust-reload", "ibeacon", UUID + ":100:1")
ctl(db, "consent", "grant", "cust-reload", "presence")
ctl(db, "consent", "grant", "cust-reload", "retargeting", "--channel", "push")
ctl(db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter", "--channel", "push")
ctl(db, "campaign", "add", "bye", "--zone", "entrance", "--event", "exit", "--channel", "push")

scn = os.path.join(d, "store.scn")
with open(scn, "w") as f:
    f.write("seed 11\nduration 30m\nnoise 1\n"
            "tag alice\n    ibeacon %s:100:1\n    interval 200ms\n    distance 1.5\n" % UUID)
sock = os.path.join(d, "sim.sock")
sim = subprocess.Popen([BEACONSIM, "--scenario", scn, "--listen", "unix:" + sock],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
tmp = TempDir("reload")
broker = Broker(tmp).start()
sub = Subscriber(broker.port, ["beacongw/v1/#"])
proc = None
log = []


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def triggers():
    return [json.loads(m.payload).get("event") for m in sub.messages("trigger")]


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

    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    check(rc == 0, "SIGTERM: exit 0 (%d)" % rc)
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
    sub.close()
    broker.stop()
    tmp.cleanup()
if bgwtest.failures:
    print("daemon log:\n" + "".join(log[-40:]))
finish()
