#!/usr/bin/env python3
"""The scripted store (store.scn) through the whole daemon: beaconsim writes
the capture, beacongw --once replays it on the capture's clock against a
database made with beaconctl and a real mosquitto.

Consented customers get exactly the enter, dwell and exit triggers their
campaigns, segments, channels and minimum dwell call for; customers with
presence only, retargeting only, no consent, a withdrawn or an expired
retargeting consent, and shoppers who never enrolled get none. Every
trigger matches docs/schema/trigger.schema.json, and the visits in the
database are those of the customers with presence consent."""
import time

import e2e
from e2e import check, finish

UUID = "e2e0a11c-0000-4000-8000-000000000001"
NS = "e2e0b0b0000000000001"

s = e2e.Store("store")
try:
    start = int(time.time()) + 2        # the capture begins after every grant below
    ctl = s.ctl
    ctl("customer", "add", "cust-alice", "--segment", "vip")
    ctl("identifier", "add", "cust-alice", "ibeacon", UUID + ":1:1")
    ctl("consent", "grant", "cust-alice", "presence", "--policy", "p7")
    ctl("consent", "grant", "cust-alice", "retargeting", "--channel", "push", "--channel",
        "email", "--policy", "p7")
    ctl("customer", "add", "cust-bob")
    ctl("identifier", "add", "cust-bob", "eddystone-uid", NS + ":0000000000b0")
    ctl("consent", "grant", "cust-bob", "presence")
    ctl("consent", "grant", "cust-bob", "retargeting", "--channel", "push", "--policy", "p6")
    ctl("customer", "add", "cust-frank")
    ctl("identifier", "add", "cust-frank", "ibeacon", UUID + ":1:6")
    ctl("consent", "grant", "cust-frank", "presence")
    ctl("consent", "grant", "cust-frank", "retargeting", "--channel", "push", "--channel",
        "email")
    ctl("customer", "add", "cust-carol", "--segment", "vip")
    ctl("identifier", "add", "cust-carol", "ibeacon", UUID + ":1:3")
    ctl("consent", "grant", "cust-carol", "presence")
    ctl("customer", "add", "cust-dave", "--segment", "vip")
    ctl("identifier", "add", "cust-dave", "ibeacon", UUID + ":1:4")
    ctl("consent", "grant", "cust-dave", "retargeting", "--channel", "push")
    ctl("customer", "add", "cust-gina", "--segment", "vip")
    ctl("identifier", "add", "cust-gina", "eddystone-uid", NS + ":0000000000c1")
    ctl("customer", "add", "cust-hank", "--segment", "vip")
    ctl("identifier", "add", "cust-hank", "ibeacon", UUID + ":1:8")
    ctl("consent", "grant", "cust-hank", "presence")
    ctl("consent", "grant", "cust-hank", "retargeting", "--channel", "push", "--channel",
        "email")
    ctl("consent", "withdraw", "cust-hank", "retargeting")
    ctl("customer", "add", "cust-ivy", "--segment", "vip")
    ctl("identifier", "add", "cust-ivy", "ibeacon", UUID + ":1:9")
    ctl("consent", "grant", "cust-ivy", "presence")
    ctl("consent", "grant", "cust-ivy", "retargeting", "--channel", "push", "--channel",
        "email", "--expires", "@%d" % (start + 60))

    ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter",
        "--channel", "push")
    ctl("campaign", "add", "vip-dwell", "--zone", "entrance", "--event", "dwell",
        "--segment", "vip", "--min-dwell", "60", "--channel", "push")
    ctl("campaign", "add", "goodbye", "--zone", "entrance", "--event", "exit",
        "--min-dwell", "30", "--channel", "email")
    ctl("campaign", "add", "till-offer", "--zone", "checkout", "--event", "enter")

    conf = s.config(presence={"enter_window_s": "10", "absence_timeout_s": "10",
                              "exit_below_s": "5", "dwell_marks_s": "30,60"})
    while time.time() < start:
        time.sleep(0.1)
    cap = s.capture("store.scn", start)
    s.replay(conf, cap)

    expected = {("cust-alice", "welcome", "enter"), ("cust-alice", "vip-dwell", "dwell"),
                ("cust-alice", "goodbye", "exit"), ("cust-bob", "welcome", "enter"),
                ("cust-frank", "welcome", "enter")}
    e2e.wait_for(lambda: len(e2e.triggers(s.sub)) >= len(expected), 10)
    time.sleep(0.5)     # anything unexpected that is still on its way
    trig = e2e.triggers(s.sub)
    got = [(t.get("customer_ref"), t.get("campaign"), t.get("event")) for t in trig]
    e2e.say("triggers:", ", ".join("%s/%s/%s dwell %s" % (g + (t.get("dwell_s"),))
                                   for g, t in zip(got, trig)))
    check(sorted(got) == sorted(expected),
          "triggers by customer/campaign/event:\n  got      %s\n  expected %s"
          % (sorted(got), sorted(expected)))
    for t in trig:
        key = (t.get("customer_ref"), t.get("campaign"), t.get("event"))
        check((t.get("site"), t.get("gateway"), t.get("zone")) == ("s1", "g1", "entrance"),
              "%s: site/gateway/zone %s" % (key, (t.get("site"), t.get("gateway"),
                                                  t.get("zone"))))
        check(start <= e2e.ts_seconds(t["ts"]) <= start + 240,
              "%s: ts %s is on the capture's clock" % (key, t["ts"]))
        want_ch = ["email"] if t.get("campaign") == "goodbye" else ["push"]
        check(t.get("channels") == want_ch, "%s: channels %s, expected %s"
              % (key, t.get("channels"), want_ch))
        want_policy = {"cust-alice": "p7", "cust-bob": "p6"}.get(t.get("customer_ref"))
        if want_policy:
            check(t.get("policy") == want_policy, "%s: policy %r" % (key, t.get("policy")))
        if t.get("event") == "dwell":
            check(t.get("dwell_s") == 60, "%s: dwell_s %s, expected the 60 s mark"
                  % (key, t.get("dwell_s")))
        if t.get("event") == "exit":
            check(100 <= t.get("dwell_s", 0) <= 170, "%s: dwell_s %s for a visit of about "
                  "130 s" % (key, t.get("dwell_s")))
    e2e.validate_published(s.sub)

    rows = e2e.query(s.db, "SELECT c.customer_ref, v.zone, v.exited_at IS NOT NULL, v.dwell_s "
                     "FROM visits v JOIN customers c ON c.id = v.customer_id ORDER BY 1")
    visits = {}
    for ref, zone, closed, dwell in rows:
        visits.setdefault(ref, []).append((zone, closed, dwell))
    e2e.say("visits:", visits)
    want_visits = {"cust-alice": (110, 170), "cust-bob": (50, 100), "cust-frank": (1, 29),
                   "cust-carol": (60, 110), "cust-hank": (80, 125), "cust-ivy": (50, 100)}
    check(sorted(visits) == sorted(want_visits),
          "customers with visits: %s, expected %s" % (sorted(visits), sorted(want_visits)))
    for ref, (lo, hi) in want_visits.items():
        v = visits.get(ref, [])
        check(len(v) == 1 and v[0][0] == "entrance" and v[0][1] == 1 and lo <= v[0][2] <= hi,
              "%s: one closed visit in entrance of %d..%d s, got %s" % (ref, lo, hi, v))
    n = e2e.query(s.db, "SELECT count(*) FROM outbox")[0][0]
    check(n == 0, "outbox empty after --once (%d left)" % n)
finally:
    s.close()
finish()
