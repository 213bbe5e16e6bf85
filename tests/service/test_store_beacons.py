#!/usr/bin/env python3
"""The store's beacons as a fleet, end to end: beaconctl registers four of
them (a TLM-only beacon by address, an iBeacon with TLM and a weak battery,
an Eddystone-URL poster that is taken down after 90 s, an Eddystone-UID that
never shows up); beaconsim plays the store; beacongw replays it with a real
mosquitto. What an operator sees:
  - on the beacons topic, kind "store" messages per beacon with its name,
    place, battery, temperature, last sighting and status: ok, low_battery,
    missing ([beacons] missing_after_s after the last sighting, or after the
    start for one never heard);
  - the same in the metrics file, with footfall, triggers per campaign,
    enrolled and consented customers;
  - registered beacons are not visitors (no footfall from them).
Then the operator's files: every query of the Grafana dashboard names a
metric this run wrote, and the Prometheus alert rules pass promtool (check rules,
and test rules with tests/service/beacongw-alerts.test.yml)."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (BEACONSIM, PREFIX, SOURCE, BrokerRun, TempDir, add_consented,  # noqa: E402
                     check, ctl, finish, missing_mqtt, need_built, run_beacongw, skip,
                     wait_for, write_config, write_file)
from promtext import PromError, read_metrics  # noqa: E402

need_built("beacongw", "beaconctl", "beaconsim")
why = missing_mqtt()
if why:
    skip(why)
d = TempDir("fleet", remove_at_exit=not os.environ.get("BGW_KEEP")).path
print("work directory:", d)

TILL_ADDR = "C0:FF:EE:00:00:01"
DOOR = "f7826da6-4fa2-4e98-8024-bc5b71e0893e:7:9"
URL = "https://example.com/sale"
GHOST = "00112233445566778899:0000000000aa"
CUSTOMER = "f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:1"

db = os.path.join(d, "store.db")
ctl(db, "init")
ctl(db, "beacon", "add", "till", "tlm", TILL_ADDR, "--place", "till 2, ceiling")
ctl(db, "beacon", "add", "door", "ibeacon", DOOR.upper(), "--place", "front door")
ctl(db, "beacon", "add", "poster", "eddystone-url", URL, "--place", "window")
ctl(db, "beacon", "add", "ghost", "eddystone-uid", GHOST, "--place", "stock room")
listed = json.loads(ctl(db, "--json", "beacon", "list").stdout)
check([b["name"] for b in listed] == ["door", "ghost", "poster", "till"] and
      listed[0]["value"] == DOOR, "beacon list: %s" % listed)
add_consented(db, "cust-fleet", "ibeacon", CUSTOMER)
ctl(db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter")

scn = write_file(os.path.join(d, "store.scn"), """seed 7
duration 200s
tag till
    tlm 3010 22.0
    address %s public
    interval 2s
    distance 3
tag door
    ibeacon %s
    tlm 2300 18.5
    tlm-every 3
    interval 1s
    distance 4
tag poster
    eddystone-url %s
    interval 1s
    path 0s:3 90s:3
tag alice
    ibeacon %s
    interval 500ms
    path 5s:20 10s:1.5 60s:1.5 70s:40
crowd shoppers
    count 12
    dwell 20s..60s
