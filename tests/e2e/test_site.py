#!/usr/bin/env python3
"""A store with three gateways on one broker ([site] enabled): g1 and g2
both cover the entrance (two doors), g3 the checkout. One beaconsim drives
the three controllers (-l GATEWAY=unix:PATH each): every gateway hears the
same shoppers walking the floor plan from where it stands.

What a user sees:
- one zone per shopper at a time: the visits recorded by the three
  gateways for one shopper never overlap;
- site-wide caps: a campaign with --daily-cap 1 entered on every gateway
  sends one trigger per customer for the whole store, however many
  gateways see them enter, and every gateway's trigger log holds it;
- takeover: when the gateway that holds a shopper is killed, another one
  that hears them opens their visit;
- closed visits reach the backend on each gateway's visit topic;
- nothing about a shopper without presence consent, nor about one who never
  enrolled, appears on any site topic (or any topic at all)."""
import json
import os
import time

import e2e
from e2e import check, finish

UUID = "e2e05173-0000-4000-8000-000000000001"
SPEED = 2

# The floor plan (metres): door 1 and door 2 both cover the entrance, the
# checkout is further in. alice walks door 1 -> door 2 -> checkout -> door 1;
# carol stands between the checkout and door 2 (nearer the checkout, still
# well heard at door 2); erin (presence not consented) and zoe (not
# enrolled) stand in the middle of the store the whole time.
GATEWAYS = (("g1", "0,0", "entrance"), ("g2", "10,0", "entrance"), ("g3", "5,12", "checkout"))
PATHS = {
    "alice": "1s:-15,0 4s:0,1 30s:0,1 38s:10,1 60s:10,1 68s:5,11 90s:5,11 98s:0,1 "
             "140s:0,1 150s:-15,0",
    "carol": "1s:8,7 150s:8,7",
    "erin": "1s:5,5 150s:5,5",
    "zoe": "1s:5,5 150s:5,5",
}
MINOR = {"alice": 1, "carol": 3, "erin": 5, "zoe": 99}
ZONES = {g: z for g, _, z in GATEWAYS}
KILL_AT = 110 / SPEED   # g3 dies while carol stands at the checkout


def scenario():
    lines = ["seed 17", "duration 160s", "noise 2", ""]
    lines += ["gateway %s %s %s" % g for g in GATEWAYS] + [""]
    for who, path in PATHS.items():
        lines += ["tag %s" % who, "    customer cust-%s" % who,
                  "    ibeacon %s:1:%d" % (UUID, MINOR[who]),
                  "    interval 200ms", "    txpower -59", "    path " + path, ""]
    return "\n".join(lines)


def setup_db(s, db):
    def ctl(*a):
        e2e.ctl(db, *a)
    ctl("init")
    for who in ("alice", "carol", "erin"):
        ctl("customer", "add", "cust-" + who)
        ctl("identifier", "add", "cust-" + who, "ibeacon", "%s:1:%d" % (UUID, MINOR[who]))
    for who in ("alice", "carol"):
        ctl("consent", "grant", "cust-" + who, "presence")
        ctl("consent", "grant", "cust-" + who, "retargeting", "--channel", "push")
    ctl("consent", "grant", "cust-erin", "retargeting", "--channel", "push")
    ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter",
        "--daily-cap", "1", "--cooldown", "0")
    ctl("campaign", "add", "till", "--zone", "checkout", "--event", "enter",
        "--cooldown", "0")


def visits(db):
    return e2e.query(db, "SELECT c.customer_ref, v.zone, v.entered_at, v.exited_at "
                     "FROM visits v JOIN customers c ON c.id = v.customer_id ORDER BY 3")


