"""Helpers shared by the Python tests (tests/*/) and scripts/soak.

Everything is real: a mosquitto broker with a generated config on a free
loopback port, a consent database made with beaconctl, beaconsim as the
controller (live over a unix socket, or an offline btsnoop capture), and
beacongw itself. Each test gets its own temporary directory, so tests run
in parallel.

    tmp = TempDir("outage")
    broker = Broker(tmp, persistence=True).start()
    sub = Subscriber(broker.port, [PREFIX + "/+/+/trigger"], persistent=True)
    db = make_demo_db(tmp("gw.db"), customers=200)
    scn = write_scenario(tmp("load.scn"), load_scenario(200, gap_s=0.1))
    sim = Sim(tmp, scn).start()
    gw = Gateway(tmp, write_config(tmp, db, broker.port), source=sim.spec).start()

A test finds this module by putting tests/lib on sys.path; tests/lib/hcitest.py
has the HCI packets, btsnoop files and scripted controllers.
"""
import atexit
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BGW_BUILD_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "build")))
SOURCE = os.environ.get("BGW_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
BEACONGW = os.path.join(BUILD, "beacongw")
BEACONCTL = os.path.join(BUILD, "beaconctl")
BEACONSIM = os.path.join(BUILD, "beaconsim")
PREFIX = "beacongw/v1"
SITE, GATEWAY = "s1", "g1"
TRIGGER_TOPIC = "%s/%s/%s/trigger" % (PREFIX, SITE, GATEWAY)
STATUS_TOPIC = "%s/%s/%s/status" % (PREFIX, SITE, GATEWAY)
# The UUID every load-test tag shares; the minor number tells them apart.
LOAD_UUID = "5eed0000-fa17-4e57-8000-00000000b00c"

# ---- outcome ----

failures = []


def skip(reason):
    print("SKIP: " + reason, flush=True)
    sys.exit(77)


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def need(cond, msg):
    """A check that ends the test at once when it fails."""
    if not cond:
        fail(msg)


def check(cond, what):
    """Record a failed check and go on (finish() reports them all)."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def finish():
    if failures:
        print("%d check(s) failed" % len(failures), flush=True)
        sys.exit(1)
    print("ok", flush=True)
    sys.exit(0)


def say(*args):
    print(*args, flush=True)


def tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


def need_built(*names):
    """Skip unless every program (a name in the build directory) is built."""
    for n in names:
        if not os.access(os.path.join(BUILD, n), os.X_OK):
            skip("%s is not built" % n)


def missing_mqtt():
    """Why a test cannot talk MQTT here (no mosquitto, no paho), or None."""
    if not tool("mosquitto"):
        return "mosquitto is not installed"
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        return "python3-paho-mqtt is not installed"
    return None


def need_mqtt():
    why = missing_mqtt()
    if why:
        skip(why)


def need_binaries(*names):
    """The three programs (or those named) built, and mosquitto and paho."""
    need_built(*(names or ("beacongw", "beaconctl", "beaconsim")))
    need_mqtt()


class TempDir:
    """A private directory; tmp("name") is a path in it. With
    remove_at_exit it goes when the test ends, otherwise at cleanup()."""

    def __init__(self, name, remove_at_exit=False):
        self.path = tempfile.mkdtemp(prefix="bgw-%s-" % name)
        if remove_at_exit:
            atexit.register(self.cleanup)

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


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def terminate(proc, timeout=10, sig=signal.SIGTERM):
    """Signal proc (SIGTERM) and wait for it, killing it when it does not
    exit in time. Its exit status, or None when it had to be killed."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode


def clean_env(**extra):
    """This environment without what would make beacongw think it runs
    under systemd (journal, notify socket, watchdog), plus extra."""
    e = dict(os.environ)
    for k in ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET", "WATCHDOG_USEC",
              "WATCHDOG_PID"):
        e.pop(k, None)
    e.update(extra)
    return e


def run_beacongw(args, timeout=30, env=None, **kw):
    """beacongw ARGS to its end, outside systemd; stdout and stderr as text."""
    return subprocess.run([BEACONGW] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=clean_env(**(env or {})), **kw)


# ---- broker and subscriber ----

class Broker:
    """mosquitto on a free loopback port with a generated config. With
    persistence the subscriber's session and queue survive a restart, so
    what a test receives is what the gateway handed to the broker.
    users: {name: password} (no anonymous clients then); tls: dict(ca,
    cert, key, require_cert); inflight and queued: how many QoS 1 messages
    the broker keeps in flight towards each client, and queued for it."""

    def __init__(self, tmp, persistence=False, port=None, users=None, tls=None,
                 inflight=100, queued=1000000):
        self.tmp = tmp
        self.port = port or free_port()
        self.proc = None
        self.exe = tool("mosquitto")
        if not self.exe:
            skip("mosquitto is not installed")
        lines = ["per_listener_settings false", "listener %d 127.0.0.1" % self.port,
                 "log_dest file %s" % tmp("mosquitto.log"),
                 "log_type error", "log_type warning", "log_type notice",
                 "max_queued_messages %d" % queued, "max_inflight_messages %d" % inflight]
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
        else:
            lines.append("persistence false")
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

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            terminate(self.proc, 10, sig)
        self.proc = None