""" % (TILL_ADDR, DOOR, URL, CUSTOMER))
cap = os.path.join(d, "store.btsnoop")
# Sightings after the consents were granted (consent counts at event time).
start = int(time.time()) + 1
p = subprocess.run([BEACONSIM, "--scenario", scn, "--btsnoop", cap, "--start-time", str(start)],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 0, "beaconsim wrote the capture (%s)" % p.stderr)

prom = os.path.join(d, "beacongw.prom")
with BrokerRun("fleet") as run:
    broker = run.start_broker()
    sub = run.subscribe([PREFIX + "/#"])
    conf = write_config(run.tmp, db, broker.port, name="fleet.conf", plain=True,
                        metrics={"textfile": prom, "interval_s": "1"},
                        beacons={"missing_after_s": "60", "health_interval_s": "30"},
                        footfall={"period_s": "60", "min_count": "1"})
    p = run_beacongw(["-c", conf, "--source", "btsnoop:" + cap, "--once"], timeout=120)
    check(p.returncode == 0, "--once: exit 0 (got %d: %s)" % (p.returncode, p.stderr[-500:]))
    wait_for(lambda: any('"missing"' in pl for _, pl in sub.messages("beacons")), 10)
    msgs = [json.loads(pl) for _, pl in sub.messages("beacons")]

store = [m for m in msgs if m.get("kind") == "store"]
by_name = {}
for m in store:
    by_name.setdefault(m["name"], []).append(m)
check(set(by_name) == {"till", "door", "poster", "ghost"},
      "a message for every registered beacon: %s" % sorted(by_name))


def last(name):
    return by_name.get(name, [{}])[-1]


till = last("till")
check(till.get("status") == "ok" and till.get("battery_mv") == 3010 and
      till.get("temperature_c") == 22.0 and till.get("place") == "till 2, ceiling" and
      till.get("type") == "tlm" and till.get("address") == TILL_ADDR,
      "TLM-only till beacon: ok, 3010 mV, 22.0 C: %s" % till)
door = last("door")
check(door.get("status") == "low_battery" and door.get("battery_mv") == 2300 and
      door.get("type") == "ibeacon", "iBeacon with a weak battery: low_battery: %s" % door)
poster = by_name.get("poster", [])
check(poster and poster[0].get("status") == "ok" and poster[-1].get("status") == "missing",
      "URL poster taken down at 90 s: ok, then missing: %s" %
      [m.get("status") for m in poster])
ghost = last("ghost")
check(ghost.get("status") == "missing" and ghost.get("last_seen") is None,
      "never heard: missing, last_seen null: %s" % ghost)
for m in store:
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", m["ts"] or ""), "ts format")

# The schema the backend validates against.
try:
    import jsonschema
    schema = json.load(open(os.path.join(SOURCE, "docs", "schema", "beacons.schema.json")))
    for m in msgs:
        jsonschema.validate(m, schema)
except ImportError:
    check(False, "python3-jsonschema is not installed")
except jsonschema.ValidationError as e:
    check(False, "a beacons message breaks docs/schema/beacons.schema.json: %s" % e.message)

# ---- metrics ----
try:
    mt = read_metrics(prom)
except PromError as e:
    check(False, "metrics file is not valid Prometheus text: %s" % e)
    finish()


def value(fams, metric, **labels):
    return fams.get(metric, {}).get("samples", {}).get(tuple(sorted(labels.items())))


def beacon_metric(name, metric):
    b = {"till": ("till 2, ceiling", "tlm"), "door": ("front door", "ibeacon"),
         "poster": ("window", "eddystone-url"), "ghost": ("stock room", "eddystone-uid")}[name]
    key = tuple(sorted({"name": name, "place": b[0], "type": b[1]}.items()))
    return mt.get(metric, {}).get("samples", {}).get(key)


check(beacon_metric("till", "beacongw_store_beacon_battery_millivolts") == 3010, "till battery")
check(beacon_metric("till", "beacongw_store_beacon_temperature_celsius") == 22.0, "till temp")
check(beacon_metric("till", "beacongw_store_beacon_up") == 1, "till up")
check(beacon_metric("door", "beacongw_store_beacon_low_battery") == 1, "door low battery")
check(beacon_metric("poster", "beacongw_store_beacon_up") == 0, "poster missing")
check(beacon_metric("ghost", "beacongw_store_beacon_up") == 0, "ghost missing")
check(beacon_metric("till", "beacongw_store_beacon_last_seen_seconds") >= start + 190,
      "till last seen near the end of the capture")
check(value(mt, "beacongw_store_beacons", status="missing") == 2 and
      value(mt, "beacongw_store_beacons", status="low_battery") == 1 and
      value(mt, "beacongw_store_beacons", status="ok") == 1, "beacons by status")
check(value(mt, "beacongw_customers_enrolled") == 1, "one customer enrolled")
check(value(mt, "beacongw_customers_consented", purpose="presence") == 1 and
      value(mt, "beacongw_customers_consented", purpose="retargeting") == 1,
      "consent state: presence and retargeting")
check(value(mt, "beacongw_campaign_triggers_total", campaign="hello") == 1 ==
      value(mt, "beacongw_triggers_total", **{}),
      "triggers per campaign: hello 1 (got %s, triggers_total %s)" %
      (value(mt, "beacongw_campaign_triggers_total", campaign="hello"), value(mt, "beacongw_triggers_total")))
check(value(mt, "beacongw_footfall_periods_total", zone="entrance") >= 2, "footfall periods")
foot = value(mt, "beacongw_footfall_devices", zone="entrance")
check(foot is not None and foot <= 12, "footfall devices %s: the shoppers only, never the "
      "store's beacons" % foot)

# ---- what the operator installs: dashboard and alert rules ----
written = set(mt)
dash = json.load(open(os.path.join(SOURCE, "packaging", "monitoring",
                                   "beacongw-dashboard.json")))
exprs = []


def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            exprs.append(o["expr"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)


walk(dash)
check(len(exprs) >= 8, "the dashboard has queries (%d)" % len(exprs))
for e in exprs:
    names = set(re.findall(r"\b(beacongw_[a-z0-9_]+)", e))
    check(names, "query names a beacongw metric: %s" % e)
    for n in names:
        check(n in written, "dashboard query %r names %s, which the run did not write" % (e, n))
rules = os.path.join(SOURCE, "packaging", "monitoring", "beacongw-alerts.yml")
for n in set(re.findall(r"\b(beacongw_[a-z0-9_]+)", open(rules).read())):
    check(n in written, "alert rules name %s, which the run did not write" % n)
promtool = shutil.which("promtool")
if not promtool:
    check(False, "promtool is not installed (Debian package prometheus)")
else:
    p = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
    check(p.returncode == 0, "promtool check rules: %s%s" % (p.stdout, p.stderr))
    # Each alert fires on what it names, with its labels and text, and not before.
    p = subprocess.run([promtool, "test", "rules", os.path.join(
        SOURCE, "tests", "service", "beacongw-alerts.test.yml")], capture_output=True, text=True)
    check(p.returncode == 0, "promtool test rules: %s%s" % (p.stdout[-2000:], p.stderr))
finish()
