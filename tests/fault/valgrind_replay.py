#!/usr/bin/env python3
"""The daemon's long replay under valgrind memcheck: a capture of about
100,000 advertising reports (enrolled tags visiting, a crowd of phones with
address churn, an Eddystone-EID tag, fixed beacons with TLM) replayed with
--once while triggers go to a real mosquitto. Any memcheck error or leak
fails the test."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest as b  # noqa: E402


def main():
    b.need_binaries()
    vg = b.tool("valgrind")
    if not vg:
        b.skip("valgrind is not installed")
    with open(b.BEACONGW, "rb") as f:
        if b"__asan_init" in f.read():
            b.skip("beacongw is built with AddressSanitizer (valgrind cannot run it)")
    tmp = b.TempDir("fault-valgrind")
    broker = b.Broker(tmp).start()
    sub = b.Subscriber(broker.port, [b.PREFIX + "/#"])
    try:
        db = b.make_demo_db(tmp("gw.db"), customers=200, events=("enter", "exit", "dwell"))
        b.ctl(db, "customer", "add", "EID1")
        b.ctl(db, "identifier", "add", "EID1", "eddystone-eid",
              "000102030405060708090a0b0c0d0e0f:4")
        b.ctl(db, "consent", "grant", "EID1", "presence")
        b.ctl(db, "consent", "grant", "EID1", "retargeting", "--channel", "push")
        text = b.load_scenario(200, gap_s=1.5, visit_s=40, crowd=120, duration_s=330)
        text += ("\ntag eid-tag\n    eddystone-eid 000102030405060708090a0b0c0d0e0f:4\n"
                 "    interval 200ms\n    distance 1\n"
                 "\ntag fixed\n    eddystone-uid 8b0ca750e7a74e14bd99:0000000000e1\n"
                 "    tlm 2950 19.5\n    tlm-every 5\n    interval 1s\n    distance 4\n")
        cap = b.offline_capture(tmp, text, tmp("long.btsnoop"),
                                start_time=int(time.time()) + 60)
        n = subprocess.run([b.BEACONGW, "--source", "btsnoop:" + cap, "--dump"],
                           capture_output=True, text=True).stdout.count("\n")
        b.say("capture: %d advertising reports" % n)
        b.check(n >= 90000, "capture too small: %d reports" % n)
        conf = b.write_config(tmp, db, broker.port, beacons={
            "store_namespaces": "8b0ca750e7a74e14bd99"})
        log = tmp("valgrind.log")
        t0 = time.time()
        p = subprocess.run([vg, "--error-exitcode=1", "--leak-check=full",
                            "--errors-for-leak-kinds=definite,indirect,possible",
                            "--show-leak-kinds=definite,indirect,possible",
                            "--track-fds=no", "--log-file=" + log, b.BEACONGW, "-c", conf,
                            "--source", "btsnoop:" + cap, "--once"],
                           capture_output=True, text=True, timeout=1700)
        dt = time.time() - t0
        report = open(log).read()
        summary = [ln for ln in report.splitlines() if "ERROR SUMMARY" in ln or
                   "definitely lost" in ln or "indirectly lost" in ln or "possibly lost" in ln]
        for ln in summary:
            b.say(ln)
        b.check(p.returncode == 0, "beacongw under valgrind: exit %d (see %s)\n%s" %
                (p.returncode, log, p.stderr[-2000:]))
        b.check("ERROR SUMMARY: 0 errors" in report, "memcheck reported errors:\n" +
                report[-4000:])
        b.wait_for(lambda: len(sub.trigger_ids()) > 0, 10)
        b.say("replay of %d reports under memcheck: %.0f s, %d trigger(s) delivered" %
              (n, dt, len(sub.trigger_ids())))
        b.check(sub.trigger_ids(), "no trigger delivered")
    finally:
        sub.close()
        broker.stop()
        if not b.failures:
            tmp.cleanup()
        else:
            b.say("files kept in", tmp.path)
    b.finish()


if __name__ == "__main__":
    main()
