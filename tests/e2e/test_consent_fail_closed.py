#!/usr/bin/env python3
"""A consent state the daemon cannot load makes it act on nobody (issue 13,
path 4).

beaconctl refuses a grant of 33 channels (the gateway's snapshot holds at
most 32 distinct channel names) and leaves the database as it was. Then the
database is edited behind beaconctl's back (sqlite3) to hold 33 channels on
cust-b's consent while beacongw runs live over cycles.scn: from the moment
the status says "consent_state": "failed" (with the reason), no trigger and
no visit of anybody is produced, even though cust-a and cust-b keep walking
in and out; the log and the metrics file say why; `--check-config` refuses
the database; cust-a's retargeting is withdrawn meanwhile. The database is
fixed: the status goes back to "ok" at the next poll, cust-b gets triggers
again, cust-a (withdrawn while closed) none. The footfall published at the
stop counts both tags, which only the closed period can have made
anonymous."""
import os
import subprocess
import time

import e2e
from e2e import by_customer, check, fail, finish, query, say, wait_for

CHANNELS_33 = ",".join("ch%02d" % i for i in range(1, 34))


def status(s):
    return s.sub.last_status() or {}


s = e2e.live_store("fail-closed")
try:
    # beaconctl refuses what the loader cannot hold, and changes nothing.
    before = query(s.db, "SELECT count(*) FROM consents")[0][0]
    args = []
    for i in range(1, 34):
        args += ["--channel", "ch%02d" % i]
    p = subprocess.run([e2e.BEACONCTL, "--db", s.db, "consent", "grant", "cust-b",
                        "retargeting"] + args, capture_output=True, text=True)
    check(p.returncode == 65, "beaconctl refused a 33-channel grant with exit 65: %d %s"
          % (p.returncode, p.stderr))
    check("at most 32" in p.stderr, "the refusal says the limit: %s" % p.stderr.strip())
    check(query(s.db, "SELECT count(*) FROM consents")[0][0] == before,
          "the refused grant changed nothing")

    metrics = s.tmp("beacongw.prom")
    gw, sim = e2e.start_live(s, metrics={"textfile": metrics, "interval_s": "1"},
                             footfall={"min_count": "1"})
    if not wait_for(lambda: by_customer(e2e.triggers(s.sub), "cust-a"), 20):
        fail("no first trigger for cust-a:\n" + gw.text()[-2000:])
    check(wait_for(lambda: status(s).get("consent_state") == "ok", 5),
          "the status says consent_state ok while the store loads")

    # Behind beaconctl's back: more channels than the snapshot can hold.
    query(s.db, "UPDATE consents SET channels = ? WHERE purpose = 1 AND "
                "customer_id = (SELECT id FROM customers WHERE customer_ref = 'cust-b')",
          (CHANNELS_33,))
    if not wait_for(lambda: status(s).get("consent_state") == "failed", 10):
        fail("the status never said the consent state failed: %s\n%s"
             % (status(s), gw.text()[-2000:]))
    t_fail = time.time()
    reason = status(s).get("consent_reason") or ""
    say("failed at %.3f: %s" % (t_fail, reason))
    check(reason.startswith("limit:") and "32" in reason,
          "consent_reason names the limit: %r" % reason)
    check(status(s).get("last_error"), "last_error is set too")
    check(wait_for(lambda: os.path.exists(metrics) and
                   'beacongw_consent_failed{reason="limit"} 1' in open(metrics).read(), 5),
          "the metrics file shows the failure with its kind")
    conf = e2e.write_config(s.tmp, s.db, s.broker.port, name="check.conf")
    cc = e2e.run_beacongw(["-c", conf, "--check-config"])
    check(cc.returncode == 78 and "channel" in cc.stderr,
          "--check-config refuses the database: %d %s" % (cc.returncode, cc.stderr[-300:]))
    s.ctl("consent", "withdraw", "cust-a", "retargeting")

    # Both tags keep walking in and out: a cycle takes 6 s at this speed.
    time.sleep(7.0)
    t_fix = time.time()
    closed = [t for t in e2e.triggers(s.sub) if e2e.ts_seconds(t["ts"]) > t_fail]
    check(not closed, "no trigger of anybody while closed: %s"
          % [(t["customer_ref"], t["event"], t["ts"]) for t in closed])
    visits = query(s.db, "SELECT count(*) FROM visits WHERE entered_at > ?",
                   (int(t_fail) + 1,))[0][0]
    check(visits == 0, "no visit recorded while closed (%d)" % visits)
    log = gw.text()
    check("consent state cannot be loaded" in log and "32 distinct channel" in log,
          "the log says why")
    check(log.count("consent state cannot be loaded") == 1,
          "the failure is logged once, repeats are rate-limited")

    # Fixed: the next poll loads it and person-level processing resumes.
    query(s.db, "UPDATE consents SET channels = 'push' WHERE channels = ?", (CHANNELS_33,))
    check(wait_for(lambda: status(s).get("consent_state") == "ok", 10),
          "consent_state is ok again after the fix: %s" % status(s))
    check(status(s).get("consent_reason") is None, "no consent_reason once ok")
    check(wait_for(lambda: [t for t in by_customer(e2e.triggers(s.sub), "cust-b")
                            if e2e.ts_seconds(t["ts"]) > t_fix], 20),
          "cust-b gets triggers again after the fix")
    check(sim.proc.wait(60) == 0, "beaconsim played the scenario to its end")
    check(gw.stop() == 0, "beacongw stopped cleanly")
    late_a = [t for t in by_customer(e2e.triggers(s.sub), "cust-a")
              if e2e.ts_seconds(t["ts"]) > t_fail]
    check(not late_a, "cust-a, withdrawn while closed, got no trigger: %s" % late_a)
    check("consent state loaded again" in gw.text(), "the log says it recovered")
    counts = [__import__("json").loads(p)["count"] for _, p in s.sub.messages("footfall")]
    check(counts and max(counts) >= 2,
          "anonymous footfall went on while closed (counts %s)" % counts)
    e2e.validate_published(s.sub)
finally:
    s.close()
finish()
