#!/usr/bin/env python3
"""A signed withdrawal over MQTT stops that customer's triggers within five
seconds; a replayed and a forged update change nothing.

The backend's key pair comes from `beaconctl keygen`; the daemon holds the
public key ([consent] public_key). beaconsim plays cycles.scn live (speed 4)
for beacongw: cust-a and cust-b keep walking in and out. Shortly after
cust-a's first trigger, the withdrawal of cust-a's retargeting consent,
signed with `beaconctl sign`, is published to <prefix>/consent. Then:
- no trigger for cust-a has a time (ts) more than 5 s after the publication;
- the audit log (beaconctl audit --json) shows the change by
  mqtt:<key fingerprint>, and the status counts it as applied;
- the same message published again (a replay), and a newly signed update
  with one byte of its payload changed afterwards (turning it into a
  withdrawal for cust-b), are rejected: the status counter
  consent_updates_rejected rises by two, consents, audit log and sequence
  in the database are unchanged, and cust-b keeps getting triggers."""
import base64
import json
import os
import sqlite3
import subprocess
import time

import paho.mqtt.client as mqtt

import e2e
from e2e import by_customer, check, finish

BOUND_S = 5.0   # issue: "a valid withdrawal over MQTT -> that customer's triggers stop
                # within 5 seconds"


def consent_state(db):
    """What a consent update may change, as text: consents, customers,
    identifiers, segments, the audit log and the consent sequence."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        out = []
        for sql in ("SELECT * FROM consents ORDER BY id", "SELECT * FROM customers ORDER BY id",
                    "SELECT * FROM identifiers ORDER BY type, value",
                    "SELECT * FROM customer_segments ORDER BY 1, 2",
                    "SELECT * FROM audit ORDER BY id",
                    "SELECT * FROM kv WHERE key LIKE 'consent%' ORDER BY key"):
            out.append("%s: %r" % (sql, con.execute(sql).fetchall()))
        return "\n".join(out)
    finally:
        con.close()


def counts(sub):
    st = sub.last_status() or {}
    c = st.get("counts") or {}
    return c.get("consent_updates_applied", 0), c.get("consent_updates_rejected", 0)


s = e2e.live_store("withdraw-mqtt")
backend = None
try:
    keys, fingerprint = e2e.keygen(s)

    def sign(update, name):
        path = s.tmp(name + ".json")
        with open(path, "w") as f:
            f.write(json.dumps(update) + "\n")
        r = subprocess.run([e2e.BEACONCTL, "sign", "--key", keys + ".key", path],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            e2e.fail("beaconctl sign: %s" % r.stderr)
        return r.stdout.strip()

    withdraw = sign({"seq": 1, "op": "withdraw", "ref": "cust-a", "purpose": "retargeting"},
                    "withdraw")
    e2e.validate(json.loads(withdraw), "consent-update", "signed withdrawal")
    # A forgery: a correctly signed update (seq 2, for a customer who does
    # not exist) with one byte of the signed payload changed, so that it
    # would withdraw cust-b's consent.
    env = json.loads(sign({"seq": 2, "op": "withdraw", "ref": "cust-x",
                           "purpose": "retargeting"}, "other"))
    payload = base64.b64decode(env["payload"])
    i = payload.index(b"cust-x") + 5
    env["payload"] = base64.b64encode(payload[:i] + b"b" + payload[i + 1:]).decode()
    forged = json.dumps(env).encode()

    gw, sim = e2e.start_live(s, consent={"public_key": keys + ".pub"})
    backend = mqtt.Client(client_id="e2e-backend-%d" % os.getpid(), protocol=mqtt.MQTTv5)
    backend.connect("127.0.0.1", s.broker.port)
    backend.loop_start()

    def publish(msg):
        backend.publish(e2e.PREFIX + "/consent", msg, qos=1).wait_for_publish(10)

    if not e2e.wait_for(lambda: by_customer(e2e.triggers(s.sub), "cust-a"), 20):
        e2e.fail("no first trigger for cust-a:\n" + gw.text()[-2000:])
    t_enter = e2e.ts_seconds(by_customer(e2e.triggers(s.sub), "cust-a")[0]["ts"])
    while time.time() < t_enter + 0.5:
        time.sleep(0.02)
    t_pub = time.time()
    publish(withdraw)
    e2e.say("withdrawal published at %.3f" % t_pub)
    check(e2e.wait_for(lambda: counts(s.sub)[0] == 1, 10),
          "status: consent_updates_applied = 1 (counts %s)" % (counts(s.sub),))

    audit = json.loads(e2e.ctl(s.db, "--json", "audit").stdout)
    by_mqtt = [a for a in audit if a.get("actor") == "mqtt:" + fingerprint]
    check(len(by_mqtt) == 1 and by_mqtt[0].get("customer_ref") == "cust-a",
          "one audit entry by mqtt:%s for cust-a: %s" % (fingerprint, by_mqtt))
    row = e2e.query(s.db, "SELECT k.withdrawn_at FROM consents k JOIN customers c ON "
                    "c.id = k.customer_id WHERE c.customer_ref = 'cust-a' AND "
                    "k.purpose = 1 ORDER BY k.id DESC LIMIT 1")
    check(row and row[0][0], "cust-a's retargeting consent is withdrawn in the database")

    before = consent_state(s.db)
    _, rejected0 = counts(s.sub)
    t_bad = time.time()
    publish(withdraw)       # replayed
    publish(forged)
    check(e2e.wait_for(lambda: counts(s.sub)[1] >= rejected0 + 2, 10),
          "status: consent_updates_rejected rose by 2 (counts %s)" % (counts(s.sub),))

    check(sim.proc.wait(60) == 0, "beaconsim played the scenario to its end")
    time.sleep(1.0)
    check(consent_state(s.db) == before,
          "a rejected update changed the database:\n%s\n---\n%s" % (before, consent_state(s.db)))
    check(counts(s.sub) == (1, rejected0 + 2), "status counts at the end: %s" % (counts(s.sub),))
    check(gw.stop() == 0, "beacongw stopped cleanly")
    log = gw.text()
    check(log.count("rejected") >= 2, "the daemon logged the rejections")
    for line in log.splitlines():
        if "consent:" in line:
            e2e.say(line)

    e2e.validate_published(s.sub)
    trig = e2e.triggers(s.sub)
    for t in trig:
        e2e.say("  %s %-6s %-5s %+.3f s" % (t["customer_ref"], t["event"], t["campaign"],
                                            e2e.ts_seconds(t["ts"]) - t_pub))
    a = by_customer(trig, "cust-a")
    late = [t for t in a if e2e.ts_seconds(t["ts"]) > t_pub + BOUND_S]
    check(not late, "cust-a triggered %d time(s) more than %.0f s after the withdrawal was "
          "published: %s" % (len(late), BOUND_S, [(t["event"], t["ts"]) for t in late]))
    b_after = [t for t in by_customer(trig, "cust-b")
               if e2e.ts_seconds(t["ts"]) > t_bad + BOUND_S]
    check(len(b_after) >= 2, "cust-b keeps getting triggers after the forged withdrawal (%d)"
          % len(b_after))
finally:
    if backend:
        backend.loop_stop()
        backend.disconnect()
    s.close()
finish()
