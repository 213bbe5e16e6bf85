#!/usr/bin/env python3
"""A store with two gateways whose site is split: g2 reaches the broker
through a loopback TCP relay that the test cuts and later restores, so g2
and g1 cannot hear each other for a while (one partition), with real
mosquitto, two beacongw and one beaconsim driving both controllers.

g1 and g2 are two doors of the entrance, 20 m apart. alice arrives after
the cut and walks door 1 -> door 2 -> door 1 -> door 2 while the site is
split (two enters on each side), then, after the link is back, door 2 ->
door 1 -> door 2 again. Campaigns on both gateways: welcome (entrance,
enter, daily cap 2) and hello (entrance, enter, cooldown 3600 s).

What a user sees (docs/site.md, the consistency model):
- the partition costs at most one extra trigger per campaign and customer:
  alice gets at most 2 + 1 welcomes and 1 + 1 hellos, where each side
  alone, without the split rule, would have sent 2 welcomes of its own;
- once the site is whole again the counts have converged: no welcome or
  hello is sent to alice after the link is back;
- one zone at a time again after healing: the visits that begin after the
  link is back never overlap;
- the status document's counts.site says what happened: each gateway
  sent and received summaries, took alice, and counted its peer's
  triggers of the partition once they arrived."""
import json
import os
import select
import socket
import threading
import time

import e2e
from e2e import check, finish

UUID = "e2e05173-0000-4000-8000-000000000002"
SPEED = 2
GATEWAYS = (("g1", "0,0", "entrance"), ("g2", "20,0", "entrance"))
# Scenario seconds; the test runs at SPEED, so real seconds are half.
PATH = ("1s:-40,0 28s:-40,0 32s:0,1 46s:0,1 54s:20,1 68s:20,1 76s:0,1 90s:0,1 "
        "98s:20,1 126s:20,1 134s:0,1 150s:0,1 158s:20,1 174s:20,1 180s:45,0")
CUT_AT = 16 / SPEED      # before alice arrives at door 1
HEAL_AT = 116 / SPEED    # alice stands at door 2, held by g2 alone
END_AT = 186 / SPEED


def scenario():
    lines = ["seed 23", "duration 186s", "noise 2", ""]
    lines += ["gateway %s %s %s" % g for g in GATEWAYS] + [""]
    lines += ["tag alice", "    customer cust-alice", "    ibeacon %s:1:1" % UUID,
              "    interval 200ms", "    txpower -59", "    path " + PATH, ""]
    return "\n".join(lines)


def setup_db(db):
    def ctl(*a):
        e2e.ctl(db, *a)
    ctl("init")
    ctl("customer", "add", "cust-alice")
    ctl("identifier", "add", "cust-alice", "ibeacon", "%s:1:1" % UUID)
    ctl("consent", "grant", "cust-alice", "presence")
    ctl("consent", "grant", "cust-alice", "retargeting", "--channel", "push")
    ctl("campaign", "add", "welcome", "--zone", "entrance", "--event", "enter",
        "--daily-cap", "2", "--cooldown", "0")
    ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter",
        "--cooldown", "3600")