class Subscriber:
    """MQTT v5 subscriber keeping every message it receives; with
    persistent=True its session outlives disconnects and broker restarts.
    messages() gives (topic, payload text) pairs, received() the messages
    themselves (qos, retain, properties). tls: dict(ca, cert, key);
    auth: (user name, password)."""

    def __init__(self, port, topics, client_id=None, persistent=False, tls=None, auth=None):
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        self.msgs = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.topics = topics
        cid = client_id or "bgw-test-%d-%d" % (os.getpid(), random.randrange(1 << 30))
        self.c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5)
        if tls:
            self.c.tls_set(ca_certs=tls["ca"], certfile=tls.get("cert"), keyfile=tls.get("key"))
        if auth:
            self.c.username_pw_set(*auth)
        self.c.max_inflight_messages_set(1000)
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.reconnect_delay_set(min_delay=1, max_delay=1)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self.c.connect("127.0.0.1", port, keepalive=10, clean_start=not persistent,
                       properties=props)
        self.c.loop_start()
        if not self.subscribed.wait(10):
            fail("test subscriber could not connect")

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if rc == 0:
            # One SUBSCRIBE for every topic: its SUBACK sets self.subscribed.
            c.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, c, userdata, msg):
        with self.lock:
            self.msgs.append((msg, msg.payload.decode("utf-8", "replace")))

    def _kept(self, leaf):
        with self.lock:
            return [(m, p) for m, p in self.msgs if leaf is None or m.topic.endswith("/" + leaf)]

    def messages(self, leaf=None):
        """(topic, payload text) of every message, or of those on */leaf."""
        return [(m.topic, p) for m, p in self._kept(leaf)]

    def received(self, leaf=None):
        """The messages themselves (paho MQTTMessage), or those on */leaf."""
        return [m for m, _ in self._kept(leaf)]

    def trigger_ids(self):
        """Trigger ids in order of first arrival (duplicates dropped)."""
        seen, order = set(), []
        for _, p in self.messages("trigger"):
            try:
                tid = json.loads(p)["id"]
            except (ValueError, KeyError):
                continue
            if tid not in seen:
                seen.add(tid)
                order.append(tid)
        return order

    def last_status(self):
        st = self.messages("status")
        return json.loads(st[-1][1]) if st else None

    def close(self):
        self.c.loop_stop()
        try:
            self.c.disconnect()
        except Exception:
            pass


class BrokerRun:
    """A temporary directory, a broker started in it (start_broker) and the
    subscribers opened through it (subscribe); leaving the with-block stops
    them all and removes the directory."""

    def __init__(self, name):
        self.tmp = TempDir(name)
        self.broker = None
        self.subs = []

    def start_broker(self, **kw):
        self.broker = Broker(self.tmp, **kw).start()
        return self.broker

    def subscribe(self, topics, **kw):
        sub = Subscriber(self.broker.port, topics, **kw)
        self.subs.append(sub)
        return sub

    def close(self):
        for sub in self.subs:
            sub.close()
        if self.broker:
            self.broker.stop()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- database ----

def ctl(db, *args, check_rc=True):
    p = subprocess.run([BEACONCTL, "--db", db] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=120)
    if check_rc and p.returncode != 0:
        fail("beaconctl %s: exit %d: %s" % (" ".join(map(str, args)), p.returncode,
                                           p.stderr.strip()))
    return p


def add_consented(db, ref, kind, value):
    """Customer ref with one identifier (kind value, as beaconctl takes
    them) who consented to presence and to retargeting by push."""
    ctl(db, "customer", "add", ref)
    ctl(db, "identifier", "add", ref, kind, value)
    ctl(db, "consent", "grant", ref, "presence")
    ctl(db, "consent", "grant", ref, "retargeting", "--channel", "push")


def load_identifier(i):
    return "ibeacon %s:1:%d" % (LOAD_UUID, i)


