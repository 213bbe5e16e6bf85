#!/usr/bin/env python3
"""An enrolled customer's EID tag, as the firmware broadcasts it, is
recognised by the gateway: beaconfw-sim runs an EID tag for 90 s, its
packets become LE Advertising Reports in a btsnoop capture, the tag's
identity key is enrolled with beaconctl (eddystone-eid KEY:K:OFFSET), and
`beacongw --once` against a real mosquitto records a visit of that customer
and publishes its enter trigger, with the EID rotating every 16 s."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sim_to_gateway import read_pcap, write_btsnoop  # noqa: E402

BUILD = os.environ["BGW_BUILD_DIR"]
SIM = os.path.join(BUILD, "beaconfw-sim")
GW = os.path.join(BUILD, "beacongw")
CTL = os.path.join(BUILD, "beaconctl")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
KEY = "0102030405060708090a111213141516"
K = 4
CLOCK_BASE = 5000          # the tag's EID counter at power-up
# The tag powers up just after now: consent granted below starts now, and
# reports from before it must not count.
START_S = int(time.time()) + 2


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def main():
    for exe in (SIM, GW, CTL):
        if not os.access(exe, os.X_OK):
            skip("%s not built" % exe)
    if not os.path.exists(MOSQUITTO):
        skip("mosquitto not installed")
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        skip("python3-paho-mqtt not installed")

    with tempfile.TemporaryDirectory() as d:
        ini = os.path.join(d, "tag.ini")
        with open(ini, "w") as f:
            f.write("[tag]\nframes = eid\ntlm_every = 0\ninterval_ms = 1000\n"
                    "identity_key = %s\neid_exponent = %d\neid_clock_base = %d\n"
                    % (KEY, K, CLOCK_BASE))
        pcap = os.path.join(d, "tag.pcap")
        subprocess.run([SIM, "--out", pcap, "--seconds", "90", "--config", ini], check=True,
                       stdout=subprocess.DEVNULL)
        cap = os.path.join(d, "tag.btsnoop")
        write_btsnoop(cap, read_pcap(pcap), start_us=START_S * 1000000)

        db = os.path.join(d, "gw.db")

        def ctl(*args):
            p = subprocess.run([CTL, "--db", db] + list(args), capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit("FAIL: beaconctl %s: %s" % (" ".join(args), p.stderr.strip()))

        # tag counter = unix time - offset
        offset = START_S - CLOCK_BASE
        ctl("init")
        ctl("customer", "add", "cust-tag")
        ctl("identifier", "add", "cust-tag", "eddystone-eid", "%s:%d:%d" % (KEY, K, offset))
        ctl("consent", "grant", "cust-tag", "presence")
        ctl("consent", "grant", "cust-tag", "retargeting", "--channel", "push")
        ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter",
            "--channel", "push")

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        mconf = os.path.join(d, "mosquitto.conf")
        with open(mconf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
        broker = subprocess.Popen([MOSQUITTO, "-c", mconf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        received = []
        try:
            end = time.time() + 10
            while time.time() < end:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            sub = mqtt.Client(client_id="fw-sub", protocol=mqtt.MQTTv5)
            subscribed = threading.Event()
            sub.on_message = lambda c, u, m: received.append((m.topic, m.payload.decode()))
            sub.on_subscribe = lambda *a: subscribed.set()
            sub.connect("127.0.0.1", port)
            sub.subscribe("beacongw/v1/#", qos=1)
            sub.loop_start()
            if not subscribed.wait(10):
                sys.exit("FAIL: could not subscribe")
            conf = os.path.join(d, "gw.conf")
            with open(conf, "w") as f:
                f.write("[gateway]\nsite = s1\nid = g1\nzone = entrance\n[storage]\ndb = %s\n"
                        "[mqtt]\nhost = 127.0.0.1\nport = %d\n" % (db, port))
            p = subprocess.run([GW, "-c", conf, "--source", "btsnoop:" + cap, "--once", "-v"],
                               capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                sys.exit("FAIL: beacongw --once exit %d: %s" % (p.returncode, p.stderr[-800:]))
            end = time.time() + 5
            while time.time() < end and not any(t.endswith("/trigger") for t, _ in received):
                time.sleep(0.05)
            sub.loop_stop()
            sub.disconnect()
        finally:
            broker.terminate()
            broker.wait(timeout=10)

        triggers = [json.loads(pl) for t, pl in received if t == "beacongw/v1/s1/g1/trigger"]
        if len(triggers) != 1 or triggers[0].get("customer_ref") != "cust-tag":
            sys.exit("FAIL: expected one trigger for cust-tag, got %s\n%s" %
                     (triggers, p.stderr[-1500:]))
        rows = subprocess.run(["sqlite3", db, "SELECT c.customer_ref, v.zone FROM visits v "
                               "JOIN customers c ON c.id = v.customer_id"],
                              capture_output=True, text=True).stdout.split()
        if rows != ["cust-tag|entrance"]:
            sys.exit("FAIL: expected one visit of cust-tag, got %s" % rows)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
