#!/usr/bin/env python3
"""Rotating the hub's signing key, as docs/fleet.md describes it.

1. The hub signs with key A; g1 trusts A (public_key) and, ahead of the
   rotation, B (public_key_next). g1 is current under A.
2. The hub restarts with B: its sequence starts again at 1 under B. g1
   cannot match the new head with what it holds, asks for a snapshot
   signed with B, and is current under B; a change made at head office
   then reaches it as B's seq 1.
3. Changes signed with A, replayed, are refused: they are older than the
   snapshot g1 now holds.
4. g1 restarts trusting only B and stays current; a gateway trusting only
   A would refuse everything (checked with a second gateway g2)."""
import fleet
from fleet import PREFIX, check, fail, finish, say

fl = fleet.Fleet("fleet-rotation")
try:
    fl.populate()
    key_a, fpr_a = fl.key, fl.fpr
    key_b, fpr_b = fl.keygen("hub-next")
    pub_a, pub_b = key_a[:-4] + ".pub", key_b[:-4] + ".pub"
    fl.hub.start()
    g = fl.gateway("g1", pubkeys=[pub_a, pub_b]).start()
    if not g.wait_current(40):
        fail("g1 did not become current under key A:\n" + g.text()[-3000:])
    fl.hq_ctl("consent", "withdraw", "cust-b", "presence")
    if not fleet.wait_for(lambda: fl.hub_seq() == 1, 10) or not g.wait_current(20, 1):
        fail("g1 did not apply A's seq 1:\n" + g.text()[-3000:])
    old = [p for t, p in fl.hq_sub.messages() if t == PREFIX + "/consent"]

    # -- 2. rotate --
    fl.hub.stop()
    with open(fl.hub.conf) as f:
        conf = f.read().replace(key_a, key_b)
    with open(fl.hub.conf, "w") as f:
        f.write(conf)
    fl.hub.start()
    check(fleet.wait_for(lambda: fleet.bt.query(
        fl.hq_db, "SELECT value FROM kv WHERE key = 'hub.key'")[0][0] == fpr_b, 10),
        "the hub signs with key B")
    if not fleet.wait_for(lambda: '"consent_seq":0' in (fl.sub.messages("status") or
                                                        [("", "")])[-1][1] and
                          g.current(0), 40):
        fail("g1 did not become current under key B:\n" + g.text()[-3000:])
    check("asking the hub for a snapshot" in g.text(), "g1 asked for a snapshot signed by B")
    fl.hq_ctl("consent", "grant", "cust-b", "presence")
    if not fleet.wait_for(lambda: fl.hub_seq() == 1, 10) or not g.wait_current(20, 1):
        fail("g1 did not apply B's seq 1:\n" + g.text()[-3000:])

    # -- 3. A's old changes refused --
    before = fl.status("g1")["counts"]["consent_updates_rejected"]
    for p in old:
        fleet.publish(fl.store.port, PREFIX + "/consent", p)
    check(fleet.wait_for(lambda: fl.status("g1")["counts"]["consent_updates_rejected"] >=
                         before + len(old), 10),
          "A's %d old change(s) refused" % len(old))
    check(g.current(1), "g1 stays current under B at seq 1")

    # -- 4. A retired --
    check(g.stop() == 0, "g1 stopped cleanly")
    with open(g.conf) as f:
        conf = f.read().replace("public_key_next = %s\n" % pub_b, "").replace(
            "public_key = %s" % pub_a, "public_key = %s" % pub_b)
    with open(g.conf, "w") as f:
        f.write(conf)
    g.start()
    check(g.wait_current(30, 1), "g1 trusting only B is current at seq 1")
    fl.gateway("g2", pubkeys=[pub_a]).start()
    check(fleet.wait_for(lambda: fl.status("g2").get("consent_current") is False and
                         fl.status("g2")["counts"]["consent_updates_rejected"] > 0, 30),
          "a gateway trusting only the retired key A refuses B's messages and is not "
          "current: %s" % fl.status("g2"))
    say("fleet: %s" % fl.fleet())
    check(fl.fleet()["s1/g1"]["current"] is True, "beaconctl fleet shows g1 current")
    check(g.stop() == 0, "g1 stopped cleanly")
finally:
    fl.close()
finish()
