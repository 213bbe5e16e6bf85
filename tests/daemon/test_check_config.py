#!/usr/bin/env python3
"""--check-config: the shipped example config is valid; unknown keys,
unknown sections and bad values exit 78 with FILE:LINE in the message."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import SOURCE, TempDir, check, finish, run_beacongw  # noqa: E402

d = TempDir("daemon").path
example = os.path.join(SOURCE, "config", "beacongw.conf")


def conf(text):
    path = os.path.join(d, "c%d.conf" % conf.n)
    conf.n += 1
    open(path, "w").write(text)
    return path


conf.n = 0

bad = [
    ("[gateway]\nsite = a\nfoo = 1\n", 3, "foo"),
    ("[gateway]\nsite = a\n\n[nosuch]\nx = 1\n", 5, "nosuch"),
    ("[source]\ninterval_ms = 2\n", 2, "interval_ms"),
    ("[source]\nscan = loud\n", 2, "scan"),
    ("[source]\ninterval_ms = 12abc\n", 2, "interval_ms"),
    ("[gateway]\nsite = a/b\n", 2, "site"),
    ("[gateway]\nsite = a\nsite = b\n", 3, "twice"),
    ("[presence]\ndwell_marks_s = 60,30\n", 2, "dwell_marks_s"),
    ("[mqtt]\nport = 70000\n", 2, "port"),
    ("this is not ini\n", 1, ""),
    ("site = x\n", 1, "section"),
]
for text, line, word in bad:
    path = conf(text)
    p = run_beacongw(["-c", path, "--check-config"])
    check(p.returncode == 78, "%r: exit 78 (got %d)" % (text, p.returncode))
    check("%s:%d:" % (path, line) in p.stderr, "%r: line %d named (%s)" % (text, line,
                                                                           p.stderr.strip()))
    check(word in p.stderr, "%r: mentions %r" % (text, word))

# Cross-key problems name the file.
p = run_beacongw(["-c", conf("[source]\ninterval_ms = 50\nwindow_ms = 100\n"), "--check-config"])
check(p.returncode == 78 and "window_ms" in p.stderr, "window > interval: exit 78")

p = run_beacongw(["-c", os.path.join(d, "missing.conf"), "--check-config"])
check(p.returncode == 78, "missing config: exit 78 (got %d)" % p.returncode)

# A bad config stops a normal run the same way.
p = run_beacongw(["-c", conf("[gateway]\nbogus = 1\n"), "--source", "btsnoop:/dev/null", "--dump"])
check(p.returncode == 78, "bad config with --dump: exit 78")

# The example config is complete and valid (the database part needs the store).
p = run_beacongw(["-c", example, "--source", "btsnoop:/nonexistent", "--dump"])
check(p.returncode == 65, "example config parses (got %d: %s)" % (p.returncode, p.stderr))

finish()
