#!/usr/bin/env python3
"""Fault campaign against the whole daemon: beaconsim as the controller,
beacongw with a real SQLite database, a real mosquitto, a subscriber.

    fault_campaign.py CASE [--long] [--seed N]

CASE: broker_outage, kill9, hostile_controller, silence_exit, db_locked,
db_readonly, disk_full, sighup_invalid, clock_jump. Each prints what it did,
what was lost (nothing committed may be) and the time to recover; recovery
times are printed, never asserted. --long (or BGW_FAULT_LONG=1) runs the
long form: more rounds, longer outages."""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest as b  # noqa: E402

TRIGGER_LINE = re.compile(r"trigger ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                          r"[0-9a-f]{12}): campaign")
LONG = False


def queued_ids(text):
    """Trigger ids in the order the daemon queued them (= outbox order)."""
    return TRIGGER_LINE.findall(text)


def check_delivery(sub, expected, what, timeout=30):
    """Every expected id arrives; first arrivals keep the expected order."""
    want = set(expected)
    b.wait_for(lambda: want <= set(sub.trigger_ids()), timeout, step=0.2)
    got = sub.trigger_ids()
    missing = [t for t in expected if t not in set(got)]
    b.check(not missing, "%s: %d of %d committed trigger(s) never arrived (first %s)" %
            (what, len(missing), len(expected), missing[:3]))
    pos = {t: i for i, t in enumerate(expected)}
    order = [pos[t] for t in got if t in pos]
    inversions = sum(1 for i in range(1, len(order)) if order[i] < order[i - 1])
    b.check(inversions == 0, "%s: %d trigger(s) arrived out of outbox order" %
            (what, inversions))
    dups = len(sub.messages("trigger")) - len(got)
    b.say("  %s: %d committed, %d arrived, %d missing, %d duplicate(s) (dropped by id), "
          "order %s" % (what, len(expected), len(want & set(got)), len(missing), dups,
                        "kept" if inversions == 0 else "BROKEN"))
    return missing


class Rig:
    """Broker + subscriber + database + live beaconsim + gateway config."""

    def __init__(self, name, tags=300, gap_s=0.05, persistence=False, speed=1.0,
                 scenario=None, sections=None, db_path=None, crowd=0):
        b.need_binaries()
        self.tmp = b.TempDir("fault-" + name)
        self.broker = b.Broker(self.tmp, persistence=persistence).start()
        self.sub = b.Subscriber(self.broker.port, [b.PREFIX + "/#"], persistent=True)
        self.db = b.make_demo_db(db_path or self.tmp("gw.db"), customers=max(tags, 1))
        text = scenario or b.load_scenario(tags, gap_s=gap_s, crowd=crowd)
        self.scn = b.write_scenario(self.tmp("load.scn"), text)
        self.sim = b.Sim(self.tmp, self.scn, speed=speed).start()
        self.conf = b.write_config(self.tmp, self.db, self.broker.port, **(sections or {}))
        self.gw = None

    def gateway(self, **kw):
        self.gw = b.Gateway(self.tmp, self.conf, source=self.sim.spec, **kw)
        return self.gw

    def close(self, keep=False):
        for f in (lambda: self.gw and self.gw.close(), self.sim.stop, self.sub.close,
                  self.broker.stop):
            try:
                f()
            except Exception as e:  # cleanup must not hide the verdict
                b.say("cleanup:", e)
        if keep or b.failures or os.environ.get("BGW_KEEP"):
            b.say("  files kept in", self.tmp.path)
        else:
            self.tmp.cleanup()


def started(gw, what):
    if not b.check(gw.ready(30), "%s: gateway did not become READY" % what):
        b.say(gw.text()[-3000:])
        b.finish()


def drained(gw, timeout=60):
    """Wait until the daemon says its outbox is empty and MQTT is up."""
    def ok():
        st = gw.last_status_note()
        return b.status_field(st, "outbox") == "0" and b.status_field(st, "mqtt") == "up"
    return b.wait_for(ok, timeout, step=0.2)


def scenario_end(rig):
    """Seconds of simulated time the load scenario lasts."""
    for line in open(rig.scn):
        if line.startswith("duration "):
            return float(line.split()[1].rstrip("s"))
    return 60.0


