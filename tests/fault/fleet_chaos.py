#!/usr/bin/env python3
"""The consent chaos test for a fleet: seeded, reproducible rounds of
changes at head office and faults of the hub, the gateways and the store
broker, checking after every round that no trigger or visit of a person
appears on any gateway after their withdrawal was committed at head office
plus the documented bound (docs/fleet.md, "How far a withdrawal can lag").

What runs: a head-office mosquitto with beaconhub and the authority
database; a store mosquitto bridged to it (QoS 1, persistent sessions);
two beacongw (s1/g1, s1/g2) that started from empty databases, each with
its own beaconsim playing the eight customers of consent_chaos.py who keep
walking in and out. Each round draws, from one seeded generator:
- one to three changes, all by `beaconctl --db HQ.db`: withdraw or grant
  a purpose, remove or add the identifier, forget, re-enrol by import;
- sometimes a fault: beaconhub killed with SIGKILL (changes committed while
  it is down, then restarted), a gateway killed with SIGKILL and restarted,
  the store broker restarted (the bridge and the gateways' links drop;
  changes committed meanwhile), or the store broker restarted with its
  persistence wiped (every session at the store lost: the gateways must
  notice and resynchronise from a snapshot).

The model: for each change that ends a purpose (or the identifier, or the
customer) committed at time t, and each gateway g, nothing of the person
may exist on g from min(t + BOUND, the moment g's status first showed a
sequence that contains the change) until a change restoring it was started.
BOUND is [consent] max_staleness_s plus the hub's poll_ms and one second
of margin for the gateway's tick: a gateway that never receives the change
fails closed when the last head it matched, issued before the change was
signed, becomes stale. Checked after every round on every gateway: the
triggers received from it (by their event time), the visits in its
database, its outbox rows.

Usage: fleet_chaos.py [--rounds N] [--seed S] [--json FILE] (defaults: 8
rounds, or BGW_FLEET_CHAOS_ROUNDS). The long form is recorded in
BENCHMARKS.md and docs/faults.md."""
import argparse
import json
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hub"))
sys.path.insert(0, HERE)
import fleet  # noqa: E402  (puts tests/lib on sys.path)
import consent_chaos as cc  # noqa: E402
import bgwtest as b  # noqa: E402

N = cc.N_CUSTOMERS
MAX_STALENESS_S = 10
HUB_POLL_S = 0.1          # tests/hub/fleet.py's hub.conf: poll_ms = 100
BOUND = MAX_STALENESS_S + HUB_POLL_S + 1.0
GATEWAYS = ("g1", "g2")
EPS = cc.EPS


