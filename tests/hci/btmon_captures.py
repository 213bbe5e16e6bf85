#!/usr/bin/env python3
"""Integration test of the HCI layer over the captures in tests/data.

For each text description tests/data/NAME.txt:
 1. bgw-capture regenerates the capture; it must equal the committed
    tests/data/NAME.btsnoop byte for byte (the captures are reproducible);
 2. Debian's `btmon -r` reads it, exits 0, and shows the LE (Extended)
    Advertising Reports with the addresses, RSSI and data bytes the
    description asked for (raw bytes are compared, never btmon's iBeacon
    text: btmon 5.66 prints the iBeacon UUID and major/minor byte-swapped);
 3. the HCI parser (tests/hci-dump) replays it as --dump JSON lines whose
    reports and data match the description, reassembled, and which equal
    the reviewed tests/data/NAME.jsonl.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ["BGW_BUILD_DIR"]
SOURCE = os.environ["BGW_SOURCE_DIR"]
DATA = os.path.join(SOURCE, "tests", "data")
FRAG_MAX = 229


def parse_description(path):
    """Events from the adv/ext lines: (kind, [report dicts]) in file order."""
    events = []
    for raw in open(path, encoding="utf-8"):
        tok = raw.split("#", 1)[0].split()
        if not tok:
            continue
        if tok[0] == "adv":
            reports, words = [], tok[1:]
            while words:
                kind, _atype, addr, rssi, data = words[:5]
                reports.append({"kind": kind, "addr": addr,
                                "rssi": None if rssi == "na" else int(rssi),
                                "data": b"" if data == "-" else bytes.fromhex(data)})
                words = words[6:]
            events.append(("legacy", reports))
        elif tok[0] == "ext":
            data = b"" if tok[9] == "-" else bytes.fromhex(tok[9])
            frag, status, truncated = FRAG_MAX, None, False
            for opt in tok[10:]:
                if opt.startswith("fill="):
                    data += bytes(i & 0xFF for i in range(int(opt[5:])))
                elif opt.startswith("frag="):
                    frag = int(opt[5:])
                elif opt == "truncated":
                    truncated = True
                elif opt.startswith("status="):
                    status = opt[7:]
            rep = {"addr": tok[3], "rssi": None if tok[4] == "na" else int(tok[4]),
                   "sid": int(tok[7]), "type": tok[1]}
            if status:
                events.append(("ext", [dict(rep, data=data, status=status)]))
                continue
            chunks = [data[i:i + frag] for i in range(0, len(data), frag)] or [b""]
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                st = ("truncated" if truncated else "complete") if last else "more"
                events.append(("ext", [dict(rep, data=chunk, status=st)]))
    return events


def expected_dump(events):
    """What the parser should deliver: legacy reports as they are, extended
    fragments reassembled per (address, SID)."""
    out, pending = [], {}
    for kind, reports in events:
        for r in reports:
            if kind == "legacy":
                out.append((r["addr"], r["rssi"], r["data"], None))
                continue
            key = (r["addr"], r["sid"])
            pending[key] = pending.get(key, b"") + r["data"]
            if r["status"] != "more":
                out.append((r["addr"], r["rssi"], pending.pop(key), r["status"]))
    return out


def btmon_reports(text):
    """(event name, [reports]) for each LE advertising event btmon printed."""
    events, cur, rep, in_dump = [], None, None, False
    for line in text.splitlines():
        if line.startswith(("> ", "< ", "= ", "@ ")):
            cur = None
            continue
        s = line.strip()
        if s in ("LE Advertising Report (0x02)", "LE Extended Advertising Report (0x0d)"):
            cur = (s, [])
            events.append(cur)
            continue
        if cur is None:
            continue
        # The raw bytes are the hex dump right after "Data length:"; btmon
        # may dump other bytes later (e.g. AD structures it cannot parse).
        if in_dump and re.match(r"^ {8}[0-9a-f]{2}( |$)", line):
            rep["hex"] += "".join(line[8:8 + 48].split())
            continue
        in_dump = False
        # (btmon writes an address of unknown type with dashes)
        m = re.match(r"Address: ([0-9A-F:-]{17})", s)
        if m and not s.startswith("Direct"):
            rep = {"addr": m.group(1).replace("-", ":"), "hex": "", "sd": [], "rssi": "?"}
            cur[1].append(rep)
        elif rep is None:
            continue
        elif s.startswith("RSSI:"):
            m = re.match(r"RSSI: (-?\d+) dBm", s)
            rep["rssi"] = int(m.group(1)) if m else None
        elif s.startswith("Data length:"):
            rep["len"] = int(s.split(":")[1].strip(), 0)
            in_dump = True
        elif s.startswith("Data: "):
            rep["sd"].append(s[6:])
    return events


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(name, tmp):
    desc = os.path.join(DATA, name + ".txt")
    out = os.path.join(tmp, name + ".btsnoop")
    subprocess.run([os.path.join(BUILD, "bgw-capture"), desc, out], check=True)
    with open(out, "rb") as f1, open(os.path.join(DATA, name + ".btsnoop"), "rb") as f2:
        if f1.read() != f2.read():
            fail(f"{name}.btsnoop differs from what bgw-capture writes from {name}.txt")

    events = parse_description(desc)
    mon = subprocess.run(["btmon", "-r", out], capture_output=True, text=True, timeout=60)
    if mon.returncode != 0:
        fail(f"btmon -r {name}: exit {mon.returncode}: {mon.stderr}")
    seen = btmon_reports(mon.stdout)
    if name != "malformed":
        if len(seen) != len(events):
            fail(f"{name}: btmon shows {len(seen)} advertising events, want {len(events)}")
        for (kind, reports), (ev_name, got) in zip(events, seen):
            if (kind == "ext") != ("Extended" in ev_name) or len(got) != len(reports):
                fail(f"{name}: {ev_name} with {len(got)} reports, want {kind} x{len(reports)}")
            for want, g in zip(reports, got):
                if g["addr"] != want["addr"] or g["rssi"] != want["rssi"]:
                    fail(f"{name}: btmon report {g} != {want}")
                if g.get("len") != len(want["data"]):
                    fail(f"{name}: {want['addr']} data length {g.get('len')}")
                if kind == "ext" and g["hex"] != want["data"].hex():
                    fail(f"{name}: {want['addr']} bytes {g['hex']} != {want['data'].hex()}")
                for sd in g["sd"]:
                    if sd not in want["data"].hex():
                        fail(f"{name}: btmon Data: {sd} not in {want['data'].hex()}")
    else:
        for kind, reports in events:
            for r in reports:
                if r["addr"] not in mon.stdout:
                    fail(f"{name}: btmon does not show {r['addr']}")

    dump = subprocess.run([os.path.join(BUILD, "tests", "hci-dump"), out],
                          capture_output=True, text=True, timeout=60)
    if dump.returncode != 0:
        fail(f"hci-dump {name}: exit {dump.returncode}: {dump.stderr}")
    lines = [json.loads(x) for x in dump.stdout.splitlines()]
    # NAME.jsonl is the reviewed --dump output of the capture (beacongw's
    # --dump must print exactly these lines too).
    with open(os.path.join(DATA, name + ".jsonl"), encoding="utf-8") as f:
        if dump.stdout != f.read():
            fail(f"{name}: parser output differs from {name}.jsonl:\n{dump.stdout}")
    want = expected_dump(events)
    if name == "malformed":
        # The good reports around the broken events, and the whole reports
        # inside them (see malformed.txt), all come out; 7 events flagged.
        addrs = [x["addr"] for x in lines]
        for addr, *_ in want:
            if addr not in addrs:
                fail(f"malformed: {addr} missing from {addrs}")
        if len(lines) != 5 or "malformed 7 " not in dump.stderr:
            fail(f"malformed: {len(lines)} reports, stats {dump.stderr}")
        return
    if len(lines) != len(want):
        fail(f"{name}: hci-dump printed {len(lines)} reports, want {len(want)}")
    for got, (addr, rssi, data, status) in zip(lines, want):
        if got["addr"] != addr or got["rssi"] != rssi or got["data"] != data.hex():
            fail(f"{name}: dump {got} != {addr} {rssi} {data.hex()}")
        if status and got.get("data_status", "complete") != status:
            fail(f"{name}: {addr} data_status {got.get('data_status')} != {status}")
    print(f"{name}: {len(events)} events, {len(lines)} reports: btmon and parser agree")


def main():
    if not shutil.which("btmon"):
        print("SKIP: btmon (Debian package bluez) is not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="bgw-hci-")
    try:
        for name in ("legacy", "extended", "malformed"):
            check(name, tmp)
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
