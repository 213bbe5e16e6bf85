#!/usr/bin/env python3
"""Cross-check eid_compute against an independent Eddystone-EID implementation.

The reference below follows eddystone-eid/eid-computation.md of Google's
Eddystone specification directly, with `openssl enc -aes-128-ecb -nopad`
as the block cipher (Python's standard library has no AES). The C side is
the eid_vectors helper, which prints one EID per "KEYHEX K T" line read on
stdin. Keys, exponents and times are random but seeded, so a failure is
reproducible; the times include both edges of a temporary-key rollover.

Usage: eid_oracle.py PATH_TO_eid_vectors
Exit 77 (skipped) when the openssl command is not installed.
"""
import random
import shutil
import subprocess
import sys


def aes128(key: bytes, block: bytes) -> bytes:
    out = subprocess.run(
        ["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", key.hex()],
        input=block, stdout=subprocess.PIPE, check=True).stdout
    assert len(out) == 16, out
    return out


def eid(ik: bytes, k: int, t: int) -> bytes:
    tk = aes128(ik, bytes(11) + b"\xff" + bytes(2) + (t >> 16).to_bytes(2, "big"))
    ts = (t >> k) << k
    return aes128(tk, bytes(11) + bytes([k]) + ts.to_bytes(4, "big"))[:8]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("openssl") is None:
        print("skipped: the openssl command is not installed")
        return 77
    rng = random.Random(20161014)
    cases = []
    for _ in range(40):
        ik = bytes(rng.getrandbits(8) for _ in range(16))
        k = rng.randrange(0, 16)
        t = rng.choice([rng.getrandbits(32), 0, 0xffffffff, 65535, 65536,
                        (rng.getrandbits(16) << 16) | 0xff00])
        cases.append((ik, k, t))
    stdin = "".join(f"{ik.hex()} {k} {t}\n" for ik, k, t in cases)
    res = subprocess.run([sys.argv[1]], input=stdin, stdout=subprocess.PIPE,
                         text=True, check=True)
    got = res.stdout.split()
    if len(got) != len(cases):
        print(f"eid_vectors printed {len(got)} lines for {len(cases)} cases")
        return 1
    bad = 0
    for (ik, k, t), g in zip(cases, got):
        want = eid(ik, k, t).hex()
        if g != want:
            print(f"mismatch ik={ik.hex()} k={k} t={t}: got {g} want {want}")
            bad += 1
    print(f"{len(cases) - bad}/{len(cases)} EIDs match the openssl-based reference")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
