#!/usr/bin/env python3
"""Demo subscriber: prints what a marketing backend receives from beacongw
and appends every message (topic + JSON) to a file for the summary.

usage: demo-subscriber.py HOST PORT OUT.jsonl"""
import json
import sys

import paho.mqtt.client as mqtt

host, port, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = open(out_path, "a", encoding="utf-8")


def show(topic, doc):
    kind = topic.rsplit("/", 1)[-1]
    if kind == "trigger":
        where = ("rssi=%6.1f dBm ~%.1f m" % (doc["rssi"], doc["proximity_m"])
                 if doc.get("rssi") is not None else "rssi unknown")
        print("  TRIGGER  %-7s %-10s campaign=%-11s dwell=%3ss %s  channels=%s"
              % (doc.get("event"), doc.get("customer_ref"), doc.get("campaign"),
                 doc.get("dwell_s"), where, ",".join(doc.get("channels", []))))
    elif kind == "visit":
        print("  VISIT    %-10s zone=%-9s gateway=%-9s dwell=%3ss peak=%s dBm"
              % (doc.get("customer_ref"), doc.get("zone"), doc.get("gateway"),
                 doc.get("dwell_s"), doc.get("peak_rssi")))
    elif kind == "presence":
        return
    elif kind == "footfall":
        print("  FOOTFALL zone=%s: %s anonymous devices in %ss"
              % (doc.get("zone"), doc.get("count"), doc.get("period_s")))
    elif kind == "beacons" and doc.get("kind") == "store":
        print("  BEACON   %s (%s): %s, battery=%s mV temperature=%s C last seen %s"
              % (doc.get("name"), doc.get("place"), doc.get("status"), doc.get("battery_mv"),
                 doc.get("temperature_c"), doc.get("last_seen")))
    elif kind == "beacons":
        who = doc.get("instance") or doc.get("customer_ref") or doc.get("address", "?")
        print("  BEACON   %s %s battery=%s mV temperature=%s C uptime=%ss"
              % (doc.get("kind", ""), who, doc.get("battery_mv"), doc.get("temperature_c"),
                 doc.get("uptime_s")))
    elif kind == "status":
        print("  STATUS   online=%s counts=%s" % (doc.get("online"),
                                                 json.dumps(doc.get("counts", {}))))


def on_connect(client, userdata, flags, rc, properties=None):
    client.subscribe("beacongw/v1/#", qos=1)


def on_message(client, userdata, msg):
    try:
        doc = json.loads(msg.payload.decode("utf-8"))
    except ValueError:
        print("  (not JSON on %s)" % msg.topic)
        return
    out.write(json.dumps({"topic": msg.topic, "payload": doc}) + "\n")
    out.flush()
    show(msg.topic, doc)
    sys.stdout.flush()


client = mqtt.Client(client_id="beacongw-demo-subscriber", protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_message = on_message
client.connect(host, port)
try:
    client.loop_forever()
except KeyboardInterrupt:
    pass
