#!/usr/bin/env python3
"""Memory stays flat under random-address churn: two --once replays of the
same length and report count (churn-10k.scn and churn-100k.scn, 1200
phones of other shoppers for five minutes of capture time), one whose
phones change address every 20 s (~10,000 distinct addresses), one every
2 s (>= 100,000). The daemon's peak RSS over the 100k run (ru_maxrss,
measured by tests/e2e_peak_rss) is at most 4 MiB above that of the 10k
run, and the consented customer among the crowd is still tracked and
triggered in both."""
import os
import subprocess
import time

import e2e
from e2e import check, finish

MARGIN_KIB = 4 * 1024
PEAK_RSS = os.path.join(e2e.BUILD, "tests", "e2e_peak_rss")
if not os.access(PEAK_RSS, os.X_OK):
    e2e.skip("tests/e2e_peak_rss is not built")

s = e2e.Store("memory")
try:
    start = int(time.time()) + 2
    e2e.add_consented(s.db, "cust-regular", "ibeacon",
                      "e2e0c0de-0000-4000-8000-00000000c0de:7:7")
    s.ctl("campaign", "add", "hello", "--zone", "entrance", "--event", "enter")
    conf = s.config(presence={"absence_timeout_s": "10", "exit_below_s": "5",
                              "enter_window_s": "10"},
                    footfall={"period_s": "60", "min_count": "5"})
    while time.time() < start:
        time.sleep(0.1)

    peak = {}
    for name in ("churn-10k", "churn-100k"):
        cap = s.capture(name + ".scn", start, name + ".btsnoop")
        reports, addrs = 0, set()
        for _, _, addr, _ in e2e.capture_reports(cap):
            reports += 1
            addrs.add(addr)
        e2e.say("%s: %d reports from %d distinct addresses" % (name, reports, len(addrs)))
        if name == "churn-100k":
            check(len(addrs) >= 100000, "%s: >= 100,000 distinct addresses (%d)"
                  % (name, len(addrs)))
        else:
            check(len(addrs) <= 20000, "%s: about 10,000 distinct addresses (%d)"
                  % (name, len(addrs)))
        before = len(e2e.triggers(s.sub))
        # Measured by a small launcher: see tests/e2e/peak_rss.c for why.
        rss = s.tmp(name + ".rss")
        with open(s.tmp(name + ".log"), "w") as log:
            p = subprocess.run([PEAK_RSS, rss, e2e.BEACONGW, "-c", conf, "--source",
                                "btsnoop:" + cap, "--once"], stdout=subprocess.DEVNULL,
                               stderr=log, env=e2e.clean_env(), timeout=120)
        check(p.returncode == 0, "%s: beacongw --once exit %d: %s"
              % (name, p.returncode, open(s.tmp(name + ".log")).read()[-1000:]))
        if os.path.exists(rss):
            peak[name] = int(open(rss).read())      # KiB
        check(e2e.wait_for(lambda: len(e2e.triggers(s.sub)) > before, 10),
              "%s: the consented customer was triggered amid the crowd" % name)
        os.unlink(cap)
    e2e.validate_published(s.sub)
    e2e.say("peak RSS: 10k addresses %d KiB, 100k addresses %d KiB"
            % (peak.get("churn-10k", 0), peak.get("churn-100k", 0)))
    if len(peak) == 2:
        check(peak["churn-100k"] <= peak["churn-10k"] + MARGIN_KIB,
              "peak RSS grew with the number of addresses: %d KiB (10k) -> %d KiB (100k)"
              % (peak["churn-10k"], peak["churn-100k"]))
finally:
    s.close()
finish()
