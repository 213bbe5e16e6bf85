#!/usr/bin/env python3
"""A graceful stop while triggers are in flight: the gateway is told to stop
(SIGTERM) while thousands of queued triggers are being published. What a
subscriber and the database show afterwards:
- the offline status ("shutdown") is the last message of the run: no
  trigger arrives after it;
- nothing is lost: every trigger either arrived (once, in order) or is
  still in the outbox for the next start, which publishes it."""
import json
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402

COUNT = 3000


def tagged(sub, tag):
    out = {}
    for m in sub.received("trigger"):
        t, n = h.trigger_seq(json.loads(m.payload))
        if t == tag:
            out.setdefault(n, m)
    return out


def main():
    with h.BrokerRun("stop-in-flight") as run:
        tmp = run.tmp
        broker = run.start_broker()
        sub = run.subscribe([h.PREFIX + "/#"])
        db = tmp("gw.db")
        drv = subprocess.Popen(h.driver_cmd(db, broker.port, "--count", str(COUNT), "--rate",
                                            "1000000", "--seconds", "120"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        h.need(h.wait_for(lambda: sub.received("trigger"), 20),
               "no trigger arrived before the stop")
        before = len(sub.received("trigger"))
        drv.send_signal(signal.SIGTERM)
        out, err = drv.communicate(timeout=60)
        h.need(drv.returncode == 0, "driver exit %d: %s" % (drv.returncode, err))
        tag = [ln.split()[1] for ln in out.splitlines() if ln.startswith("run ")][0]
        st = h.driver_stats(out)

        h.need(h.wait_for(lambda: any(not json.loads(m.payload)["online"]
                                      for m in sub.received("status")), 10),
               "no offline status after the graceful stop")
        order = [m.topic.rsplit("/", 1)[1] for m in sub.received()]
        last_status = max(i for i, leaf in enumerate(order) if leaf == "status")
        h.need(json.loads(sub.received()[last_status].payload).get("reason") == "shutdown",
               "the last status is not the shutdown")
        h.need(all(leaf == "status" for leaf in order[last_status:]),
               "a trigger arrived after the offline status: %s" % order[last_status:][:5])
        got = tagged(sub, tag)
        h.need(len(got) + st["depth"] == COUNT,
               "triggers lost at the stop: %d arrived + %d still queued != %d (%s)"
               % (len(got), st["depth"], COUNT, st))
        h.need(st["queued"] == COUNT, "not all were queued before the stop: %s" % st)
        left = COUNT - len(got)

        # The next start publishes what was left, after the ones that arrived.
        if st["depth"]:
            rc, out2, err2 = h.run_driver(db, broker.port, "--until-done")
            h.need(rc == 0, "second run: %s" % err2)
            h.need(h.wait_for(lambda: len(tagged(sub, tag)) >= COUNT, 20),
                   "the second run did not deliver what the first left: %d of %d"
                   % (len(tagged(sub, tag)), COUNT))
        h.check_in_order(sub.received("trigger"), tag, COUNT)
        print("ok: stopped with %d of %d triggers not yet received; %d of them delivered "
              "before the offline status, %d left queued and delivered by the next start"
              % (COUNT - before, COUNT, COUNT - before - left, left))


if __name__ == "__main__":
    main()
