"""HCI as the tests write it from scratch, independent of the C code under
test: H4 packets (events, advertising reports), btsnoop files (H4 and BlueZ
monitor datalinks), and a scripted H4 controller on a socket or a
pseudo-terminal."""
import os
import socket
import struct
import threading

# Microseconds from 0000-01-01 to 1970-01-01 (btsnoop epoch).
BTSNOOP_EPOCH_DELTA_US = 0x00DCDDB30F2F8000


# ---- HCI packets ----

def addr_bytes(addr):
    """'AA:BB:CC:DD:EE:FF' (most significant first) -> wire order."""
    return bytes(reversed(bytes.fromhex(addr.replace(":", ""))))


def evt(code, params):
    return bytes([code, len(params)]) + params


def cmd_complete(opcode, ret=b"\x00", ncmd=1):
    return evt(0x0E, struct.pack("<BH", ncmd, opcode) + ret)


def cmd_status(opcode, status, ncmd=1):
    return evt(0x0F, struct.pack("<BBH", status, ncmd, opcode))


def hw_error(code=0x01):
    return evt(0x10, bytes([code]))


EVT_TYPES = {"adv_ind": 0, "adv_direct_ind": 1, "adv_scan_ind": 2, "adv_nonconn_ind": 3,
             "scan_rsp": 4}


def le_adv_report(reports):
    """reports: list of (kind, addr_type(0/1), addr, rssi, data bytes)."""
    p = bytes([0x02, len(reports)])
    for kind, atype, addr, rssi, data in reports:
        p += bytes([EVT_TYPES[kind], atype]) + addr_bytes(addr) + bytes([len(data)]) + data
        p += struct.pack("b", rssi)
    return evt(0x3E, p)


def le_ext_adv_report(addr, atype, rssi, data, tx_power=127, sid=0xFF, event_type=0x0000):
    p = bytes([0x0D, 1])
    p += struct.pack("<HB", event_type, atype) + addr_bytes(addr)
    p += bytes([1, 0, sid]) + struct.pack("<bbH", tx_power, rssi, 0) + bytes([0]) + bytes(6)
    p += bytes([len(data)]) + data
    return evt(0x3E, p)


IBEACON = bytes.fromhex("0201061aff4c000215b9407f30f5f8466eaff925556b57fe6d3039d431c5")
EDDYSTONE_UID = bytes.fromhex("0201060303aafe1516aafe00e800112233445566778899aabbccddeeff0000")


# ---- btsnoop ----

def btsnoop_h4(path, packets, t0_us=1772359200000000, step_us=100000):
    """packets: list of (h4 type, bytes without type) -> datalink 1002 file."""
    with open(path, "wb") as f:
        f.write(b"btsnoop\0" + struct.pack(">II", 1, 1002))
        for i, (ptype, pkt) in enumerate(packets):
            body = bytes([ptype]) + pkt
            flags = (0 if ptype == 0x01 else 1) | (2 if ptype in (0x01, 0x04) else 0)
            ts = t0_us + i * step_us + BTSNOOP_EPOCH_DELTA_US
            f.write(struct.pack(">IIIIQ", len(body), len(body), flags, 0, ts) + body)


def btsnoop_monitor(path, packets, t0_us=1772359200000000, step_us=100000):
    """BlueZ monitor datalink 2001: opcode 3 = event, 2 = command; packets are
    (h4 type, bytes) for controller index 0 or (h4 type, bytes, index)."""
    with open(path, "wb") as f:
        f.write(b"btsnoop\0" + struct.pack(">II", 1, 2001))
        for i, (ptype, pkt, *index) in enumerate(packets):
            flags = (index[0] if index else 0) << 16 | (3 if ptype == 0x04 else 2)
            ts = t0_us + i * step_us + BTSNOOP_EPOCH_DELTA_US
            f.write(struct.pack(">IIIIQ", len(pkt), len(pkt), flags, 0, ts) + pkt)


# ---- a scripted H4 controller ----

class FakeController:
    """Answers every H4 command with Command Complete (realistic return
    parameters for the reads), records the opcodes, and runs on_scan_enable
    (a callback that may send events) when the scan gets enabled."""

    def __init__(self, path, ext=False, reject=(), listen=True, tcp=False):
        self.path = path
        self.ext = ext
        self.reject = set(reject)
        self.opcodes = []
        self.commands = []
        self.on_scan_enable = None
        self.conn = None
        self.lock = threading.Lock()
        self.scan_enabled = threading.Event()
        self.srv = None
        if listen and tcp:
            self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.srv.bind(("127.0.0.1", 0))
            self.port = self.srv.getsockname()[1]
        elif listen:
            self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.srv.bind(path)
        if listen:
            self.srv.listen(1)
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

    def send(self, raw):
        with self.lock:
            if self.conn:
                self.conn.sendall(raw)

    def send_event(self, pkt):
        self.send(b"\x04" + pkt)

    def _answer(self, opcode, params):
        if opcode in self.reject:
            return cmd_complete(opcode, b"\x01")
        if opcode == 0x1001:    # Read Local Version: 5.0, rev, LMP 5.0, Nordic, sub
            return cmd_complete(opcode, bytes.fromhex("00090000090059000000"))
        if opcode == 0x1003:    # Read Local Supported Features (LE supported)
            return cmd_complete(opcode, b"\x00" + bytes.fromhex("0000000060000000"))
        if opcode == 0x2003:    # LE features: bit 12 = LE Extended Advertising
            feats = bytearray(8)
            if self.ext:
                feats[1] |= 0x10
            return cmd_complete(opcode, b"\x00" + bytes(feats))
        return cmd_complete(opcode, b"\x00")

    def _feed(self, buf, data):
        """Handle the commands in buf + data; returns what is left over."""
        buf += data
        while len(buf) >= 4:
            if buf[0] != 0x01:
                buf = buf[1:]
                continue
            opcode, plen = struct.unpack("<HB", buf[1:4])
            if len(buf) < 4 + plen:
                break
            params = buf[4:4 + plen]
            buf = buf[4 + plen:]
            self.opcodes.append(opcode)
            self.commands.append((opcode, params))
            self.send_event(self._answer(opcode, params))
            enable = (opcode == 0x200C and params[:1] == b"\x01") or \
                     (opcode == 0x2042 and params[:1] == b"\x01")
            if enable and opcode not in self.reject:
                self.scan_enabled.set()
                if self.on_scan_enable:
                    self.on_scan_enable(self)
        return buf

    def _serve(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            with self.lock:
                self.conn = conn
            buf = b""
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    break
                buf = self._feed(buf, data)
            with self.lock:
                self.conn = None

    def close(self):
        try:
            if self.srv:
                self.srv.close()
        except OSError:
            pass


class _PtyConn:
    def __init__(self, fd):
        self.fd = fd

    def sendall(self, raw):
        while raw:
            n = os.write(self.fd, raw)
            raw = raw[n:]


class FakeTtyController(FakeController):
    """The same controller behind a pseudo-terminal: the daemon opens the
    slave side as h4:tty:PATH (raw 8N1, RTS/CTS are accepted by ptys)."""

    def __init__(self, **kw):
        import pty
        FakeController.__init__(self, None, listen=False, **kw)
        self.master, self.slave = pty.openpty()
        self.path = os.ttyname(self.slave)
        self.conn = _PtyConn(self.master)
        self.thread = threading.Thread(target=self._serve_pty, daemon=True)
        self.thread.start()

    def _serve_pty(self):
        buf = b""
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            buf = self._feed(buf, data)
