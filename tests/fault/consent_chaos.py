#!/usr/bin/env python3
"""The consent chaos test: seeded, reproducible rounds of consent changes
and faults against the whole gateway, checking after every round that no
trigger or visit of a person appears after a change that ended their
consent (the invariant of docs/pipeline.md, "Consent never fails open").

What runs: a real mosquitto (persistent), a real SQLite database, beaconsim
playing eight enrolled customers who keep walking in and out (so triggers
keep coming), and beacongw with signed consent updates configured. Each
round draws, from one seeded random generator:
- one to three consent changes, each by one of: beaconctl (withdraw,
  grant, narrow to an expiry a few seconds away, identifier remove and add,
  forget), a CSV import (re-enrolment after a forget) or a signed update over
  MQTT (withdraw, grant);
- sometimes a fault: the broker stopped for a while (changes made while it
  is away), another process holding the database write lock while signed
  updates arrive, or beacongw killed with SIGKILL and started again, also
  while signed updates are in flight (one acknowledged by libmosquitto but
  not yet committed is lost to the gateway: it notices the gap at the next
  one, or the backend notices its consent_seq lagging; either way the
  backend re-sends, as docs/backend.md tells backends to, and the gateway
  acts on nobody while it is behind).

The model: for each customer, the intervals during which a trigger (or a
visit) of theirs must not exist, from the moment a change that ended the
purpose was known committed (the command returned; for an update over MQTT,
the database showed it applied) to the moment a grant that restores it was
started. Checked after every round:
- the subscriber received no trigger whose event time lies in such an
  interval, and none after a broker or daemon restart that came after the
  change while the consent was still ended (with a clean-session subscriber,
  anything received after a restart was published after it);
- the database holds no outbox row of a customer queued in such an interval
  or left behind by a change that purges (withdraw, removal, forget), and no
  visit entered or exited in such an interval.

Usage: consent_chaos.py [--rounds N] [--seed S] [--json FILE]
(defaults: 12 rounds, or BGW_CHAOS_ROUNDS). The summary line gives rounds,
changes, faults and violations; the long form (1,000 rounds) is recorded in
BENCHMARKS.md and docs/faults.md."""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest as b  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402

UUID = "c4a05c4a-0000-4000-8000-0000000000%02x"
N_CUSTOMERS = 8
SPEED = 4           # scenario seconds per wall second
CYCLE_MS = 24000    # 12 s in the zone at 1 m, 12 s out of range
CYCLES = 15         # waypoints per tag stay under the scenario's limit of 64
LIVE_PRESENCE = {"enter_confirmations": "3", "enter_window_s": "5", "absence_timeout_s": "1",
                 "exit_below_s": "1"}
# Grace for "the command returned" versus the daemon's own clock reading of
# the same moment (both are this machine's wall clock, read in different
# processes): a few ms; the event times compared are milliseconds.
EPS = 0.005


def ts_seconds(ts):
    """'2026-03-02T10:00:01.250Z' -> unix seconds (float)."""
    import calendar
    base, _, frac = ts.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + \
        (int(frac) / 10 ** len(frac) if frac else 0)


def ref_of(i):
    return "chaos-%d" % i


def ident_of(i):
    return "%s:1:1" % (UUID % i)


def scenario():
    out = ["seed 9090", "duration %dms" % (CYCLE_MS * CYCLES + CYCLE_MS), "noise 2",
           "sensitivity -85", ""]
    for i in range(N_CUSTOMERS):
        phase = i * CYCLE_MS // N_CUSTOMERS
        pts = []
        for c in range(CYCLES):
            t = phase + c * CYCLE_MS
            half = CYCLE_MS // 2
            pts += ["%dms:1" % t, "%dms:1" % (t + half - 200), "%dms:60" % (t + half),
                    "%dms:60" % (t + CYCLE_MS - 200)]
        out += ["tag t%d" % i, "    ibeacon %s" % ident_of(i), "    interval 100ms",
                "    txpower -59", "    path " + " ".join(pts), ""]
    return "\n".join(out) + "\n"


