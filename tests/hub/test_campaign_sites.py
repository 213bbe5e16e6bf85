#!/usr/bin/env python3
"""Campaigns from head office reach the sites they target, and only those.

Head office: cust-a and cust-b (consented) and four campaigns in the
authority database: hello and bye for every site, door-s1 for site s1 and
door-s2 for site s2 (beaconctl campaign add ... --sites). Two gateways of
two sites, s1/g1 and s2/g2, on the store broker bridged to head office,
each starting from an empty database while its own beaconsim plays
cycles.scn.

Shown: each gateway's snapshot holds the campaigns for every site and for
its own site, never the other site's (beaconctl campaign list on the
gateway); its triggers name only those; after
`beaconctl --db HQ.db campaign target door-s1 --sites s2` the hub's next
change removes door-s1 from g1 (no door-s1 trigger from g1 after it applied
the change) and adds it on g2, which triggers it; `--all-sites` brings it
back to g1; beaconctl --json fleet shows both gateways current."""
import json
import time

import fleet
from e2e import ts_seconds
from fleet import check, fail, finish, say


def campaigns(g):
    p = fleet.ctl(g.db, "--json", "campaign", "list")
    return {c["name"]: c for c in json.loads(p.stdout)}


def triggered(fl, g, name, since=0.0):
    return [t for t in fl.triggers(g.gid, g.site)
            if t["campaign"] == name and ts_seconds(t["ts"]) > since]


fl = fleet.Fleet("fleet-sites")
try:
    fl.populate()
    fl.hq_ctl("campaign", "add", "door-s1", "--zone", "entrance", "--event", "enter",
              "--cooldown", "0", "--sites", "s1")
    fl.hq_ctl("campaign", "add", "door-s2", "--zone", "entrance", "--event", "enter",
              "--cooldown", "0", "--sites", "s2")
    fl.hub.start()
    g1 = fl.gateway("g1").start()
    g2 = fl.gateway("g2", gateway={"site": "s2"}).start()
    for g in (g1, g2):
        if not g.wait_current(40):
            fail("%s/%s did not become current:\n%s\n%s" %
                 (g.site, g.gid, g.text()[-3000:], fl.hub.text()[-2000:]))

    c1, c2 = campaigns(g1), campaigns(g2)
    say("g1 holds %s, g2 holds %s" % (sorted(c1), sorted(c2)))
    check(set(c1) == {"hello", "bye", "door-s1"},
          "g1 (site s1) holds the all-site campaigns and door-s1 only: %s" % sorted(c1))
    check(set(c2) == {"hello", "bye", "door-s2"},
          "g2 (site s2) holds the all-site campaigns and door-s2 only: %s" % sorted(c2))
    check(c1["door-s1"]["sites"] == ["s1"] and c1["hello"]["sites"] == [],
          "the gateway shows the sites each campaign is for")

    if not fleet.wait_for(lambda: triggered(fl, g1, "door-s1") and
                          triggered(fl, g2, "door-s2"), 30):
        fail("no site campaign triggered:\n%s\n%s" % (g1.text()[-2000:], g2.text()[-2000:]))
    check(not triggered(fl, g1, "door-s2") and not triggered(fl, g2, "door-s1"),
          "no gateway triggers another site's campaign")

    # Retarget door-s1 to s2: removed on g1, added on g2, by one signed change.
    seq0 = fl.hub_seq()
    fl.hq_ctl("campaign", "target", "door-s1", "--sites", "s2")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq0, 10):
        fail("the hub did not sign the retargeting:\n" + fl.hub.text()[-2000:])
    seq1 = fl.hub_seq()
    for g in (g1, g2):
        if not g.wait_current(20, seq1):
            fail("%s did not apply the retargeting:\n%s" % (g.gid, g.text()[-3000:]))
    t_applied = time.time()
    check("door-s1" not in campaigns(g1), "g1 removed door-s1 once it was retargeted to s2")
    check(campaigns(g2).get("door-s1", {}).get("sites") == ["s2"],
          "g2 runs door-s1, now for s2: %s" % campaigns(g2).get("door-s1"))
    if not fleet.wait_for(lambda: triggered(fl, g2, "door-s1", t_applied), 30):
        fail("g2 did not trigger door-s1:\n" + g2.text()[-2000:])
    # cycles.scn brings both customers back several times meanwhile.
    time.sleep(6)
    check(not triggered(fl, g1, "door-s1", t_applied),
          "no door-s1 trigger from g1 after it applied the retargeting")
    check(triggered(fl, g1, "hello", t_applied), "g1 goes on with the all-site campaigns")

    # Back to every site.
    fl.hq_ctl("campaign", "target", "door-s1", "--all-sites")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq1, 10):
        fail("the hub did not sign the second retargeting")
    seq2 = fl.hub_seq()
    for g in (g1, g2):
        if not g.wait_current(20, seq2):
            fail("%s did not apply the second retargeting:\n%s" % (g.gid, g.text()[-3000:]))
    check("door-s1" in campaigns(g1) and "door-s1" in campaigns(g2),
          "door-s1 for every site runs on both gateways again")

    # A campaign removed at head office goes from every site.
    fl.hq_ctl("campaign", "remove", "door-s2", "--yes")
    if not fleet.wait_for(lambda: fl.hub_seq() > seq2, 10):
        fail("the hub did not sign the removal")
    seq3 = fl.hub_seq()
    check(g2.wait_current(20, seq3) and "door-s2" not in campaigns(g2),
          "g2 removed door-s2 once it was removed at head office")

    rows = fl.fleet()
    say("fleet: %s" % rows)
    check(all(rows.get(k, {}).get("current") is True and
              rows.get(k, {}).get("consent_seq") == seq3 for k in ("s1/g1", "s2/g2")),
          "beaconctl fleet shows s1/g1 and s2/g2 current at seq %d" % seq3)
    check(g1.stop() == 0 and g2.stop() == 0, "both gateways stopped cleanly")
finally:
    fl.close()
finish()
