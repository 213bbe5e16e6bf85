#!/usr/bin/env python3
"""Signed consent updates that arrive while another process holds the
database write lock are applied, all of them, in the order they were
published, once the lock goes; unsigned junk never holds a place in line.

The gateway runs live with [consent] queue_max = 16. A python sqlite3
connection holds the write lock (BEGIN IMMEDIATE) while 40 signed updates
are published (seq 1..40: grants of retargeting for new customers c-01 ..,
and at seq 20 the withdrawal of cust-a's retargeting), mixed with 200
unsigned messages. Past 16 waiting updates the gateway stops taking
messages off its connection (it disconnects; the broker keeps the rest in
its session). Then the lock is released. The subscriber sees no trigger of
cust-a after the withdrawal was published (nothing is published while
updates wait), the database holds all 40 changes with the audit in
publication order, kv consent.last_seq is 40, cust-a's retargeting is
withdrawn, the status counts 40 applied and 200 rejected, and the log has
far fewer than 200 rejection lines."""
import json
import os
import sqlite3
import subprocess
import time

import paho.mqtt.client as mqtt

import e2e
from e2e import check, finish

N = 40
WITHDRAW_AT = 20
JUNK = 200

s = e2e.live_store("consent-locked")
backend = None
lock = None
try:
    keys, fingerprint = e2e.keygen(s)
    expected, msgs = [], []
    for seq in range(1, N + 1):
        if seq == WITHDRAW_AT:
            upd = {"seq": seq, "op": "withdraw", "ref": "cust-a", "purpose": "retargeting"}
        else:
            upd = {"seq": seq, "op": "grant", "ref": "c-%02d" % seq, "purpose": "retargeting",
                   "channels": ["push"]}
        expected.append(upd["ref"])
        path = s.tmp("u%d.json" % seq)
        with open(path, "w") as f:
            f.write(json.dumps(upd) + "\n")
        r = subprocess.run([e2e.BEACONCTL, "sign", "--key", keys + ".key", path],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            e2e.fail("beaconctl sign: %s" % r.stderr)
        msgs.append(r.stdout.strip())

    gw, sim = e2e.start_live(s, consent={"public_key": keys + ".pub", "queue_max": "16"})
    if not e2e.wait_for(lambda: (s.sub.last_status() or {}).get("consent_sync") == "synced", 30):
        e2e.fail("the gateway never said consent_sync synced:\n" + gw.text()[-2000:])
    backend = mqtt.Client(client_id="e2e-backend-%d" % os.getpid(), protocol=mqtt.MQTTv5)
    backend.max_inflight_messages_set(1000)
    backend.connect("127.0.0.1", s.broker.port)
    backend.loop_start()

    lock = sqlite3.connect(s.db, timeout=10, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("INSERT INTO kv(key, value) VALUES('test.lock', 'held')")
    t_lock = time.time()
    infos = []
    for i, m in enumerate(msgs):
        infos.append(backend.publish(e2e.PREFIX + "/consent", m, qos=1))
        for j in range(JUNK // N):
            junk = json.dumps({"payload": "eyJzZXEiOjF9", "sig": "x\u0001\u001b[31m%d" % j})
            infos.append(backend.publish(e2e.PREFIX + "/consent", junk, qos=1))
        if i + 1 == WITHDRAW_AT:
            t_withdraw = time.time()
    for inf in infos:
        inf.wait_for_publish(10)
    while time.time() < t_lock + 6:
        time.sleep(0.1)
    lock.execute("ROLLBACK")
    lock.close()
    lock = None
    e2e.say("lock held %.1f s" % (time.time() - t_lock))

    def applied():
        return ((s.sub.last_status() or {}).get("counts") or {}).get("consent_updates_applied")

    check(e2e.wait_for(lambda: applied() == N, 60),
          "status: %d consent updates applied (%s)" % (N, applied()))
    seq = e2e.query(s.db, "SELECT value FROM kv WHERE key = 'consent.last_seq'")
    check(seq and seq[0][0] == str(N), "kv consent.last_seq is %d (%s)" % (N, seq))
    rows = e2e.query(s.db, "SELECT c.customer_ref FROM audit a JOIN customers c ON "
                     "c.id = a.customer_id WHERE a.actor = ? ORDER BY a.id",
                     ("mqtt:" + fingerprint,))
    order = []
    for (ref,) in rows:
        if ref and (not order or order[-1] != ref):
            order.append(ref)
    check(order == expected, "the audit shows the updates in publication order:\n%s\n%s"
          % (order, expected))
    row = e2e.query(s.db, "SELECT k.withdrawn_at FROM consents k JOIN customers c ON "
                    "c.id = k.customer_id WHERE c.customer_ref = 'cust-a' AND "
                    "k.purpose = 1 ORDER BY k.id DESC LIMIT 1")
    check(row and row[0][0], "the withdrawal among them was applied, not lost")
    rejected = ((s.sub.last_status() or {}).get("counts") or {}).get("consent_updates_rejected")
    check(rejected == JUNK, "status: %d unsigned messages rejected (%s)" % (JUNK, rejected))
    sim.stop()
    check(gw.stop() == 0, "beacongw stopped cleanly")
    log = gw.text()
    lines = [ln for ln in log.splitlines() if "rejected" in ln]
    check(len(lines) < JUNK // 4, "the rejections were logged with a rate limit (%d lines)"
          % len(lines))
    check("\x1b" not in log and "\x01" not in log, "no control characters in the log")
    late = [t for t in e2e.by_customer(e2e.triggers(s.sub), "cust-a")
            if e2e.ts_seconds(t["ts"]) > t_withdraw + 1.0]
    check(not late, "%d trigger(s) of cust-a after the withdrawal was published" % len(late))
    for ln in log.splitlines():
        if "consent" in ln and "trigger" not in ln and "rejected" not in ln:
            e2e.say(ln)
finally:
    if lock:
        lock.close()
    if backend:
        backend.loop_stop()
        backend.disconnect()
    s.close()
finish()