class Recorder:
    """A clean-session subscriber on every topic that records when each
    message arrived: after a broker restart it starts anew, so whatever
    it receives afterwards was published afterwards."""

    def __init__(self, port):
        self.msgs = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(client_id="chaos-rec-%d" % os.getpid(), protocol=mqtt.MQTTv5)
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe(b.PREFIX + "/#", qos=1)
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.05, 0.2)
        self.c.connect("127.0.0.1", port, clean_start=True)
        self.c.loop_start()

    def _on_message(self, c, u, m):
        with self.lock:
            self.msgs.append((time.time(), m.topic, m.payload.decode("utf-8", "replace")))

    def triggers(self):
        with self.lock:
            msgs = list(self.msgs)
        out = []
        for t, topic, payload in msgs:
            if topic.endswith("/trigger"):
                out.append((t, json.loads(payload)))
        return out

    def connected(self):
        return self.c.is_connected()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class Model:
    """Per customer and purpose: the intervals in which nothing of theirs
    may exist (start = ending change known committed, end = restoring
    change started), and whether the end came by a purge (explicit change)."""

    def __init__(self):
        self.ended = {}      # (ref, what) -> list of [start, end or None, purged]
        self.now_ended = {}  # (ref, what) -> bool

    def end(self, ref, what, t, purged=True):
        if not self.now_ended.get((ref, what)):
            self.ended.setdefault((ref, what), []).append([t, None, purged])
            self.now_ended[(ref, what)] = True

    def restore(self, ref, what, t):
        if self.now_ended.get((ref, what)):
            self.ended[(ref, what)][-1][1] = t
            self.now_ended[(ref, what)] = False
        else:
            # Two grants on the way (a signed one, then one by beaconctl):
            # the interval ends with the one that started first, whichever
            # the test learnt of first.
            ivs = self.ended.get((ref, what))
            if ivs and ivs[-1][1] is not None and ivs[-1][0] < t < ivs[-1][1]:
                ivs[-1][1] = t

    def in_ended(self, ref, what, t):
        for s, e, _ in self.ended.get((ref, what), []):
            if t > s + EPS and (e is None or t < e - EPS):
                return (s, e)
        return None

    def ended_since(self, ref, what, t0, t1):
        """Ended throughout [t0, t1], with the ending before t0?"""
        for s, e, _ in self.ended.get((ref, what), []):
            if s < t0 and (e is None or e > t1):
                return s
        return None