# ---------------------------------------------------------------------------
def case_broker_outage(seed):
    down_s = 20 if LONG else 5
    tags = 800 if LONG else 300
    rig = Rig("outage", tags=tags, gap_s=0.05, persistence=True)
    try:
        gw = rig.gateway().start()
        started(gw, "outage")
        b.wait_for(lambda: len(rig.sub.trigger_ids()) >= 20, 20)
        before = len(rig.sub.trigger_ids())
        t_kill = time.time()
        rig.broker.stop(signal.SIGKILL)
        b.say("  broker killed (SIGKILL) after %d trigger(s) arrived; down for %d s" %
              (before, down_s))
        time.sleep(down_s)
        queued_during = len(queued_ids(gw.text()))
        backlog = [t for t in queued_ids(gw.text()) if t not in set(rig.sub.trigger_ids())]
        t_up = time.time()
        rig.broker.start()
        b.say("  broker restarted on port %d; %d trigger(s) waiting in the outbox" %
              (rig.broker.port, len(backlog)))
        first = b.wait_for(lambda: bool(set(backlog) & set(rig.sub.trigger_ids())), 60, 0.02)
        t_first = time.time()
        b.wait_for(lambda: set(backlog) <= set(rig.sub.trigger_ids()), 90, 0.05)
        t_all = time.time()
        b.check(first, "no trigger arrived after the broker came back")
        b.say("  recovery: first backlog trigger %.2f s after the restart, whole backlog "
              "%.2f s after (outage %.1f s, %d queued before it ended)" %
              (t_first - t_up, t_all - t_up, t_up - t_kill, queued_during))
        # Let the stream end, then stop gracefully.
        b.wait_for(lambda: not rig.sim.proc or rig.sim.proc.poll() is not None,
                   max(0, scenario_end(rig) - (time.time() - gw.started)) + 5)
        time.sleep(4)
        b.check(drained(gw, 60), "outbox did not drain after the outage")
        rc = gw.stop()
        b.check(rc == 0, "graceful stop exit status %s" % rc)
        text = gw.text()
        b.check("retrying in" in text, "no log line about the unreachable broker")
        b.check(not b.outbox_ids(rig.db), "outbox not empty after the run")
        expected = queued_ids(text)
        b.check(len(expected) > before, "triggers kept coming during the outage")
        check_delivery(rig.sub, expected, "broker outage")
        st = rig.sub.last_status()
        if st:
            c = st.get("counts", {})
            b.say("  status counts: queued %s sent %s dropped %s reconnects %s" %
                  (c.get("triggers_queued"), c.get("triggers_sent"),
                   c.get("triggers_dropped"), c.get("reconnects")))
            b.check(c.get("triggers_dropped", 0) == 0, "triggers dropped: %s" % c)
    finally:
        rig.close()


