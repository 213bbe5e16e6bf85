#!/usr/bin/env python3
"""Applying a CRM export with `beaconctl import --sync` ends consent the way
`beaconctl consent withdraw` does: the person's queued triggers leave the
outbox in the same transaction, so none is published afterwards.

The broker is down while three consented customers walk in: their enter
triggers wait in the outbox. Then, while they wait, the CRM's export is
applied with `import --sync`: it no longer lists cust-a (every consent of
theirs is withdrawn, the customer is kept) and gives cust-b presence only
(retargeting withdrawn); cust-c is unchanged. The summary line says so
(0 added, 2 changed, 3 withdrawn, 1 unchanged), the outbox at once holds
cust-c's trigger only, and once the broker is back the subscriber (a
persistent session) receives cust-c's trigger and none of cust-a or cust-b.
A second run of the same export changes nothing."""
import os
import time

import e2e
from e2e import (Broker, Gateway, Sim, Subscriber, TempDir, add_consented, check, ctl, fail,
                 finish, query, say, wait_for, write_config)

UUID = "e2e0c1c1-0000-4000-8000-0000000001%02x"
CUSTOMERS = (("cust-a", 0xa), ("cust-b", 0xb), ("cust-c", 0xc))


def scenario():
    out = ["seed 1414", "duration 60s", "noise 2", "sensitivity -85", ""]
    for ref, n in CUSTOMERS:
        out += ["tag %s" % ref, "    ibeacon %s:1:1" % (UUID % n), "    interval 100ms",
                "    txpower -59", "    path 500ms:1 60000ms:1", ""]
    return "\n".join(out) + "\n"


def queued(db):
    rows = query(db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN customers c "
                     "ON c.id = o.customer_id GROUP BY c.customer_ref")
    return dict(rows)


e2e.need_everything()
tmp = TempDir("import-sync-queued")
db = tmp("gw.db")
crm = tmp("crm.csv")
with open(crm, "w") as f:
    f.write("customer_ref,identifiers,consents,segments\n"
            "cust-b,ibeacon %s:1:1,presence,\n"
            "cust-c,ibeacon %s:1:1,presence;retargeting@push,\n" % (UUID % 0xb, UUID % 0xc))
broker = Broker(tmp, persistence=True).start()
sub = Subscriber(broker.port, [e2e.PREFIX + "/#"], client_id="import-sync-sub",
                 persistent=True)
gw = sim = None
try:
    ctl(db, "init")
    for ref, n in CUSTOMERS:
        add_consented(db, ref, "ibeacon", "%s:1:1" % (UUID % n))
    ctl(db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
        "--cooldown", "0")
    broker.stop()        # the subscriber's session and queue persist

    conf = write_config(tmp, db, broker.port, storage={"poll_ms": "200"},
                        presence=dict(e2e.LIVE_PRESENCE), mqtt={"status_interval": "1"})
    sim = Sim(tmp, e2e.bt.write_scenario(tmp("queued.scn"), scenario()), speed=1).start()
    gw = Gateway(tmp, conf, source=sim.spec).start()
    if not gw.ready(30):
        fail("beacongw did not get ready:\n" + gw.text()[-2000:])
    if not wait_for(lambda: set(queued(db)) == {"cust-a", "cust-b", "cust-c"}, 30):
        fail("the enter triggers did not wait in the outbox: %s\n%s"
             % (queued(db), gw.text()[-2000:]))
    say("queued while the broker is down:", queued(db))

    out = ctl(db, "import", "--sync", crm).stdout
    say(out.strip())
    check("0 added, 2 changed, 3 withdrawn, 1 unchanged" in out,
          "the summary counts what the export changed: %s" % out.strip())
    left = queued(db)
    check("cust-a" not in left, "the sync took the unlisted cust-a's trigger out: %s" % left)
    check("cust-b" not in left, "the sync took cust-b's trigger out with its retargeting: %s"
          % left)
    check(left.get("cust-c", 0) >= 1, "cust-c's trigger still waits: %s" % left)
    kept = [r for (r,) in query(db, "SELECT customer_ref FROM customers ORDER BY 1")]
    check(kept == ["cust-a", "cust-b", "cust-c"], "withdrawn, not deleted: %s" % kept)

    broker.start()
    got = lambda ref: [t for t in e2e.triggers(sub) if t.get("customer_ref") == ref]  # noqa
    check(wait_for(lambda: got("cust-c"), 30), "cust-c's queued trigger arrived after the "
          "broker came back")
    check(wait_for(lambda: not queued(db), 20), "the outbox emptied: %s" % queued(db))
    again = ctl(db, "import", "--sync", crm).stdout
    check("0 added, 0 changed, 0 withdrawn, 2 unchanged" in again,
          "the same export again changes nothing: %s" % again.strip())
    time.sleep(1.0)
    check(gw.stop() == 0, "beacongw stopped cleanly")
    check(not got("cust-a"), "no trigger of cust-a reached the subscriber: %s" % got("cust-a"))
    check(not got("cust-b"), "no trigger of cust-b reached the subscriber: %s" % got("cust-b"))
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
