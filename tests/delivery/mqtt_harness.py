"""Shared helpers of the delivery integration tests.

Every test gets its own temporary directory, a real mosquitto broker on a
free loopback port (generated config), the delivery_driver program and a
paho-mqtt subscriber; received payloads are validated against the JSON
Schemas in docs/schema.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

BUILD = os.environ.get("BGW_BUILD_DIR", os.getcwd())
SOURCE = os.environ.get("BGW_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DRIVER = os.path.join(BUILD, "tests", "delivery_driver")
PREFIX = "beacongw/v1"


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def need(cond, msg):
    if not cond:
        fail(msg)


def tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


class TempDir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="bgw-%s-" % name)

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Broker:
    """mosquitto with a generated config. tls: dict(ca, cert, key, require_cert)."""

    def __init__(self, tmp, users=None, tls=None, persistence=False):
        self.tmp = tmp
        self.port = free_port()
        self.proc = None
        exe = tool("mosquitto")
        if not exe:
            skip("mosquitto is not installed")
        self.exe = exe
        lines = ["per_listener_settings false", "listener %d 127.0.0.1" % self.port,
                 "log_dest file %s" % tmp("mosquitto.log"), "log_type all",
                 "max_inflight_messages 20", "max_queued_messages 100000"]
        # Run as whoever runs the test (root in containers): never switch user.
        if os.geteuid() == 0:
            lines.append("user root")
        if users:
            pw = tmp("passwd")
            open(pw, "w").close()
            for u, p in users.items():
                subprocess.run([tool("mosquitto_passwd"), "-b", pw, u, p], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lines += ["allow_anonymous false", "password_file %s" % pw]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += ["cafile %s" % tls["ca"], "certfile %s" % tls["cert"],
                      "keyfile %s" % tls["key"]]
            if tls.get("require_cert"):
                lines.append("require_certificate true")
        if persistence:
            lines += ["persistence true", "persistence_location %s/" % tmp.path,
                      "autosave_interval 1"]
        self.conf = tmp("mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.proc = subprocess.Popen([self.exe, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            self.stop()
            fail("mosquitto did not start (see %s)" % self.tmp("mosquitto.log"))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


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


class Subscriber:
    """MQTT v5 subscriber that records every message (topic, payload, props)."""

    def __init__(self, port, topics, client_id=None, persistent=False, tls=None):
        self.msgs = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        cid = client_id or "test-sub-%d" % os.getpid()
        self.c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5)
        if tls:
            self.c.tls_set(ca_certs=tls["ca"], certfile=tls.get("cert"), keyfile=tls.get("key"))
        self.topics = topics
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.connected.set()
        self.c.reconnect_delay_set(min_delay=1, max_delay=1)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 600
        self.c.connect("127.0.0.1", port, keepalive=10, clean_start=not persistent,
                       properties=props)
        self.c.loop_start()
        if not self.connected.wait(10):
            fail("test subscriber could not connect")

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if rc == 0:
            # One SUBSCRIBE for every topic: its SUBACK sets self.connected.
            c.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, c, userdata, msg):
        with self.lock:
            self.msgs.append(msg)

    def messages(self, leaf=None):
        with self.lock:
            return [m for m in self.msgs if leaf is None or m.topic.endswith("/" + leaf)]

    def wait_for(self, pred, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if pred():
                return True
            time.sleep(0.05)
        return pred()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


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


def load_schema(name):
    path = os.path.join(SOURCE, "docs", "schema", name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def validate(payload, schema_name, fragment=None):
    """Validate a received payload against docs/schema/<schema_name> (or its
    $defs/<fragment>)."""
    import jsonschema
    schema = load_schema(schema_name)
    if schema is not None and fragment:
        schema = dict(schema["$defs"][fragment], **{"$schema": schema["$schema"]})
    doc = json.loads(payload)
    if schema is not None:
        try:
            jsonschema.validate(doc, schema)
        except jsonschema.ValidationError as e:
            fail("%s does not match %s: %s" % (payload[:300], schema_name, e.message))
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
