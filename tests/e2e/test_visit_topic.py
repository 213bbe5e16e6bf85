#!/usr/bin/env python3
"""Closed visits for the backend ([visits] publish = yes) go through the
durable outbox to <prefix>/<site>/<gateway>/visit and honour the consent
invariant.

The broker is down while three customers make a short visit: cust-a and
cust-b with presence consent, cust-c with retargeting only. The two closed
visits wait in the outbox. `beaconctl consent withdraw cust-a presence`
takes cust-a's out at once. The broker comes back: the subscriber receives
cust-b's visit (valid against docs/schema/visit.schema.json, with zone,
enter, exit, dwell, peak signal and gateway) and nothing of cust-a or
cust-c; the outbox ends empty."""
import json
import os
import time

import e2e
from e2e import (Broker, Gateway, Sim, Subscriber, TempDir, check, ctl, fail, finish, query,
                 say, wait_for, write_config)

UUID = "e2e0d1d1-0000-4000-8000-0000000000%02x"
CUSTOMERS = (("cust-a", 0xa), ("cust-b", 0xb), ("cust-c", 0xc))


def scenario():
    out = ["seed 1717", "duration 60s", "noise 2", ""]
    for ref, n in CUSTOMERS:
        out += ["tag %s" % ref, "    ibeacon %s:1:1" % (UUID % n), "    interval 100ms",
                "    txpower -59", "    path 500ms:1 6000ms:1", ""]
    return "\n".join(out) + "\n"


def queued_visits(db):
    rows = query(db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN customers c "
                     "ON c.id = o.customer_id WHERE o.topic LIKE '%/visit' "
                     "GROUP BY c.customer_ref")
    return dict(rows)


e2e.need_everything()
tmp = TempDir("visit-topic")
db = tmp("gw.db")
broker = Broker(tmp, persistence=True).start()
sub = Subscriber(broker.port, ["#"], client_id="visit-topic-sub", persistent=True)
gw = sim = None
try:
    ctl(db, "init")
    for ref, n in CUSTOMERS:
        ctl(db, "customer", "add", ref)
        ctl(db, "identifier", "add", ref, "ibeacon", "%s:1:1" % (UUID % n))
    ctl(db, "consent", "grant", "cust-a", "presence")
    ctl(db, "consent", "grant", "cust-b", "presence", "--policy", "v3")
    ctl(db, "consent", "grant", "cust-c", "retargeting", "--channel", "push")
    broker.stop()

    conf = write_config(tmp, db, broker.port, storage={"poll_ms": "200"},
                        presence=dict(e2e.LIVE_PRESENCE), mqtt={"status_interval": "1"},
                        visits={"publish": "yes"})
    sim = Sim(tmp, e2e.bt.write_scenario(tmp("visits.scn"), scenario()), speed=1).start()
    gw = Gateway(tmp, conf, source=sim.spec).start()
    if not gw.ready(30):
        fail("beacongw did not get ready:\n" + gw.text()[-2000:])
    if not wait_for(lambda: set(queued_visits(db)) == {"cust-a", "cust-b"}, 40):
        fail("the closed visits did not wait in the outbox: %s\n%s"
             % (queued_visits(db), gw.text()[-2000:]))
    say("visits queued while the broker is down:", queued_visits(db))

    ctl(db, "consent", "withdraw", "cust-a", "presence")
    left = queued_visits(db)
    check("cust-a" not in left, "the withdrawal took cust-a's visit out of the outbox: %s"
          % left)
    check(left.get("cust-b") == 1, "cust-b's visit still waits: %s" % left)

    broker.start()
    got = lambda ref: [json.loads(p) for t, p in sub.messages("visit")  # noqa: E731
                       if json.loads(p).get("customer_ref") == ref]
    check(wait_for(lambda: got("cust-b"), 30), "cust-b's visit arrived after the broker "
          "came back")
    check(wait_for(lambda: not queued_visits(db), 20), "the outbox emptied")
    time.sleep(1.0)
    check(gw.stop() == 0, "beacongw stopped cleanly")
    for v in got("cust-b"):
        e2e.validate(v, "visit", "visit %s" % v)
        check((v["site"], v["gateway"], v["zone"], v["policy"]) == ("s1", "g1", "entrance", "v3"),
              "site, gateway, zone and policy of the visit: %s" % v)
        check(3 <= v["dwell_s"] <= 10, "dwell of about 6 s: %s" % v["dwell_s"])
        check(v["peak_rssi"] is not None and v["peak_rssi"] > -70,
              "peak signal of a tag at 1 m: %s" % v["peak_rssi"])
        check(e2e.ts_seconds(v["exit"]) - e2e.ts_seconds(v["enter"]) >= v["dwell_s"] - 1,
              "enter and exit span the dwell: %s" % v)
    row = query(db, "SELECT v.zone, v.dwell_s FROM visits v JOIN customers c ON "
                    "c.id = v.customer_id WHERE c.customer_ref = 'cust-b'")
    check(len(row) == 1 and row[0][1] == got("cust-b")[0]["dwell_s"],
          "the published visit is the recorded one: %s" % row)
    check(not got("cust-a"), "no visit of cust-a reached the broker")
    check(not got("cust-c"), "no visit of cust-c (no presence consent)")
    blobs = {t: p.encode() for t, p in sub.messages()}
    check(not any(b"cust-a" in b or b"cust-c" in b for b in blobs.values()),
          "neither cust-a nor cust-c appears on any topic")
finally:
    if gw:
        gw.stop()
    if sim:
        sim.stop()
    sub.close()
    broker.stop()
    if not e2e.bt.failures or os.environ.get("BGW_KEEP") is None:
        tmp.cleanup()
finish()
