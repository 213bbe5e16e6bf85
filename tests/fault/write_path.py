#!/usr/bin/env python3
"""The daemon's write path under load (beaconsim, a real SQLite file, a real
mosquitto, nothing mocked).

    write_path.py CASE

snapshot_reload: while triggers flow (outbox commits and PUBACKs move the
    database's data_version all the time) the consent snapshot is loaded at
    start and after a real consent change only.
locked_visits: another connection holds the write lock for a few seconds
    under load; the loop keeps serving (status messages keep coming and say
    why the database is not written), and once the lock is gone every visit
    has its row and every trigger its trigger-log row."""
import os
import json
import re
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import bgwtest as b  # noqa: E402
import fault_campaign as fc  # noqa: E402

LOADED = "consent snapshot loaded"


def loads(gw, since=0):
    return gw.log_since(since).count(LOADED)


def case_snapshot_reload():
    rig = fc.Rig("reload", tags=300, gap_s=0.05)
    try:
        gw = rig.gateway().start()
        fc.started(gw, "snapshot_reload")
        b.check(b.wait_for(lambda: len(rig.sub.trigger_ids()) >= 40, 30),
                "snapshot_reload: triggers did not flow")
        b.check(loads(gw) == 1, "snapshot_reload: %d snapshot loads while only triggers "
                "flowed (want 1, at start)" % loads(gw))
        # A real change: one customer withdraws; the snapshot follows.
        mark = gw.mark()
        b.ctl(rig.db, "consent", "withdraw", "C299", "presence")
        b.check(gw.wait_log(LOADED, 10, since=mark),
                "snapshot_reload: no reload after a consent withdrawal")
        n = len(rig.sub.trigger_ids())
        b.check(b.wait_for(lambda: len(rig.sub.trigger_ids()) >= n + 40, 30),
                "snapshot_reload: triggers stopped after the reload")
        b.check(loads(gw) == 2, "snapshot_reload: %d snapshot loads (want 2: start and "
                "after the withdrawal)" % loads(gw))
        b.say("  snapshot loads: %d while %d triggers arrived" %
              (loads(gw), len(rig.sub.trigger_ids())))
        b.check(gw.stop() == 0, "snapshot_reload: graceful stop")
    finally:
        rig.close()


def case_locked_visits():
    hold_s = 5
    rig = fc.Rig("locked-visits", tags=400, gap_s=0.05,
                 sections={"mqtt": {"status_interval": "1"}})
    try:
        gw = rig.gateway().start()
        fc.started(gw, "locked_visits")
        b.wait_for(lambda: len(rig.sub.trigger_ids()) >= 20, 20)
        con = sqlite3.connect(rig.db, timeout=10, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE IF NOT EXISTS lock_holder(x)")
        st_on = len(rig.sub.messages("status"))
        b.say("  write lock held by another connection for %d s" % hold_s)
        time.sleep(hold_s)
        during = [m for _, m in rig.sub.messages("status")[st_on:]]
        con.execute("ROLLBACK")
        con.close()
        b.check(gw.alive(), "locked_visits: gateway died (see %s)" % gw.log)
        # The loop stayed responsive: status documents kept being published.
        b.check(len(during) >= 2, "locked_visits: %d status message(s) during %d s of lock "
                "(status_interval 1 s)" % (len(during), hold_s))
        errs = [json.loads(m).get("last_error") for m in during]
        b.check(any(e and "locked" in e for e in errs),
                "locked_visits: no status said the database was locked: %r" % errs)
        st_off = len(rig.sub.messages("status"))

        def cleared():
            return any(json.loads(m).get("last_error") is None
                       for _, m in rig.sub.messages("status")[st_off:])
        b.check(b.wait_for(cleared, 20), "locked_visits: last_error not cleared afterwards")
        b.wait_for(lambda: rig.sim.proc.poll() is not None,
                   max(0, fc.scenario_end(rig) - (time.time() - gw.started)) + 5)
        time.sleep(3)
        b.check(fc.drained(gw, 60), "locked_visits: outbox did not drain")
        b.check(gw.stop() == 0, "locked_visits: graceful stop")
        text = gw.text()
        entered = len(re.findall(r"visit enter: ", text))
        exited = len(re.findall(r"visit exit: ", text))
        rows = b.query(rig.db, "SELECT count(*) FROM visits")[0][0]
        closed = b.query(rig.db, "SELECT count(*) FROM visits WHERE exited_at IS NOT NULL")[0][0]
        b.say("  visits entered %d, exited %d; rows %d, closed %d" %
              (entered, exited, rows, closed))
        b.check(rows == entered, "locked_visits: %d visit(s) entered, %d row(s)" %
                (entered, rows))
        b.check(closed == exited, "locked_visits: %d visit(s) exited, %d closed row(s)" %
                (exited, closed))
        queued = set(fc.queued_ids(text))
        logged = set(r[0] for r in b.query(rig.db, "SELECT trigger_id FROM trigger_log"))
        b.check(queued == logged, "locked_visits: %d trigger(s) queued, %d trigger-log row(s), "
                "%d differ" % (len(queued), len(logged), len(queued ^ logged)))
        fc.check_delivery(rig.sub, fc.queued_ids(text), "locked_visits")
        b.check(b.integrity(rig.db) == "ok", "locked_visits: integrity_check")
    finally:
        rig.close()


CASES = {"snapshot_reload": case_snapshot_reload, "locked_visits": case_locked_visits}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(__doc__)
        return 64
    b.say("write path case %s" % sys.argv[1])
    CASES[sys.argv[1]]()
    b.finish()


if __name__ == "__main__":
    main()
