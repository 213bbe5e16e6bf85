#!/usr/bin/env python3
"""beaconhub reads its configuration again on SIGHUP.

1. The hub signs with key A; g1 trusts A and, ahead of a rotation, B.
2. A configuration that does not load (a key that does not exist, then a
   line that is not INI) is refused on SIGHUP: the hub keeps running with
   what it had, says why in its log, counts it (counts.reloads_failed in
   its retained status), and a withdrawal at head office still reaches g1
   signed with A.
3. signing_key = B and head_interval_s = 1, then SIGHUP: the same hub
   process signs with B from then on (its status names B, the reload is
   counted), g1 takes a snapshot signed with B by itself and is current
   under B, and a change made at head office reaches it as B's seq 1."""
import json
import signal

import fleet
from fleet import PREFIX, check, fail, finish, say


def hub_status(fl):
    st = [p for t, p in fl.hq_sub.messages() if t == PREFIX + "/consent/hub"]
    return json.loads(st[-1]) if st else {}


def rewrite(path, old, new):
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace(old, new))


fl = fleet.Fleet("fleet-reload")
try:
    fl.populate()
    key_a, fpr_a = fl.key, fl.fpr
    key_b, fpr_b = fl.keygen("hub-next")
    fl.hub.start()
    pid = fl.hub.proc.pid
    g = fl.gateway("g1", pubkeys=[key_a[:-4] + ".pub", key_b[:-4] + ".pub"]).start()
    if not g.wait_current(40):
        fail("g1 did not become current under key A:\n" + g.text()[-3000:])

    # -- 2. bad configurations are refused --
    rewrite(fl.hub.conf, key_a, key_a + ".missing")
    fl.hub.proc.send_signal(signal.SIGHUP)
    if not fleet.wait_for(lambda: hub_status(fl).get("counts", {}).get("reloads_failed") == 1,
                          10):
        fail("the hub did not count the failed reload: %s\n%s" %
             (hub_status(fl), fl.hub.text()[-2000:]))
    check("the running configuration stays" in fl.hub.text() and
          "signing_key" in fl.hub.text(), "the hub says why it kept its configuration")
    rewrite(fl.hub.conf, key_a + ".missing", key_a)
    rewrite(fl.hub.conf, "[mqtt]", "this is not INI\n[mqtt]")
    fl.hub.proc.send_signal(signal.SIGHUP)
    check(fleet.wait_for(lambda: hub_status(fl).get("counts", {}).get("reloads_failed") == 2,
                         10), "a file that is not INI is refused and counted too")
    rewrite(fl.hub.conf, "this is not INI\n", "")
    check(fl.hub.proc.poll() is None and hub_status(fl).get("key") == fpr_a,
          "the hub runs on, signing with key A")
    seq0 = fl.hub_seq()
    fl.hq_ctl("consent", "withdraw", "cust-a", "presence")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq0, 10) or \
            not g.wait_current(20, fl.hub_seq()):
        fail("g1 did not apply A's change after the refused reloads:\n" + g.text()[-3000:])

    # -- 3. rotate to B without a restart --
    rewrite(fl.hub.conf, key_a, key_b)
    rewrite(fl.hub.conf, "head_interval_s = 2", "head_interval_s = 1")
    fl.hub.proc.send_signal(signal.SIGHUP)
    if not fleet.wait_for(lambda: hub_status(fl).get("key") == fpr_b, 10):
        fail("the hub does not sign with B after SIGHUP: %s\n%s" %
             (hub_status(fl), fl.hub.text()[-2000:]))
    check(fl.hub.proc.pid == pid and fl.hub.proc.poll() is None, "the same hub process")
    check(hub_status(fl)["counts"].get("reloads") == 1, "the reload is counted")
    check("head_interval_s 2 -> 1" in fl.hub.text(), "the new head interval is in force")
    if not fleet.wait_for(lambda: g.current(0), 40):
        fail("g1 did not become current under key B:\n" + g.text()[-3000:])
    check("asking the hub for a snapshot" in g.text(), "g1 asked for a snapshot signed by B")
    fl.hq_ctl("consent", "grant", "cust-a", "presence")
    if not fleet.wait_for(lambda: fl.hub_seq() == 1, 10) or not g.wait_current(20, 1):
        fail("g1 did not apply B's seq 1:\n" + g.text()[-3000:])
    say("fleet: %s" % fl.fleet())
    check(fleet.wait_for(lambda: fl.fleet().get("s1/g1", {}).get("current") is True, 20),
          "beaconctl fleet shows g1 current under B")
    check(g.stop() == 0, "g1 stopped cleanly")
finally:
    fl.close()
finish()
