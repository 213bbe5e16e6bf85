#!/usr/bin/env python3
"""Checks the guest tests make on what beacongw and btmon wrote.

  vmcheck.py has DUMP ADDR TYPE [FIELD=VALUE]...
      DUMP (beacongw --dump output) has a report from ADDR, with "rssi" null,
      carrying a beacon of TYPE whose fields match (report.FIELD=VALUE: a
      field of the report itself, e.g. report.kind=ext).
  vmcheck.py rssi-null DUMP
      every report in DUMP has "rssi": null (btvirt reports no RSSI).
  vmcheck.py same LIVE REPLAY
      two dumps hold the same reports in the same order (addresses, kinds,
      data, RSSI and decoded beacons; timestamps are not compared).
  vmcheck.py scan CAPTURE INDEX legacy|extended
      in a btmon capture (btsnoop, BlueZ monitor datalink), controller
      INDEX was scanned with the given command set (every scan enable command
      of that kind), got advertising reports of the matching kind, and the
      host's last scan enable command disabled the scan.
  vmcheck.py reports CAPTURE INDEX ADDR
      prints how many advertising reports (legacy or extended) from ADDR
      controller INDEX received in a btmon capture; fails when none.
  vmcheck.py triggers MESSAGES TOPIC WANT_REF [NOT_REF]...
      MESSAGES (mosquitto_sub -v output) holds a trigger on TOPIC for
      customer WANT_REF and none for any NOT_REF.

Exit status 0 when the check holds, 1 (with the reason) when it does not.
"""
import json
import struct
import sys

OP_LE_SET_SCAN_PARAMS = 0x200B
OP_LE_SET_SCAN_ENABLE = 0x200C
OP_LE_SET_EXT_SCAN_PARAMS = 0x2041
OP_LE_SET_EXT_SCAN_ENABLE = 0x2042
SCAN_OPS = {
    "legacy": (OP_LE_SET_SCAN_PARAMS, OP_LE_SET_SCAN_ENABLE),
    "extended": (OP_LE_SET_EXT_SCAN_PARAMS, OP_LE_SET_EXT_SCAN_ENABLE),
}
# LE Meta subevents carrying advertising reports.
REPORT_SUBEVENT = {"legacy": 0x02, "extended": 0x0D}
# BlueZ monitor opcodes in the record flags.
MON_COMMAND_PKT = 2
MON_EVENT_PKT = 3
DATALINK_MONITOR = 2001


def fail(msg):
    print("vmcheck: " + msg)
    sys.exit(1)


def load_dump(path):
    reports = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                reports.append(json.loads(line))
            except ValueError as e:
                fail("%s:%d: not JSON (%s): %s" % (path, n, e, line.strip()))
    return reports


def cmd_has(dump, addr, btype, *fields):
    want, want_report = {}, {}
    for f in fields:
        key, _, value = f.partition("=")
        if key.startswith("report."):
            want_report[key[len("report."):]] = value
        else:
            want[key] = value
    reports = load_dump(dump)
    for r in reports:
        if r.get("addr", "").upper() != addr.upper() or r.get("rssi", 0) is not None:
            continue
        if not all(str(r.get(k)) == v for k, v in want_report.items()):
            continue
        for b in r.get("beacons", []):
            if b.get("type") == btype and all(str(b.get(k)) == v for k, v in want.items()):
                return
    fail("%s: no report from %s with rssi null and a %s beacon %s (%d reports)" %
         (dump, addr, btype, " ".join(fields), len(reports)))


def cmd_rssi_null(dump):
    reports = load_dump(dump)
    bad = [r for r in reports if r.get("rssi", 0) is not None]
    if bad:
        fail("%s: %d report(s) with an RSSI, first: %s" % (dump, len(bad), json.dumps(bad[0])))


def comparable(r):
    return {k: r.get(k) for k in ("addr", "addr_type", "kind", "data", "rssi", "beacons")}


def cmd_same(live, replay):
    a = [comparable(r) for r in load_dump(live)]
    b = [comparable(r) for r in load_dump(replay)]
    if not a:
        fail("%s: no reports to compare" % live)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            fail("report %d differs:\n  live:   %s\n  replay: %s" %
                 (i + 1, json.dumps(x), json.dumps(y)))
    if len(a) != len(b):
        fail("live dump has %d reports, the replay %d" % (len(a), len(b)))
    print("vmcheck: %d reports, live and replay decode the same" % len(a))


