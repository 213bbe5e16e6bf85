#!/usr/bin/env python3
"""A change that ends consent takes the person's queued triggers out of the
outbox, whoever makes it (issue 13, path 1).

The broker is down while three consented customers walk in: their enter
triggers wait in the outbox (SQLite). Then, while they wait,
`beaconctl consent withdraw cust-a retargeting` and
`beaconctl identifier remove` of cust-b's tag run against the database the
daemon is using. At once, the outbox holds no row of cust-a or cust-b and
still holds cust-c's. The broker comes back: the subscriber (a persistent
session, so it misses nothing of the outage) receives cust-c's trigger and
none of cust-a or cust-b, and the outbox ends empty. The audit rows of the
two changes say how many queued triggers they dropped.

cust-d's trigger was decided for the channels push and sms; while it waits,
cust-d narrows the grant to push alone (`consent grant ... --channel push`,
not a withdrawal, so nothing leaves the outbox then). The publisher's last
look at the channels drops it: a trigger never leaves for a channel the
person no longer allows."""
import json
import os
import time

import e2e
from e2e import (Broker, Gateway, Sim, Subscriber, TempDir, add_consented, check, ctl, fail,
                 finish, query, say, wait_for, write_config)

UUID = "e2e0c1c1-0000-4000-8000-0000000000%02x"
CUSTOMERS = (("cust-a", 0xa), ("cust-b", 0xb), ("cust-c", 0xc), ("cust-d", 0xd))


def scenario():
    out = ["seed 1313", "duration 60s", "noise 2", "sensitivity -85", ""]
    for ref, n in CUSTOMERS:
        out += ["tag %s" % ref, "    ibeacon %s:1:1" % (UUID % n), "    interval 100ms",
                "    txpower -59", "    path 500ms:1 60000ms:1", ""]
    return "\n".join(out) + "\n"


def queued(db):
    rows = query(db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN customers c "
                     "ON c.id = o.customer_id GROUP BY c.customer_ref")
    return dict(rows)


e2e.need_everything()
tmp = TempDir("withdraw-queued")
db = tmp("gw.db")
broker = Broker(tmp, persistence=True).start()
sub = Subscriber(broker.port, [e2e.PREFIX + "/#"], client_id="withdraw-queued-sub",
                 persistent=True)
gw = sim = None
try:
    ctl(db, "init")
    for ref, n in CUSTOMERS:
        add_consented(db, ref, "ibeacon", "%s:1:1" % (UUID % n))
    ctl(db, "consent", "grant", "cust-d", "retargeting", "--channel", "push",
        "--channel", "sms")
    ctl(db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
        "--cooldown", "0")
    broker.stop()        # the subscriber's session and queue persist

    conf = write_config(tmp, db, broker.port, storage={"poll_ms": "200"},
                        presence=dict(e2e.LIVE_PRESENCE), mqtt={"status_interval": "1"})
    sim = Sim(tmp, e2e.bt.write_scenario(tmp("queued.scn"), scenario()), speed=1).start()
    gw = Gateway(tmp, conf, source=sim.spec).start()
    if not gw.ready(30):
        fail("beacongw did not get ready:\n" + gw.text()[-2000:])
    if not wait_for(lambda: set(queued(db)) == {"cust-a", "cust-b", "cust-c", "cust-d"}, 30):
        fail("the enter triggers did not wait in the outbox: %s\n%s"
             % (queued(db), gw.text()[-2000:]))
    say("queued while the broker is down:", queued(db))

    ctl(db, "consent", "withdraw", "cust-a", "retargeting")
    ctl(db, "identifier", "remove", "ibeacon", "%s:1:1" % (UUID % 0xb))
    ctl(db, "consent", "grant", "cust-d", "retargeting", "--channel", "push")
    left = queued(db)
    check("cust-a" not in left, "the withdrawal took cust-a's trigger out of the outbox")
    check("cust-b" not in left, "the identifier removal took cust-b's trigger out of the outbox")
    check(left.get("cust-c", 0) >= 1, "cust-c's trigger still waits: %s" % left)

    audit = {a: json.loads(after or "{}") | json.loads(before or "{}")
             for a, before, after in query(db, "SELECT action, before, after FROM audit "
                                               "WHERE action IN ('consent.withdraw', "
                                               "'identifier.remove')")}
    check(audit.get("consent.withdraw", {}).get("queued_dropped", 0) >= 1,
          "the withdrawal's audit row counts the dropped trigger: %s" % audit)
    check(audit.get("identifier.remove", {}).get("queued_dropped", 0) >= 1,
          "the identifier removal's audit row counts the dropped trigger: %s" % audit)

    broker.start()
    got = lambda ref: [t for t in e2e.triggers(sub) if t.get("customer_ref") == ref]  # noqa
    check(wait_for(lambda: got("cust-c"), 30), "cust-c's queued trigger arrived after the "
          "broker came back")
    check(wait_for(lambda: not queued(db), 20), "the outbox emptied: %s" % queued(db))
    time.sleep(1.0)
    check(gw.stop() == 0, "beacongw stopped cleanly")
    check(not got("cust-a"), "no trigger of cust-a reached the subscriber: %s" % got("cust-a"))
    check(not got("cust-b"), "no trigger of cust-b reached the subscriber: %s" % got("cust-b"))
    check(not got("cust-d"), "no trigger of cust-d for the withdrawn channel sms: %s"
          % got("cust-d"))
    status = json.loads([m for m in sub.received("status")][-1].payload)
    check(status["counts"]["triggers_dropped_consent"] >= 1,
          "the status counts the dropped trigger: %s" % status["counts"])
    check(not queued(db), "no row of anyone is left in the outbox: %s" % queued(db))
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