s = e2e.Store("site")
try:
    gws, dbs = {}, {}
    for gw in ("g1", "g2", "g3"):
        dbs[gw] = s.tmp(gw + ".db")
        setup_db(s, dbs[gw])
    scn = s.tmp("site.scn")
    with open(scn, "w") as f:
        f.write(scenario())
    # One beaconsim, one H4 controller per gateway.
    sim = e2e.Sim(s.tmp, scn, speed=SPEED, once=True)
    socks = {gw: s.tmp("%s.sock" % gw) for gw in ZONES}
    sim.cmd = [e2e.BEACONSIM, "-s", scn, "--speed", str(SPEED), "--once",
               "--truth", s.tmp("truth.jsonl")]
    for gw, path in socks.items():
        sim.cmd += ["-l", "%s=unix:%s" % (gw, path)]
    sim.sock = socks["g3"]
    s.procs.append(sim)
    for gw in ("g1", "g2", "g3"):
        conf = s.config(name=gw + ".conf",
                        gateway={"site": "s1", "id": gw, "zone": ZONES[gw]},
                        storage={"db": dbs[gw]},
                        presence={"enter_window_s": "3", "exit_below_s": "3",
                                  "absence_timeout_s": "3", "enter_rssi_dbm": "-78",
                                  "exit_rssi_dbm": "-86"},
                        visits={"publish": "yes"},
                        site={"enabled": "yes", "margin_db": "6", "hold_s": "2",
                              "peer_timeout_s": "4", "summary_ms": "500"})
        gws[gw] = e2e.Gateway(s.tmp, conf, source="h4:unix:" + socks[gw],
                              name="beacongw-" + gw)
    sim.start()
    if not e2e.wait_for(lambda: all(os.path.exists(p) for p in socks.values()), 10):
        e2e.fail("beaconsim did not listen for the three gateways")
    t0 = time.time()
    for gw in ("g1", "g2", "g3"):
        s.procs.insert(0, gws[gw])
        gws[gw].start()
    for gw in ("g1", "g2", "g3"):
        if not gws[gw].ready(30):
            e2e.fail("beacongw %s did not get ready:\n%s" % (gw, gws[gw].text()[-2000:]))

    while time.time() < t0 + KILL_AT:
        time.sleep(0.2)
    killed_at = int(time.time())
    gws["g3"].kill9()
    e2e.say("g3 killed at", killed_at - int(t0), "s")
    while time.time() < t0 + 160 / SPEED + 2:
        time.sleep(0.5)
    for gw in ("g1", "g2"):
        check(gws[gw].stop() == 0, "beacongw %s stopped cleanly" % gw)

    rows = {gw: visits(dbs[gw]) for gw in dbs}
    for gw, r in rows.items():
        e2e.say(gw, "visits:", [(ref, z, a - int(t0), (b or 0) - int(t0) if b else None)
                                for ref, z, a, b in r])

    # One zone per shopper at a time, across the three gateways.
    for ref in ("cust-alice", "cust-carol"):
        # A visit left open by the killed g3 ended when it was killed.
        spans = sorted((a, b if b else killed_at if gw == "g3" else 1 << 40, gw)
                       for gw, r in rows.items() for x, _, a, b in r if x == ref)
        check(spans, "%s has visits" % ref)
        for (a1, b1, g1), (a2, b2, g2) in zip(spans, spans[1:]):
            check(a2 >= b1, "%s: visit at %s (%d..%d) overlaps the one at %s (from %d)"
                  % (ref, g1, a1 - t0, b1 - t0, g2, a2 - t0))
    alice_gws = [gw for a, b, gw in sorted((a, b, gw) for gw, r in rows.items()
                                           for x, _, a, b in r if x == "cust-alice")]
    check(alice_gws[:3] == ["g1", "g2", "g3"], "alice is seen at door 1, door 2, then the "
          "checkout: %s" % alice_gws)
    truth = [json.loads(x) for x in open(s.tmp("truth.jsonl"))]
    check({t["zone"] for t in truth if t["customer"] == "cust-carol"} == {"checkout"},
          "beaconsim --truth puts carol at the checkout")

    # Takeover: carol's visit moves to g2 after g3 died.
    check(any(x == "cust-carol" and a >= killed_at for x, _, a, _ in rows["g2"]),
          "g2 took carol over after g3 was killed: %s" % rows["g2"])

    # Site-wide caps: welcome (daily cap 1) once for alice, whatever the doors.
    trig = e2e.triggers(s.sub)
    got = sorted((t["customer_ref"], t["campaign"], t["gateway"]) for t in trig)
    e2e.say("triggers:", got)
    welcome = [g for g in got if g[:2] == ("cust-alice", "welcome")]
    check(len(welcome) == 1, "one welcome for alice across the site: %s" % welcome)
    check(("cust-alice", "till", "g3") in got, "alice's till trigger at g3: %s" % got)
    # Each gateway keeps its peers' triggers in its trigger log, so a cap
    # still counts them after a restart.
    wid = [t["id"] for t in trig if (t["customer_ref"], t["campaign"]) == ("cust-alice", "welcome")]
    for gw in ("g1", "g2"):
        ids = [r[0] for r in e2e.query(dbs[gw], "SELECT l.trigger_id FROM trigger_log l JOIN "
                                       "campaigns c ON c.id = l.campaign_id JOIN customers u "
                                       "ON u.id = l.customer_id WHERE c.name = 'welcome' AND "
                                       "u.customer_ref = 'cust-alice'")]
        check(ids == wid, "%s's trigger log holds alice's one welcome %s: %s" % (gw, wid, ids))

    # Nothing about erin (no presence consent) or zoe (not enrolled) anywhere.
    needles = {"erin ref": {b"cust-erin"}}
    for who in ("erin", "zoe"):
        needles[who] = e2e.forms(bytes.fromhex(UUID.replace("-", "")) +
                                 bytes([0, 1, 0, MINOR[who]]))
    blobs = {"%s %s" % (m.topic, i): m.payload for i, m in enumerate(s.sub.received())}
    check(not e2e.leaks(needles, blobs), "nothing of the canaries on any topic: %s"
          % e2e.leaks(needles, blobs))
    # Closed visits reach the backend on each gateway's visit topic.
    pub = [json.loads(p) for _, p in s.sub.messages("visit")]
    for v in pub:
        e2e.validate(v, "visit", "visit %s" % v)
    closed = sorted((gw, ref, z) for gw in ("g1", "g2") for ref, z, a, b in rows[gw] if b)
    check(sorted((v["gateway"], v["customer_ref"], v["zone"]) for v in pub
                 if v["gateway"] in ("g1", "g2")) == closed,
          "the visit topic carries the closed visits of g1 and g2: %s" % pub)
    presence = s.sub.messages("presence")
    check(len(presence) > 0, "the gateways published presence summaries")
    for topic, payload in presence[:50]:
        e2e.validate(json.loads(payload), "site-presence", "summary on %s" % topic)
    for gw in ("g1", "g2"):
        check("cust-alice" in " ".join(p for t, p in presence if "/%s/" % gw in t),
              "%s's summaries name alice" % gw)
finally:
    s.close()
finish()
