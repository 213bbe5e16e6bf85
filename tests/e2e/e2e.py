"""What the end-to-end tests add to tests/lib/bgwtest.py: a reader of the
advertising reports in a btsnoop capture (written here from the Core
specification, independent of the daemon's parser), the byte forms in which
an identifier could leak, schema validation of received payloads, and a
store run (broker + subscriber + database) that each test fills in.

Every test imports this module first; it puts tests/lib on sys.path."""
import json
import os
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import bgwtest as bt  # noqa: E402
# What the tests use through this module, re-exported.
from bgwtest import (BEACONCTL, BEACONGW, BEACONSIM, BUILD, PREFIX, SOURCE,  # noqa: E402,F401
                     Broker, Gateway, Sim, Subscriber, TempDir, add_consented, check,
                     clean_env, ctl, fail, finish, query, run_beacongw, say, skip, wait_for,
                     write_config)

SCENARIOS = HERE


def need_everything():
    bt.need_binaries()
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        skip("python3-jsonschema is not installed")


# ---- btsnoop capture reader ----

def capture_reports(path):
    """Yield (time_us, addr_type, address in wire order, AD data) of every
    LE Advertising Report (legacy, subevent 0x02) and LE Extended
    Advertising Report (0x0D) of an H4 btsnoop capture (datalink 1002)."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"btsnoop\0" or struct.unpack(">I", blob[12:16])[0] != 1002:
        fail("%s: not an H4 btsnoop capture" % path)
    off = 16
    while off + 24 <= len(blob):
        _, incl, _, _, ts = struct.unpack(">IIIIQ", blob[off:off + 24])
        pkt = blob[off + 24:off + 24 + incl]
        off += 24 + incl
        if len(pkt) < 5 or pkt[0] != 0x04 or pkt[1] != 0x3E:
            continue
        n, q = pkt[4], 5
        for _ in range(n):
            if pkt[3] == 0x02:      # type, addr type, addr, len, data, rssi
                atype, addr, dlen = pkt[q + 1], pkt[q + 2:q + 8], pkt[q + 8]
                data = pkt[q + 9:q + 9 + dlen]
                q += 10 + dlen
            elif pkt[3] == 0x0D:    # type(2), addr type, addr, phys, sid, tx, rssi,
                atype, addr = pkt[q + 2], pkt[q + 3:q + 9]  # interval(2), direct(7), len
                dlen = pkt[q + 23]
                data = pkt[q + 24:q + 24 + dlen]
                q += 24 + dlen
            else:
                break
            yield ts, atype, bytes(addr), bytes(data)


def addr_text(wire):
    """Wire-order address bytes -> 'AA:BB:CC:DD:EE:FF'."""
    return ":".join("%02X" % b for b in reversed(wire))


def eddystone_frame(data):
    """(frame type, frame bytes) of an Eddystone service-data AD structure
    in data, or (None, b'')."""
    i = 0
    while i + 1 < len(data):
        ln = data[i]
        if ln == 0 or i + 1 + ln > len(data):
            break
        ad = data[i + 1:i + 1 + ln]
        if ad[0] == 0x16 and ad[1:3] == b"\xaa\xfe" and len(ad) > 3:
            return ad[3], ad[3:]
        i += 1 + ln
    return None, b""


# ---- leaks ----

def forms(raw):
    """Ways the bytes raw could show up in a file, a log or a payload:
    as they are, reversed (wire order of addresses), and as hex text in
    either case, with or without colons or dashes."""
    out = set()
    for b in (raw, bytes(reversed(raw))):
        out.add(b)
        h = b.hex()
        for x in (h, h.upper()):
            out.add(x.encode())
            out.add(":".join(x[i:i + 2] for i in range(0, len(x), 2)).encode())
    return out


def uuid_forms(uuid):
    raw = bytes.fromhex(uuid.replace("-", ""))
    return forms(raw) | {uuid.lower().encode(), uuid.upper().encode()}


def leaks(needles, blobs):
    """[(needle name, where)] for every needle (name -> set of byte forms)
    found in any blob (where -> bytes)."""
    found = []
    for name, fs in needles.items():
        for where, blob in blobs.items():
            if any(f in blob for f in fs):
                found.append((name, where))
    return found


def db_files(db):
    """The database and its -wal/-shm/-journal files, whatever exists."""
    d, base = os.path.split(db)
    out = {}
    for f in sorted(os.listdir(d)):
        if f == base or f.startswith(base + "-"):
            with open(os.path.join(d, f), "rb") as fh:
                out[f] = fh.read()
    return out


# ---- payloads ----

def validate(doc, name, what):
    """Check doc against docs/schema/<name>.schema.json; True when valid."""
    why = bt.schema_error(doc, name, required=True)
    return check(why is None, "%s does not match %s.schema.json: %s" % (what, name, why))


def triggers(sub):
    """Triggers received, duplicates of at-least-once delivery (same id)
    dropped, each checked against the trigger schema."""
    seen, out = set(), []
    for _, payload in sub.messages("trigger"):
        doc = json.loads(payload)
        if doc.get("id") in seen:
            continue
        seen.add(doc.get("id"))
        validate(doc, "trigger", "trigger %s" % payload[:120])
        out.append(doc)
    return out


def validate_published(sub):
    """Every message on a gateway topic matches its schema."""
    n = 0
    for topic, payload in sub.messages():
        leaf = topic.rsplit("/", 1)[-1]
        if topic.startswith(PREFIX + "/") and leaf in ("trigger", "status", "footfall",
                                                      "beacons"):
            validate(json.loads(payload), leaf, "%s payload %s" % (leaf, payload[:100]))
            n += 1
    return n


def ts_seconds(ts):
    """'2026-03-02T10:00:01.250Z' -> unix seconds (float)."""
    import calendar
    base, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000.0


# ---- a store run ----

class Store:
    """A temporary directory, a broker, a subscriber on every topic and an
    empty consent database; close() tears everything down."""

    def __init__(self, name):
        need_everything()
        self.tmp = TempDir(name)
        self.db = self.tmp("gw.db")
        self.procs = []
        self.broker = Broker(self.tmp).start()
        self.sub = Subscriber(self.broker.port, ["#"])
        self.ctl("init")

    def ctl(self, *args):
        return ctl(self.db, *args).stdout

    def config(self, **sections):
        return write_config(self.tmp, self.db, self.broker.port, **sections)

    def capture(self, scenario, start_time, name="store.btsnoop"):
        out = self.tmp(name)
        p = subprocess.run([BEACONSIM, "-s", os.path.join(SCENARIOS, scenario), "-w", out,
                            "--start-time", str(int(start_time))], capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            fail("beaconsim %s: exit %d: %s" % (scenario, p.returncode, p.stderr))
        return out

    def replay(self, conf, capture, timeout=120):
        """beacongw -v --once over a capture; returns the finished process
        (stderr in .stderr) after the subscriber saw the offline status."""
        p = run_beacongw(["-c", conf, "-v", "--source", "btsnoop:" + capture, "--once"],
                         timeout=timeout)
        if not check(p.returncode == 0, "beacongw --once: exit %d: %s" % (p.returncode,
                                                                         p.stderr[-1500:])):
            return p
        check(wait_for(lambda: (self.sub.last_status() or {}).get("online") is False, 10),
              "retained status went offline at the end of the replay")
        return p

    def close(self):
        for p in self.procs:
            p.close() if hasattr(p, "close") else p.stop()
        self.sub.close()
        self.broker.stop()
        if not bt.failures or os.environ.get("BGW_KEEP") is None:
            self.tmp.cleanup()
        else:
            say("kept", self.tmp.path)


# ---- a live store (cycles.scn) ----

LIVE_SPEED = 4
# Absence 1 s: the gateway looks for absences once a second, so a tag away
# for 3 s (cycles.scn at speed 4) is always seen to leave; with a timeout
# close to the length of the gap, the tag could be back before the check.
LIVE_PRESENCE = {"enter_confirmations": "3", "enter_window_s": "5", "absence_timeout_s": "1",
                 "exit_below_s": "1"}


def live_store(name):
    """Store with cust-a and cust-b (cycles.scn) consented to presence and
    retargeting by push, and campaigns on enter and exit without cooldown;
    start_live() runs it."""
    s = Store(name)
    for ref, minor in (("cust-a", "a"), ("cust-b", "b")):
        add_consented(s.db, ref, "ibeacon", "e2e0c1c1-0000-4000-8000-00000000000%s:1:1" % minor)
    s.ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
          "--cooldown", "0")
    s.ctl("campaign", "add", "bye", "--zone", "entrance", "--event", "exit",
          "--cooldown", "0")
    return s


def start_live(s, **sections):
    """beaconsim playing cycles.scn live for beacongw over a unix socket;
    the consent store is polled at its default interval (500 ms), the
    status published every second. Returns (gateway, sim) once the
    gateway is ready."""
    sections.setdefault("presence", {}).update(LIVE_PRESENCE)
    sections.setdefault("storage", {}).update({"poll_ms": "500"})
    sections.setdefault("mqtt", {}).update({"status_interval": "1"})
    conf = s.config(**sections)
    sim = Sim(s.tmp, os.path.join(SCENARIOS, "cycles.scn"), speed=LIVE_SPEED, once=True)
    s.procs.append(sim)
    sim.start()
    gw = Gateway(s.tmp, conf, source=sim.spec)
    s.procs.insert(0, gw)
    gw.start()
    if not gw.ready(30):
        fail("beacongw did not get ready:\n" + gw.text()[-2000:])
    return gw, sim


def keygen(s):
    """A backend signing key pair for signed consent updates (beaconctl
    keygen into the store's scratch directory): (path prefix, fingerprint)."""
    keys = s.tmp("backend")
    p = subprocess.run([BEACONCTL, "--json", "keygen", "--out", keys], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        fail("beaconctl keygen: %s" % p.stderr)
    return keys, json.loads(p.stdout)["fingerprint"]


def by_customer(trigs, ref):
    return [t for t in trigs if t.get("customer_ref") == ref]
