#!/usr/bin/env python3
"""Plain MQTT v5 on loopback: every trigger arrives once, in order, with the
v5 properties; the retained status is online while running and offline after
a graceful stop; every payload matches its schema."""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402


def main():
    with h.BrokerRun("plain") as run:
        tmp = run.tmp
        broker = run.start_broker()
        sub = run.subscribe([h.PREFIX + "/#"])
        footfall = json.dumps({"schema": 1, "site": "s1", "gateway": "gw1", "zone": "entrance",
                               "period_start": "2026-01-01T10:00:00Z", "period_s": 900,
                               "count": 17})
        rc, out, err = h.run_driver(tmp("gw.db"), broker.port, "--count", "50", "--rate", "200",
                                    "--until-done", "--aux", "footfall=" + footfall)
        h.need(rc == 0, "driver exit %d: %s" % (rc, err))
        h.need("done" in out.splitlines(), "driver did not finish: %s" % err)
        tag = [ln.split()[1] for ln in out.splitlines() if ln.startswith("run ")][0]
        st = h.driver_stats(out)
        h.need(st["sent"] == 50 and st["depth"] == 0, "stats: %s" % st)
        h.need(st["aux_queued"] == 1 and st["aux_sent"] == 1,
               "footfall not counted apart from the triggers: %s" % st)

        h.need(h.wait_for(lambda: len(sub.received("trigger")) >= 50, 10),
               "only %d triggers arrived" % len(sub.received("trigger")))
        trig = sub.received("trigger")
        for m in trig:
            h.check_trigger_props(m)
            doc = h.validate(m.payload, "trigger.schema.json")
            h.need(m.topic == h.PREFIX + "/s1/gw1/trigger", "topic %s" % m.topic)
            h.need("delivered_late" not in doc, "fresh trigger marked late")
        h.check_in_order(trig, tag, 50)

        # Footfall helper: QoS 1, not retained, with expiry and the v5 properties.
        h.need(h.wait_for(lambda: sub.received("footfall"), 5), "no footfall message")
        ff = sub.received("footfall")[0]
        h.check_trigger_props(ff)
        h.need(not ff.retain, "footfall retained")
        h.validate(ff.payload, "footfall.schema.json")

        # Status: online first, offline (graceful) last; both retained for new readers.
        h.need(h.wait_for(lambda: any(not json.loads(m.payload)["online"]
                                      for m in sub.received("status")), 10),
               "no offline status after the graceful stop")
        statuses = [h.validate(m.payload, "status.schema.json") for m in sub.received("status")]
        h.need(statuses[0]["online"] is True, "first status not online")
        h.need(statuses[-1]["online"] is False and statuses[-1]["reason"] == "shutdown",
               "last status %s" % statuses[-1])
        # "offline" is the last word: nothing the gateway had queued follows it.
        order = [m.topic.rsplit("/", 1)[1] for m in sub.received()]
        h.need(max(i for i, leaf in enumerate(order) if leaf != "status") <
               max(i for i, leaf in enumerate(order) if leaf == "status"),
               "the offline status arrived before the last trigger/footfall: %s" % order[-5:])
        late = h.Subscriber(broker.port, [h.PREFIX + "/s1/gw1/status"], client_id="late-reader")
        h.need(h.wait_for(lambda: late.received(), 5), "status is not retained")
        h.need(late.received()[0].retain, "status is not retained")
        h.need(json.loads(late.received()[0].payload)["online"] is False, "retained not offline")
        late.close()

        # Killed, not stopped: the broker publishes the last will.
        n0 = len(sub.received("status"))
        drv = subprocess.Popen(h.driver_cmd(tmp("gw.db"), broker.port, "--seconds", "60"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        h.need(h.wait_for(lambda: any(json.loads(m.payload)["online"]
                                      for m in sub.received("status")[n0:]), 10),
               "no online status from the second run")
        drv.kill()
        drv.wait()
        h.need(h.wait_for(lambda: json.loads(sub.received("status")[-1].payload)
                          .get("reason") == "connection lost", 10),
               "no last will after kill -9")
        will = h.validate(sub.received("status")[-1].payload, "status.schema.json")
        # The will is built at connect and sent by the broker later: it must not
        # pass the connect time off as the time of the loss.
        h.need(will["ts"] is None and "connected_at" in will,
               "last will carries ts %r, connected_at %r" % (will["ts"],
                                                            will.get("connected_at")))
        print("ok: 50 triggers in order, status online/offline/last will, schemas valid")


if __name__ == "__main__":
    main()
