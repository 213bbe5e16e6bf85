#!/usr/bin/env python3
"""A broker outage loses no store-beacon alert. beaconsim plays a store live,
beacongw drives it and publishes to a real mosquitto, which is stopped for
30 s and started again. While it is down, four status changes happen: a
beacon never heard goes missing, the window poster is taken down (missing)
and put back (ok), and the door beacon is first heard, and its first TLM
says its battery is weak (low_battery). After the restart the backend receives every one of them,
in order per beacon, each stamped with the time it happened (inside the
outage) and marked delivered_late with how long it waited."""
import calendar
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (PREFIX, Broker, Gateway, Sim, Subscriber, TempDir, check,  # noqa: E402
                     ctl, finish, need, need_binaries, say, schema_error, wait_for,
                     write_config, write_file)

need_binaries()
tmp = TempDir("beacon-outage", remove_at_exit=not os.environ.get("BGW_KEEP"))
TILL = "C0:FF:EE:00:20:01"
DOOR = "f7826da6-4fa2-4e98-8024-bc5b71e0893e:7:9"
POSTER = "https://example.com/sale"
GHOST = "00112233445566778899:0000000000aa"

db = tmp("store.db")
ctl(db, "init")
ctl(db, "beacon", "add", "till", "tlm", TILL, "--place", "till 2")
ctl(db, "beacon", "add", "door", "ibeacon", DOOR, "--place", "front door")
ctl(db, "beacon", "add", "poster", "eddystone-url", POSTER, "--place", "window")
ctl(db, "beacon", "add", "ghost", "eddystone-uid", GHOST, "--place", "stock room")

# Seconds from the start: broker down 5..35; door first heard at 8 (within
# missing_after_s of the start, so never missing), ghost missing at ~11,
# poster gone at 12 (missing at ~22) and back at 30.
scn = write_file(tmp("store.scn"), """seed 3
duration 90s
tag till
    tlm 3010 22.0
    address %s public
    interval 1s
    distance 3
tag poster
    eddystone-url %s
    interval 500ms
    path 0s:3 12s:3
tag poster-back
    eddystone-url %s
    interval 500ms
    path 30s:3 90s:3
tag door
    ibeacon %s
    tlm 2300 18.5
    tlm-every 2
    interval 500ms
    path 8s:4 90s:4
""" % (TILL, POSTER, POSTER, DOOR))

broker = Broker(tmp, persistence=True).start()
sub = Subscriber(broker.port, [PREFIX + "/+/+/beacons"], client_id="beacon-outage-sub",
                 persistent=True)
# Periodic readings only once in 10 min: every message seen here is a change.
conf = write_config(tmp, db, broker.port,
                    beacons={"missing_after_s": "10", "health_interval_s": "600"},
                    outbox={"late_after": "2"})
sim = Sim(tmp, scn, once=True).start()
gw = Gateway(tmp, conf, source=sim.spec).start()
try:
    need(gw.ready(20), "beacongw did not start: %s" % gw.text()[-800:])
    t0 = time.time()
    need(wait_for(lambda: len(sub.messages("beacons")) >= 2, 5),
         "till and poster reported ok before the outage: %s" % sub.messages("beacons"))
    time.sleep(max(0.0, t0 + 5 - time.time()))
    broker.stop()
    down = time.time()
    say("broker stopped")
    time.sleep(max(0.0, t0 + 35 - time.time()))
    broker.start()
    up = time.time()
    say("broker started again")

    def arrived():
        by = {}
        for _, pl in sub.messages("beacons"):
            m = json.loads(pl)
            by.setdefault(m.get("name"), []).append(m)
        return by
    # The scenario runs on past this: till is never missing here.
    wait_for(lambda: len(arrived().get("poster", [])) >= 3 and "ghost" in arrived() and
             "door" in arrived(), 30, step=0.2)
    sim.stop()
    rc = gw.stop()
    check(rc == 0, "beacongw exit status %s" % rc)
finally:
    gw.close()
    sim.stop()
    sub.close()
    broker.stop()


def statuses(msgs):
    """Status sequence, a redelivered (QoS 1) duplicate counted once."""
    out, seen = [], set()
    for m in msgs:
        key = (m["ts"], m["status"])
        if key not in seen:
            seen.add(key)
            out.append(m["status"])
    return out


def epoch(ts):
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000


by = arrived()
for m in (m for ms in by.values() for m in ms):
    check(m.get("kind") == "store", "only store beacon messages: %s" % m)
check(statuses(by.get("till", [])) == ["ok"], "till: ok once: %s" % statuses(by.get("till", [])))
check(statuses(by.get("poster", [])) == ["ok", "missing", "ok"],
      "poster: ok, missing, ok (taken down and put back during the outage): %s" %
      statuses(by.get("poster", [])))
check(statuses(by.get("ghost", [])) == ["missing"],
      "ghost, never heard: missing: %s" % statuses(by.get("ghost", [])))
# ok from its first iBeacon frame until its first TLM, if that comes second.
check(statuses(by.get("door", [])) in (["low_battery"], ["ok", "low_battery"]),
      "door, first heard during the outage: low_battery: %s" % statuses(by.get("door", [])))
# The changes made while the broker was down: stamped when they happened,
# delivered late, with how long they waited.
during = [m for name in ("ghost", "door", "poster") for m in by.get(name, [])
          if down <= epoch(m["ts"]) <= up]
check({(m["name"], m["status"]) for m in during} >=
      {("ghost", "missing"), ("door", "low_battery"), ("poster", "missing"), ("poster", "ok")},
      "the changes are stamped inside the outage: %s" %
      [(m["name"], m["status"], m["ts"]) for m in during])
for m in during:
    check(m.get("delivered_late") is True and m.get("queued_s", 0) >= 2,
          "%s %s: delivered_late with queued_s: %s" % (m["name"], m["status"], m))
# What the backend validates against, late fields included.
for m in (m for ms in by.values() for m in ms):
    why = schema_error(m, "beacons", required=True)
    check(why is None, "docs/schema/beacons.schema.json refuses %s: %s" % (m, why))
finish()