class FleetChaos:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.args = args
        self.fl = fleet.Fleet("fleet-chaos")
        self.rec = None
        self.events = []          # [kind, ref, what, t, seq]: kind "end" / "restore"
        self.enrolled = {}
        self.violations = []
        self.seen = set()
        self.log = []
        self.counts = {"rounds": 0, "changes": 0, "faults": 0, "triggers": 0, "visits": 0}
        self.kinds = {}
        self.gws = {}
        self.sims = {}
        self.hub_up = False

    # ---- set-up ----
    def setup(self):
        fl = self.fl
        for i in range(N):
            b.add_consented(fl.hq_db, cc.ref_of(i), "ibeacon", cc.ident_of(i))
            self.enrolled[cc.ref_of(i)] = {"ident": True, "presence": True,
                                           "retargeting": True}
        fl.hq_ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
                  "--cooldown", "0")
        fl.hq_ctl("campaign", "add", "bye", "--zone", "entrance", "--event", "exit",
                  "--cooldown", "0")
        self.scn = b.write_scenario(fl.tmp("chaos.scn"), cc.scenario())
        self.rec = cc.Recorder(fl.store.port)
        fl.hub.start()
        self.hub_up = True
        for gid in GATEWAYS:
            self.gws[gid] = fl.gateway(gid, sim=False, source="none",
                                       consent={"max_staleness_s": str(MAX_STALENESS_S)},
                                       presence=dict(cc.LIVE_PRESENCE))

    def start_epoch(self):
        for gid, g in self.gws.items():
            self.sims[gid] = b.Sim(self.fl.tmp, self.scn, speed=cc.SPEED).start()
            g.source = self.sims[gid].spec
            g.start()
        self.epoch_end = time.time() + (cc.CYCLE_MS * cc.CYCLES) / 1000.0 / cc.SPEED - 2

    def end_epoch(self):
        for gid, g in self.gws.items():
            rc = g.gw.stop()
            if rc != 0:
                self.violation("beacongw %s exit status %s at a graceful stop" % (gid, rc))
            g.gw.close()
            self.sims[gid].stop()

    # ---- changes at head office ----
    def note(self, what):
        self.log.append("%.3f r%d %s" % (time.time(), self.counts["rounds"], what))
        if os.environ.get("BGW_CHAOS_VERBOSE"):
            b.say("  " + self.log[-1])

    def ctl(self, *args, ok=(0,)):
        self.note("beaconctl --db HQ.db " + " ".join(args))
        p = b.ctl(self.fl.hq_db, *args, check_rc=False)
        if p.returncode not in ok:
            b.fail("beaconctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def end(self, ref, what):
        self.events.append(["end", ref, what, time.time(), None])

    def restore(self, ref, what, t):
        self.events.append(["restore", ref, what, t, None])

    def change(self):
        ref = cc.ref_of(self.rng.randrange(N))
        st = self.enrolled.get(ref)
        if st is None:
            path = self.fl.tmp("reenrol.csv")
            with open(path, "w") as f:
                f.write("customer_ref,identifiers,consents,segments\n")
                f.write("%s,ibeacon %s,presence;retargeting@push,\n"
                        % (ref, cc.ident_of(int(ref.split("-")[1]))))
            t = time.time()
            self.ctl("import", path)
            for what in ("presence", "retargeting", "ident", "exists"):
                self.restore(ref, what, t)
            self.enrolled[ref] = {"ident": True, "presence": True, "retargeting": True}
            kind = "import"
        else:
            ended = [w for w in ("presence", "retargeting", "ident") if not st[w]]
            if ended and self.rng.random() < 0.7:
                kind = "ident" if "ident" in ended else "grant"
            else:
                kind = self.rng.choices(["withdraw", "ident", "forget"], weights=[6, 2, 1])[0]
            if kind == "grant":
                purpose = self.rng.choice([w for w in ended if w != "ident"])
                t = time.time()
                self.ctl("consent", "grant", ref, purpose,
                         *(["--channel", "push"] if purpose == "retargeting" else []))
                self.restore(ref, purpose, t)
                st[purpose] = True
            elif kind == "withdraw":
                live = [w for w in ("presence", "retargeting") if st[w]]
                if not live:
                    return
                purpose = self.rng.choice(live)
                self.ctl("consent", "withdraw", ref, purpose)
                self.end(ref, purpose)
                st[purpose] = False
            elif kind == "ident":
                ident = cc.ident_of(int(ref.split("-")[1]))
                if st["ident"]:
                    self.ctl("identifier", "remove", "ibeacon", ident)
                    self.end(ref, "ident")
                    st["ident"] = False
                else:
                    t = time.time()
                    self.ctl("identifier", "add", ref, "ibeacon", ident)
                    self.restore(ref, "ident", t)
                    st["ident"] = True
            else:
                self.ctl("forget", ref, "--yes")
                self.end(ref, "exists")
                del self.enrolled[ref]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.counts["changes"] += 1

    def settle(self):
        """Once the hub signed everything committed, every ending change
        without a sequence is contained in the hub's sequence now."""
        if not self.hub_up:
            return
        if not b.wait_for(lambda: b.query(self.fl.hq_db,
                                          "SELECT count(*) FROM fleet_changes")[0][0] == 0,
                          20, step=0.05):
            self.violation("the hub did not sign the changes committed at head office")
            return
        seq = self.fl.hub_seq()
        for ev in self.events:
            if ev[4] is None:
                ev[4] = seq

    # ---- faults ----
    def fault_hub(self):
        self.note("beaconhub killed (SIGKILL)")
        self.fl.hub.stop(signal.SIGKILL)
        self.hub_up = False
        for _ in range(self.rng.randint(1, 2)):
            self.change()
        time.sleep(self.rng.uniform(0.3, 2.0))
        self.fl.hub.start()
        self.hub_up = True
        self.note("beaconhub started")

    def fault_gateway(self):
        gid = self.rng.choice(GATEWAYS)
        self.note("beacongw %s killed (SIGKILL)" % gid)
        g = self.gws[gid]
        g.gw.kill9()
        g.gw.close()
        g.start()

    def fault_store_broker(self, wipe):
        self.note("store broker stopped%s" % (" and its sessions wiped" if wipe else ""))
        self.fl.store.stop()
        if wipe:
            for name in os.listdir(self.fl.store.dir.path):
                if name.startswith("mosquitto.db"):
                    os.unlink(os.path.join(self.fl.store.dir.path, name))
        for _ in range(self.rng.randint(1, 2)):
            self.change()
        time.sleep(self.rng.uniform(0.3, 2.0))
        self.fl.store.start()
        self.note("store broker started")
        b.wait_for(self.rec.connected, 10, step=0.05)

    # ---- checks ----
    def violation(self, what):
        if what in self.seen:
            return
        self.seen.add(what)
        self.violations.append("round %d: %s" % (self.counts["rounds"], what))
        b.say("VIOLATION", self.violations[-1])
        for line in self.log[-12:]:
            b.say("    history:", line)

    def applied_at(self, msgs, gid, seq, t_from):
        """Receive time of gid's first status at or after t_from showing a
        sequence >= seq, or None."""
        topic = "%s/s1/%s/status" % (b.PREFIX, gid)
        for t, tp, payload in msgs:
            if tp != topic or t < t_from:
                continue
            try:
                st = json.loads(payload)
            except ValueError:
                continue
            if (st.get("consent_seq") or 0) >= seq:
                return t
        return None

    def intervals(self, msgs, gid):
        """(ref, what) -> [[start, end or None], ...] for gateway gid."""
        out = {}
        for kind, ref, what, t, seq in self.events:
            ivs = out.setdefault((ref, what), [])
            if kind == "end":
                start = t + BOUND
                if seq is not None:
                    r = self.applied_at(msgs, gid, seq, t)
                    if r is not None:
                        start = min(start, r)
                if not ivs or ivs[-1][1] is not None:
                    ivs.append([start, None])
            elif ivs and ivs[-1][1] is None:
                ivs[-1][1] = t
        return out

    def blocked(self, ivs, ref, t0, t1, what):
        whats = ("presence", "ident", "exists") + (("retargeting",) if what == "trigger"
                                                   else ())
        for w in whats:
            for s, e in ivs.get((ref, w), []):
                if t0 > s + EPS and (e is None or t1 < e - EPS):
                    return "%s ended (bound %.3f)" % (w, s)
        return None

    def check(self):
        with self.rec.lock:
            msgs = list(self.rec.msgs)
        self.counts["triggers"] = 0
        self.counts["visits"] = 0
        for gid, g in self.gws.items():
            ivs = self.intervals(msgs, gid)
            topic = "%s/s1/%s/trigger" % (b.PREFIX, gid)
            for _, tp, payload in msgs:
                if tp != topic:
                    continue
                t = json.loads(payload)
                self.counts["triggers"] += 1
                ev = cc.ts_seconds(t["ts"])
                why = self.blocked(ivs, t.get("customer_ref"), ev, ev, "trigger")
                if why:
                    self.violation("%s: trigger %s of %s at %s: %s"
                                   % (gid, t["id"], t.get("customer_ref"), t["ts"], why))
            try:
                rows = b.query(g.db, "SELECT c.customer_ref, o.created_us FROM outbox o "
                                     "JOIN customers c ON c.id = o.customer_id")
                visits = b.query(g.db, "SELECT c.customer_ref, v.entered_at, v.exited_at "
                                       "FROM visits v JOIN customers c ON "
                                       "c.id = v.customer_id")
            except Exception as e:
                b.say("  (database check of %s skipped this round: %s)" % (gid, e))
                continue
            for ref, created_us in rows:
                created = created_us / 1e6
                why = self.blocked(ivs, ref, created, created, "trigger")
                if why:
                    self.violation("%s: outbox row of %s queued at %.3f: %s"
                                   % (gid, ref, created, why))
            self.counts["visits"] += len(visits)
            for ref, entered, exited in visits:
                for at, what in ((entered, "entered"), (exited, "exited")):
                    if at is None:
                        continue
                    why = self.blocked(ivs, ref, at, at + 0.999, "visit")
                    if why:
                        self.violation("%s: visit of %s %s at %d: %s"
                                       % (gid, ref, what, at, why))

    # ---- the run ----
    def run(self):
        self.setup()
        self.start_epoch()
        for gid, g in self.gws.items():
            if not g.wait_current(60):
                b.fail("%s did not become current:\n%s" % (gid, g.text()[-2000:]))
        if not b.wait_for(lambda: any(tp.endswith("/trigger") for _, tp, _ in self.rec.msgs),
                          30):
            b.fail("no trigger arrived before the chaos began")
        for n in range(self.args.rounds):
            if time.time() > self.epoch_end:
                self.end_epoch()
                self.start_epoch()
            for _ in range(self.rng.randint(1, 3)):
                self.change()
            r = self.rng.random()
            fault = None
            if r < 0.12:
                fault = "beaconhub kill -9"
                self.fault_hub()
            elif r < 0.24:
                fault = "beacongw kill -9"
                self.fault_gateway()
            elif r < 0.34:
                fault = "store broker restart"
                self.fault_store_broker(False)
            elif r < 0.42:
                fault = "session loss (store broker wiped)"
                self.fault_store_broker(True)
            if fault:
                self.counts["faults"] += 1
                self.kinds["fault: " + fault] = self.kinds.get("fault: " + fault, 0) + 1
            self.settle()
            time.sleep(self.rng.uniform(0.2, 1.0))
            self.counts["rounds"] = n + 1
            self.check()
            if (n + 1) % 50 == 0:
                b.say("  %d rounds, %d changes, %d faults, %d triggers, %d violations"
                      % (n + 1, self.counts["changes"], self.counts["faults"],
                         self.counts["triggers"], len(self.violations)))
        # Recovery: after the chaos every gateway is current again by itself.
        self.settle()
        for gid, g in self.gws.items():
            if not g.wait_current(60 + MAX_STALENESS_S):
                self.violation("%s is not current again after the chaos: %s"
                               % (gid, self.fl.status(gid)))
        time.sleep(1)
        self.check()
        self.end_epoch()

    def close(self):
        for f in (lambda: self.rec and self.rec.close(),
                  lambda: [s.stop() for s in self.sims.values()], self.fl.close):
            try:
                f()
            except Exception as e:  # cleanup must not hide the verdict
                b.say("cleanup:", e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int,
                    default=int(os.environ.get("BGW_FLEET_CHAOS_ROUNDS", 8)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("BGW_CHAOS_SEED", 1414)))
    ap.add_argument("--json", help="write the summary as JSON to this file")
    args = ap.parse_args()
    c = FleetChaos(args)
    t0 = time.time()
    try:
        c.run()
    finally:
        c.close()
    summary = dict(c.counts, seed=args.seed, violations=len(c.violations),
                   seconds=round(time.time() - t0, 1), kinds=c.kinds)
    b.say("fleet chaos: seed %d, %d rounds, %d changes, %d faults, %d triggers, %d visits, "
          "%d violations, %.0f s" % (args.seed, c.counts["rounds"], c.counts["changes"],
                                     c.counts["faults"], c.counts["triggers"],
                                     c.counts["visits"], len(c.violations),
                                     time.time() - t0))
    b.say("  by kind: " + ", ".join("%s %d" % kv for kv in sorted(c.kinds.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    b.check(c.counts["triggers"] > 0, "triggers were published during the run")
    b.check(not c.violations, "%d violation(s) of the fleet consent invariant"
            % len(c.violations))
    b.finish()


if __name__ == "__main__":
    main()
