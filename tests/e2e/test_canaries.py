#!/usr/bin/env python3
"""Canaries (canaries.scn): devices whose owners never consented carry
unique identifiers -- an unenrolled iBeacon, Eddystone-UID (with TLM),
Eddystone-EID, Eddystone-URL and AltBeacon, a phone with an unknown IRK
(rotating resolvable private addresses), a tag enrolled in the database
without any consent, fixed random addresses, and a crowd of phones. After a
--once replay with -v, none of their identifiers or addresses appears in
the database files, write-ahead log included (raw bytes or hex text, either
byte order), in the daemon's log, or in anything published on any topic --
while the one consented customer is tracked and triggered as usual,
fixed-beacon health and anonymous footfall are published, and every
payload matches its schema."""
import json
import sqlite3
import time

import e2e
from e2e import check, finish

CONSENTED_UUID = "e2e0c0de-0000-4000-8000-00000000c0de"
ENROLLED_UUID = "c4a27002-b3ac-4e11-9a7a-00000000feed"
ENROLLED_REF = "cust-c4a2-noconsent"
STORE_NS = "e2e05707e0000000beac"

s = e2e.Store("canaries")
try:
    start = int(time.time()) + 2
    e2e.add_consented(s.db, "cust-regular", "ibeacon", CONSENTED_UUID + ":7:7")
    s.ctl("customer", "add", ENROLLED_REF)
    s.ctl("identifier", "add", ENROLLED_REF, "ibeacon", ENROLLED_UUID + ":4660:22136")
    s.ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter")
    s.ctl("campaign", "add", "goodbye", "--zone", "entrance", "--event", "exit")
    conf = s.config(presence={"absence_timeout_s": "10", "exit_below_s": "5",
                              "enter_window_s": "10"},
                    footfall={"period_s": "60", "min_count": "2"},
                    beacons={"store_namespaces": STORE_NS,
                             "health_interval_s": "30"})
    while time.time() < start:
        time.sleep(0.1)
    cap = s.capture("canaries.scn", start)

    # What the canaries put on the air, read from the capture itself.
    consented_raw = bytes.fromhex(CONSENTED_UUID.replace("-", ""))
    store_ns = bytes.fromhex(STORE_NS)
    addrs, eids, store_addrs = set(), set(), set()
    for _, _, addr, data in e2e.capture_reports(cap):
        if consented_raw in data:
            continue
        if store_ns in data:    # the store's own beacon (its TLM frames follow below)
            store_addrs.add(addr)
            continue
        addrs.add(addr)
        ftype, frame = e2e.eddystone_frame(data)
        if ftype == 0x30 and len(frame) >= 10:
            eids.add(frame[2:10])
    addrs -= store_addrs
    check(len(store_addrs) == 1, "the store beacon has one fixed address")
    check(len(addrs) >= 30, "the capture holds the canaries' and crowd's addresses (%d)"
          % len(addrs))
    check(len(eids) >= 5, "the canary EID tag rotated its EID (%d values)" % len(eids))

    needles = {}
    for a in addrs:
        needles["address " + e2e.addr_text(a)] = e2e.forms(a)
    for v in eids:
        needles["EID " + v.hex()] = e2e.forms(v)
    never = {   # identifiers of devices nobody enrolled: in no file, log or message
        "unenrolled iBeacon": e2e.uuid_forms("c4a27001-b3ac-4e11-9a7a-0000deadbeef") |
        e2e.forms(bytes.fromhex("c4a27001b3ac4e119a7a0000deadbeefcafebabe")) |
        {b"51966:47806"},
        "Eddystone-UID namespace": e2e.forms(bytes.fromhex("c4a2c4a2c4a2c4a2c4a2")),
        "Eddystone-UID instance": e2e.forms(bytes.fromhex("c4a2000000e1")),
        "Eddystone-EID key": e2e.forms(bytes.fromhex("c4a2c4a2c4a2c4a2c4a2c4a2c4a2c4a2")),
        "Eddystone-URL": {b"c4a2canary"},
        "AltBeacon id": e2e.forms(bytes.fromhex("c4a27003c4a27003c4a27003c4a27003c4a27003")),
        "unknown IRK": e2e.forms(bytes.fromhex("c4a2f00dc4a2f00dc4a2f00dc4a2f00d")),
    }
    needles.update(never)
    # The enrolled tag's identifier and reference are in the database by
    # design (enrolment); they must still never be logged or published.
    enrolled = {"enrolled tag without consent": e2e.uuid_forms(ENROLLED_UUID),
                "reference of the customer without consent": {ENROLLED_REF.encode()}}

    # Hold the database open meanwhile: the daemon's connection is then not
    # the last one, so its write-ahead log is not checkpointed away at exit
    # and every page version the run wrote is still there to search.
    holder = sqlite3.connect(s.db)
    holder.execute("SELECT count(*) FROM customers").fetchone()
    p = s.replay(conf, cap)
    e2e.wait_for(lambda: len(e2e.triggers(s.sub)) >= 2, 10)
    time.sleep(0.5)

    msgs = s.sub.messages()
    published = b"\n".join(("%s %s" % (t, pl)).encode() for t, pl in msgs)
    files = e2e.db_files(s.db)
    holder.close()
    blobs = {"the %s file" % f: b for f, b in files.items()}
    check("gw.db-wal" in files and len(files["gw.db-wal"]) > 0,
          "the write-ahead log was kept for the search (%s)" % sorted(files))
    found = e2e.leaks(needles, blobs)
    outside = {"the log": p.stderr.encode(), "MQTT": published}
    all_needles = dict(needles, **enrolled)
    found += e2e.leaks(all_needles, outside)
    for name, where in found:
        check(False, "%s found in %s" % (name, where))
    e2e.say("searched %d needles (%d addresses, %d EIDs) in %s: %d found"
            % (len(all_needles), len(addrs), len(eids),
               ", ".join(sorted(blobs) + sorted(outside)), len(found)))
    enrolled_visits = e2e.query(s.db, "SELECT count(*) FROM visits v JOIN customers c ON "
                                "c.id = v.customer_id WHERE c.customer_ref = ?",
                                (ENROLLED_REF,))[0][0]
    check(enrolled_visits == 0, "no visit recorded for the customer without consent")

    # The run was not empty: the consented customer, health and footfall.
    trig = e2e.triggers(s.sub)
    got = sorted((t["customer_ref"], t["event"]) for t in trig)
    check(got == [("cust-regular", "enter"), ("cust-regular", "exit")],
          "the consented customer's enter and exit triggers: %s" % got)
    regular = e2e.query(s.db, "SELECT count(*) FROM visits")[0][0]
    check(regular == 1, "one visit recorded (the consented customer's), got %d" % regular)
    health = [json.loads(pl) for t, pl in msgs if t.endswith("/beacons")]
    check(health and all(h.get("namespace") == STORE_NS for h in health),
          "health published for the store's own beacon only: %s"
          % [h.get("namespace") for h in health])
    footfall = [json.loads(pl) for t, pl in msgs if t.endswith("/footfall")]
    check(footfall, "anonymous footfall published")
    e2e.validate_published(s.sub)
finally:
    s.close()
finish()
