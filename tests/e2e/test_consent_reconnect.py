#!/usr/bin/env python3
"""A withdrawal that waits in the broker session is applied before any
queued trigger is published.

1. beacongw runs until its status says it is in step with the broker
   (consent_sync "synced"), then stops: the broker now keeps its persistent
   session, subscribed to <prefix>/consent.
2. cycles.scn is replayed with the broker unreachable (a dead port): the
   triggers of cust-a and cust-b wait in the outbox.
3. The backend publishes a signed withdrawal of cust-a's retargeting
   consent (QoS 1): the broker queues it for the offline gateway.
4. beacongw connects again: the subscriber receives cust-b's triggers and
   not one of cust-a's; the withdrawal is applied (database, status); the
   status said "syncing" before it said "synced"."""
import json
import os
import subprocess
import time

import paho.mqtt.client as mqtt

import e2e
from e2e import by_customer, check, finish

s = e2e.live_store("consent-reconnect")
backend = None
try:
    keys, _ = e2e.keygen(s)
    upd = s.tmp("withdraw.json")
    with open(upd, "w") as f:
        f.write(json.dumps({"seq": 1, "op": "withdraw", "ref": "cust-a",
                            "purpose": "retargeting"}) + "\n")
    r = subprocess.run([e2e.BEACONCTL, "sign", "--key", keys + ".key", upd],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        e2e.fail("beaconctl sign: %s" % r.stderr)
    withdraw = r.stdout.strip()

    consent = {"public_key": keys + ".pub"}
    start = int(time.time()) + 1
    cap = s.capture("cycles.scn", start)
    stranger = ("seed 1\nduration 2s\n\ntag stranger\n"
                "    ibeacon e2e0c1c1-0000-4000-8000-0000000000ff:9:9\n"
                "    interval 100ms\n    path 0ms:30 2000ms:30\n")
    empty = e2e.bt.offline_capture(s.tmp, stranger, s.tmp("empty.btsnoop"), start_time=start)
    conf = s.config(consent=consent)
    sim = e2e.Sim(s.tmp, e2e.bt.write_file(s.tmp("stranger.scn"), stranger))
    sim.start()
    gw = e2e.Gateway(s.tmp, conf, source=sim.spec)                      # 1.
    gw.start()
    if not e2e.wait_for(lambda: (s.sub.last_status() or {}).get("consent_sync") == "synced", 30):
        e2e.fail("the gateway never said consent_sync synced:\n" + gw.text()[-2000:])
    check(gw.stop() == 0, "beacongw stopped cleanly")
    sim.stop()

    dead = e2e.bt.free_port()
    conf_dead = s.config(name="dead.conf", consent=consent, mqtt={"port": str(dead)})
    p = e2e.run_beacongw(["-c", conf_dead, "-v", "--source", "btsnoop:" + cap, "--once"],
                         timeout=120)                                   # 2.
    check(p.returncode == 0, "replay with the broker unreachable: exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    queued = dict(e2e.query(s.db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN "
                            "customers c ON c.id = o.customer_id GROUP BY 1"))
    e2e.say("queued in the outbox: %s" % queued)
    if not (queued.get("cust-a") and queued.get("cust-b")):
        e2e.fail("no triggers of cust-a and cust-b waiting in the outbox: %s" % queued)

    backend = mqtt.Client(client_id="e2e-backend-%d" % os.getpid(), protocol=mqtt.MQTTv5)
    backend.connect("127.0.0.1", s.broker.port)
    backend.loop_start()
    backend.publish(e2e.PREFIX + "/consent", withdraw, qos=1).wait_for_publish(10)   # 3.
    n_status = len(s.sub.messages("status"))

    p2 = s.replay(conf, empty)                                          # 4.
    trig = e2e.triggers(s.sub)
    check(not by_customer(trig, "cust-a"),
          "%d trigger(s) of cust-a published after a withdrawal queued in the session"
          % len(by_customer(trig, "cust-a")))
    check(len(by_customer(trig, "cust-b")) == queued["cust-b"],
          "cust-b's %d queued triggers were delivered (got %d)"
          % (queued["cust-b"], len(by_customer(trig, "cust-b"))))
    row = e2e.query(s.db, "SELECT k.withdrawn_at FROM consents k JOIN customers c ON "
                    "c.id = k.customer_id WHERE c.customer_ref = 'cust-a' AND "
                    "k.purpose = 1 ORDER BY k.id DESC LIMIT 1")
    check(row and row[0][0], "cust-a's retargeting consent is withdrawn in the database")
    check(e2e.query(s.db, "SELECT count(*) FROM outbox")[0][0] == 0, "the outbox is empty")
    statuses = [json.loads(m) for _, m in s.sub.messages("status")[n_status:]]
    syncs = [st.get("consent_sync") for st in statuses if st.get("online")]
    e2e.say("consent_sync in the status: %s" % syncs)
    check("syncing" in syncs and "synced" in syncs and
          syncs.index("syncing") < syncs.index("synced"),
          "the status said syncing, then synced: %s" % syncs)
    last = statuses[-1].get("counts", {}) if statuses else {}
    check(last.get("consent_updates_applied") == 1, "status: one consent update applied (%s)"
          % last.get("consent_updates_applied"))
    for line in p2.stderr.splitlines():
        if "consent" in line:
            e2e.say(line)
finally:
    if backend:
        backend.loop_stop()
        backend.disconnect()
    s.close()
finish()