def make_demo_db(db, customers=100, events=("enter", "exit"), zone="entrance"):
    """A database with `customers` consented customers (C0..Cn-1, each with
    the iBeacon LOAD_UUID:1:i) and one campaign per event without cooldown,
    so every visit of every load tag triggers."""
    ctl(db, "init")
    csv = db + ".csv"
    with open(csv, "w") as f:
        f.write("customer_ref,identifiers,consents,segments\n")
        for i in range(customers):
            f.write("C%d,%s,presence;retargeting@push,\n" % (i, load_identifier(i)))
    ctl(db, "import", csv)
    os.unlink(csv)
    for ev in events:
        ctl(db, "campaign", "add", "fault-%s" % ev, "--zone", zone, "--event", ev,
            "--channel", "push")
    return db


def integrity(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def outbox_ids(db):
    """Trigger ids committed to the outbox and not yet acknowledged."""
    con = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in con.execute("SELECT trigger_id FROM outbox ORDER BY id")]
    finally:
        con.close()


def sql(db, statement):
    """Rows of a query as lists of strings, as the sqlite3 shell prints them
    (read-only)."""
    p = subprocess.run(["sqlite3", "-readonly", db, statement], capture_output=True, text=True)
    if p.returncode != 0:
        fail("sqlite3 failed: " + p.stderr)
    return [line.split("|") for line in p.stdout.splitlines()]


def query(db, sql, args=()):
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


# ---- payloads ----

_schemas = {}


def load_schema(name, required=False):
    """docs/schema/NAME.schema.json (NAME alone or the file name), parsed,
    or None when there is no such file (an error when required)."""
    if not name.endswith(".json"):
        name += ".schema.json"
    if name not in _schemas:
        path = os.path.join(SOURCE, "docs", "schema", name)
        if not required and not os.path.exists(path):
            return None
        with open(path) as f:
            _schemas[name] = json.load(f)
    return _schemas[name]


def schema_error(doc, name, fragment=None, required=False):
    """Why doc does not match the schema NAME (or its $defs/fragment), or
    None; None too when the schema does not exist and is not required."""
    import jsonschema
    schema = load_schema(name, required)
    if schema is None:
        return None
    if fragment:
        schema = dict(schema["$defs"][fragment], **{"$schema": schema["$schema"]})
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError as e:
        return e.message
    return None


# ---- configuration ----

FAST_PRESENCE = {"absence_timeout_s": "2", "exit_below_s": "1", "enter_window_s": "5"}


def write_config(tmp, db, port, name="gw.conf", plain=False, **sections):
    """A config for the local broker; sections: {"presence": {...}, ...}
    merged over the defaults below. plain: only the gateway's names, the
    database and the broker, everything else at the daemon's defaults."""
    conf = {
        "gateway": {"site": SITE, "id": GATEWAY, "zone": "entrance"},
        "storage": {"db": db},
        "mqtt": {"host": "127.0.0.1", "port": str(port)},
    }
    if not plain:
        conf["storage"]["poll_ms"] = "200"
        conf["mqtt"].update({"reconnect_min": "1", "reconnect_max": "2",
                             "status_interval": "5", "keepalive": "5"})
        conf["presence"] = dict(FAST_PRESENCE)
        conf["source"] = {"watchdog_silence_s": "0"}
    for sec, kv in sections.items():
        conf.setdefault(sec, {}).update(kv)
    path = tmp(name)
    with open(path, "w") as f:
        for sec, kv in conf.items():
            f.write("[%s]\n" % sec)
            for k, v in kv.items():
                f.write("%s = %s\n" % (k, v))
    return path


# ---- scenarios and beaconsim ----

def load_scenario(tags, gap_s=0.1, visit_s=3.0, start_s=1.0, crowd=0, duration_s=None,
                  seed=7, faults=(), extra=""):
    """Enrolled load tags (LOAD_UUID:1:i) that walk in one after another,
    every gap_s, stay visit_s at 1 m and leave: each visit is one enter and
    one exit trigger. crowd adds that many unrelated phones with address
    churn (rotate 30 s)."""
    last = start_s + (tags - 1) * gap_s + visit_s + 1
    dur = duration_s or int(last + 3)
    out = ["seed %d" % seed, "duration %ds" % dur, "noise 2", ""]
    for i in range(tags):
        t = start_s + i * gap_s
        out += ["tag load-%d" % i,
                "    ibeacon %s:1:%d" % (LOAD_UUID, i),
                "    interval 100ms",
                "    txpower -59",
                "    path %dms:1 %dms:1" % (t * 1000, (t + visit_s) * 1000), ""]
    if crowd:
        out += ["crowd shoppers", "    count %d" % crowd, "    interval 300ms",
                "    distance 2..25", "    dwell 30s..3m", "    rotate 30s", ""]
    out += list(faults)
    if extra:
        out.append(extra)
    return "\n".join(out) + "\n"


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


write_scenario = write_file


