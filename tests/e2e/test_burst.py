#!/usr/bin/env python3
"""A burst larger than the outbox's memory bound: nothing is dropped while
the database is writable.

600 enrolled tags are all in range at the same moment, so the gateway
decides 600 enters (600 visit rows and 600 `enter` triggers) in one tick,
against `[outbox] pending_max = 200`. The bound is for changes that must
wait because the database cannot be written; a writable one takes the burst
in slices. What a user sees: every visit in the database, every trigger at
the subscriber, once, and no "dropping" in the log."""
import time

import e2e
from e2e import check, finish

TAGS = 600
UUID = e2e.bt.LOAD_UUID

s = e2e.Store("burst")
try:
    csv = s.tmp("burst.csv")
    with open(csv, "w") as f:
        f.write("customer_ref,identifiers,consents,segments\n")
        for i in range(TAGS):
            f.write("B%d,ibeacon %s:1:%d,presence;retargeting@push,\n" % (i, UUID, i))
    s.ctl("import", csv)
    s.ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
          "--channel", "push", "--cooldown", "0")
    scn = ["seed 5", "duration 8s", "noise 1", ""]
    for i in range(TAGS):
        scn += ["tag b%d" % i, "    ibeacon %s:1:%d" % (UUID, i), "    interval 200ms",
                "    txpower -59", "    path 500ms:1 6000ms:1", ""]
    cap = e2e.bt.offline_capture(s.tmp, "\n".join(scn) + "\n", s.tmp("burst.btsnoop"),
                                 start_time=int(time.time()) + 1)
    conf = s.config(outbox={"pending_max": "200"})
    p = s.replay(conf, cap, timeout=180)

    visits = e2e.query(s.db, "SELECT count(*), count(DISTINCT customer_id) FROM visits")[0]
    check(visits == (TAGS, TAGS), "one visit per tag in the database: %s of %d" % (visits, TAGS))
    check(e2e.wait_for(lambda: len(e2e.triggers(s.sub)) >= TAGS, 20),
          "every enter trigger reached the subscriber: %d of %d"
          % (len(e2e.triggers(s.sub)), TAGS))
    trig = e2e.triggers(s.sub)
    refs = [t.get("customer_ref") for t in trig]
    check(len(trig) == TAGS and len(set(refs)) == TAGS,
          "each customer's trigger once: %d triggers, %d customers" % (len(trig), len(set(refs))))
    check("dropping" not in p.stderr and "dropped" not in p.stderr,
          "nothing dropped: %s" % [ln for ln in p.stderr.splitlines() if "drop" in ln][:3])
    counts = (s.sub.last_status() or {}).get("counts", {})
    check(counts.get("triggers_dropped") == 0, "status counts.triggers_dropped is 0: %s"
          % counts.get("triggers_dropped"))
finally:
    s.close()
finish()
