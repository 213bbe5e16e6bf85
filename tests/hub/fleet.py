"""What the fleet tests share: a head-office broker and a store broker
bridged to it (QoS 1, the store side keeping its own persistent session),
an authority database with beaconhub on the head-office broker, and
gateways on the store broker that start from an empty database.

Every test imports this module first; it puts tests/lib and tests/e2e on
sys.path."""
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import bgwtest as bt  # noqa: E402
from bgwtest import (BEACONCTL, BUILD, PREFIX, Broker, Gateway, Sim, Subscriber,  # noqa: E402,F401
                     TempDir, check, ctl, fail, finish, free_port, say, skip, terminate,
                     wait_for, write_config)

BEACONHUB = os.path.join(BUILD, "beaconhub")
FLEET = "acme"
CYCLES = os.path.join(HERE, "..", "e2e", "cycles.scn")
# cycles.scn: cust-a and cust-b walk in and out of the entrance.
CUSTOMERS = (("cust-a", "e2e0c1c1-0000-4000-8000-00000000000a:1:1"),
             ("cust-b", "e2e0c1c1-0000-4000-8000-00000000000b:1:1"))


def bridge_lines(hq_port):
    """The store broker's side of the bridge, as docs/fleet.md shows it:
    consent down, statuses, snapshot requests and triggers up, QoS 1, a
    persistent session at head office."""
    p = PREFIX
    return ["connection hq", "address 127.0.0.1:%d" % hq_port, "cleansession false",
            "local_cleansession false", "bridge_protocol_version mqttv311",
            "restart_timeout 1 2", "keepalive_interval 5",
            "topic %s/consent in 1" % p, "topic %s/consent/head in 1" % p,
            "topic %s/+/+/consent/snapshot in 1" % p,
            "topic %s/+/+/consent/request out 1" % p,
            "topic %s/+/+/status out 1" % p, "topic %s/+/+/trigger out 1" % p]


class StoreBroker(Broker):
    """A Broker whose config also bridges it to head office."""

    def __init__(self, tmp, hq_port, persistence=True, port=None):
        sub = TempDir("store-broker")
        super().__init__(sub, persistence=persistence, port=port)
        with open(self.conf, "a") as f:
            f.write("\n".join(bridge_lines(hq_port)) + "\n")
        self.dir = sub


class Hub:
    """beaconhub in the background with its log in the fleet's directory."""

    def __init__(self, fl, key):
        self.fl = fl
        self.conf = fl.tmp("hub.conf")
        with open(self.conf, "w") as f:
            f.write("[authority]\ndb = %s\nsigning_key = %s\nfleet = %s\n"
                    "head_interval_s = 2\npoll_ms = 100\n[mqtt]\nhost = 127.0.0.1\n"
                    "port = %d\nreconnect_min = 0.5\nreconnect_max = 1\n"
                    % (fl.hq_db, key, FLEET, fl.hq.port))
        self.log = fl.tmp("hub.log")
        self.proc = None

    def start(self):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen([BEACONHUB, "-c", self.conf, "-v"], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=bt.clean_env())
        return self

    def stop(self, sig=None):
        if self.proc:
            if sig:
                self.proc.send_signal(sig)
                self.proc.wait(10)
            else:
                terminate(self.proc, 10)
        self.proc = None

    def text(self):
        return open(self.log).read()


