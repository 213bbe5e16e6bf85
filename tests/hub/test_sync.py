#!/usr/bin/env python3
"""One consent authority for a fleet, through a bridged pair of brokers.

Head office: an authority database with cust-a and cust-b (consented to
presence and retargeting) and two campaigns, beaconhub on the head-office
mosquitto. The store: a mosquitto bridged to it (QoS 1, persistent
sessions) and a beacongw that starts from an empty database
(beaconctl init) with only the hub's public key, while beaconsim plays
cycles.scn.

Shown: the empty gateway becomes current with no human action and
triggers for both; a withdrawal at head office stops cust-a's triggers
once the gateway reports the change applied, cust-b's go on; beaconctl
--json fleet shows the gateway current at the hub's sequence; a replayed
change, a tampered one, one signed by an untrusted key and one for
another fleet are refused and counted and change nothing; a withdrawal
committed while the head-office broker (and so the bridge) is down waits
in the hub's outbox and reaches the gateway once the broker is back."""
import time

import fleet
from e2e import ts_seconds
from fleet import PREFIX, check, fail, finish, say

fl = fleet.Fleet("fleet-sync")
try:
    fl.populate()
    fl.hub.start()
    g = fl.gateway("g1").start()
    if not g.wait_current(40):
        fail("the empty gateway did not become current:\n%s\n%s" %
             (g.text()[-3000:], fl.hub.text()[-2000:]))
    check(fleet.bt.query(g.db, "SELECT count(*) FROM customers")[0][0] == 2,
          "the gateway holds both customers from the hub's snapshot")
    if not fleet.wait_for(lambda: any(t["customer_ref"] == "cust-a" for t in fl.triggers()),
                          30):
        fail("no trigger for cust-a:\n" + g.text()[-2000:])

    seq0 = fl.hub_seq()
    fl.hq_ctl("consent", "withdraw", "cust-a", "retargeting")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq0, 10):
        fail("the hub did not sign the withdrawal:\n" + fl.hub.text()[-2000:])
    seq1 = fl.hub_seq()
    if not g.wait_current(20, seq1):
        fail("the gateway did not apply the withdrawal:\n" + g.text()[-3000:])
    t_applied = time.time()
    say("withdrawal seq %d applied by %.3f" % (seq1, t_applied))
    # cycles.scn brings both back several times.
    time.sleep(12)
    trig = fl.triggers()
    late_a = [t for t in trig if t["customer_ref"] == "cust-a" and
              ts_seconds(t["ts"]) > t_applied]
    b_after = [t for t in trig if t["customer_ref"] == "cust-b" and
               ts_seconds(t["ts"]) > t_applied]
    check(not late_a, "no trigger for cust-a after the withdrawal was applied: %s" % late_a)
    check(b_after, "cust-b keeps getting triggers")

    rows = fl.fleet()
    say("fleet: %s" % rows)
    g1 = rows.get("s1/g1")
    check(g1 and g1["current"] is True and g1["consent_seq"] == seq1 and
          g1["last_seen"].endswith("Z") and g1["behind"] == 0,
          "beaconctl fleet shows s1/g1 current at seq %d: %s" % (seq1, g1))

    # Refusals: each counted, none changes what the gateway holds.
    changes = [p for t, p in fl.hq_sub.messages() if t == PREFIX + "/consent"]
    check(changes, "the hub's changes were seen at head office")
    before = fl.status("g1")["counts"]["consent_updates_rejected"]
    topic = PREFIX + "/consent"
    fleet.publish(fl.store.port, topic, changes[-1])              # replayed
    tampered = fleet.json.loads(changes[-1])
    tampered["payload"] = tampered["payload"][:-8] + "AAAAAAA="  # tampered
    fleet.publish(fl.store.port, topic, fleet.json.dumps(tampered))
    other_key, other_fpr = fl.keygen("intruder")
    p = fleet.payload_of(changes[-1])
    p.update(seq=seq1 + 1, issued_at=int(time.time()), key=other_fpr)
    fleet.publish(fl.store.port, topic, fleet.sign(other_key, p))  # untrusted key
    p.update(fleet="other", key=fl.fpr)
    fleet.publish(fl.store.port, topic, fleet.sign(fl.key, p))     # another fleet
    if not fleet.wait_for(lambda: fl.status("g1")["counts"]["consent_updates_rejected"] >=
                          before + 4, 10):
        fail("the gateway did not count 4 refusals: %s" % fl.status("g1"))
    check(fl.status("g1")["consent_seq"] == seq1 and g.current(seq1),
          "after the refusals the gateway is still current at seq %d" % seq1)
    check(fleet.bt.query(g.db, "SELECT count(*) FROM consents c JOIN customers u ON "
                         "u.id = c.customer_id WHERE u.customer_ref = 'cust-a' AND "
                         "c.purpose = 1 AND c.withdrawn_at IS NULL")[0][0] == 0,
          "cust-a's retargeting stays withdrawn on the gateway")

    # The hub refuses and counts junk on the topics it reads.
    fleet.publish(fl.hq.port, PREFIX + "/s9/gx/status", "not json")
    fleet.publish(fl.hq.port, PREFIX + "/s9/gx/consent/request", "[1,2]")

    def hub_counts():
        st = [p for t, p in fl.hq_sub.messages() if t == PREFIX + "/consent/hub"]
        return fleet.json.loads(st[-1]).get("counts", {}) if st else {}
    check(fleet.wait_for(lambda: hub_counts().get("bad_statuses", 0) >= 1 and
                         hub_counts().get("bad_requests", 0) >= 1, 10),
          "the hub counted the bad status and the bad request: %s" % hub_counts())
    check(set(fl.fleet()) == {"s1/g1"}, "the bad status recorded no gateway")

    # Head-office broker outage (the bridge is down too): a withdrawal
    # committed meanwhile waits in the hub's outbox and arrives afterwards.
    fl.hq.stop()
    fl.hq_ctl("consent", "withdraw", "cust-b", "retargeting")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq1, 10):
        fail("the hub did not sign the withdrawal during the outage")
    seq2 = fl.hub_seq()
    time.sleep(3)
    check(fl.status("g1").get("consent_seq") == seq1,
          "during the outage g1 still holds seq %d" % seq1)
    fl.hq.start()
    if not g.wait_current(60, seq2):
        fail("g1 did not get the change made during the outage:\n%s\n%s" %
             (g.text()[-2000:], fl.hub.text()[-2000:]))
    check(fleet.wait_for(lambda: fl.fleet().get("s1/g1", {}).get("consent_seq") == seq2, 20),
          "beaconctl fleet shows g1 at seq %d after the outage" % seq2)
    check(g.stop() == 0, "beacongw stopped cleanly")
finally:
    fl.close()
finish()