# ---------------------------------------------------------------------------
def case_kill9(seed):
    rounds = 20 if LONG else 5
    rng = random.Random(seed)
    # Enough load tags to keep triggers coming for the whole run.
    tags = rounds * 60 + 200
    rig = Rig("kill9", tags=tags, gap_s=0.05, persistence=True)
    committed = set()       # in the outbox after a kill: must arrive
    restarts = []
    try:
        for n in range(rounds):
            # Every other round the broker is away, so the kill finds a full
            # outbox (and a publisher reconnecting) instead of an empty one.
            broker_down = n % 2 == 1
            if broker_down:
                rig.broker.stop()
            gw = rig.gateway().start()
            started(gw, "kill9 round %d" % n)
            restarts.append(time.time() - gw.started)
            delay = rng.uniform(0.2, 4.0)
            time.sleep(delay)
            b.check(gw.alive(), "round %d: gateway died before the kill" % n)
            gw.kill9()
            gw.close()
            with open(gw.log, "a") as f:
                f.write("==== killed\n")
            res = b.integrity(rig.db)
            b.check(res == "ok", "round %d: integrity_check after kill -9: %s" % (n, res))
            left = b.outbox_ids(rig.db)
            committed |= set(left)
            b.say("  round %2d: kill -9 after %.2f s%s; integrity %s; %d trigger(s) "
                  "committed in the outbox" % (n, delay, " (broker down)" if broker_down
                                               else "", res, len(left)))
            if broker_down:
                rig.broker.start()
        # A last, uninterrupted run delivers what the killed ones left.
        gw = rig.gateway().start()
        t0 = time.time()
        started(gw, "kill9 final")
        restarts.append(time.time() - gw.started)
        b.check(drained(gw, 60), "final run: outbox did not drain")
        t_drain = time.time() - t0
        time.sleep(1)
        rc = gw.stop()
        b.check(rc == 0, "final run: graceful stop exit status %s" % rc)
        text = gw.text()
        # Every trigger queued in any run that reached the database.
        logged = set(queued_ids(text))
        delivered = set(rig.sub.trigger_ids())
        rows = b.query(rig.db, "SELECT trigger_id FROM trigger_log")
        recorded = {r[0] for r in rows}
        missing = committed - delivered
        b.wait_for(lambda: committed <= set(rig.sub.trigger_ids()), 20)
        delivered = set(rig.sub.trigger_ids())
        missing = committed - delivered
        b.check(not missing, "%d committed trigger(s) never arrived (first %s)" %
                (len(missing), sorted(missing)[:3]))
        b.check(b.integrity(rig.db) == "ok", "final integrity_check")
        still_queued = set(b.outbox_ids(rig.db))
        lost_uncommitted = recorded - delivered - still_queued
        for t in sorted(lost_uncommitted)[:5]:
            i = text.find(t)
            b.say("  not delivered: %s, queued at log offset %d of %d: ...%s" %
                  (t, i, len(text), text[i:i + 300].replace("\n", " | ")))
        # Where were they? The last ones queued before a kill (in memory,
        # waiting for the loop turn's group commit) is the expected place.
        tail = set()
        for seg in text.split("==== killed")[:-1]:
            tail |= set(queued_ids(seg)[-10:])
        b.say("  lost uncommitted among the last 10 queued before a kill: %d of %d" %
              (len(lost_uncommitted & tail), len(lost_uncommitted)))
        open_visits = b.query(rig.db, "SELECT count(*) FROM visits WHERE exited_at IS NULL")
        b.say("  %d kill -9 rounds (seed %s): %d trigger(s) found committed in the outbox "
              "after kills, all %s; %d delivered in total (%d queued over all runs)" %
              (rounds, seed, len(committed), "delivered" if not missing else "NOT delivered",
               len(delivered), len(logged)))
        b.say("  restart to READY: median %.2f s, max %.2f s; final drain %.2f s" %
              (sorted(restarts)[len(restarts) // 2], max(restarts), t_drain))
        b.say("  not committed when killed (trigger_log row, never published): %d; "
              "visits left open by the kills: %d" % (len(lost_uncommitted), open_visits[0][0]))
    finally:
        rig.close()


# ---------------------------------------------------------------------------
def fault_scenario(faults, duration=60, tags=1):
    text = ["seed 7", "duration %ds" % duration, "noise 2", ""]
    for i in range(tags):
        text += ["tag steady-%d" % i, "    ibeacon %s:1:%d" % (b.LOAD_UUID, i),
                 "    interval 100ms", "    txpower -59", "    distance 1", ""]
    return "\n".join(text + list(faults)) + "\n"


def case_hostile_controller(seed):
    speed = 1.0 if LONG else 2.0
    faults = ["fault garbage at 5s bytes 512", "fault hardware-error at 12s code 0x42",
              "fault silence at 20s for 12s", "fault disconnect at 40s",
              "fault garbage at 48s bytes 4096"]
    # One tag that stays, and load tags walking through (their triggers show
    # the whole chain works again after each fault).
    scn = fault_scenario(faults, duration=60)
    scn += b.load_scenario(110, gap_s=0.5, visit_s=2, start_s=2).split("\n", 4)[4]
    scn = scn.replace("tag load-", "tag walk-")
    tmp_prom = os.path.join(b.TempDir("fault-prom", remove_at_exit=True).path, "gw.prom")
    rig = Rig("hostile", tags=111, scenario=scn, speed=speed,
              sections={"source": {"watchdog_silence_s": "4", "watchdog_rescan_tries": "2",
                                   "watchdog_reset_tries": "2"},
                        "metrics": {"textfile": tmp_prom, "interval_s": "1"}})
    try:
        gw = rig.gateway().start()
        started(gw, "hostile")
        b.wait_for(lambda: rig.sim.proc.poll() is not None, 60 / speed + 10)
        time.sleep(2)
        b.check(gw.alive(), "gateway died during the hostile controller run")
        rc = gw.stop()
        time.sleep(0.3)
        b.check(rc == 0, "graceful stop exit status %s" % rc)
        text = gw.text()
        b.check("AddressSanitizer" not in text and "runtime error" not in text,
                "sanitizer report in the log")
        f = gw.first_after
        steps = [("hardware error", "Hardware Error event", "resetting the controller",
                  "reports flow again"),
                 ("silence", "no advertising report for", "re-enabling the scan",
                  "reports flow again"),
                 ("disconnect", "link lost", "link up again", "controller: scanning")]
        for what, fault, action, back in steps:
            t_f = f(fault)
            t_a = f(action, t_f or 0) if t_f else None
            t_b = f(back, t_a or 0) if t_a else None
            t_trig = f("trigger ", t_b) if t_b else None
            b.check(t_f and t_a and t_b, "%s: log lacks %r -> %r -> %r" %
                    (what, fault, action, back))
            b.check(t_trig, "%s: no trigger after the recovery" % what)
            if t_f and t_b:
                b.say("  %-14s: %r -> %r after %.2f s; next trigger %.2f s after the fault" %
                      (what, action, back, t_b - t_f, (t_trig or t_b) - t_f))
        garbage = re.findall(r"h4: (\d+) garbage bytes skipped", text)
        b.check(garbage, "garbage: no 'garbage bytes skipped' count in the log")
        b.say("  garbage       : %s byte(s) skipped (logged when a link closes, then the "
              "total); the stream stayed in step" % "+".join(garbage))
        # The monitoring sees them too: the metrics file written at the stop.
        prom = open(tmp_prom).read() if os.path.exists(tmp_prom) else ""
        m = re.search(r"^beacongw_h4_garbage_bytes_total (\d+)$", prom, re.M)
        # (each lost link logs its own count; the close logs the run's total)
        total = re.findall(r"h4: (\d+) garbage bytes skipped$", text, re.M)
        b.check(m and total and int(m.group(1)) == int(total[-1]),
                "garbage: beacongw_h4_garbage_bytes_total %s, the log's total %s" %
                (m.group(1) if m else "missing", total[-1] if total else "missing"))
        st = rig.sub.last_status()
        if st:
            c = st.get("counts", {})
            b.say("  status counts: reports %s decoded %s triggers %s" %
                  (c.get("reports"), c.get("decoded"), c.get("triggers")))
        trig = queued_ids(text)
        check_delivery(rig.sub, trig, "hostile controller")
    finally:
        rig.close()


def case_silence_exit(seed):
    scn = fault_scenario(["fault silence at 3s for 1h"], duration=4000)
    rig = Rig("silence", tags=1, scenario=scn, speed=1.0,
              sections={"source": {"watchdog_silence_s": "2", "watchdog_rescan_tries": "1",
                                   "watchdog_reset_tries": "1"}})
    try:
        gw = rig.gateway().start()
        started(gw, "silence")
        rc = gw.wait(60)
        t = time.time() - gw.started
        b.check(rc == 69, "persistent silence: exit status %s, expected 69" % rc)
        text = gw.text()
        b.check("giving up" in text, "no 'giving up' log line")
        b.say("  persistent silence: exit %s after %.1f s (silence from 3 s, watchdog "
              "2 s, 1 rescan + 1 reset)" % (rc, t))
        for ln in [ln for ln in text.splitlines() if "watchdog" in ln][:6]:
            b.say("    log: " + ln)
    finally:
        rig.close()


# ---------------------------------------------------------------------------
def run_under_condition(name, hold, tags=400, sections=None, db_path=None):
    """Start the load, apply the condition (hold(rig, gw) returns after it
    has been lifted again), then check every committed trigger arrives."""
    rig = Rig(name, tags=tags, gap_s=0.05, sections=sections, db_path=db_path)
    try:
        gw = rig.gateway().start()
        started(gw, name)
        b.wait_for(lambda: len(rig.sub.trigger_ids()) >= 20, 20)
        mark = gw.mark()
        t_on = time.time()
        info = hold(rig, gw)
        t_off = time.time()
        b.check(gw.alive(), "%s: gateway died (see %s)" % (name, gw.log))
        t_clear = time.time()
        n0 = len(rig.sub.trigger_ids())
        b.wait_for(lambda: len(rig.sub.trigger_ids()) > n0, 30, 0.05)
        b.say("  %s: first trigger after the condition cleared: %.2f s" %
              (name, time.time() - t_clear))
        b.wait_for(lambda: rig.sim.proc.poll() is not None,
                   max(0, scenario_end(rig) - (time.time() - gw.started)) + 5)
        time.sleep(4)
        b.check(drained(gw, 60), "%s: outbox did not drain afterwards" % name)
        rc = gw.stop()
        b.check(rc == 0, "%s: graceful stop exit status %s" % (name, rc))
        text = gw.text()
        during = text[mark:]
        expected = queued_ids(text)
        check_delivery(rig.sub, expected, name)
        b.check(b.integrity(rig.db) == "ok", "%s: integrity_check" % name)
        errs = [ln for ln in during.splitlines() if ": err" in ln or ": warning" in ln or
                ": notice" in ln]
        # The load logs a line every few ms: a long gap means the loop stalled.
        times = [t for t, _ in gw.timeline if t_on <= t <= t_off + 3]
        gap = max((y - x for x, y in zip(times, times[1:])), default=0.0)
        entered = len(re.findall(r"visit enter: ", text))
        rows = b.query(rig.db, "SELECT count(*) FROM visits")[0][0]
        b.say("  %s: %d warning/error line(s) while it lasted; longest pause of the log "
              "meanwhile %.2f s; visits entered %d, visit rows %d (%d lost); all drained "
              "by the end of the run" % (name, len(errs), gap, entered, rows, entered - rows))
        for ln in sorted(set(re.sub(r"\d+", "N", ln) for ln in errs))[:8]:
            b.say("    log: " + ln)
        st = rig.sub.last_status()
        if st:
            c = st.get("counts", {})
            b.say("  status: queued %s sent %s dropped %s, last_error %r" %
                  (c.get("triggers_queued"), c.get("triggers_sent"),
                   c.get("triggers_dropped"), st.get("last_error")))
        return rig, gw, info, errs
    finally:
        rig.close()


def case_db_locked(seed):
    hold_s = 8 if LONG else 4

    def hold(rig, gw):
        con = sqlite3.connect(rig.db, timeout=10, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        # A schema change in the open transaction: the write lock is ours.
        con.execute("CREATE TABLE IF NOT EXISTS lock_holder(x)")
        t0 = time.time()
        b.say("  write lock held by another connection for %d s" % hold_s)
        time.sleep(hold_s)
        con.execute("ROLLBACK")
        con.close()
        return time.time() - t0

    _, _, _, errs = run_under_condition("db_locked", hold)
    b.check(errs, "db_locked: nothing logged while the database was locked")


def in_private_mounts():
    """Re-run this script in a private mount namespace (root only), so the
    test's own file systems never show outside and vanish with it."""
    if os.environ.get("BGW_FAULT_NS") == "1":
        return
    if os.geteuid() != 0 or not b.tool("unshare"):
        b.skip("needs root and unshare(1) for a private tmpfs")
    env = dict(os.environ, BGW_FAULT_NS="1")
    p = subprocess.run([b.tool("unshare"), "-m", "--propagation", "private", sys.executable]
                       + sys.argv, env=env)
    sys.exit(p.returncode)


def small_fs(tmp, size):
    mnt = tmp("fs")
    os.makedirs(mnt, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        b.skip("cannot mount a tmpfs: %s" % p.stderr.strip())
    return mnt


def digest(directory):
    import hashlib
    h = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        h.update(name.encode())
        with open(os.path.join(directory, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def case_db_readonly(seed):
    """The kernel refuses to remount a file system read-only while a process
    holds a file on it open for writing (EBUSY), which the running daemon
    always does: a card that turned read-only is met at the next start. So:
    triggers committed while the broker is away, daemon stopped, file system
    remounted read-only, daemon started (clear error, exit status), file
    system writable again, daemon started: the backlog arrives."""
    in_private_mounts()
    fs_tmp = b.TempDir("fault-rofs")
    mnt = small_fs(fs_tmp, "64m")
    rig = None
    try:
        rig = Rig("db_readonly", tags=400, gap_s=0.05, db_path=os.path.join(mnt, "gw.db"),
                  persistence=True)
        rig.broker.stop()
        gw = rig.gateway().start()
        started(gw, "db_readonly")
        time.sleep(4)
        rc = gw.stop()
        gw.close()
        b.check(rc == 0, "first run: graceful stop exit %s" % rc)
        committed = b.outbox_ids(rig.db)
        b.check(committed, "no trigger committed while the broker was away")
        p = subprocess.run(["mount", "-o", "remount,ro", mnt], capture_output=True, text=True)
        if p.returncode != 0:
            b.skip("cannot remount read-only: %s" % p.stderr.strip())
        before = digest(mnt)
        b.say("  %d trigger(s) committed, daemon stopped, database file system now "
              "read-only" % len(committed))
        rig.broker.start()
        gw = rig.gateway(name="beacongw-ro").start()
        rc = gw.wait(20)
        text = gw.text()
        lines = [ln for ln in text.splitlines() if ": err" in ln or ": warn" in ln]
        if rc is None:
            b.say("  daemon runs on a read-only database; lines: %s" % lines[:3])
            b.check(lines, "read-only database: nothing logged")
            gw.stop()
        else:
            b.say("  start on the read-only database: exit %s, %r" %
                  (rc, lines[0].replace(mnt + "/", "") if lines else ""))
            b.check(rc in (69, 78), "read-only database: exit %s, expected 69 or 78" % rc)
            b.check(len(lines) >= 1, "read-only database: no error line")
        gw.close()
        b.check(digest(mnt) == before, "database files changed while read-only")
        p = subprocess.run(["mount", "-o", "remount,rw", mnt], capture_output=True, text=True)
        b.check(p.returncode == 0, "remount rw: %s" % p.stderr)
        gw = rig.gateway(name="beacongw-rw").start()
        t0 = time.time()
        started(gw, "db_readonly recovery")
        ok = b.wait_for(lambda: set(committed) <= set(rig.sub.trigger_ids()), 60, 0.05)
        b.say("  writable again: backlog of %d delivered %.2f s after the start" %
              (len(committed), time.time() - t0))
        b.check(ok, "backlog not delivered after the file system became writable")
        b.check(b.integrity(rig.db) == "ok", "integrity_check")
        gw.stop()
        check_delivery(rig.sub, committed, "db_readonly backlog")
    finally:
        if rig:
            rig.close()
        subprocess.run(["umount", "-l", mnt])
        fs_tmp.cleanup()


def case_disk_full(seed):
    in_private_mounts()
    hold_s = 8 if LONG else 4
    fs_tmp = b.TempDir("fault-fullfs")
    mnt = small_fs(fs_tmp, "16m")

    def hold(rig, gw):
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        try:
            with open(filler, "ab") as f:
                while True:
                    f.write(b"\0" * 512)
                    f.flush()
        except OSError:
            pass
        b.say("  database file system full for %d s" % hold_s)
        time.sleep(hold_s)
        os.unlink(filler)
        return hold_s

    try:
        _, _, _, errs = run_under_condition("disk_full", hold, db_path=os.path.join(mnt, "gw.db"))
        b.check(errs, "disk_full: nothing logged while the disk was full")
    finally:
        subprocess.run(["umount", "-l", mnt])
        fs_tmp.cleanup()


# ---------------------------------------------------------------------------
def case_sighup_invalid(seed):
    rig = Rig("sighup", tags=300, gap_s=0.05)
    try:
        gw = rig.gateway().start()
        started(gw, "sighup")
        b.wait_for(lambda: len(rig.sub.trigger_ids()) >= 10, 20)
        good = open(rig.conf).read()
        bad_variants = [("unknown key", good + "\n[presence]\nno_such_key = 1\n"),
                        ("bad value", good.replace("[mqtt]\n", "[mqtt]\nkeepalive = -3\n", 1)),
                        ("syntax", good + "\nthis is not ini\n[unterminated\n"),
                        ("unreadable", None)]
        for what, text in bad_variants:
            mark = gw.mark()
            if text is None:
                os.rename(rig.conf, rig.conf + ".away")
            else:
                with open(rig.conf, "w") as f:
                    f.write(text)
            n0 = len(rig.sub.trigger_ids())
            gw.proc.send_signal(signal.SIGHUP)
            ok = gw.wait_log("keeping the running configuration", 10, since=mark)
            b.check(ok, "SIGHUP with %s: no 'keeping the running configuration' line" % what)
            flowing = b.wait_for(lambda: len(rig.sub.trigger_ids()) > n0, 15)
            b.check(gw.alive() and flowing, "SIGHUP with %s: not running on" % what)
            errline = [ln.replace(rig.tmp.path + "/", "") for ln in
                       gw.log_since(mark).splitlines() if os.path.basename(rig.conf) in ln][:1]
            b.check(errline, "SIGHUP with %s: the error does not name the file" % what)
            b.say("  %-12s -> kept running; %s" % (what, errline[0] if errline else "(no line)"))
            if text is None:
                os.rename(rig.conf + ".away", rig.conf)
        with open(rig.conf, "w") as f:
            f.write(good)
        mark = gw.mark()
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        b.check("reload failed" not in gw.log_since(mark), "valid config after the bad ones "
                "was refused")
        b.wait_for(lambda: rig.sim.proc.poll() is not None,
                   max(0, scenario_end(rig) - (time.time() - gw.started)) + 5)
        time.sleep(4)
        b.check(drained(gw, 30), "outbox did not drain")
        rc = gw.stop()
        b.check(rc == 0, "graceful stop exit status %s" % rc)
        check_delivery(rig.sub, queued_ids(gw.text()), "sighup")
    finally:
        rig.close()


# ---------------------------------------------------------------------------
BTSNOOP_DELTA = 0x00DCDDB30F2F8000


def rewrite_times(src, dst, jumps):
    """Copy a btsnoop file, adding jumps[i] = (from_fraction, delta_us): every
    record from that fraction of the file on is shifted by delta_us more."""
    data = open(src, "rb").read()
    out = bytearray(data[:16])
    pos = 16
    recs = []
    while pos + 24 <= len(data):
        olen, ilen, flags, drops, ts = struct.unpack(">IIIIQ", data[pos:pos + 24])
        recs.append((data[pos:pos + 24], data[pos + 24:pos + 24 + ilen], ts))
        pos += 24 + ilen
    n = len(recs)
    for i, (hdr, body, ts) in enumerate(recs):
        shift = sum(d for frac, d in jumps if i >= int(frac * n))
        out += hdr[:16] + struct.pack(">Q", ts + shift) + body
    open(dst, "wb").write(out)
    return n


def case_clock_jump(seed):
    b.need_binaries()
    tmp = b.TempDir("fault-clock")
    broker = b.Broker(tmp).start()
    sub = b.Subscriber(broker.port, [b.PREFIX + "/#"], persistent=True)
    try:
        db = b.make_demo_db(tmp("gw.db"), customers=120, events=("enter", "exit", "dwell"))
        eid_key = "000102030405060708090a0b0c0d0e0f"
        b.ctl(db, "customer", "add", "EID1")
        b.ctl(db, "identifier", "add", "EID1", "eddystone-eid", eid_key + ":4")
        b.ctl(db, "consent", "grant", "EID1", "presence")
        b.ctl(db, "consent", "grant", "EID1", "retargeting", "--channel", "push")
        # 120 load tags over 10 minutes, each visiting for 90 s, plus an EID
        # tag (new EID every 16 s) that stays the whole time.
        text = b.load_scenario(120, gap_s=5, visit_s=90, duration_s=700)
        text += ("\ntag eid-tag\n    eddystone-eid %s:4\n    interval 200ms\n"
                 "    txpower -59\n    distance 1\n" % eid_key)
        # Consent is checked against the event time: the capture starts 3 h
        # from now so that even the backward jumps stay after the grants.
        start = int(time.time()) + 3 * 3600 + 60
        cap = b.offline_capture(tmp, text, tmp("steady.btsnoop"), start_time=start)
        H = 3600 * 1000000
        variants = [("no jump (reference)", []),
                    ("forward 3 h", [(0.3, 3 * H)]),
                    ("backward 2 h", [(0.5, -2 * H)]),
                    ("forward 5 h then back 5 h", [(0.25, 5 * H), (0.6, -5 * H)]),
                    ("backward 90 s (NTP step)", [(0.4, -90 * 1000000)])]
        conf = b.write_config(tmp, db, broker.port,
                              presence={"dwell_marks_s": "60", "absence_timeout_s": "30",
                                        "exit_below_s": "15"})
        for name, jumps in variants:
            jc = tmp("jump.btsnoop")
            nrec = rewrite_times(cap, jc, jumps)
            b.query(db, "DELETE FROM visits")
            n_before = len(sub.trigger_ids())
            gw = b.Gateway(tmp, conf, source="btsnoop:" + jc, args=["--once"], name="clock")
            t0 = time.time()
            gw.start()
            rc = gw.wait(300)
            dt = time.time() - t0
            out = gw.text()
            gw.close()
            b.check(rc == 0, "%s: --once exit status %s" % (name, rc))
            b.check("AddressSanitizer" not in out and "runtime error" not in out,
                    "%s: sanitizer report" % name)
            rows = b.query(db, "SELECT count(*), sum(exited_at IS NULL), min(dwell_s), "
                           "max(dwell_s), sum(exited_at < entered_at) FROM visits v JOIN "
                           "customers c ON c.id = v.customer_id WHERE c.customer_ref "
                           "LIKE 'C%'")[0]
            eid_dwell = b.query(db, "SELECT max(dwell_s) FROM visits v JOIN customers c ON "
                                "c.id = v.customer_id WHERE c.customer_ref = 'EID1'")[0][0]
            eid = b.query(db, "SELECT count(*) FROM visits v JOIN customers c ON "
                          "c.id = v.customer_id WHERE c.customer_ref = 'EID1'")[0][0]
            b.wait_for(lambda: len(sub.trigger_ids()) > n_before, 5)
            trig = [json.loads(p) for t, p in sub.messages("trigger")]
            new = trig[n_before:] if len(trig) >= n_before else []
            neg = [t for t in new if t.get("dwell_s", 0) < 0]
            b.say("  %-26s %d records, exit %s in %.1f s: %s visits, open %s, dwell %s..%s s, "
                  "exit before entry %s; EID tag: %d visit(s), longest %s s; triggers %d" %
                  (name, nrec, rc, dt, rows[0], rows[1], rows[2], rows[3], rows[4], eid,
                   eid_dwell, len(new)))
            b.check(eid_dwell is None or eid_dwell <= 700,
                    "%s: EID tag dwell %s s in a 700 s capture" % (name, eid_dwell))
            b.check(rows[0] and rows[0] > 0, "%s: no visits recorded" % name)
            b.check(not rows[1], "%s: %s visit(s) left open after --once" % (name, rows[1]))
            b.check(rows[2] is None or rows[2] >= 0, "%s: negative dwell %s" % (name, rows[2]))
            b.check(not rows[4], "%s: %s visit(s) exit before they entered" % (name, rows[4]))
            # A visit cannot be longer than the tag was there (90 s) plus the
            # absence timeout; a jump must not count as dwell.
            b.check(rows[3] is None or rows[3] <= 90 + 60,
                    "%s: dwell of %s s for a 90 s visit" % (name, rows[3]))
            b.check(not neg, "%s: trigger with negative dwell" % name)
    finally:
        sub.close()
        broker.stop()
        if b.failures:
            b.say("  files kept in", tmp.path)
        else:
            tmp.cleanup()


CASES = {
    "broker_outage": case_broker_outage,
    "kill9": case_kill9,
    "hostile_controller": case_hostile_controller,
    "silence_exit": case_silence_exit,
    "db_locked": case_db_locked,
    "db_readonly": case_db_readonly,
    "disk_full": case_disk_full,
    "sighup_invalid": case_sighup_invalid,
    "clock_jump": case_clock_jump,
}


def main():
    global LONG
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--seed", default=os.environ.get("BGW_SEED"))
    a = ap.parse_args()
    LONG = a.long or os.environ.get("BGW_FAULT_LONG") == "1"
    if a.case in ("db_readonly", "disk_full"):
        in_private_mounts()
    seed = a.seed or str(random.randrange(1 << 31))
    b.say("fault case %s (%s form, seed %s)" % (a.case, "long" if LONG else "short", seed))
    t0 = time.time()
    CASES[a.case](seed)
    b.say("case %s took %.1f s" % (a.case, time.time() - t0))
    b.finish()


if __name__ == "__main__":
    main()
