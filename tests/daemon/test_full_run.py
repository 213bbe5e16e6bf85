#!/usr/bin/env python3
"""The full run on a replay: a real database made with beaconctl, a real
mosquitto on a free loopback port, `beacongw --once` over a capture in
which a consented customer lingers and a non-consented one passes by.
The consented customer's visit is recorded and the enter trigger arrives
over MQTT; nothing about the other one (address, iBeacon id) reaches the
database, the logs or the broker. Also --check-config with the database."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

from bgwtest import (BUILD, IBEACON, btsnoop_h4, check, finish, le_adv_report, run, tmpdir)

BEACONCTL = os.path.join(BUILD, "beaconctl")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
if not os.path.exists(BEACONCTL):
    print("SKIP: beaconctl not built")
    sys.exit(77)
if not os.path.exists(MOSQUITTO):
    print("SKIP: mosquitto not installed")
    sys.exit(77)
try:
    import paho.mqtt.client as mqtt
except ImportError:
    print("SKIP: python3-paho-mqtt not installed")
    sys.exit(77)

d = tmpdir()
db = os.path.join(d, "gw.db")


def ctl(*args):
    p = subprocess.run([BEACONCTL, "--db", db] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        print("beaconctl", args, p.stdout, p.stderr)
        sys.exit(1)


# Canary: the passer-by's iBeacon (enrolled, but never consented) and address.
CANARY_UUID = "c0ffee00-dead-beef-0000-5ca1ab1e0001"
CANARY_ADDR = "D3:AD:BE:EF:00:01"
canary_frame = bytes.fromhex("0201061aff4c000215" + CANARY_UUID.replace("-", "") + "0007000dc5")

ctl("init")
ctl("customer", "add", "cust-yes")
ctl("identifier", "add", "cust-yes", "ibeacon", "b9407f30-f5f8-466e-aff9-25556b57fe6d:12345:54321")
ctl("consent", "grant", "cust-yes", "presence")
ctl("consent", "grant", "cust-yes", "retargeting", "--channel", "push")
ctl("customer", "add", "cust-no")
ctl("identifier", "add", "cust-no", "ibeacon", CANARY_UUID + ":7:13")
ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter", "--channel", "push")

# mosquitto on a free loopback port
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
mconf = os.path.join(d, "mosquitto.conf")
open(mconf, "w").write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
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
    sub = mqtt.Client(client_id="test-sub", protocol=mqtt.MQTTv5)
    got_sub = threading.Event()
    sub.on_message = lambda c, u, m: received.append((m.topic, m.payload.decode()))
    sub.on_subscribe = lambda *a: got_sub.set()
    sub.connect("127.0.0.1", port)
    sub.subscribe("beacongw/v1/#", qos=1)
    sub.loop_start()
    check(got_sub.wait(10), "subscribed")

    conf = os.path.join(d, "gw.conf")
    open(conf, "w").write("[gateway]\nsite = s1\nid = g1\nzone = entrance\n"
                          "[storage]\ndb = %s\n[mqtt]\nhost = 127.0.0.1\nport = %d\n" % (db, port))

    # 90 s in the zone for cust-yes; the passer-by shows up in between.
    t0 = int(time.time() * 1e6) + 2_000_000
    pk = []
    for i in range(90):
        reps = [("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -55, IBEACON)]
        if 10 <= i < 40:
            reps.append(("adv_nonconn_ind", 1, CANARY_ADDR, -50, canary_frame))
        pk.append((0x04, le_adv_report(reps)))
    cap = os.path.join(d, "store.btsnoop")
    btsnoop_h4(cap, pk, t0_us=t0, step_us=1_000_000)

    p = run(["-c", conf, "--check-config"])
    check(p.returncode == 0, "--check-config with the database: exit 0 (%s)" % p.stderr)

    p = run(["-c", conf, "--source", "btsnoop:" + cap, "--once", "-v"], timeout=60)
    check(p.returncode == 0, "--once: exit 0 (got %d: %s)" % (p.returncode, p.stderr[-800:]))
    end = time.time() + 5
    while time.time() < end and not any(t.endswith("/trigger") for t, _ in received):
        time.sleep(0.05)
    sub.loop_stop()
    sub.disconnect()
finally:
    broker.terminate()
    broker.wait(timeout=10)

triggers = [json.loads(pl) for t, pl in received if t == "beacongw/v1/s1/g1/trigger"]
check(len(triggers) == 1, "one enter trigger published (got %d)" % len(triggers))
if triggers:
    check(triggers[0].get("customer_ref") == "cust-yes", "trigger for cust-yes")
    check(triggers[0].get("event") == "enter", "enter event")
status = [pl for t, pl in received if t == "beacongw/v1/s1/g1/status"]
check(status and json.loads(status[-1]).get("online") is False or
      (status and "offline" in status[-1]), "status offline at the end")

# Every payload matches its documented schema.
try:
    import jsonschema
except ImportError:
    jsonschema = None
from bgwtest import SOURCE
if jsonschema:
    for leaf in ("trigger", "status"):
        path = os.path.join(SOURCE, "docs", "schema", leaf + ".schema.json")
        if not os.path.exists(path):
            continue
        schema = json.load(open(path))
        for t, pl in received:
            if t.endswith("/" + leaf):
                try:
                    jsonschema.validate(json.loads(pl), schema)
                except jsonschema.ValidationError as e:
                    check(False, "%s payload invalid: %s" % (leaf, e.message))

rows = subprocess.run(["sqlite3", db, "SELECT c.customer_ref, v.zone, v.exited_at IS NOT NULL, "
                       "v.dwell_s FROM visits v JOIN customers c ON c.id = v.customer_id"],
                      capture_output=True, text=True).stdout.split()
check(len(rows) == 1 and rows[0].startswith("cust-yes|entrance|1|"), "one closed visit: %s" % rows)

everything = open(db, "rb").read()
for f in os.listdir(d):
    if f.startswith("gw.db-"):
        everything += open(os.path.join(d, f), "rb").read()
logs = p.stderr
published = "".join(pl for _, pl in received)
for what, blob in (("database", everything.hex()), ("log", logs.lower()),
                   ("mqtt", published.lower())):
    check(CANARY_ADDR.replace(":", "").lower() not in blob.replace(":", "").lower(),
          "passer-by's address not in the %s" % what)
wire = bytes(reversed(bytes.fromhex(CANARY_ADDR.replace(":", "")))).hex()
check(wire not in everything.hex(), "passer-by's address (wire order) not in the database")
check("d3:ad:be:ef:00:01" not in logs.lower(), "address not logged")
check(CANARY_UUID not in logs and CANARY_UUID not in published, "canary uuid nowhere")

p = run(["-c", conf, "--db", os.path.join(d, "nodb"), "--check-config"])
check(p.returncode == 78, "--check-config on a missing database: exit 78 (got %d)" % p.returncode)
open(os.path.join(d, "junk.db"), "w").write("not a database" * 100)
p = run(["-c", conf, "--db", os.path.join(d, "junk.db"), "--check-config"])
check(p.returncode == 78, "--check-config on a non-database: exit 78 (got %d)" % p.returncode)

shutil.rmtree(d, ignore_errors=True)
finish()
