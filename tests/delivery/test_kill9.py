#!/usr/bin/env python3
"""kill -9 of the gateway's delivery loop at random moments, 20 times, under
a steady trigger stream: every trigger it reported as committed arrives at
least once, and the database passes PRAGMA integrity_check every time."""
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402

ROUNDS = 20


def main():
    with h.BrokerRun("kill9") as run:
        tmp = run.tmp
        broker = run.start_broker()
        db = tmp("gw.db")
        rng = random.Random(os.environ.get("BGW_SEED", str(time.time())))
        committed = {}
        sub = run.subscribe([h.PREFIX + "/+/+/trigger"], client_id="kill9-sub",
                            persistent=True)
        for _ in range(ROUNDS):
            drv = subprocess.Popen(h.driver_cmd(db, broker.port, "--count", "100000",
                                                "--rate", "300"),
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
            tag = drv.stdout.readline().split()[1]
            time.sleep(rng.uniform(0.05, 1.0))
            drv.send_signal(signal.SIGKILL)
            out, _ = drv.communicate()
            n = 0
            for line in out.splitlines():
                if line.startswith("committed "):
                    n = int(line.split()[1])
            committed[tag] = n
            res = h.integrity(db)
            h.need(res == "ok", "integrity_check after kill -9: %s" % res)
        # A last, uninterrupted run delivers whatever the killed ones left.
        rc, out, err = h.run_driver(db, broker.port, "--until-done")
        h.need(rc == 0 and "done" in out.splitlines(), "final drain failed:\n" + err)
        total = sum(committed.values())

        def complete():
            got = set()
            for m in sub.received():
                got.add(m.payload)
            return len(got) >= total
        h.wait_for(complete, 20)
        for tag, n in committed.items():
            seen = set()
            for m in sub.received():
                t, k = h.trigger_seq(json.loads(m.payload))
                if t == tag:
                    seen.add(k)
            missing = sorted(set(range(1, n + 1)) - seen)
            h.need(not missing, "run %s: committed %d, %d missing (first %s)" %
                   (tag, n, len(missing), missing[:5]))
        h.need(h.integrity(db) == "ok", "final integrity_check")
        print("ok: %d kill -9 rounds, %d committed triggers all delivered, integrity ok"
              % (ROUNDS, total))


if __name__ == "__main__":
    main()
