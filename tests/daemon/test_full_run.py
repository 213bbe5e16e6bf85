#!/usr/bin/env python3
"""The full run on a replay: a real database made with beaconctl, a real
mosquitto on a free loopback port, `beacongw --once` over a capture in
which a consented customer lingers and a non-consented one passes by.
The consented customer's visit is recorded and the enter trigger arrives
over MQTT; nothing about the other one (address, iBeacon id) reaches the
database, the logs or the broker. Also --check-config with the database."""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (PREFIX, STATUS_TOPIC, TRIGGER_TOPIC, Broker, Subscriber,  # noqa: E402
                     TempDir, add_consented, check, ctl, finish, need_built, need_mqtt,
                     run_beacongw, schema_error, sql, wait_for, write_config)
from hcitest import IBEACON, btsnoop_h4, le_adv_report  # noqa: E402

need_built("beaconctl")
need_mqtt()

tmp = TempDir("daemon")
d = tmp.path
db = tmp("gw.db")

# Canary: the passer-by's iBeacon (enrolled, but never consented) and address.
CANARY_UUID = "c0ffee00-dead-beef-0000-5ca1ab1e0001"
CANARY_ADDR = "D3:AD:BE:EF:00:01"
canary_frame = bytes.fromhex("0201061aff4c000215" + CANARY_UUID.replace("-", "") + "0007000dc5")

ctl(db, "init")
add_consented(db, "cust-yes", "ibeacon", "b9407f30-f5f8-466e-aff9-25556b57fe6d:12345:54321")
ctl(db, "customer", "add", "cust-no")
ctl(db, "identifier", "add", "cust-no", "ibeacon", CANARY_UUID + ":7:13")
ctl(db, "campaign", "add", "welcome", "--zone", "entrance", "--event", "enter", "--channel",
    "push")

broker = Broker(tmp).start()
try:
    sub = Subscriber(broker.port, [PREFIX + "/#"])
    conf = write_config(tmp, db, broker.port, plain=True)

    # 90 s in the zone for cust-yes; the passer-by shows up in between.
    t0 = int(time.time() * 1e6) + 2_000_000
    pk = []
    for i in range(90):
        reps = [("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -55, IBEACON)]
        if 10 <= i < 40:
            reps.append(("adv_nonconn_ind", 1, CANARY_ADDR, -50, canary_frame))
        pk.append((0x04, le_adv_report(reps)))
    cap = os.path.join(d, "store.btsnoop")
    btsnoop_h4(cap, pk, t0_us=t0, step_us=1_000_000)

    p = run_beacongw(["-c", conf, "--check-config"])
    check(p.returncode == 0, "--check-config with the database: exit 0 (%s)" % p.stderr)

    p = run_beacongw(["-c", conf, "--source", "btsnoop:" + cap, "--once", "-v"], timeout=60)
    check(p.returncode == 0, "--once: exit 0 (got %d: %s)" % (p.returncode, p.stderr[-800:]))
    wait_for(lambda: sub.messages("trigger"), 5)
    sub.close()
finally:
    broker.stop()
received = sub.messages()

triggers = [json.loads(pl) for t, pl in received if t == TRIGGER_TOPIC]
check(len(triggers) == 1, "one enter trigger published (got %d)" % len(triggers))
if triggers:
    check(triggers[0].get("customer_ref") == "cust-yes", "trigger for cust-yes")
    check(triggers[0].get("event") == "enter", "enter event")
status = [pl for t, pl in received if t == STATUS_TOPIC]
check(status and json.loads(status[-1]).get("online") is False or
      (status and "offline" in status[-1]), "status offline at the end")

# Every payload matches its documented schema.
try:
    import jsonschema
except ImportError:
    jsonschema = None
if jsonschema:
    for leaf in ("trigger", "status"):
        for t, pl in received:
            if t.endswith("/" + leaf):
                why = schema_error(json.loads(pl), leaf)
                check(why is None, "%s payload invalid: %s" % (leaf, why))

rows = ["|".join(r) for r in sql(db, "SELECT c.customer_ref, v.zone, v.exited_at IS NOT NULL, "
                                     "v.dwell_s FROM visits v JOIN customers c ON "
                                     "c.id = v.customer_id")]
check(len(rows) == 1 and rows[0].startswith("cust-yes|entrance|1|"), "one closed visit: %s" % rows)

everything = open(db, "rb").read()
for f in os.listdir(d):
    if f.startswith("gw.db-"):
        everything += open(os.path.join(d, f), "rb").read()
logs = p.stderr
published = "".join(pl for _, pl in received)
for what, blob in (("database", everything.hex()), ("log", logs.lower()),
                   ("mqtt", published.lower())):
    check(CANARY_ADDR.replace(":", "").lower() not in blob.replace(":", "").lower(),
          "passer-by's address not in the %s" % what)
wire = bytes(reversed(bytes.fromhex(CANARY_ADDR.replace(":", "")))).hex()
check(wire not in everything.hex(), "passer-by's address (wire order) not in the database")
check("d3:ad:be:ef:00:01" not in logs.lower(), "address not logged")
check(CANARY_UUID not in logs and CANARY_UUID not in published, "canary uuid nowhere")

p = run_beacongw(["-c", conf, "--db", os.path.join(d, "nodb"), "--check-config"])
check(p.returncode == 78, "--check-config on a missing database: exit 78 (got %d)" % p.returncode)
open(os.path.join(d, "junk.db"), "w").write("not a database" * 100)
p = run_beacongw(["-c", conf, "--db", os.path.join(d, "junk.db"), "--check-config"])
check(p.returncode == 78, "--check-config on a non-database: exit 78 (got %d)" % p.returncode)

tmp.cleanup()
finish()
