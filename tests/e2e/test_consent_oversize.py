#!/usr/bin/env python3
"""A 2 MB message on <prefix>/consent never reaches the gateway: it
announces an MQTT v5 Maximum Packet Size on CONNECT ([consent] max_bytes
plus room for the topic and properties), so the broker drops it. The
gateway's peak memory does not grow by the size of the message, it counts
nothing (neither applied nor rejected), stays connected (no reconnect),
and a valid signed update published after it is applied."""
import json
import os
import subprocess

import paho.mqtt.client as mqtt

import e2e
from e2e import check, finish

BIG = 2 * 1024 * 1024


def peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def counts(sub):
    return (sub.last_status() or {}).get("counts") or {}


s = e2e.live_store("consent-oversize")
backend = None
try:
    keys, _ = e2e.keygen(s)
    upd = s.tmp("grant.json")
    with open(upd, "w") as f:
        f.write(json.dumps({"seq": 1, "op": "grant", "ref": "c-new", "purpose": "presence"})
                + "\n")
    r = subprocess.run([e2e.BEACONCTL, "sign", "--key", keys + ".key", upd],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        e2e.fail("beaconctl sign: %s" % r.stderr)

    gw, sim = e2e.start_live(s, consent={"public_key": keys + ".pub"})
    if not e2e.wait_for(lambda: (s.sub.last_status() or {}).get("consent_sync") == "synced", 30):
        e2e.fail("the gateway never said consent_sync synced:\n" + gw.text()[-2000:])
    before = peak_kib(gw.pid())
    backend = mqtt.Client(client_id="e2e-backend-%d" % os.getpid(), protocol=mqtt.MQTTv5)
    backend.connect("127.0.0.1", s.broker.port)
    backend.loop_start()
    big = json.dumps({"payload": "A" * BIG, "sig": "B" * 88})
    backend.publish(e2e.PREFIX + "/consent", big, qos=1).wait_for_publish(30)
    backend.publish(e2e.PREFIX + "/consent", r.stdout.strip(), qos=1).wait_for_publish(10)
    check(e2e.wait_for(lambda: counts(s.sub).get("consent_updates_applied") == 1, 20),
          "the signed update after the big message was applied (%s)" % counts(s.sub))
    after = peak_kib(gw.pid())
    e2e.say("peak RSS %d KiB before, %d KiB after a %d KiB message" % (before, after,
                                                                        BIG // 1024))
    # Receiving it would allocate the whole message at once; the margin
    # below that absorbs the allocator (ASan's quarantine grows by ~1 MiB).
    check(after - before < BIG // 1024, "the gateway's peak memory grew by %d KiB"
          % (after - before))
    c = counts(s.sub)
    check(c.get("consent_updates_rejected") == 0,
          "the big message never reached the gateway (rejected %s)"
          % c.get("consent_updates_rejected"))
    check(c.get("reconnects") == 0, "the gateway stayed connected (reconnects %s)"
          % c.get("reconnects"))
    sim.stop()
    check(gw.stop() == 0, "beacongw stopped cleanly")
finally:
    if backend:
        backend.loop_stop()
        backend.disconnect()
    s.close()
finish()