class Sim:
    """beaconsim as a live H4 controller on a unix socket (the gateway
    connects with h4:unix:PATH)."""

    def __init__(self, tmp, scenario, speed=1.0, once=False, args=()):
        self.tmp = tmp
        self.sock = tmp("ctrl-%d.sock" % random.randrange(1 << 30))
        self.spec = "h4:unix:" + self.sock
        self.log = tmp("beaconsim.log")
        self.cmd = [BEACONSIM, "-s", scenario, "-l", "unix:" + self.sock,
                    "--speed", str(speed)] + (["--once"] if once else []) + list(args)
        self.proc = None

    def start(self):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        if not wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 10):
            fail("beaconsim did not listen")
        if self.proc.poll() is not None:
            fail("beaconsim exited %d: %s" % (self.proc.returncode, open(self.log).read()))
        return self

    def stop(self):
        if self.proc:
            terminate(self.proc, 10)
        self.proc = None


def offline_capture(tmp, scenario_text, out, start_time=None, extra=()):
    scn = write_scenario(tmp(os.path.basename(out) + ".scn"), scenario_text)
    cmd = [BEACONSIM, "-s", scn, "-w", out]
    if start_time is not None:
        cmd += ["--start-time", str(int(start_time))]
    p = subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        fail("beaconsim offline: exit %d: %s" % (p.returncode, p.stderr))
    return out


# ---- the daemon ----

class Gateway:
    """beacongw in the background, stderr to a log file. Collects the
    sd_notify messages (READY, STATUS) through a NOTIFY_SOCKET of its own."""

    def __init__(self, tmp, conf, source=None, db=None, args=(), wrapper=(), name="beacongw"):
        self.tmp = tmp
        self.log = tmp("%s.log" % name)
        self.cmd = list(wrapper) + [BEACONGW, "-c", conf, "-v"]
        if source:
            self.cmd += ["--source", source]
        if db:
            self.cmd += ["--db", db]
        self.cmd += list(args)
        self.proc = None
        self.notify_path = tmp("notify-%d.sock" % random.randrange(1 << 30))
        self.notes = []
        self.nsock = None
        self.timeline = []
        self.tailing = False

    def _notify_reader(self):
        while True:
            try:
                data = self.nsock.recv(4096)
            except OSError:
                return
            if not data:
                return
            self.notes.append((time.time(), data.decode("utf-8", "replace")))

    def start(self, env=None, preexec=None):
        if self.nsock is None:
            self.nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.nsock.bind(self.notify_path)
            threading.Thread(target=self._notify_reader, daemon=True).start()
        e = clean_env(NOTIFY_SOCKET=self.notify_path)
        if env:
            e.update(env)
        self.logf = open(self.log, "a")
        self.logf.write("==== start %s\n" % time.strftime("%H:%M:%S"))
        self.logf.flush()
        self.started = time.time()
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=e, preexec_fn=preexec)
        if not self.tailing:
            self.tailing = True
            threading.Thread(target=self._tail, daemon=True).start()
        return self

    def _tail(self):
        """Stamp every log line with the wall time it appeared (log lines
        carry no time of their own: journald adds it)."""
        with open(self.log, errors="replace") as f:
            part = ""
            while self.tailing:
                chunk = f.readline()
                if not chunk:
                    time.sleep(0.02)
                    continue
                part += chunk
                if part.endswith("\n"):
                    self.timeline.append((time.time(), part.rstrip("\n")))
                    part = ""

    def first_after(self, needle, t_from=0.0):
        """Wall time of the first log line containing needle at or after
        t_from, or None."""
        for t, line in list(self.timeline):
            if t >= t_from and needle in line:
                return t
        return None

    def ready(self, timeout=20):
        t0 = self.started
        return wait_for(lambda: any(ts >= t0 and "READY=1" in n for ts, n in self.notes) or
                        self.proc.poll() is not None, timeout) and self.proc.poll() is None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def stop(self, timeout=20):
        """SIGTERM; the exit status (or None when it had to be killed)."""
        if not self.proc:
            return None
        return terminate(self.proc, timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def log_since(self, mark):
        return self.text()[mark:]

    def mark(self):
        return len(self.text())

    def wait_log(self, needle, timeout, since=0):
        return wait_for(lambda: needle in self.log_since(since), timeout, step=0.1)

    def last_status_note(self):
        for _, n in reversed(self.notes):
            for line in n.splitlines():
                if line.startswith("STATUS="):
                    return line[7:]
        return ""

    def close(self):
        self.stop()
        time.sleep(0.1)
        self.tailing = False
        if self.nsock:
            self.nsock.close()
            self.nsock = None


def status_field(status, key):
    """'identified=3 visits=2 triggers=4 ...' -> value of key (str) or None."""
    for tok in status.replace(",", " ").split():
        if tok.startswith(key + "="):
            return tok.split("=", 1)[1]
    return None


def proc_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None
