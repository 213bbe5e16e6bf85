#!/usr/bin/env python3
"""beaconsim live mode, driven over its sockets the way a gateway would:
commands answered, reports only while scanning, legacy or extended per the
enable used, faults (garbage, hardware error, disconnect) in order, TCP on
loopback, one gateway at a time, and clear errors for bad invocations."""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simtest import *  # noqa: E402,F401,F403

UUID = "5a1b0c2d3e4f40718293a4b5c6d7e8f9"
SCENARIO = """
# live test: a canary iBeacon, an extended-only tag, and scheduled faults
seed 3
duration 10s
noise 0
tag canary
    ibeacon 5a1b0c2d-3e4f-4071-8293-a4b5c6d7e8f9:4242:7
    interval 100ms
    txpower -59
    distance 2
tag long
    eddystone-uid 00112233445566778899:aabbccddeeff
    extended 600
    interval 200ms
    distance 2
fault garbage at 3s bytes 32
fault hardware-error at 4s code 0x42
fault disconnect at 6s
"""


def start(tmp, listen, extra=()):
    scn = os.path.join(tmp, "live.scn")
    with open(scn, "w") as f:
        f.write(SCENARIO)
    log = open(os.path.join(tmp, "beaconsim.log"), "w+")
    proc = subprocess.Popen([BEACONSIM, "--listen", listen, "--scenario", scn] + list(extra),
                            stderr=log)
    return proc, log


def wait_listening(proc, log):
    for _ in range(500):
        log.seek(0)
        m = re.search(r"listening on (\S+)", log.read())
        if m:
            return m.group(1)
        check(proc.poll() is None, "beaconsim exited early")
        time.sleep(0.01)
    fail("beaconsim did not start listening")


def connect_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s


def ask(sock, rd, cmd, reports=None):
    """Send one command; return its answer. Reports seen meanwhile are
    appended to `reports` (they may interleave with answers)."""
    sock.sendall(cmd)
    op = struct.unpack_from("<H", cmd, 1)[0]
    while True:
        ev = rd.next_event()
        check(ev is not None, "stream ended waiting for the answer to 0x%04x" % op)
        code, params = ev
        ans = parse_cmd_answer(code, params)
        if ans and ans[1] == op:
            return ans
        if reports is not None:
            reports.append(ev)


def setup(sock, rd, cmds):
    for c in cmds:
        kind, op, status, _ = ask(sock, rd, c)
        check(status == 0, "command 0x%04x failed with status 0x%02x" % (op, status))


