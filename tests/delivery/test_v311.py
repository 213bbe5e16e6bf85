#!/usr/bin/env python3
"""MQTT 3.1.1 (protocol = 3.1.1, what the gateway falls back to when a broker
refuses v5): same topics and payloads, no v5 properties, nothing lost."""
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402


def main():
    with h.BrokerRun("v311") as run:
        tmp = run.tmp
        broker = run.start_broker()
        sub = run.subscribe([h.PREFIX + "/#"])
        rc, out, err = h.run_driver(tmp("gw.db"), broker.port, "--count", "20", "--rate", "200",
                                    "--until-done", mqtt__protocol="3.1.1")
        h.need(rc == 0 and "done" in out.splitlines(), "driver failed:\n" + err)
        h.need("MQTT 3.1.1" in err, "connect line does not say 3.1.1:\n" + err)
        tag = [ln.split()[1] for ln in out.splitlines() if ln.startswith("run ")][0]
        h.need(h.wait_for(lambda: len(sub.received("trigger")) >= 20, 10), "triggers missing")
        h.check_in_order(sub.received("trigger"), tag, 20)
        for m in sub.received("trigger"):
            h.validate(m.payload, "trigger.schema.json")
            h.need(m.qos == 1, "not QoS 1")
        st = [json.loads(m.payload) for m in sub.received("status")]
        for m in sub.received("status"):
            h.validate(m.payload, "status.schema.json")
        h.need(st and st[0]["mqtt_protocol"] == "3.1.1", "status protocol: %s" % st[:1])
        print("ok: 20 triggers over MQTT 3.1.1")


if __name__ == "__main__":
    main()
