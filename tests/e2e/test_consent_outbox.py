#!/usr/bin/env python3
"""Consent ended while triggers wait in the outbox: none of them is published.

cycles.scn is replayed (beacongw --once) while the broker is unreachable,
so the triggers of cust-a and cust-b stay queued in the outbox. Then, with
beaconctl, cust-a's retargeting consent is withdrawn (its transaction
deletes cust-a's queued rows) and cust-c's only identifier removed; rows of
cust-c queued after that (as a daemon could from what it held in memory)
must meet the publisher's own check. When the broker is back, a second run (an empty
capture) flushes the outbox: the subscriber receives cust-b's triggers and
not one of cust-a's or cust-c's; the outbox is empty; the status counts the
deleted ones in triggers_dropped_consent; the log names no customer."""
import time

import e2e
from e2e import by_customer, check, finish

s = e2e.live_store("consent-outbox")
try:
    e2e.add_consented(s.db, "cust-c", "ibeacon", "e2e0c1c1-0000-4000-8000-00000000000a:1:2")
    start = int(time.time()) + 1
    cap = s.capture("cycles.scn", start)
    empty = e2e.bt.offline_capture(s.tmp, "seed 1\nduration 2s\n\ntag stranger\n"
                                   "    ibeacon e2e0c1c1-0000-4000-8000-0000000000ff:9:9\n"
                                   "    interval 100ms\n    path 0ms:30 2000ms:30\n", s.tmp("empty.btsnoop"),
                                   start_time=start)
    dead = e2e.bt.free_port()
    conf_dead = s.config(name="dead.conf", mqtt={"port": str(dead)})
    p = e2e.run_beacongw(["-c", conf_dead, "-v", "--source", "btsnoop:" + cap, "--once"],
                         timeout=120)
    check(p.returncode == 0, "replay with the broker unreachable: exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    rows = e2e.query(s.db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN customers c "
                     "ON c.id = o.customer_id GROUP BY 1 ORDER BY 1")
    queued = dict(rows)
    e2e.say("queued in the outbox: %s" % queued)
    if not (queued.get("cust-a") and queued.get("cust-b")):
        e2e.fail("no triggers of cust-a and cust-b waiting in the outbox: %s" % queued)

    s.ctl("consent", "withdraw", "cust-a", "retargeting")
    s.ctl("identifier", "remove", "ibeacon", "e2e0c1c1-0000-4000-8000-00000000000a:1:2")
    # The withdrawal's own transaction deleted cust-a's queued rows.
    check(not e2e.query(s.db, "SELECT count(*) FROM outbox o JOIN customers c ON "
                        "c.id = o.customer_id WHERE c.customer_ref = 'cust-a'")[0][0],
          "the withdrawal deleted cust-a's queued triggers in its transaction")
    # Rows that escaped that deletion (queued by a daemon from what it held
    # in memory at the moment of the change) meet the publisher's own check:
    # cust-c, whose identifier is gone, gets a copy of cust-b's triggers.
    e2e.query(s.db, "INSERT INTO outbox(trigger_id, created_us, topic, payload, customer_id) "
               "SELECT trigger_id || '-c', created_us, topic, replace(payload, 'cust-b', "
               "'cust-c'), (SELECT id FROM customers WHERE customer_ref = 'cust-c') "
               "FROM outbox WHERE customer_id = (SELECT id FROM customers "
               "WHERE customer_ref = 'cust-b')")
    left = dict(e2e.query(s.db, "SELECT c.customer_ref, count(*) FROM outbox o JOIN "
                          "customers c ON c.id = o.customer_id GROUP BY 1"))
    gone = sum(left.get(r, 0) for r in ("cust-a", "cust-c"))

    conf = s.config()
    p2 = s.replay(conf, empty)
    trig = e2e.triggers(s.sub)
    check(not by_customer(trig, "cust-a"),
          "%d trigger(s) of cust-a published after the withdrawal"
          % len(by_customer(trig, "cust-a")))
    check(not by_customer(trig, "cust-c"),
          "%d trigger(s) of cust-c published after its identifier was removed"
          % len(by_customer(trig, "cust-c")))
    check(len(by_customer(trig, "cust-b")) == queued["cust-b"],
          "cust-b's %d queued triggers were delivered (got %d)"
          % (queued["cust-b"], len(by_customer(trig, "cust-b"))))
    check(e2e.query(s.db, "SELECT count(*) FROM outbox")[0][0] == 0, "the outbox is empty")
    counts = (s.sub.last_status() or {}).get("counts", {})
    check(counts.get("triggers_dropped_consent") == gone,
          "status: triggers_dropped_consent = %d (%s)"
          % (gone, counts.get("triggers_dropped_consent")))
    e2e.say("deleted unpublished: %d (cust-a %d, cust-c %d)" % (gone, left.get("cust-a", 0),
                                                                left.get("cust-c", 0)))
    said = [ln for ln in p2.stderr.splitlines() if "consent ended" in ln]
    check(said, "the log says triggers were dropped because consent ended")
    check(not [ln for ln in said if "cust-" in ln], "those log lines name no customer: %s"
          % said)
finally:
    s.close()
finish()