def test_unix(tmp):
    path = os.path.join(tmp, "ctrl.sock")
    snoop = os.path.join(tmp, "live.btsnoop")
    proc, log = start(tmp, "unix:" + path, ["--speed", "2", "--once", "--btsnoop", snoop])
    try:
        wait_listening(proc, log)
        sock = connect_unix(path)
        rd = H4Reader(sock)

        # Identity of the controller.
        kind, op, status, ret = ask(sock, rd, command(OP_READ_LOCAL_VERSION))
        check(kind == "complete" and status == 0 and ret[1] >= 0x09,
              "Read Local Version: %r" % ((kind, status, ret),))
        kind, op, status, ret = ask(sock, rd, command(OP_LE_READ_FEATURES))
        check(status == 0 and ret[2] & 0x10, "LE Extended Advertising feature bit not set")
        kind, op, status, ret = ask(sock, rd, command(OP_READ_BD_ADDR))
        check(status == 0 and len(ret) == 7, "Read BD_ADDR: %r" % ret)
        # Unknown opcode -> error status.
        kind, op, status, _ = ask(sock, rd, command(0xFC01, b"\x00"))
        check(status == 0x01 and op == 0xFC01, "unknown opcode answered %r" % ((kind, status),))

        # Legacy scan.
        setup(sock, rd, SCAN_SETUP_LEGACY)
        canary = 0
        ext_seen = 0
        while True:
            code, params = rd.next_event()
            if code == EV_HW_ERROR:
                check(params[0] == 0x42, "hardware error code 0x%02x" % params[0])
                break
            check(code == EV_LE_META, "unexpected event 0x%02x while scanning" % code)
            if params[0] == 0x0D:
                ext_seen += 1
                continue
            check(params[0] == 0x02, "unexpected LE subevent 0x%02x" % params[0])
            for r in legacy_reports(params):
                ib = ibeacon_of(r["data"])
                if ib:
                    check(ib == (UUID, 4242, 7, -59), "iBeacon fields %r" % (ib,))
                    check(r["rssi"] < -40 and r["rssi"] > -80, "rssi %d" % r["rssi"])
                    canary += 1
        check(canary > 5, "only %d canary reports before the hardware error" % canary)
        check(ext_seen == 0, "legacy scan reported extended advertising")
        # Garbage (fault at 3 s) came before the hardware error (4 s).
        check(rd.garbage == 32, "saw %d garbage bytes, expected 32" % rd.garbage)

        # After a hardware error the controller has stopped scanning: no
        # report until the host resets it and enables scanning again.
        early = []
        for c in SCAN_SETUP_LEGACY:
            kind, op, status, _ = ask(sock, rd, c, early)
            check(status == 0, "re-setup 0x%04x status 0x%02x" % (op, status))
        check(not early, "%d reports after the hardware error before re-enable" % len(early))
        got = 0
        while rd.next_event() is not None:
            got += 1
        # The disconnect fault (6 s) closed the stream.
        check(got > 5, "only %d reports after recovery" % got)
        sock.close()

        # Reconnect: a fresh controller; extended scanning this time.
        sock = connect_unix(path)
        rd = H4Reader(sock)
        setup(sock, rd, SCAN_SETUP_EXTENDED)
        frags = b""
        long_reports = 0
        legacy_in_ext = 0
        while True:
            ev = rd.next_event()
            if ev is None:
                break  # --once: the scenario ended
            code, params = ev
            check(code == EV_LE_META and params[0] == 0x0D,
                  "extended scan produced event 0x%02x/0x%02x" % (code, params[0]))
            r = ext_report(params)
            if r["legacy"]:
                check(r["event_type"] == 0x10, "legacy PDU event type 0x%x" % r["event_type"])
                check(ibeacon_of(r["data"]) is not None, "legacy PDU is not the canary")
                legacy_in_ext += 1
                continue
            frags += r["data"]
            if r["status"] == 0:
                check(len(frags) == 600, "reassembled %d bytes, expected 600" % len(frags))
                ed = eddystone_of(frags)
                check(ed is not None and ed[0] == 0x00, "extended data is not Eddystone-UID")
                long_reports += 1
                frags = b""
            else:
                check(r["status"] == 1, "data status %d" % r["status"])
        check(long_reports > 3, "only %d complete extended reports" % long_reports)
        check(legacy_in_ext > 3, "only %d legacy reports in the extended scan" % legacy_in_ext)
        sock.close()
        rc = proc.wait(timeout=30)
        check(rc == 0, "beaconsim --once exited %d" % rc)
        check(not os.path.exists(path), "socket file left behind")

        # The live capture is a valid btsnoop with commands and events.
        recs = read_btsnoop(snoop)
        check(any(not rx and t == H4_CMD for _, rx, t, _ in recs), "no command in the capture")
        check(any(rx and t == H4_EVENT for _, rx, t, _ in recs), "no event in the capture")
        if shutil.which("btmon"):
            r = subprocess.run(["btmon", "-r", snoop], capture_output=True, timeout=60)
            check(r.returncode == 0, "btmon -r failed on the live capture")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_tcp_and_one_client(tmp):
    proc, log = start(tmp, "tcp:127.0.0.1:0")
    try:
        where = wait_listening(proc, log)
        m = re.match(r"tcp:127\.0\.0\.1:(\d+)$", where)
        check(m is not None, "listening on %r" % where)
        port = int(m.group(1))
        a = socket.create_connection(("127.0.0.1", port), timeout=20)
        rd = H4Reader(a)
        kind, op, status, _ = ask(a, rd, command(OP_RESET))
        check(kind == "complete" and op == OP_RESET and status == 0, "reset over TCP")
        # A second gateway is refused while the first is connected.
        b = socket.create_connection(("127.0.0.1", port), timeout=20)
        b.settimeout(20)
        check(b.recv(16) == b"", "second connection was not closed")
        b.close()
        # The first still works.
        kind, op, status, _ = ask(a, rd, command(OP_RESET))
        check(status == 0, "first connection broken by the second")
        a.close()
        proc.terminate()
        check(proc.wait(timeout=20) == 0, "SIGTERM exit code")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_bad_invocations(tmp):
    scn = os.path.join(tmp, "ok.scn")
    with open(scn, "w") as f:
        f.write(SCENARIO)
    bad = os.path.join(tmp, "bad.scn")
    with open(bad, "w") as f:
        f.write("seed 1\n\ntag t\n  ibeacon nonsense\n  distance 2\n")
    r = run(["--listen", "unix:" + os.path.join(tmp, "x.sock")])
    check(r.returncode == 64 and "--scenario" in r.stderr, "missing --scenario: %r" % r.stderr)
    r = run(["--scenario", scn, "--speed", "0"])
    check(r.returncode == 64 and "--speed" in r.stderr, "bad --speed: %r" % r.stderr)
    r = run(["--scenario", scn, "--bogus"])
    check(r.returncode == 64, "unknown option exit %d" % r.returncode)
    r = run(["--scenario", bad, "--listen", "unix:" + os.path.join(tmp, "y.sock")])
    check(r.returncode == 65 and "bad.scn:4:" in r.stderr and "ibeacon" in r.stderr,
          "bad scenario: %d %r" % (r.returncode, r.stderr))
    check(len(r.stderr.strip().splitlines()) == 1, "more than one error line: %r" % r.stderr)
    r = run(["--scenario", scn, "--listen", "tcp:0.0.0.0:0"])
    check(r.returncode == 69 and "loopback" in r.stderr, "non-loopback listen: %r" % r.stderr)
    r = run(["--scenario", scn, "--listen", "serial:/dev/ttyS0"])
    check(r.returncode == 69 and "listen address" in r.stderr, "bad listen spec: %r" % r.stderr)
    notsock = os.path.join(tmp, "plain-file")
    with open(notsock, "w") as f:
        f.write("keep me")
    r = run(["--scenario", scn, "--listen", "unix:" + notsock])
    check(r.returncode == 69 and open(notsock).read() == "keep me",
          "listening over a regular file: %r" % r.stderr)
    r = run(["--version"])
    check(r.returncode == 0 and r.stdout.startswith("beaconsim "), "--version")


def main():
    need_built("beaconsim")
    tmp = TempDir("beaconsim-test")
    try:
        test_bad_invocations(tmp.path)
        test_tcp_and_one_client(tmp.path)
        test_unix(tmp.path)
    finally:
        tmp.cleanup()
    print("PASS")


if __name__ == "__main__":
    main()
