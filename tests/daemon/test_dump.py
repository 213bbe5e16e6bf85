#!/usr/bin/env python3
"""beacongw --source btsnoop:FILE --dump: one JSON object per advertising
report, on captures written here from scratch (datalinks 1002 and 2001) and
on the hci part's captures in tests/data; damaged files and garbage don't
crash it."""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import BUILD, SOURCE, TempDir, check, finish, run_beacongw  # noqa: E402
from hcitest import (EDDYSTONE_UID, IBEACON, btsnoop_h4, btsnoop_monitor,  # noqa: E402
                     cmd_complete, hw_error, le_adv_report, le_ext_adv_report)

d = TempDir("daemon").path


def dump(path, *extra):
    p = run_beacongw(["--source", "btsnoop:" + path, "--dump"] + list(extra))
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    return p, lines


packets = [
    (0x01, bytes.fromhex("030c00")),                       # our Reset: ignored
    (0x04, cmd_complete(0x0C03)),
    (0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:0F", -71, IBEACON)])),
    (0x04, le_adv_report([("adv_ind", 0, "00:26:AB:12:34:56", -55, EDDYSTONE_UID),
                          ("scan_rsp", 0, "00:26:AB:12:34:56", 127, b"")])),
    (0x04, hw_error(0x42)),                                # replays ignore it
    (0x04, le_ext_adv_report("D0:11:22:33:44:55", 1, -60, IBEACON, tx_power=4, sid=3)),
]

for name, writer in (("h4", btsnoop_h4), ("monitor", btsnoop_monitor)):
    path = os.path.join(d, name + ".btsnoop")
    writer(path, packets)
    p, lines = dump(path)
    check(p.returncode == 0, "%s: exit 0 (got %d: %s)" % (name, p.returncode, p.stderr))
    check(len(lines) == 4, "%s: four reports (got %d)" % (name, len(lines)))
    if len(lines) == 4:
        a, b, c, e = lines
        check(a["addr"] == "C4:7B:1A:22:E0:0F" and a["addr_type"] == "random", name + ": addr")
        check(a["rssi"] == -71 and a["kind"] == "adv_nonconn_ind", name + ": rssi/kind")
        check(a["data"] == IBEACON.hex(), name + ": data hex")
        check(a["beacons"] and a["beacons"][0]["type"] == "ibeacon" and
              a["beacons"][0]["uuid"] == "b9407f30-f5f8-466e-aff9-25556b57fe6d" and
              a["beacons"][0]["major"] == 12345 and a["beacons"][0]["minor"] == 54321,
              name + ": ibeacon fields")
        check(b["kind"] == "adv_ind" and b["beacons"][0]["type"] == "eddystone-uid",
              name + ": eddystone-uid")
        check(c["kind"] == "scan_rsp" and c["rssi"] is None, name + ": rssi null")
        check(e["kind"] == "ext" and e["addr"] == "D0:11:22:33:44:55", name + ": ext report")
        check(a["ts"].startswith("2026-03-01T10:00:00.2"), name + ": capture time kept")

# A monitor capture of two controllers (a Pi's own and a dongle): the replay
# follows the first one that delivered an advertising report (not index 0,
# whose command answer comes first) and says what it left out.
path = os.path.join(d, "two-controllers.btsnoop")
btsnoop_monitor(path, [
    (0x04, cmd_complete(0x200C), 0),
    (0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:01", -60, IBEACON)]), 1),
    (0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:02", -61, IBEACON)]), 0),
    (0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:03", -62, IBEACON)]), 1),
    (0x04, le_adv_report([("adv_nonconn_ind", 1, "C4:7B:1A:22:E0:04", -63, IBEACON)]), 0),
])
p, lines = dump(path)
check(p.returncode == 0, "two controllers: exit 0 (got %d: %s)" % (p.returncode, p.stderr))
check([x["addr"] for x in lines] == ["C4:7B:1A:22:E0:01", "C4:7B:1A:22:E0:03"],
      "two controllers: only index 1's reports (got %s)" % [x["addr"] for x in lines])
check("followed controller index 1; 2 packet(s) of other controllers" in p.stderr,
      "two controllers: the replay says what it left out (%s)" % p.stderr.strip()[-300:])

# Replays at recorded speed give the same lines.
path = os.path.join(d, "h4.btsnoop")
p1, l1 = dump(path)
p2, l2 = dump(path, "--realtime")
check(p2.returncode == 0 and l1 == l2, "--realtime: same output")

# The hci part's captures, when its capture tool was built.
tool = os.path.join(BUILD, "bgw-capture")
if os.path.exists(tool):
    for name in ("legacy", "extended", "malformed"):
        txt = os.path.join(SOURCE, "tests", "data", name + ".txt")
        if not os.path.exists(txt):
            continue
        out = os.path.join(d, name + "-data.btsnoop")
        subprocess.run([tool, txt, out], check=True)
        p, lines = dump(out)
        check(p.returncode == 0, "tests/data/%s: exit 0 (%s)" % (name, p.stderr))
        check(len(lines) > 0, "tests/data/%s: reports printed" % name)
        for line in lines:
            check(set(["addr", "addr_type", "rssi", "kind", "data", "beacons"]) <= set(line),
                  "tests/data/%s: fields" % name)

# A damaged capture: exit 65 with a one-line reason, reports before it printed.
good = open(os.path.join(d, "h4.btsnoop"), "rb").read()
cut = os.path.join(d, "cut.btsnoop")
open(cut, "wb").write(good[:-5])
p, lines = dump(cut)
check(p.returncode == 65, "cut capture: exit 65 (got %d)" % p.returncode)
check(len(lines) == 3, "cut capture: earlier reports printed (got %d)" % len(lines))

notsnoop = os.path.join(d, "garbage.btsnoop")
open(notsnoop, "wb").write(os.urandom(3000))
p, lines = dump(notsnoop)
check(p.returncode == 65 and not lines, "random bytes: exit 65, nothing printed")
check("beacongw" in p.stderr and p.stderr.count("\n") <= 3, "random bytes: short message")

p, lines = dump(os.path.join(d, "missing.btsnoop"))
check(p.returncode == 65, "missing capture: exit 65 (got %d)" % p.returncode)

# Garbage events inside a valid file: counted, never a crash.
junk = [(0x04, bytes([0x3E, 40]) + os.urandom(40)) for _ in range(200)]
junk += [(0x04, le_adv_report([("adv_ind", 0, "00:00:00:00:00:01", -40, b"\x02\x01\x06")]))]
jp = os.path.join(d, "junk.btsnoop")
btsnoop_h4(jp, junk)
p, lines = dump(jp)
check(p.returncode == 0, "junk events: exit 0 (got %d, %s)" % (p.returncode, p.stderr[-300:]))
check(any(x["addr"] == "00:00:00:00:00:01" for x in lines), "junk events: last report found")

finish()