class Fleet:
    """Head office (broker, authority database, hub key) and one store
    broker bridged to it; gateways are added with gateway()."""

    def __init__(self, name):
        bt.need_binaries("beacongw", "beaconctl", "beaconsim", "beaconhub")
        self.tmp = TempDir(name)
        self.hq_db = self.tmp("hq.db")
        self.hq = Broker(self.tmp).start()
        self.store = StoreBroker(self.tmp, self.hq.port).start()
        # Everything the gateways publish at the store and the hub at head office.
        self.sub = Subscriber(self.store.port, ["#"])
        self.hq_sub = Subscriber(self.hq.port, [PREFIX + "/consent/#", PREFIX + "/consent"])
        self.hq_ctl("init")
        self.key, self.fpr = self.keygen("hub")
        self.hub = Hub(self, self.key)
        self.procs = []

    def keygen(self, name):
        prefix = self.tmp(name)
        p = subprocess.run([BEACONCTL, "--json", "keygen", "--out", prefix],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            fail("beaconctl keygen: %s" % p.stderr)
        return prefix + ".key", json.loads(p.stdout)["fingerprint"]

    def hq_ctl(self, *args):
        return ctl(self.hq_db, *args).stdout

    def populate(self):
        for ref, value in CUSTOMERS:
            bt.add_consented(self.hq_db, ref, "ibeacon", value)
        self.hq_ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
                    "--cooldown", "0")
        self.hq_ctl("campaign", "add", "bye", "--zone", "entrance", "--event", "exit",
                    "--cooldown", "0")

    def fleet(self):
        p = subprocess.run([BEACONCTL, "--db", self.hq_db, "--json", "fleet"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            fail("beaconctl fleet: %s" % p.stderr)
        return {g["gateway"]: g for g in json.loads(p.stdout)}

    def hub_seq(self):
        rows = bt.query(self.hq_db, "SELECT value FROM kv WHERE key = 'hub.seq.' || "
                        "(SELECT value FROM kv WHERE key = 'hub.key')")
        return int(rows[0][0]) if rows else 0

    def gateway(self, gid, source=None, sim=True, pubkeys=None, **sections):
        """A gateway s1/<gid> with an empty database (beaconctl init) that
        follows the hub. Returns a GatewayRun (not started)."""
        return GatewayRun(self, gid, source, sim, pubkeys, sections)

    def status(self, gid, site="s1"):
        topic = "%s/%s/%s/status" % (PREFIX, site, gid)
        st = [p for t, p in self.sub.messages("status") if t == topic]
        return json.loads(st[-1]) if st else {}

    def triggers(self, gid=None, site="s1"):
        out = []
        for t, p in self.sub.messages("trigger"):
            if gid is None or t == "%s/%s/%s/trigger" % (PREFIX, site, gid):
                out.append(json.loads(p))
        return out

    def close(self):
        for g in self.procs:
            g.stop()
        self.hub.stop()
        self.sub.close()
        self.hq_sub.close()
        self.store.stop()
        self.hq.stop()
        if bt.failures and os.environ.get("BGW_KEEP") is not None:
            say("kept", self.tmp.path, self.store.dir.path)
        else:
            self.tmp.cleanup()
            self.store.dir.cleanup()


class GatewayRun:
    def __init__(self, fl, gid, source, sim, pubkeys, sections):
        self.fl = fl
        self.gid = gid
        self.db = fl.tmp("%s.db" % gid)
        ctl(self.db, "init")
        pub = pubkeys or [fl.key[:-4] + ".pub"]
        consent = {"fleet": FLEET, "public_key": pub[0], "max_staleness_s": "30"}
        if len(pub) > 1:
            consent["public_key_next"] = pub[1]
        sec = {"gateway": {"site": "s1", "id": gid, "zone": "entrance"},
               "consent": consent,
               "presence": {"enter_confirmations": "3", "enter_window_s": "5",
                            "absence_timeout_s": "1", "exit_below_s": "1"},
               "storage": {"poll_ms": "200"},
               "mqtt": {"status_interval": "1", "reconnect_min": "0.5",
                        "reconnect_max": "1"}}
        for k, v in sections.items():
            sec.setdefault(k, {}).update(v)
        self.site = sec["gateway"]["site"]
        self.conf = write_config(fl.tmp, self.db, fl.store.port, name="%s.conf" % gid, **sec)
        self.sim = Sim(fl.tmp, CYCLES, speed=4) if sim else None
        self.source = source
        self.gw = None
        fl.procs.append(self)

    def start(self):
        if self.sim and not self.sim.proc:
            self.sim.start()
        self.gw = Gateway(self.fl.tmp, self.conf, name=self.gid,
                          source=self.sim.spec if self.sim else self.source)
        self.gw.start()
        if not self.gw.ready(30):
            fail("beacongw %s did not get ready:\n%s" % (self.gid, self.gw.text()[-2000:]))
        return self

    def stop(self, sig=None):
        rc = None
        if self.gw and self.gw.proc:
            rc = terminate(self.gw.proc, 10, sig) if sig else self.gw.stop()
        if self.sim:
            self.sim.stop()
        return rc

    def kill(self):
        import signal
        terminate(self.gw.proc, 10, signal.SIGKILL)

    def current(self, seq=None):
        st = self.fl.status(self.gid, self.site)
        return (st.get("online") and st.get("consent_current") is True and
                (seq is None or st.get("consent_seq") == seq))

    def wait_current(self, timeout=30, seq=None):
        if seq is None:
            seq = self.fl.hub_seq()
        return wait_for(lambda: self.current(seq), timeout)

    def text(self):
        return self.gw.text() if self.gw else ""


def sign(key, payload):
    """The fleet envelope of payload (a dict) signed with a PEM key by the
    openssl command line tool: how an attacker holding some key would
    make one."""
    import base64
    import tempfile
    raw = json.dumps(payload, separators=(",", ":")).encode()
    with tempfile.NamedTemporaryFile() as f:
        f.write(raw)
        f.flush()
        # Ed25519 signs in one shot: openssl wants a file it can size.
        p = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in",
                            f.name], capture_output=True, timeout=30)
    if p.returncode != 0:
        fail("openssl pkeyutl: %s" % p.stderr)
    return json.dumps({"payload": base64.b64encode(raw).decode(),
                       "sig": base64.b64encode(p.stdout).decode()})


def payload_of(envelope):
    import base64
    return json.loads(base64.b64decode(json.loads(envelope)["payload"]))


def publish(port, topic, payload, retain=False):
    import paho.mqtt.publish as pub
    pub.single(topic, payload, qos=1, retain=retain, hostname="127.0.0.1", port=port)
