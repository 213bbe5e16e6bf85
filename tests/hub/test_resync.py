#!/usr/bin/env python3
"""A gateway that lost its broker session fails closed, resynchronises and
is current again; a hub killed with kill -9 loses nothing committed; a
gateway restored from a backup refuses replayed changes and acts on nobody
until it is current.

1. g1 follows the hub (bridged brokers, cycles.scn playing) and is current.
2. g1 stops; the store broker loses every session (restarted without its
   persistence file); head office commits 100 changes, the last one
   withdrawing cust-a's retargeting. g1 starts again: it reports itself
   not current with a reason, asks for a snapshot without anyone's help,
   and is current at the hub's sequence; cust-a gets no trigger after g1
   restarted, cust-b does.
3. beaconhub is killed with SIGKILL; a change committed at head office
   while it is down reaches g1 once it is back.
4. A backup of g1's database is taken; head office grants cust-a again and
   withdraws again; the backup is restored and every change the hub ever
   published is replayed to g1's queue: g1 refuses the old ones, becomes
   current again, and cust-a gets no trigger.
beaconctl --json fleet shows g1 current at the end of each step."""
import os
import shutil
import signal
import time

import fleet
from e2e import ts_seconds
from fleet import PREFIX, check, fail, finish, say


def not_current_seen(fl, since):
    return [s for t, s in fl.sub.messages("status") if t.endswith("/g1/status")
            and '"consent_current":false' in s and fleet.json.loads(s).get("online") and
            fleet.json.loads(s).get("consent_reason") and
            ts_seconds(fleet.json.loads(s)["ts"][:-1] + ".000Z") >= int(since)]


def signed(fl, after):
    """The hub's sequence once everything committed at head office is
    signed, beyond after."""
    if not fleet.wait_for(lambda: fl.hub_seq() > after and fleet.bt.query(
            fl.hq_db, "SELECT count(*) FROM fleet_changes")[0][0] == 0, 30):
        fail("the hub did not sign the changes:\n" + fl.hub.text()[-2000:])
    return fl.hub_seq()


def fleet_current(fl, seq):
    g1 = fl.fleet().get("s1/g1") or {}
    return g1.get("current") is True and g1.get("consent_seq") == seq


fl = fleet.Fleet("fleet-resync")
try:
    fl.populate()
    fl.hub.start()
    g = fl.gateway("g1").start()
    if not g.wait_current(40):
        fail("g1 did not become current:\n" + g.text()[-3000:])

    # -- 2. session lost during 100 changes --
    check(g.stop() == 0, "g1 stopped cleanly")
    fl.store.stop()
    for f in os.listdir(fl.store.dir.path):
        if f.endswith(".db"):
            os.unlink(fl.store.dir(f))
    fl.store.start()
    seq0 = fl.hub_seq()
    for i in range(49):
        fl.hq_ctl("segment", "add", "cust-b", "s%d" % i)
        fl.hq_ctl("segment", "remove", "cust-b", "s%d" % i)
    fl.hq_ctl("segment", "add", "cust-b", "regular")
    fl.hq_ctl("consent", "withdraw", "cust-a", "retargeting")
    # Changes to one customer between two polls of the hub travel as one
    # message of the state after them.
    seq1 = signed(fl, seq0)
    say("100 changes at head office signed as seq %d..%d" % (seq0 + 1, seq1))
    t_restart = time.time()
    g.start()
    if not g.wait_current(60, seq1):
        fail("g1 did not become current again at seq %d:\n%s" % (seq1, g.text()[-3000:]))
    check(not_current_seen(fl, t_restart),
          "g1 said it was not current, and why, before it caught up")
    check("asking the hub for a snapshot" in g.text(), "g1 asked for a snapshot by itself")
    # The hub learns it from g1's next retained status: wait for that one.
    check(fleet.wait_for(lambda: fleet_current(fl, seq1), 20),
          "beaconctl fleet shows g1 current at seq %d" % seq1)
    time.sleep(8)
    trig = fl.triggers("g1")
    a_late = [t for t in trig if t["customer_ref"] == "cust-a" and
              ts_seconds(t["ts"]) > t_restart]
    check(not a_late, "no trigger for cust-a after g1 restarted: %s" % a_late)
    check([t for t in trig if t["customer_ref"] == "cust-b" and
           ts_seconds(t["ts"]) > t_restart], "cust-b still gets triggers")
    check(fleet.bt.query(g.db, "SELECT count(*) FROM customer_segments")[0][0] == 1,
          "g1 holds cust-b's segments as head office does")

    # -- 3. hub kill -9 --
    fl.hub.stop(signal.SIGKILL)
    fl.hq_ctl("consent", "withdraw", "cust-b", "presence")
    fl.hub.start()
    seq2 = seq1 + 1
    if not g.wait_current(30, seq2):
        fail("the change committed while the hub was dead did not reach g1:\n%s\n%s" %
             (fl.hub.text()[-2000:], g.text()[-2000:]))
    check(fl.hub_seq() == seq2, "the hub signed it once (seq %d)" % fl.hub_seq())
    check(fleet.wait_for(lambda: fleet_current(fl, seq2), 10),
          "beaconctl fleet shows g1 current at seq %d" % seq2)

    # -- 4. restored backup --
    check(g.stop() == 0, "g1 stopped cleanly")
    backup = fl.tmp("g1-backup.db")
    fleet.bt.sql(g.db, "PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(g.db, backup)
    g.start()
    fl.hq_ctl("consent", "grant", "cust-a", "retargeting", "--channel", "push")
    fl.hq_ctl("consent", "withdraw", "cust-a", "retargeting")
    seq3 = signed(fl, seq2)
    if not g.wait_current(30, seq3):
        fail("g1 did not follow the grant and the withdrawal:\n" + g.text()[-2000:])
    check(g.stop() == 0, "g1 stopped cleanly")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(g.db + suffix):
            os.unlink(g.db + suffix)
    shutil.copy(backup, g.db)
    rejected_before = fl.status("g1")["counts"]["consent_updates_rejected"]
    captured = [p for t, p in fl.hq_sub.messages() if t == PREFIX + "/consent"]
    say("replaying %d captured changes into g1's queue" % len(captured))
    for p in captured:
        fleet.publish(fl.store.port, PREFIX + "/consent", p)
    t_restore = time.time()
    g.start()
    if not g.wait_current(60, seq3):
        fail("the restored g1 did not become current:\n" + g.text()[-3000:])
    st = fl.status("g1")
    check(st["counts"]["consent_updates_rejected"] > 0,
          "the restored g1 refused replayed changes (%d)" %
          st["counts"]["consent_updates_rejected"])
    say("rejected before %d, after restore %d" % (rejected_before,
                                                  st["counts"]["consent_updates_rejected"]))
    time.sleep(6)
    a_late = [t for t in fl.triggers("g1") if t["customer_ref"] == "cust-a" and
              ts_seconds(t["ts"]) > t_restore]
    check(not a_late, "no trigger for cust-a after the restore: %s" % a_late)
    check(fleet.wait_for(lambda: fleet_current(fl, seq3), 10),
          "beaconctl fleet shows g1 current at seq %d" % seq3)
    check(g.stop() == 0, "g1 stopped cleanly")
finally:
    fl.close()
finish()
