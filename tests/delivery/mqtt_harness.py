"""What the delivery integration tests add to tests/lib/bgwtest.py: the
delivery_driver program (the gateway's outbox and publisher alone), test
certificates, checks of received triggers, and schema validation that ends
the test at once.

Every test gets its own temporary directory, a real mosquitto broker on a
free loopback port (generated config), the delivery_driver program and a
paho-mqtt subscriber; received payloads are validated against the JSON
Schemas in docs/schema. Importing this module puts tests/lib on sys.path.
"""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import bgwtest as b  # noqa: E402
# What the tests use through this module, re-exported.
from bgwtest import (BUILD, PREFIX, Subscriber, fail, free_port,  # noqa: E402,F401
                     integrity, load_schema, need, wait_for, wait_port)

DRIVER = os.path.join(BUILD, "tests", "delivery_driver")


class BrokerRun(b.BrokerRun):
    """bgwtest.BrokerRun whose broker has the per-client limits the delivery
    tests were made with: 20 messages in flight (mosquitto's default) and
    100000 queued."""

    def start_broker(self, **kw):
        kw.setdefault("inflight", 20)
        kw.setdefault("queued", 100000)
        return b.BrokerRun.start_broker(self, **kw)


def openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(tmp, name):
    key, crt = tmp(name + ".key"), tmp(name + ".crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=%s test CA" % name)
    return key, crt


def make_cert(tmp, ca, name, server):
    ca_key, ca_crt = ca
    key, csr, crt = tmp(name + ".key"), tmp(name + ".csr"), tmp(name + ".crt")
    ext = tmp(name + ".ext")
    with open(ext, "w") as f:
        if server:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        else:
            f.write("extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=%s" % name)
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
    return key, crt


def driver_cmd(db, port, *extra, **kv):
    cmd = [DRIVER, "--db", db, "--set", "mqtt.port=%d" % port,
           "--set", "mqtt.reconnect_min=0.1", "--set", "mqtt.reconnect_max=0.5",
           "--set", "gateway.site=s1", "--set", "gateway.id=gw1"]
    for k, v in kv.items():
        cmd += ["--set", "%s=%s" % (k.replace("__", "."), v)]
    return cmd + list(extra)


def run_driver(db, port, *extra, timeout=120, **kv):
    p = subprocess.run(driver_cmd(db, port, *extra, **kv), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def driver_stats(out):
    for line in out.splitlines():
        if line.startswith("stats "):
            return json.loads(line[6:])
    fail("driver printed no stats:\n" + out)


def validate(payload, schema_name, fragment=None):
    """Validate a received payload against docs/schema/<schema_name> (or its
    $defs/<fragment>); a mismatch ends the test."""
    doc = json.loads(payload)
    why = b.schema_error(doc, schema_name, fragment)
    if why:
        fail("%s does not match %s: %s" % (payload[:300], schema_name, why))
    return doc


def user_props(msg):
    props = getattr(msg, "properties", None)
    return dict(getattr(props, "UserProperty", []) or []) if props else {}


def check_trigger_props(msg, expiry_max=900):
    props = msg.properties
    need(msg.qos == 1, "trigger not QoS 1")
    need(getattr(props, "ContentType", None) == "application/json",
         "trigger without content type application/json")
    need(user_props(msg).get("schema") == "1", "trigger without user property schema=1")
    exp = getattr(props, "MessageExpiryInterval", None)
    need(exp is not None and 0 < exp <= expiry_max, "trigger message expiry %r" % exp)


def trigger_seq(doc):
    """The driver numbers its triggers in the last group of the id."""
    return doc["id"].split("-")[0], int(doc["id"].split("-")[-1], 16)


def check_in_order(triggers, tag, count):
    """Every trigger 1..count of run tag arrived; first arrivals in order."""
    seen = []
    got = set()
    for m in triggers:
        t, n = trigger_seq(json.loads(m.payload))
        if t != tag:
            continue
        if n not in got:
            got.add(n)
            seen.append(n)
    missing = sorted(set(range(1, count + 1)) - got)
    need(not missing, "run %s: %d trigger(s) missing, first %s" % (tag, len(missing),
                                                                    missing[:10]))
    need(seen == sorted(seen), "run %s: triggers arrived out of order" % tag)
    return len(triggers)