def monitor_records(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:8] != b"btsnoop\0":
        fail("%s: not a btsnoop file" % path)
    version, datalink = struct.unpack(">II", data[8:16])
    if version != 1 or datalink != DATALINK_MONITOR:
        fail("%s: btsnoop version %d datalink %d, want 1 and %d" %
             (path, version, datalink, DATALINK_MONITOR))
    off = 16
    while off + 24 <= len(data):
        _, incl, flags, _, _ = struct.unpack(">IIIIq", data[off:off + 24])
        body = data[off + 24:off + 24 + incl]
        off += 24 + incl
        if len(body) < incl:
            break  # a capture cut short: what is there still counts
        yield flags >> 16, flags & 0xFFFF, body


def cmd_scan(capture, index, kind):
    if kind not in SCAN_OPS:
        fail("scan kind must be legacy or extended, not " + kind)
    index = int(index)
    enable_ops = {SCAN_OPS[k][1]: k for k in SCAN_OPS}
    enables = []        # (kind, enable) of each scan enable command, in order
    params_sent = 0
    reports = {0x02: 0, 0x0D: 0}
    for idx, op, body in monitor_records(capture):
        if idx != index:
            continue
        if op == MON_COMMAND_PKT and len(body) >= 3:
            opcode = body[0] | body[1] << 8
            params = body[3:3 + body[2]]
            # Scan parameters of the other kind are the test's own probes.
            if opcode == SCAN_OPS[kind][0]:
                params_sent += 1
            if opcode in enable_ops and params:
                enables.append((enable_ops[opcode], params[0]))
        elif op == MON_EVENT_PKT and len(body) >= 3 and body[0] == 0x3E:
            if body[2] in reports:
                reports[body[2]] += 1
    print("vmcheck: hci%d: scan enable commands %s; legacy reports %d, extended reports %d" %
          (index, " ".join("%s:%d" % e for e in enables) or "none", reports[0x02],
           reports[0x0D]))
    other = [k for k, _ in enables if k != kind]
    if other:
        fail("hci%d: %d scan enable command(s) not of the %s kind" % (index, len(other), kind))
    if not params_sent:
        fail("hci%d: no %s scan parameters command" % (index, kind))
    if not any(e for _, e in enables):
        fail("hci%d: the scan was never enabled" % index)
    if enables[-1][1] != 0:
        fail("hci%d: the last scan enable command left the scan enabled" % index)
    if not reports[REPORT_SUBEVENT[kind]]:
        fail("hci%d: no %s advertising report" % (index, kind))


def report_addrs(body):
    """Addresses of the reports in an LE Meta event (legacy or extended)."""
    sub, num, off = body[2], body[3] if len(body) > 3 else 0, 4
    for _ in range(num):
        if sub == 0x02 and off + 9 <= len(body):
            yield body[off + 2:off + 8]
            off += 9 + body[off + 8] + 1
        elif sub == 0x0D and off + 24 <= len(body):
            yield body[off + 3:off + 9]
            off += 24 + body[off + 23]
        else:
            return


def cmd_reports(capture, index, addr):
    index = int(index)
    want = bytes(int(x, 16) for x in reversed(addr.split(":")))
    n = 0
    for idx, op, body in monitor_records(capture):
        if idx == index and op == MON_EVENT_PKT and len(body) >= 4 and body[0] == 0x3E \
                and body[2] in (0x02, 0x0D):
            n += sum(1 for a in report_addrs(body) if a == want)
    print("vmcheck: hci%d received %d advertising report(s) from %s" % (index, n, addr))
    if not n:
        sys.exit(1)


def cmd_triggers(messages, topic, want, *nots):
    found = []
    with open(messages, encoding="utf-8") as f:
        for line in f:
            t, _, payload = line.rstrip("\n").partition(" ")
            if t != topic:
                continue
            try:
                found.append(json.loads(payload))
            except ValueError:
                fail("%s: trigger is not JSON: %s" % (messages, payload))
    refs = [m.get("customer_ref") for m in found]
    print("vmcheck: %d trigger(s) for %s" % (len(found), ", ".join(map(str, refs)) or "nobody"))
    for ref in nots:
        if ref in refs:
            fail("a trigger for %s, who has not consented" % ref)
    if want not in refs:
        fail("no trigger for %s" % want)


COMMANDS = {
    "has": (cmd_has, 3),
    "rssi-null": (cmd_rssi_null, 1),
    "same": (cmd_same, 2),
    "scan": (cmd_scan, 3),
    "reports": (cmd_reports, 3),
    "triggers": (cmd_triggers, 3),
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__.strip())
        sys.exit(64)
    func, nargs = COMMANDS[sys.argv[1]]
    args = sys.argv[2:]
    if len(args) < nargs:
        print(__doc__.strip())
        sys.exit(64)
    func(*args)


if __name__ == "__main__":
    main()
