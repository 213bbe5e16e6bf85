#!/usr/bin/env python3
"""Rotating identities (rotation.scn) through the whole daemon: two
Eddystone-EID tags with a 16 s rotation period (K = 4) -- one whose clock
runs with an enrolled offset, one whose clock has drifted 12 s from what the
database says -- and a phone with an enrolled IRK whose resolvable private
address changes every ~40 s. Each stays about four minutes of capture time,
across 15 EID periods and several addresses: each is recognised as one
customer with one visit, one enter and one exit trigger (no re-entry at a
rotation), even though the capture shows the identifiers changing."""
import time

import e2e
from e2e import check, finish

s = e2e.Store("rotation")
try:
    start = int(time.time()) + 2
    s.ctl("customer", "add", "cust-eid-offset")
    s.ctl("identifier", "add", "cust-eid-offset", "eddystone-eid",
          "e2e0e1d0e2e0e1d0e2e0e1d0e2e0e1d0:4:1000003")
    s.ctl("customer", "add", "cust-eid-drift")
    s.ctl("identifier", "add", "cust-eid-drift", "eddystone-eid",
          "e2e0e1d1e2e0e1d1e2e0e1d1e2e0e1d1:4")
    s.ctl("customer", "add", "cust-rpa")
    s.ctl("identifier", "add", "cust-rpa", "irk", "e2e01a0be2e01a0be2e01a0be2e01a0b")
    for ref in ("cust-eid-offset", "cust-eid-drift", "cust-rpa"):
        s.ctl("consent", "grant", ref, "presence")
        s.ctl("consent", "grant", ref, "retargeting", "--channel", "push")
    s.ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter")
    s.ctl("campaign", "add", "bye", "--zone", "entrance", "--event", "exit")
    conf = s.config(presence={"absence_timeout_s": "5", "exit_below_s": "5",
                              "enter_window_s": "10"})
    while time.time() < start:
        time.sleep(0.1)
    cap = s.capture("rotation.scn", start)

    # The capture really rotates: EIDs and their addresses, and the phone's RPAs.
    eids, eid_addrs, rpas = set(), set(), set()
    for _, atype, addr, data in e2e.capture_reports(cap):
        ftype, frame = e2e.eddystone_frame(data)
        if ftype == 0x30:
            eids.add(frame[2:10])
            eid_addrs.add(addr)
        elif ftype is None and atype == 1 and addr[5] >> 6 == 0b01:
            rpas.add(addr)
    e2e.say("capture: %d EIDs from %d addresses, %d resolvable private addresses"
            % (len(eids), len(eid_addrs), len(rpas)))
    check(len(eids) >= 2 * 14, "both EID tags rotated through >= 14 periods (%d EIDs)"
          % len(eids))
    check(len(eid_addrs) >= 2 * 14, "the EID tags changed address with each EID (%d)"
          % len(eid_addrs))
    check(len(rpas) >= 5, "the phone rotated its resolvable private address (%d)" % len(rpas))

    s.replay(conf, cap)
    e2e.wait_for(lambda: len(e2e.triggers(s.sub)) >= 6, 10)
    time.sleep(0.5)
    e2e.validate_published(s.sub)
    got = sorted((t["customer_ref"], t["event"]) for t in e2e.triggers(s.sub))
    want = sorted((r, ev) for r in ("cust-eid-offset", "cust-eid-drift", "cust-rpa")
                  for ev in ("enter", "exit"))
    check(got == want, "one enter and one exit trigger per customer:\n  got      %s\n"
          "  expected %s" % (got, want))
    for t in e2e.triggers(s.sub):
        if t["event"] == "exit":
            check(200 <= t["dwell_s"] <= 260, "%s: exit after a visit of about 230 s, "
                  "dwell_s %s" % (t["customer_ref"], t["dwell_s"]))
    rows = e2e.query(s.db, "SELECT c.customer_ref, count(*), max(v.dwell_s) FROM visits v "
                     "JOIN customers c ON c.id = v.customer_id GROUP BY 1 ORDER BY 1")
    e2e.say("visits:", rows)
    check(sorted(r[0] for r in rows) == sorted(r for r, _ in want[::2]),
          "a visit for each customer: %s" % rows)
    for ref, n, dwell in rows:
        check(n == 1 and 200 <= dwell <= 260, "%s: one visit of about 230 s, got %d visit(s), "
              "longest %s s" % (ref, n, dwell))
    # What an operator sizing the store reads (docs/capacity.md): every report
    # of the phone's RPAs was looked up, each new address searched once and
    # resolved, the rest answered by the result cache.
    counts = (s.sub.last_status() or {}).get("counts", {})
    e2e.say("status irk counts:", {k: v for k, v in counts.items() if k.startswith("irk_")})
    check(counts.get("irk_resolved", 0) >= len(rpas),
          "each of the phone's %d addresses resolved (irk_resolved %s)"
          % (len(rpas), counts.get("irk_resolved")))
    searched = counts.get("irk_lookups", 0) - counts.get("irk_cache_hits", 0)
    check(counts.get("irk_lookups", 0) >= counts.get("irk_resolved", 0) and
          len(rpas) <= searched < counts.get("irk_cache_hits", 0),
          "each new address searched, the repeats answered by the cache: %d searched, %s"
          % (searched, {k: v for k, v in counts.items() if k.startswith("irk_")}))
    check(counts.get("irk_cache_capacity", 0) > 0, "the cache's size is reported")
finally:
    s.close()
finish()
