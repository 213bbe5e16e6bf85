#!/usr/bin/env python3
"""Visits and campaigns that mean what they say, through the whole daemon:
beaconsim plays the demo store (config/scenarios/demo-store.scn), beacongw
--once replays it against a database made with beaconctl and a real
mosquitto, as the demo does.

- Every consented customer of the demo gets a visit (crm-dave's tag has a
  namespace of its own), and a customer whose Eddystone-UID lies inside
  [beacons] store_namespaces gets none, with a warning naming them from
  --check-config and at start, and a count in the status.
- A dwell campaign fires when the visit reaches its own --min-dwell (50 s),
  not at a dwell mark (20, 40 s).
- A capture older than the consents makes no visit, and the daemon says
  why once, with the count.
- An AltBeacon tag enrolled with beaconctl gets a visit."""
import json
import os
import time

import e2e
from e2e import check, finish

SCN = os.path.join(e2e.SOURCE, "config", "scenarios", "demo-store.scn")
STORE_NS = "8b0ca750e7a74e14bd99"


def demo_db(s):
    ctl = s.ctl
    ctl("customer", "add", "crm-alice", "--segment", "furnishing")
    ctl("identifier", "add", "crm-alice", "ibeacon",
        "f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:1")
    ctl("consent", "grant", "crm-alice", "presence")
    ctl("consent", "grant", "crm-alice", "retargeting", "--channel", "push")
    ctl("customer", "add", "crm-bob")
    ctl("identifier", "add", "crm-bob", "eddystone-eid", "000102030405060708090a0b0c0d0e0f:10")
    ctl("consent", "grant", "crm-bob", "presence")
    ctl("customer", "add", "crm-carol")
    ctl("identifier", "add", "crm-carol", "irk", "ec0234a357c8ad05341010a60a397d9b")
    ctl("consent", "grant", "crm-carol", "presence")
    ctl("customer", "add", "crm-dave")
    ctl("identifier", "add", "crm-dave", "eddystone-uid", "5d1a0c3e9f7b42a8d6c1:000000000042")
    ctl("consent", "grant", "crm-dave", "presence")
    # The entrance beacon's own identifier, enrolled by mistake as a customer tag.
    ctl("customer", "add", "crm-ghost")
    ctl("identifier", "add", "crm-ghost", "eddystone-uid", STORE_NS + ":0000000000e1")
    ctl("consent", "grant", "crm-ghost", "presence")
    ctl("campaign", "add", "fifty", "--zone", "entrance", "--event", "dwell", "--min-dwell",
        "50", "--channel", "push")


def config(s):
    return s.config(presence={"enter_confirmations": "3", "absence_timeout_s": "8",
                              "dwell_marks_s": "20,40"},
                    beacons={"store_namespaces": STORE_NS})


def statuses(s):
    return [json.loads(p) for _, p in s.sub.messages("status")]


def visits(db):
    return dict(e2e.query(db, "SELECT c.customer_ref, count(*) FROM visits v "
                          "JOIN customers c ON c.id = v.customer_id GROUP BY 1"))


# ---- the demo store ----
s = e2e.Store("visit-config")
try:
    demo_db(s)
    conf = config(s)
    p = e2e.run_beacongw(["-c", conf, "--check-config"])
    check(p.returncode == 0, "--check-config: exit 0 (got %d: %s)" % (p.returncode, p.stderr))
    warn = [ln for ln in p.stdout.splitlines() if ln.startswith("warning: ")]
    e2e.say("check-config:", p.stdout.strip())
    check(any("crm-ghost" in ln and STORE_NS in ln and "never gets a visit" in ln
              for ln in warn), "--check-config names crm-ghost and why: %s" % warn)
    check(not any("crm-dave" in ln for ln in warn), "crm-dave is fine now: %s" % warn)

    start = int(time.time()) + 2
    while time.time() < start:
        time.sleep(0.1)
    cap = s.capture(SCN, start)
    p = s.replay(conf, cap)
    check("configuration: customer crm-ghost" in p.stderr,
          "the daemon warns about crm-ghost at start: %s" % p.stderr[-800:])
    v = visits(s.db)
    e2e.say("visits:", v)
    check(sorted(v) == ["crm-alice", "crm-bob", "crm-carol", "crm-dave"],
          "the four consented customers of the demo have visits, crm-ghost none: %s" % v)
    counts = [st.get("counts", {}).get("identifiers_in_store_namespaces") for st in statuses(s)]
    check(1 in counts, "status counts identifiers_in_store_namespaces = 1: %s" % counts)
    trig = e2e.triggers(s.sub)
    fifty = [t for t in trig if t.get("campaign") == "fifty"]
    e2e.say("fifty:", [(t.get("customer_ref"), t.get("dwell_s")) for t in fifty])
    check(len(fifty) == 1 and fifty[0].get("customer_ref") == "crm-alice"
          and fifty[0].get("dwell_s") in (50, 51),
          "the 50 s dwell campaign fired once for crm-alice at 50 s, marks 20,40: %s" % fifty)
    e2e.validate_published(s.sub)
finally:
    s.close()

# ---- a capture older than the consents ----
s = e2e.Store("visit-old-capture")
try:
    demo_db(s)
    conf = config(s)
    cap = s.capture(SCN, int(time.time()) - 7200)
    p = s.replay(conf, cap)
    check(visits(s.db) == {}, "no visit before the consents: %s" % visits(s.db))
    lines = [ln for ln in p.stderr.splitlines() if "before their presence consent" in ln]
    e2e.say("said:", lines)
    check(len(lines) == 1 and "consent is judged at the time of each event" in lines[0],
          "said once why: %s" % lines)
    counts = [st.get("counts", {}).get("events_before_consent", 0) for st in statuses(s)]
    check(max(counts or [0]) > 0, "status counts events_before_consent: %s" % counts)
finally:
    s.close()

# ---- an AltBeacon customer ----
s = e2e.Store("visit-altbeacon")
try:
    s.ctl("customer", "add", "crm-fay")
    # Decimal 280 is 0x0118: the same manufacturer as the tag's.
    s.ctl("identifier", "add", "crm-fay", "altbeacon",
          "280:00112233-4455-6677-8899-aabbccddeeff00112233")
    s.ctl("consent", "grant", "crm-fay", "presence")
    # Stored as its type's number (5) and bytes: company id big-endian, beacon id.
    listed = e2e.query(s.db, "SELECT type, lower(hex(value)) FROM identifiers")
    check(listed == [(5, "011800112233445566778899aabbccddeeff00112233")],
          "stored in the binary form: %s" % listed)
    start = int(time.time()) + 2
    while time.time() < start:
        time.sleep(0.1)
    cap = s.capture(os.path.join(e2e.HERE, "altbeacon.scn"), start)
    s.replay(s.config(), cap)
    rows = e2e.query(s.db, "SELECT c.customer_ref, v.dwell_s FROM visits v "
                     "JOIN customers c ON c.id = v.customer_id")
    e2e.say("altbeacon visits:", rows)
    check(len(rows) == 1 and rows[0][0] == "crm-fay" and 50 <= rows[0][1] <= 80,
          "one visit of about 65 s for the AltBeacon customer: %s" % rows)
finally:
    s.close()
finish()
