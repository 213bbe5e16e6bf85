#!/usr/bin/env python3
"""Broker stopped for a while under a steady trigger stream, then restarted:
every trigger arrives, first arrivals in order, none lost (duplicates allowed:
subscribers drop them by id)."""
import os
import sys
import subprocess
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402

COUNT = 300
RATE = 50  # per second: a 6 s stream


def main():
    with h.BrokerRun("restart") as run:
        tmp = run.tmp
        # Persistence: the subscriber's queued messages survive the broker restart,
        # so what the test sees is what the gateway delivered.
        broker = run.start_broker(persistence=True)
        sub = run.subscribe([h.PREFIX + "/+/+/trigger"], client_id="restart-sub",
                            persistent=True)
        ff_sub = run.subscribe([h.PREFIX + "/+/+/footfall"], client_id="restart-ff",
                               persistent=True)
        footfall = ('{"schema":1,"site":"s1","gateway":"gw1","zone":"entrance",'
                    '"period_start":"2026-01-01T10:00:00Z","period_s":900,"count":17}')
        drv = None
        try:
            drv = subprocess.Popen(h.driver_cmd(tmp("gw.db"), broker.port, "--count", str(COUNT),
                                                "--rate", str(RATE), "--until-done"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.5)
            broker.stop()
            # Footfall made during the outage waits in the outbox with the triggers.
            rc, out_ff, err_ff = h.run_driver(tmp("gw.db"), broker.port, "--count", "0",
                                              "--seconds", "1", "--aux",
                                              "footfall=" + footfall, timeout=30)
            h.need(rc == 0, "footfall driver exit %d: %s" % (rc, err_ff))
            h.need(h.driver_stats(out_ff)["aux_queued"] == 1, "footfall not queued: " + out_ff)
            time.sleep(1.0)           # triggers keep coming; they wait in the outbox
            broker.start()
            out, err = drv.communicate(timeout=120)
            h.need(drv.returncode == 0, "driver exit %d: %s" % (drv.returncode, err))
            h.need("done" in out.splitlines(), "driver did not deliver everything:\n" + err)
            h.need("unreachable" in err or "connection" in err,
                   "no log line about the broker outage:\n" + err)
            tag = [ln.split()[1] for ln in out.splitlines() if ln.startswith("run ")][0]
            st = h.driver_stats(out)
            h.need(st["sent"] >= COUNT and st["depth"] == 0 and st["dropped_full"] == 0,
                   "stats %s" % st)
            h.need(st["connects"] >= 2, "no reconnect happened: %s" % st)

            def complete():
                ids = {m.payload for m in sub.received()}
                return len(ids) >= COUNT
            h.need(h.wait_for(complete, 20), "not every trigger reached the subscriber")
            h.need(h.wait_for(lambda: ff_sub.received(), 20),
                   "footfall made during the broker outage was lost")
            h.validate(ff_sub.received()[0].payload, "footfall.schema.json")
            n = h.check_in_order(sub.received(), tag, COUNT)
            for m in sub.received():
                h.validate(m.payload, "trigger.schema.json")
            print("ok: %d triggers delivered across a broker restart (%d messages incl. "
                  "duplicates)" % (COUNT, n))
        finally:
            if drv and drv.poll() is None:
                drv.kill()


if __name__ == "__main__":
    main()
