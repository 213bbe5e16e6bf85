#!/usr/bin/env python3
"""Command line: usage errors exit 64, --version/--help exit 0, the help
names every option of the contract, --once needs a finite source."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import check, finish, run_beacongw  # noqa: E402

for args in (["--bogus"], ["-x"], ["--source"], ["-c"], ["extra-arg"],
             ["--check-config", "--dump"]):
    p = run_beacongw(args)
    check(p.returncode == 64, "%s: exit 64 (got %d)" % (args, p.returncode))
    check(p.stderr.strip() != "", "%s: says why" % args)

p = run_beacongw(["--version"])
check(p.returncode == 0 and p.stdout.startswith("beacongw "), "--version")

p = run_beacongw(["--help"])
check(p.returncode == 0, "--help exit 0")
for opt in ("-c FILE", "--source SPEC", "--db FILE", "--once", "--check-config", "--dump",
            "--realtime", "-v", "--version", "--help"):
    check(opt in p.stdout, "--help mentions " + opt)

p = run_beacongw(["--source", "h4:unix:/nonexistent/sock", "--once"])
check(p.returncode == 64, "--once with a live source: exit 64 (got %d)" % p.returncode)

p = run_beacongw(["--source", "nonsense:x", "--dump"])
check(p.returncode == 78, "bad --source: exit 78 (got %d)" % p.returncode)
check("nonsense:x" in p.stderr, "bad --source: named in the message")

p = run_beacongw(["--source", "h4:unix:/nonexistent/sock", "--dump"])
check(p.returncode == 69, "unreachable controller: exit 69 (got %d)" % p.returncode)

finish()
