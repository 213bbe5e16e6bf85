#!/usr/bin/env python3
"""An enrolled customer's EID tag, as the firmware broadcasts it, is
recognised by the gateway: beaconfw-sim runs an EID tag for 90 s, its
packets become LE Advertising Reports in a btsnoop capture, the tag's
identity key is enrolled with beaconctl (eddystone-eid KEY:K:OFFSET), and
`beacongw --once` against a real mosquitto records a visit of that customer
and publishes its enter trigger, with the EID rotating every 16 s. The tag
sends its telemetry as eTLM (plain TLM is refused on EID tags): the gateway
decrypts it and publishes the battery and temperature on the beacons topic."""
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import (PREFIX, TRIGGER_TOPIC, BrokerRun, add_consented, ctl,  # noqa: E402
                     need_built, need_mqtt, run_beacongw, sql, wait_for, write_config)
from test_sim_to_gateway import SIM, read_pcap, write_btsnoop  # noqa: E402

KEY = "0102030405060708090a111213141516"
K = 4
CLOCK_BASE = 5000          # the tag's EID counter at power-up
# The tag powers up just after now: consent granted below starts now, and
# reports from before it must not count.
START_S = int(time.time()) + 2


def main():
    need_built("beaconfw-sim", "beacongw", "beaconctl")
    need_mqtt()

    with BrokerRun("fw-enrolled") as run:
        d = run.tmp.path
        ini = os.path.join(d, "tag.ini")
        with open(ini, "w") as f:
            f.write("[tag]\nframes = eid\ntlm_every = 5\ntlm = encrypted\ninterval_ms = 1000\n"
                    "identity_key = %s\neid_exponent = %d\neid_clock_base = %d\n"
                    "[sim]\nvdd_mv = 2950\ntemperature = 21.5\n"
                    % (KEY, K, CLOCK_BASE))
        pcap = os.path.join(d, "tag.pcap")
        subprocess.run([SIM, "--out", pcap, "--seconds", "90", "--config", ini], check=True,
                       stdout=subprocess.DEVNULL)
        cap = os.path.join(d, "tag.btsnoop")
        write_btsnoop(cap, read_pcap(pcap), start_us=START_S * 1000000)

        db = os.path.join(d, "gw.db")

        # tag counter = unix time - offset
        offset = START_S - CLOCK_BASE
        ctl(db, "init")
        add_consented(db, "cust-tag", "eddystone-eid", "%s:%d:%d" % (KEY, K, offset))
        ctl(db, "campaign", "add", "welcome", "--zone", "entrance", "--event", "enter",
            "--channel", "push")

        broker = run.start_broker()
        sub = run.subscribe([PREFIX + "/#"])
        conf = write_config(run.tmp, db, broker.port, plain=True)
        p = run_beacongw(["-c", conf, "--source", "btsnoop:" + cap, "--once", "-v"],
                         timeout=120)
        if p.returncode != 0:
            sys.exit("FAIL: beacongw --once exit %d: %s" % (p.returncode, p.stderr[-800:]))
        wait_for(lambda: sub.messages("trigger"), 5)
        received = sub.messages()

        triggers = [json.loads(pl) for t, pl in received if t == TRIGGER_TOPIC]
        if len(triggers) != 1 or triggers[0].get("customer_ref") != "cust-tag":
            sys.exit("FAIL: expected one trigger for cust-tag, got %s\n%s" %
                     (triggers, p.stderr[-1500:]))
        rows = sql(db, "SELECT c.customer_ref, v.zone FROM visits v "
                       "JOIN customers c ON c.id = v.customer_id")
        if rows != [["cust-tag", "entrance"]]:
            sys.exit("FAIL: expected one visit of cust-tag, got %s" % rows)

        # Telemetry goes out only while the gateway is connected: replay a
        # short capture of the same tag at its recorded speed, so that
        # its eTLM frames arrive after the connection is up.
        # The same tag 100 s later (its counter 100 s further on).
        ini2 = os.path.join(d, "tag2.ini")
        with open(ini) as f, open(ini2, "w") as g:
            g.write(f.read().replace("eid_clock_base = %d" % CLOCK_BASE,
                                     "eid_clock_base = %d" % (CLOCK_BASE + 100)))
        short = os.path.join(d, "short.pcap")
        subprocess.run([SIM, "--out", short, "--seconds", "12", "--config", ini2], check=True,
                       stdout=subprocess.DEVNULL)
        cap2 = os.path.join(d, "short.btsnoop")
        write_btsnoop(cap2, read_pcap(short), start_us=(START_S + 100) * 1000000)
        p = run_beacongw(["-c", conf, "--source", "btsnoop:" + cap2, "--once", "--realtime",
                          "-v"], timeout=60)
        if p.returncode != 0:
            sys.exit("FAIL: beacongw --once --realtime exit %d: %s" %
                     (p.returncode, p.stderr[-800:]))
        wait_for(lambda: [m for m in sub.messages() if m[0].endswith("/beacons")], 5)
        received = sub.messages()
        health = [json.loads(pl) for t, pl in received if t.endswith("/beacons")]
        tags = [h for h in health if h.get("kind") == "tag"]
        if not tags or any(h.get("customer_ref") != "cust-tag" for h in tags):
            sys.exit("FAIL: expected eTLM health of cust-tag on the beacons topic, got %s\n%s" %
                     (health, p.stderr[-1500:]))
        h = tags[0]
        # 10-bit SAADC reading of 2950 mV, and the die temperature, decrypted.
        if not (2940 <= h["battery_mv"] <= 2950) or h["temperature_c"] != 21.5:
            sys.exit("FAIL: eTLM decrypted to wrong values: %s" % h)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