class Chaos:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.args = args
        self.tmp = b.TempDir("consent-chaos")
        self.db = self.tmp("gw.db")
        self.broker = b.Broker(self.tmp, persistence=True).start()
        self.rec = Recorder(self.broker.port)
        self.model = Model()
        self.barriers = []            # wall times after which a new session published
        self.violations = []
        self.seen = set()
        self.log = []
        self.counts = {"rounds": 0, "changes": 0, "faults": 0, "triggers": 0, "visits": 0}
        self.kinds = {}
        self.seq = 0
        self.sent_at = 0.0
        self.sent = {}                # seq -> signed envelope (the backend's history)
        self.resent = 0
        self.last_resend = 0.0
        self.enrolled = {}            # ref -> {"ident": bool, "presence": bool, "retargeting": bool}
        self.gw = self.sim = None
        self.backend = None

    # ---- set-up ----
    def setup(self):
        b.ctl(self.db, "init")
        for i in range(N_CUSTOMERS):
            b.add_consented(self.db, ref_of(i), "ibeacon", ident_of(i))
            self.enrolled[ref_of(i)] = {"ident": True, "presence": True, "retargeting": True}
        b.ctl(self.db, "campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
              "--cooldown", "0")
        b.ctl(self.db, "campaign", "add", "bye", "--zone", "entrance", "--event", "exit",
              "--cooldown", "0")
        keys = self.tmp("backend")
        p = subprocess.run([b.BEACONCTL, "--json", "keygen", "--out", keys],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            b.fail("beaconctl keygen: %s" % p.stderr)
        self.key = keys + ".key"
        self.conf = b.write_config(self.tmp, self.db, self.broker.port,
                                   storage={"poll_ms": "200"}, presence=dict(LIVE_PRESENCE),
                                   mqtt={"status_interval": "1", "reconnect_min": "0.2",
                                         "reconnect_max": "0.5"},
                                   consent={"public_key": keys + ".pub"})
        self.scn = b.write_scenario(self.tmp("chaos.scn"), scenario())
        self.backend = mqtt.Client(client_id="chaos-backend-%d" % os.getpid(),
                                   protocol=mqtt.MQTTv5)
        self.backend.reconnect_delay_set(0.05, 0.2)
        self.backend.on_connect = lambda c, u, f, rc, p=None: c.subscribe(
            b.PREFIX + "/+/+/status", qos=1)
        self.backend.on_message = self._backend_status
        self.backend.connect("127.0.0.1", self.broker.port)
        self.backend.loop_start()

    def _backend_status(self, c, u, m):
        """What docs/backend.md asks of a backend: read the gateway's
        retained status and re-send, in order, every update after its
        consent_seq when it is behind (consent_current false: a gap) or
        lags behind the latest sent for a while (the last one was lost)."""
        try:
            st = json.loads(m.payload)
        except ValueError:
            return
        if not st.get("online") or "consent_seq" not in st:
            return
        have = int(st["consent_seq"])
        now = time.time()
        if have >= self.seq or now - self.last_resend < 2.0:
            return
        if st.get("consent_current") is not False and now - self.sent_at < 3.0:
            return                     # probably still on its way
        self.last_resend = now
        for seq in range(have + 1, self.seq + 1):
            if seq in self.sent:
                c.publish(b.PREFIX + "/consent", self.sent[seq], qos=1)
                self.resent += 1

    def start_epoch(self):
        """A fresh beaconsim run (its walks last CYCLES cycles) and a gateway."""
        self.sim = b.Sim(self.tmp, self.scn, speed=SPEED).start()
        self.epoch_end = time.time() + (CYCLE_MS * CYCLES) / 1000.0 / SPEED - 2
        self.start_gateway()

    def start_gateway(self):
        self.gw = b.Gateway(self.tmp, self.conf, source=self.sim.spec).start()
        if not self.gw.ready(30):
            b.fail("beacongw did not get ready:\n" + self.gw.text()[-2000:])
        self.barriers.append(time.time())

    def end_epoch(self):
        rc = self.gw.stop()
        if rc != 0:
            self.violation("beacongw exit status %s at a graceful stop" % rc)
        self.gw.close()
        self.gw = None
        self.sim.stop()

    # ---- changes ----
    def ctl(self, *args, ok=(0,)):
        self.note("beaconctl " + " ".join(args))
        p = subprocess.run([b.BEACONCTL, "--db", self.db] + list(args), capture_output=True,
                           text=True, timeout=60, env=b.clean_env())
        if p.returncode not in ok:
            b.fail("beaconctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def signed(self, upd):
        self.seq += 1
        upd = dict(upd, seq=self.seq)
        self.note("signed update %s" % json.dumps(upd))
        path = self.tmp("upd.json")
        with open(path, "w") as f:
            f.write(json.dumps(upd) + "\n")
        r = subprocess.run([b.BEACONCTL, "sign", "--key", self.key, path],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            b.fail("beaconctl sign: %s" % r.stderr)
        if not b.wait_for(self.backend.is_connected, 20, step=0.05):
            b.fail("the test's backend client could not reconnect to the broker")
        self.sent[self.seq] = r.stdout.strip()
        self.sent_at = time.time()
        self.backend.publish(b.PREFIX + "/consent", self.sent[self.seq],
                             qos=1).wait_for_publish(10)
        return self.seq

    def applied_seq(self):
        try:
            rows = b.query(self.db, "SELECT value FROM kv WHERE key = 'consent.last_seq'")
            return int(rows[0][0]) if rows else 0
        except Exception:      # locked by the fault itself: not yet
            return 0

    def wait_applied(self, seq, timeout=60):
        self.note("waiting for seq %d to be applied" % seq)
        if not b.wait_for(lambda: self.applied_seq() >= seq, timeout, step=0.05):
            self.violation("signed update seq %d not applied within %d s (lost?)"
                           % (seq, timeout))

    def withdraw(self, ref, purpose, how):
        st = self.enrolled[ref]
        if how == "mqtt":
            seq = self.signed({"op": "withdraw", "ref": ref, "purpose": purpose})
            self.pending_mqtt.append((seq, ref, purpose))
            return
        p = self.ctl("consent", "withdraw", ref, purpose, ok=(0, 65))
        if p.returncode == 65 and "to withdraw" not in p.stderr:
            b.fail("beaconctl consent withdraw %s %s: %s" % (ref, purpose, p.stderr))
        # 65 "no ... consent to withdraw": the test's bookkeeping was behind
        # the database (a grant with an expiry overtook a signed grant);
        # ended either way, from now on.
        self.model.end(ref, purpose, time.time())
        st[purpose] = False

    def grant(self, ref, purpose, how, expires=None):
        st = self.enrolled[ref]
        t = time.time()
        if how == "mqtt":
            upd = {"op": "grant", "ref": ref, "purpose": purpose}
            if purpose == "retargeting":
                upd["channels"] = ["push"]
            seq = self.signed(upd)
            self.pending_grants.append((seq, ref, purpose, t))
            return
        args = ["consent", "grant", ref, purpose]
        if purpose == "retargeting":
            args += ["--channel", "push"]
        if expires:
            args += ["--expires", "@%d" % expires]
        self.ctl(*args)
        self.model.restore(ref, purpose, t)
        st[purpose] = True
        if expires:
            # Ends by itself: no purge, so rows queued before may wait until
            # the publisher's last look drops them.
            self.model.end(ref, purpose, expires, purged=False)
            st[purpose] = False

    def change(self):
        ref = ref_of(self.rng.randrange(N_CUSTOMERS))
        st = self.enrolled.get(ref)
        # Mostly in force, so that triggers keep coming and a violation has
        # every chance to show: what is ended is usually restored next.
        ended = [] if st is None else [w for w in ("presence", "retargeting", "ident")
                                       if not st[w] and not self.pending_for(ref, w)]
        if ended and self.rng.random() < 0.7:
            kind = "ident" if "ident" in ended else "grant"
        else:
            kind = self.rng.choices(["withdraw", "expiry", "ident", "forget"],
                                    weights=[6, 2, 2, 1])[0]
        how = self.rng.choice(["cli", "cli", "mqtt"])
        if st is None:
            # Forgotten: enrolled again by an import, a fresh customer.
            kind, how = "import", "csv"
            path = self.tmp("reenrol.csv")
            with open(path, "w") as f:
                f.write("customer_ref,identifiers,consents,segments\n")
                f.write("%s,ibeacon %s,presence;retargeting@push,\n"
                        % (ref, ident_of(int(ref.split("-")[1]))))
            t = time.time()
            self.note("re-enrolling %s by import" % ref)
            self.ctl("import", path)
            for what in ("presence", "retargeting", "ident", "exists"):
                self.model.restore(ref, what, t)
            self.enrolled[ref] = {"ident": True, "presence": True, "retargeting": True}
        elif kind == "grant":
            purpose = self.rng.choice([w for w in ended if w != "ident"])
            self.grant(ref, purpose, how)
        elif kind == "withdraw":
            live = [w for w in ("presence", "retargeting")
                    if st[w] and not self.pending_for(ref, w)]
            if not live:
                return
            self.withdraw(ref, self.rng.choice(live), how)
        elif kind == "expiry":
            how = "cli"
            self.grant(ref, "retargeting", how, expires=int(time.time()) +
                       self.rng.randint(1, 4))
        elif kind == "ident":
            how = "cli"
            ident = ident_of(int(ref.split("-")[1]))
            if st["ident"]:
                self.ctl("identifier", "remove", "ibeacon", ident)
                self.model.end(ref, "ident", time.time())
                st["ident"] = False
            else:
                t = time.time()
                self.ctl("identifier", "add", ref, "ibeacon", ident)
                self.model.restore(ref, "ident", t)
                st["ident"] = True
        elif kind == "forget":
            how = "cli"
            self.ctl("forget", ref, "--yes")
            self.model.end(ref, "exists", time.time())
            del self.enrolled[ref]
        key = "%s/%s" % (kind, how)
        self.kinds[key] = self.kinds.get(key, 0) + 1
        self.counts["changes"] += 1

    def pending_for(self, ref, purpose):
        return any(r == ref and p == purpose for _, r, p in self.pending_mqtt)

    def settle_mqtt(self):
        """Wait until the signed updates sent are applied; a withdrawal's
        interval starts when the database shows it."""
        for seq, ref, purpose in self.pending_mqtt:
            self.wait_applied(seq)
            self.note("seq %d applied: %s %s withdrawn" % (seq, ref, purpose))
            self.model.end(ref, purpose, time.time())
            if ref in self.enrolled:
                self.enrolled[ref][purpose] = False
        for seq, ref, purpose, t in self.pending_grants:
            self.wait_applied(seq)
            self.note("seq %d applied: %s %s granted" % (seq, ref, purpose))
            self.model.restore(ref, purpose, t)
            if ref in self.enrolled:
                self.enrolled[ref][purpose] = True
        self.pending_mqtt, self.pending_grants = [], []

    # ---- faults ----
    def fault_broker(self):
        self.note("broker stopped")
        self.broker.stop()
        for _ in range(self.rng.randint(1, 3)):
            ref = ref_of(self.rng.randrange(N_CUSTOMERS))
            st = self.enrolled.get(ref)
            if st is None:
                continue
            purpose = self.rng.choice(["presence", "retargeting"])
            if st[purpose]:
                self.withdraw(ref, purpose, "cli")
                kind = "withdraw"
            else:
                self.grant(ref, purpose, "cli")
                kind = "grant"
            self.counts["changes"] += 1
            key = "%s/cli (broker down)" % kind
            self.kinds[key] = self.kinds.get(key, 0) + 1
        time.sleep(self.rng.uniform(0.3, 1.5))
        self.broker.start()
        self.note("broker started")
        self.barriers.append(time.time())
        b.wait_for(self.rec.connected, 10, step=0.05)

    def mqtt_changes(self, most, kind):
        """One to `most` signed updates (withdraw what is granted, grant
        what is not), counted under kind."""
        for _ in range(self.rng.randint(1, most)):
            ref = ref_of(self.rng.randrange(N_CUSTOMERS))
            if ref not in self.enrolled:
                continue
            purpose = self.rng.choice(["presence", "retargeting"])
            if self.enrolled[ref][purpose] and not self.pending_for(ref, purpose):
                self.withdraw(ref, purpose, "mqtt")
            else:
                self.grant(ref, purpose, "mqtt")
            self.counts["changes"] += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def fault_lock(self):
        lock = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        self.note("database locked")
        try:
            self.mqtt_changes(3, "mqtt (db locked)")
            time.sleep(self.rng.uniform(0.3, 1.5))
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            self.note("database unlocked")

    def fault_kill(self):
        self.note("beacongw killed (SIGKILL)")
        self.gw.kill9()
        self.gw.close()
        self.start_gateway()

    def fault_kill_in_flight(self):
        """Signed updates acknowledged by libmosquitto but not committed
        (they wait for a database another process holds) when beacongw is
        killed: lost to the gateway, which must not act past them; the
        backend re-sends them."""
        mark = len(self.gw.text())
        lock = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        self.note("database locked")
        try:
            self.mqtt_changes(2, "mqtt (in flight at kill)")
            b.wait_for(lambda: "updates wait in order" in self.gw.log_since(mark), 5,
                       step=0.02)
            self.note("beacongw killed (SIGKILL) with updates in flight")
            self.gw.kill9()
            self.gw.close()
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            self.note("database unlocked")
        self.start_gateway()

    # ---- checks ----
    def violation(self, what):
        # Each round checks everything again: report a finding once.
        if what in self.seen:
            return
        self.seen.add(what)
        self.violations.append("round %d: %s" % (self.counts["rounds"], what))
        b.say("VIOLATION", self.violations[-1])
        ref = what.split(" of ")[1].split()[0] if " of " in what else None
        mine = [ln for ln in self.log if ref and ref in ln] if ref else []
        for line in mine[-15:] or self.log[-12:]:
            b.say("    history:", line)
        for (r, w), ivs in sorted(self.model.ended.items()):
            if r == ref:
                b.say("    model: %s %s" % (w, ["%.3f-%s" % (s0, "%.3f" % e if e else "open")
                                               for s0, e, _ in ivs][-4:]))

    def note(self, what):
        """The action log: the last lines are shown with a violation."""
        self.log.append("%.3f r%d %s" % (time.time(), self.counts["rounds"], what))
        if os.environ.get("BGW_CHAOS_VERBOSE"):
            b.say("  " + self.log[-1])

    def blocked(self, ref, t, what):
        """Why an item of ref at time t must not exist, or None."""
        whats = ("presence", "ident", "exists") + (("retargeting",) if what == "trigger"
                                                   else ())
        for w in whats:
            iv = self.model.in_ended(ref, w, t)
            if iv:
                return "%s ended at %.3f" % (w, iv[0])
        return None

    def blocked_span(self, ref, t0, t1, what):
        """Why nothing of ref may exist anywhere in [t0, t1] (one interval
        covering it all), or None."""
        whats = ("presence", "ident", "exists") + (("retargeting",) if what == "trigger"
                                                   else ())
        for w in whats:
            iv = self.model.in_ended(ref, w, t0)
            if iv and (iv[1] is None or t1 < iv[1] - EPS):
                return "%s ended at %.3f" % (w, iv[0])
        return None

    def check(self):
        trigs = self.rec.triggers()
        self.counts["triggers"] = len(trigs)
        for recv, t in trigs:
            ref = t.get("customer_ref")
            ev = ts_seconds(t["ts"])
            why = self.blocked(ref, ev, "trigger")
            if why:
                self.violation("trigger %s of %s at %s: %s" % (t["id"], ref, t["ts"], why))
                continue
            for bar in self.barriers:
                if bar >= recv:
                    continue
                for w in ("presence", "retargeting", "ident", "exists"):
                    s = self.model.ended_since(ref, w, bar, recv)
                    if s is not None:
                        self.violation("trigger %s of %s received %.3f after a restart at "
                                       "%.3f, %s ended at %.3f" % (t["id"], ref, recv, bar,
                                                                   w, s))
                        break
        try:
            rows = b.query(self.db, "SELECT c.customer_ref, o.created_us, o.topic FROM outbox o "
                                    "JOIN customers c ON c.id = o.customer_id")
            visits = b.query(self.db, "SELECT c.customer_ref, v.entered_at, v.exited_at FROM "
                                      "visits v JOIN customers c ON c.id = v.customer_id")
        except Exception as e:
            b.say("  (database check skipped this round: %s)" % e)
            return
        for ref, created_us, topic in rows:
            created = created_us / 1e6
            why = self.blocked(ref, created, "trigger")
            if why:
                self.violation("outbox row of %s queued at %.3f: %s" % (ref, created, why))
            for w in ("presence", "retargeting", "ident", "exists"):
                iv = self.model.ended.get((ref, w), [])
                if iv and iv[-1][1] is None and iv[-1][2] and created < iv[-1][0]:
                    self.violation("outbox row of %s from before the %s change at %.3f "
                                   "was not purged" % (ref, w, iv[-1][0]))
        self.counts["visits"] = len(visits)
        for ref, entered, exited in visits:
            for at, what in ((entered, "entered"), (exited, "exited")):
                # Whole seconds: the event was in [at, at + 1); a violation
                # only if all of that second lies in an ended interval.
                if at is None:
                    continue
                why = self.blocked_span(ref, at, at + 0.999, "visit")
                if why:
                    self.violation("visit of %s %s at %d: %s" % (ref, what, at, why))

    # ---- the run ----
    def run(self):
        self.pending_mqtt, self.pending_grants = [], []
        self.setup()
        self.start_epoch()
        if not b.wait_for(lambda: self.rec.triggers(), 30):
            b.fail("no trigger arrived before the chaos began:\n" + self.gw.text()[-2000:])
        for n in range(self.args.rounds):
            if time.time() > self.epoch_end:
                self.end_epoch()
                self.start_epoch()
            for _ in range(self.rng.randint(1, 3)):
                self.change()
            r = self.rng.random()
            if r < 0.15:
                self.fault_broker()
                self.counts["faults"] += 1
                self.kinds["fault: broker outage"] = self.kinds.get("fault: broker outage", 0) + 1
            elif r < 0.27:
                self.fault_lock()
                self.counts["faults"] += 1
                self.kinds["fault: database locked"] = \
                    self.kinds.get("fault: database locked", 0) + 1
            elif r < 0.37:
                # Signed updates may be in flight: libmosquitto acknowledges
                # a QoS 1 message as it reads it, so a kill before the
                # commit loses it to the gateway; the backend's re-sending
                # (_backend_status) brings it back, and settle_mqtt() below
                # waits for every update to be applied.
                if self.rng.random() < 0.5:
                    self.fault_kill()
                    kind = "fault: kill -9"
                else:
                    self.fault_kill_in_flight()
                    kind = "fault: kill -9, updates in flight"
                self.counts["faults"] += 1
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self.settle_mqtt()
            time.sleep(self.rng.uniform(0.2, 1.0))   # let triggers come
            self.counts["rounds"] = n + 1
            self.check()
            if (n + 1) % 50 == 0:
                b.say("  %d rounds, %d changes, %d faults, %d triggers, %d violations"
                      % (n + 1, self.counts["changes"], self.counts["faults"],
                         self.counts["triggers"], len(self.violations)))
        self.end_epoch()
        time.sleep(0.5)
        self.check()

    def close(self):
        for f in (lambda: self.gw and self.gw.close(), lambda: self.sim and self.sim.stop(),
                  self.rec.close, lambda: self.backend and self.backend.loop_stop(),
                  self.broker.stop):
            try:
                f()
            except Exception as e:  # cleanup must not hide the verdict
                b.say("cleanup:", e)
        if b.failures or self.violations or os.environ.get("BGW_KEEP"):
            b.say("  files kept in", self.tmp.path)
        else:
            self.tmp.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BGW_CHAOS_ROUNDS", 12)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("BGW_CHAOS_SEED", 1313)))
    ap.add_argument("--json", help="write the summary as JSON to this file")
    args = ap.parse_args()
    b.need_binaries()
    c = Chaos(args)
    t0 = time.time()
    try:
        c.run()
    finally:
        c.close()
    summary = dict(c.counts, seed=args.seed, resent=c.resent, violations=len(c.violations),
                   seconds=round(time.time() - t0, 1), kinds=c.kinds)
    b.say("consent chaos: seed %d, %d rounds, %d changes, %d faults, %d triggers, %d visits, "
          "%d violations" % (args.seed, c.counts["rounds"], c.counts["changes"],
                             c.counts["faults"], c.counts["triggers"], c.counts["visits"],
                             len(c.violations)))
    b.say("  updates re-sent by the backend: %d" % c.resent)
    b.say("  by kind: " + ", ".join("%s %d" % kv for kv in sorted(c.kinds.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    b.check(c.counts["triggers"] > 0, "triggers were published during the run")
    b.check(not c.violations, "%d violation(s) of the consent invariant" % len(c.violations))
    b.finish()


if __name__ == "__main__":
    main()
