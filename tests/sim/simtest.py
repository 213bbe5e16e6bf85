"""What the beaconsim integration tests add to tests/lib: H4 framing, HCI
commands and events, btsnoop reading, and running the real binary.
Importing this module puts tests/lib on sys.path."""

import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
# What the tests use through this module, re-exported.
from bgwtest import BEACONGW, BEACONSIM, BUILD, TempDir, fail, need_built  # noqa: E402,F401
from bgwtest import need as check  # noqa: E402 (a failed check ends a beaconsim test)
from hcitest import BTSNOOP_EPOCH_DELTA_US  # noqa: E402

H4_CMD, H4_ACL, H4_SCO, H4_EVENT, H4_ISO = 1, 2, 3, 4, 5

OP_RESET = 0x0C03
OP_SET_EVENT_MASK = 0x0C01
OP_LE_SET_EVENT_MASK = 0x2001
OP_READ_LOCAL_VERSION = 0x1001
OP_LE_READ_FEATURES = 0x2003
OP_READ_BD_ADDR = 0x1009
OP_LE_SET_SCAN_PARAMS = 0x200B
OP_LE_SET_SCAN_ENABLE = 0x200C
OP_LE_SET_EXT_SCAN_PARAMS = 0x2041
OP_LE_SET_EXT_SCAN_ENABLE = 0x2042

EV_CMD_COMPLETE, EV_CMD_STATUS, EV_HW_ERROR, EV_LE_META = 0x0E, 0x0F, 0x10, 0x3E


def command(opcode, params=b""):
    return bytes([H4_CMD]) + struct.pack("<HB", opcode, len(params)) + params


SCAN_SETUP_LEGACY = [
    command(OP_RESET),
    command(OP_SET_EVENT_MASK, struct.pack("<Q", 0x20001FFFFFFFFFFF)),
    command(OP_LE_SET_EVENT_MASK, struct.pack("<Q", 0x101F)),
    command(OP_LE_SET_SCAN_PARAMS, struct.pack("<BHHBB", 0, 0x60, 0x60, 0, 0)),
    command(OP_LE_SET_SCAN_ENABLE, bytes([1, 0])),
]

SCAN_SETUP_EXTENDED = [
    command(OP_RESET),
    command(OP_SET_EVENT_MASK, struct.pack("<Q", 0x20001FFFFFFFFFFF)),
    command(OP_LE_SET_EVENT_MASK, struct.pack("<Q", 0x101F)),
    command(OP_LE_SET_EXT_SCAN_PARAMS, bytes([0, 0, 1]) + struct.pack("<BHH", 0, 0x60, 0x60)),
    command(OP_LE_SET_EXT_SCAN_ENABLE, bytes([1, 0]) + struct.pack("<HH", 0, 0)),
]


class H4Reader:
    """Splits a controller's byte stream into events; bytes that are not
    a packet indicator at a packet boundary are counted as garbage."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.garbage = 0
        self.eof = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def next_event(self):
        """(code, params) of the next event, or None at end of stream."""
        while True:
            while self.buf and self.buf[0] != H4_EVENT:
                check(self.buf[0] not in (H4_ACL, H4_SCO, H4_ISO, H4_CMD),
                      "controller sent a non-event packet type %d" % self.buf[0])
                self.buf = self.buf[1:]
                self.garbage += 1
            if len(self.buf) >= 3 and len(self.buf) >= 3 + self.buf[2]:
                code, plen = self.buf[1], self.buf[2]
                params = self.buf[3:3 + plen]
                self.buf = self.buf[3 + plen:]
                return code, params
            if not self._fill():
                return None


def parse_cmd_answer(code, params):
    """(kind, opcode, status, return params) of Command Complete/Status."""
    if code == EV_CMD_COMPLETE:
        op = struct.unpack_from("<H", params, 1)[0]
        ret = params[3:]
        return "complete", op, ret[0] if ret else 0, ret
    if code == EV_CMD_STATUS:
        op = struct.unpack_from("<H", params, 2)[0]
        return "status", op, params[0], b""
    return None


def legacy_reports(params):
    """Reports of an LE Advertising Report subevent: list of dicts."""
    out = []
    n = params[1]
    p = 2
    for _ in range(n):
        kind, atype = params[p], params[p + 1]
        addr = params[p + 2:p + 8]
        dlen = params[p + 8]
        data = params[p + 9:p + 9 + dlen]
        rssi = struct.unpack_from("<b", params, p + 9 + dlen)[0]
        out.append(dict(kind=kind, addr_type=atype, addr=addr, data=data, rssi=rssi))
        p += 10 + dlen
    return out


def ext_report(params):
    """The single report of an LE Extended Advertising Report subevent."""
    check(params[1] == 1, "extended report event with %d reports" % params[1])
    et = struct.unpack_from("<H", params, 2)[0]
    addr = params[5:11]
    sid = params[13]
    rssi = struct.unpack_from("<b", params, 15)[0]
    dlen = params[25]
    data = params[26:26 + dlen]
    return dict(event_type=et, status=(et >> 5) & 3, legacy=bool(et & 0x10), addr=addr, sid=sid,
                rssi=rssi, data=data)


def ad_structures(data):
    out = []
    i = 0
    while i < len(data) and data[i]:
        ln = data[i]
        if i + 1 + ln > len(data):
            break
        out.append((data[i + 1], data[i + 2:i + 1 + ln]))
        i += 1 + ln
    return out


def ibeacon_of(data):
    """(uuid hex, major, minor, power) if the payload is an iBeacon."""
    for t, v in ad_structures(data):
        if t == 0xFF and len(v) == 25 and v[:4] == b"\x4c\x00\x02\x15":
            major, minor = struct.unpack(">HH", v[20:24])
            return v[4:20].hex(), major, minor, struct.unpack("b", v[24:25])[0]
    return None


def eddystone_of(data):
    """(frame type byte, frame bytes) of an Eddystone service data AD."""
    for t, v in ad_structures(data):
        if t == 0x16 and len(v) >= 3 and v[:2] == b"\xaa\xfe":
            return v[2], v[2:]
    return None


def read_btsnoop(path):
    """List of (ts_us since Unix epoch, received, h4 type, packet bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    check(blob[:8] == b"btsnoop\0", "%s is not a btsnoop file" % path)
    version, datalink = struct.unpack(">II", blob[8:16])
    check(version == 1 and datalink == 1002, "btsnoop version/datalink %d/%d" % (version, datalink))
    out = []
    p = 16
    while p < len(blob):
        orig, incl, flags, drops, ts = struct.unpack(">IIIIQ", blob[p:p + 24])
        pkt = blob[p + 24:p + 24 + incl]
        check(len(pkt) == incl and incl >= 1, "cut record at byte %d" % p)
        out.append((ts - BTSNOOP_EPOCH_DELTA_US, bool(flags & 1), pkt[0], pkt[1:]))
        p += 24 + incl
    return out


def run(args, **kw):
    return subprocess.run([BEACONSIM] + args, capture_output=True, text=True, timeout=60, **kw)
