#!/usr/bin/env python3
"""scripts/render-dashboard, the picture of the Grafana dashboard in
docs/operations.md, runs: a short real store run (beaconsim, beacongw, a
real mosquitto stopped half way), Debian's prometheus on loopback scraping
the metrics file, every panel's queries evaluated by it. What a reader of
the docs relies on: every query of every panel returned data from that run,
the picture is a PNG under 300 kB, and the one the docs show is too."""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import SOURCE, TempDir, check, finish, need, need_binaries, tool  # noqa: E402

need_binaries()
need(tool("prometheus"), "prometheus is not installed (scripts/deps.sh, BGW_TEST_DEPS)")
try:
    import matplotlib  # noqa: F401
except ImportError:
    need(False, "python3-matplotlib is not installed (scripts/deps.sh, BGW_TEST_DEPS)")

LIMIT = 300 * 1024
tmp = TempDir("render", remove_at_exit=True)
png, summary = tmp("dashboard.png"), tmp("summary.json")
p = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "render-dashboard"),
                    "--duration", "70", "--out", png, "--summary", summary],
                   capture_output=True, text=True, timeout=400)
print(p.stdout[-2000:], p.stderr[-2000:])
need(p.returncode == 0, "render-dashboard: exit %d" % p.returncode)


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


check(is_png(png) and os.path.getsize(png) < LIMIT,
      "a PNG under 300 kB (%d bytes)" % os.path.getsize(png))
dash = json.load(open(os.path.join(SOURCE, "packaging", "monitoring",
                                   "beacongw-dashboard.json")))
got = json.load(open(summary))
for panel in dash["panels"]:
    refs = got.get(panel["title"])
    check(refs is not None, "panel %r drawn" % panel["title"])
    for tg in panel["targets"]:
        n = (refs or {}).get(tg["refId"], 0)
        check(n > 0, "panel %r, query %s (%s): %d series from the run" %
              (panel["title"], tg["refId"], tg["expr"], n))

# The picture the docs show.
shown = os.path.join(SOURCE, "docs", "img", "dashboard.png")
check(os.path.exists(shown) and is_png(shown) and os.path.getsize(shown) < LIMIT,
      "docs/img/dashboard.png: a PNG under 300 kB")
check("img/dashboard.png" in open(os.path.join(SOURCE, "docs", "operations.md")).read(),
      "docs/operations.md shows docs/img/dashboard.png")
finish()