class Relay:
    """A loopback TCP relay to the broker that can be cut (every
    connection closed, new ones refused) and restored on the same port."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = None
        self.lsock = None
        self.pairs = []
        self.lock = threading.Lock()
        self.running = True
        self.listen()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def listen(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port or 0))
        s.listen(8)
        self.port = s.getsockname()[1]
        with self.lock:
            self.lsock = s

    def cut(self):
        with self.lock:
            if self.lsock:
                self.lsock.close()
                self.lsock = None
            for a, b in self.pairs:
                a.close()
                b.close()
            self.pairs = []

    def restore(self):
        self.listen()

    def loop(self):
        while self.running:
            with self.lock:
                socks = ([self.lsock] if self.lsock else []) + \
                    [s for p in self.pairs for s in p]
            if not socks:
                time.sleep(0.05)
                continue
            try:
                ready, _, _ = select.select(socks, [], [], 0.1)
            except (OSError, ValueError):
                continue  # a socket was closed by cut()
            for s in ready:
                with self.lock:
                    if s is self.lsock:
                        try:
                            c, _ = s.accept()
                            b = socket.create_connection(("127.0.0.1", self.target))
                            self.pairs.append((c, b))
                        except OSError:
                            pass
                        continue
                    pair = next((p for p in self.pairs if s in p), None)
                    if not pair:
                        continue
                    other = pair[1] if s is pair[0] else pair[0]
                    try:
                        data = s.recv(65536)
                        if data:
                            other.sendall(data)
                            continue
                    except OSError:
                        pass
                    pair[0].close()
                    pair[1].close()
                    self.pairs.remove(pair)

    def close(self):
        self.running = False
        self.cut()
        self.thread.join(5)


def visits(db):
    return e2e.query(db, "SELECT v.entered_at, v.exited_at FROM visits v "
                     "JOIN customers c ON c.id = v.customer_id "
                     "WHERE c.customer_ref = 'cust-alice' ORDER BY 1")


def last_status(sub, gw):
    out = None
    for topic, payload in sub.messages("status"):
        if topic.split("/")[-2] == gw:
            doc = json.loads(payload)
            if doc.get("counts"):
                out = doc
    return out


s = e2e.Store("site-partition")
relay = None
try:
    relay = Relay(s.broker.port)
    gws, dbs = {}, {}
    for gw, _, _ in GATEWAYS:
        dbs[gw] = s.tmp(gw + ".db")
        setup_db(dbs[gw])
    scn = s.tmp("partition.scn")
    with open(scn, "w") as f:
        f.write(scenario())
    sim = e2e.Sim(s.tmp, scn, speed=SPEED, once=True)
    socks = {gw: s.tmp("%s.sock" % gw) for gw, _, _ in GATEWAYS}
    sim.cmd = [e2e.BEACONSIM, "-s", scn, "--speed", str(SPEED), "--once"]
    for gw, path in socks.items():
        sim.cmd += ["-l", "%s=unix:%s" % (gw, path)]
    sim.sock = socks["g2"]
    s.procs.append(sim)
    for gw, _, zone in GATEWAYS:
        conf = s.config(name=gw + ".conf",
                        gateway={"site": "s1", "id": gw, "zone": zone},
                        storage={"db": dbs[gw]},
                        mqtt={"port": str(relay.port if gw == "g2" else s.broker.port)},
                        presence={"enter_window_s": "3", "exit_below_s": "3",
                                  "absence_timeout_s": "3", "enter_rssi_dbm": "-75",
                                  "exit_rssi_dbm": "-82"},
                        visits={"publish": "yes"},
                        site={"enabled": "yes", "margin_db": "4", "hold_s": "2",
                              "peer_timeout_s": "4", "summary_ms": "500"})
        gws[gw] = e2e.Gateway(s.tmp, conf, source="h4:unix:" + socks[gw],
                              name="beacongw-" + gw)
    sim.start()
    if not e2e.wait_for(lambda: all(os.path.exists(p) for p in socks.values()), 10):
        e2e.fail("beaconsim did not listen for the two gateways")
    t0 = time.time()
    for gw in gws:
        s.procs.insert(0, gws[gw])
        gws[gw].start()
    for gw in gws:
        if not gws[gw].ready(30):
            e2e.fail("beacongw %s did not get ready:\n%s" % (gw, gws[gw].text()[-2000:]))

    while time.time() < t0 + CUT_AT:
        time.sleep(0.1)
    relay.cut()
    cut_at = time.time()
    e2e.say("g2 cut off the broker at %.1f s" % (cut_at - t0))
    while time.time() < t0 + HEAL_AT:
        time.sleep(0.1)
    relay.restore()
    healed_at = time.time()
    e2e.say("g2's link back at %.1f s" % (healed_at - t0))
    while time.time() < t0 + END_AT + 2:
        time.sleep(0.5)
    for gw in gws:
        check(gws[gw].stop() == 0, "beacongw %s stopped cleanly" % gw)

    trig = e2e.triggers(s.sub)
    got = [(t["campaign"], t["gateway"], round(e2e.ts_seconds(t["ts"]) - t0, 1))
           for t in trig if t["customer_ref"] == "cust-alice"]
    e2e.say("alice's triggers (campaign, gateway, s):", sorted(got, key=lambda x: x[2]))
    for camp, allowed in (("welcome", 2), ("hello", 1)):
        n = sum(1 for c, _, _ in got if c == camp)
        check(1 <= n <= allowed + 1, "%s: at most %d + 1 for one partition, got %d: %s"
              % (camp, allowed, n, got))
    late = [g for g in got if g[2] >= healed_at - t0]
    check(not late, "no trigger for alice once the site is whole again (counts "
          "converged): %s" % late)

    # One zone at a time after healing, across both gateways.
    rows = {gw: visits(dbs[gw]) for gw in dbs}
    for gw, r in rows.items():
        e2e.say(gw, "visits of alice:", [(a - int(t0), (b - int(t0)) if b else None)
                                         for a, b in r])
    spans = sorted((a, b if b else 1 << 40, gw) for gw, r in rows.items() for a, b in r
                   if a >= healed_at)
    check(len({gw for _, _, gw in spans}) == 2, "after healing alice has visits at both "
          "doors: %s" % spans)
    for (a1, b1, g1), (a2, b2, g2) in zip(spans, spans[1:]):
        check(a2 >= b1, "after healing: visit at %s (%d..%d) overlaps the one at %s "
              "(from %d)" % (g1, a1 - t0, b1 - t0, g2, a2 - t0))

    # What the status documents say (the final one of each gateway).
    st = {gw: last_status(s.sub, gw) for gw in gws}
    for gw, doc in st.items():
        if not check(doc is not None and "site" in doc["counts"],
                     "%s's status carries counts.site: %s" % (gw, doc)):
            continue
        e2e.validate(doc, "status", "%s's status" % gw)
        site = doc["counts"]["site"]
        e2e.say(gw, "counts.site:", site)
        check(site["summaries_sent"] > 0 and site["summaries_received"] > 0,
              "%s sent and received summaries: %s" % (gw, site))
        check(site["claims"] >= 1, "%s took alice at some point: %s"
              % (gw, site))
    # g1's welcome and hello of the partition reached g2 once the link was
    # back, and g2's reached g1.
    for gw in gws:
        if st[gw]:
            check(st[gw]["counts"]["site"]["peer_triggers_applied"] >= 2,
                  "%s counted its peer's triggers of the partition: %s"
                  % (gw, st[gw]["counts"]["site"]))
finally:
    if relay:
        relay.close()
    s.close()
finish()
