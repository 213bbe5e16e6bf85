#!/usr/bin/env python3
"""Closing summary of the demo: what was seen, recorded and published.

usage: demo-summary.py RECEIVED.jsonl DEMO.db BEACONGW.log"""
import json
import sqlite3
import sys

received_path, db_path, log_path = sys.argv[1:4]
msgs = []
with open(received_path, encoding="utf-8") as f:
    for line in f:
        msgs.append(json.loads(line))


def of_kind(kind):
    return [m["payload"] for m in msgs if m["topic"].endswith("/" + kind)]


statuses = [s for s in of_kind("status") if s.get("counts")]
counts = statuses[-1]["counts"] if statuses else {}
triggers = of_kind("trigger")
db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
visits = db.execute("SELECT count(*) FROM visits").fetchone()[0]
per_customer = db.execute(
    "SELECT c.customer_ref, count(*) FROM visits v JOIN customers c ON c.id = v.customer_id "
    "GROUP BY c.customer_ref ORDER BY 1").fetchall()
outbox_left = db.execute("SELECT count(*) FROM outbox").fetchone()[0]

print("  sightings:  %d advertising reports, %d with a beacon frame, %d of consented customers"
      % (counts.get("reports", 0), counts.get("decoded", 0), counts.get("consented", 0)))
print("  visits:     %d recorded (%s)" % (visits, ", ".join("%s %d" % r for r in per_customer)))
print("  triggers:   %d received by the subscriber (%s)" % (
    len(triggers), ", ".join(sorted({"%s/%s" % (t["customer_ref"], t["event"]) for t in triggers}))))
print("  dropped:    %d (outbox full), %d still queued" % (counts.get("triggers_dropped", 0), outbox_left))
print("  footfall:   %d anonymous aggregates published" % len(of_kind("footfall")))
refs = {t["customer_ref"] for t in triggers}
print("  never published: crm-dave (no retargeting consent): %s; erin's tag (never opted in): %s"
      % ("yes" if "crm-dave" not in refs else "NO", "yes" if not any(
          "100:99" in json.dumps(m) for m in msgs) else "NO"))
