#!/usr/bin/env python3
"""The files the configuration names: --check-config opens and reads them as
start-up does, names every bad one with its file and line (exit 78), and
start-up refuses exactly what --check-config refuses. install.md's own
configuration snippet, comments and all, passes once its files exist."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bgwtest import BEACONCTL, SOURCE, TempDir, check, finish, run_beacongw  # noqa: E402

d = TempDir("cfgfiles").path
db = os.path.join(d, "store.db")
subprocess.run([BEACONCTL, "--db", db, "init"], check=True, capture_output=True)


def path(name):
    return os.path.join(d, name)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


# Real material: a CA certificate, a client key and certificate, an Ed25519
# public key, an RSA public key, a password file.
openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=test-ca")
openssl("genpkey", "-algorithm", "ed25519", "-out", path("ed.key"))
openssl("pkey", "-in", path("ed.key"), "-pubout", "-out", path("ed.pub"))
openssl("genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path("rsa.key"))
openssl("pkey", "-in", path("rsa.key"), "-pubout", "-out", path("rsa.pub"))
with open(path("pw"), "w") as f:
    f.write("secret\n")
os.chmod(path("pw"), 0o600)
with open(path("pw-empty"), "w") as f:
    f.write("\n")
os.chmod(path("pw-empty"), 0o600)
os.mkdir(path("pwdir"), 0o700)
with open(path("garbage.pem"), "w") as f:
    f.write("not a certificate\n")

GOOD = {
    "cafile": path("ca.pem"),
    "certfile": path("ca.pem"),
    "keyfile": path("ca.key"),
    "password_file": path("pw"),
    "public_key": path("ed.pub"),
}


def conf(name, **over):
    v = dict(GOOD)
    v.update(over)
    text = ("[gateway]\nsite = s1\nid = g1\n\n[mqtt]\nhost = 127.0.0.1\n"
            "cafile = %(cafile)s\ncertfile = %(certfile)s\nkeyfile = %(keyfile)s\n"
            "username = u\npassword_file = %(password_file)s\n\n"
            "[consent]\npublic_key = %(public_key)s\n" % v)
    p = path(name + ".conf")
    with open(p, "w") as f:
        f.write(text)
    return p


# Lines in conf(): cafile 7, certfile 8, keyfile 9, password_file 11, public_key 14.
LINE = {"cafile": 7, "certfile": 8, "keyfile": 9, "password_file": 11, "public_key": 14}

p = run_beacongw(["-c", conf("good"), "--db", db, "--check-config"])
check(p.returncode == 0 and "configuration OK" in p.stdout,
      "all files good: OK (%d: %s)" % (p.returncode, p.stderr.strip()))

bad = [
    ("cafile", path("missing.pem"), "No such file"),
    ("cafile", d, "directory"),
    ("cafile", path("garbage.pem"), "not a PEM certificate"),
    ("certfile", path("ed.pub"), "not a PEM certificate"),
    ("keyfile", path("missing.key"), "No such file"),
    ("keyfile", path("ca.pem"), "private key"),
    ("password_file", path("pwdir"), "directory"),
    ("password_file", path("pw-empty"), "empty"),
    ("password_file", path("missing.pw"), "No such file"),
    ("public_key", path("missing.pub"), "No such file"),
    ("public_key", path("rsa.pub"), "not an Ed25519 key"),
    ("public_key", path("garbage.pem"), "public key"),
]
for key, value, words in bad:
    c = conf("bad-%s" % key, **{key: value})
    where = "%s:%d:" % (c, LINE[key])
    p = run_beacongw(["-c", c, "--db", db, "--check-config"])
    check(p.returncode == 78, "%s = %s: --check-config exits 78 (got %d)" % (key, value,
                                                                           p.returncode))
    check(where in p.stderr and key in p.stderr and words in p.stderr,
          "%s = %s: names %s and says %r (%s)" % (key, value, where, words, p.stderr.strip()))
    check("configuration OK" not in p.stdout, "%s = %s: no 'OK'" % (key, value))
    # Start-up: the same message, the same status, before any connection.
    p2 = run_beacongw(["-c", c, "--db", db, "--source", "btsnoop:/nonexistent"])
    check(p2.returncode == 78 and where in p2.stderr and words in p2.stderr,
          "%s = %s: start-up refuses it the same way (%d: %s)" % (key, value, p2.returncode,
                                                                 p2.stderr.strip()))

# Every problem at once, not one per run.
c = conf("all-bad", cafile=path("garbage.pem"), password_file=path("pwdir"),
         public_key=path("rsa.pub"))
p = run_beacongw(["-c", c, "--db", db, "--check-config"])
for key in ("cafile", "password_file", "public_key"):
    check("%s:%d:" % (c, LINE[key]) in p.stderr, "all problems listed: %s" % key)

# The metrics file's directory: missing is a warning (node_exporter may come
# later), not a refusal; an existing one is silent.
for where, warned in ((os.path.join(d, "no-such-dir", "beacongw.prom"), True),
                      (os.path.join(d, "beacongw.prom"), False)):
    c = conf("metrics-%d" % warned)
    with open(c, "a") as f:
        f.write("\n[metrics]\ntextfile = %s\n" % where)
    p = run_beacongw(["-c", c, "--db", db, "--check-config"])
    said = "[metrics] textfile" in p.stdout and "no-such-dir" in p.stdout
    check(p.returncode == 0 and said == warned and
          ("warning(s)" in p.stdout) == warned,
          "metrics textfile %s: exit 0, warned %s (%d: %s%s)" % (where, warned, p.returncode,
                                                                p.stdout, p.stderr))

# install.md, section 3, as written (comments after values included), with
# its two files made: the configuration is accepted.
doc = open(os.path.join(SOURCE, "docs", "install.md")).read()
blocks = re.findall(r"```ini\n(.*?)```", doc, re.S)
check(blocks, "install.md has an ini snippet")
snippet = blocks[0]
check("#" in snippet.split("\n", 2)[1], "the snippet still has comments after values")
text = snippet.replace("/etc/beacongw/broker-ca.pem", path("ca.pem")).replace(
    "/etc/beacongw/mqtt.password", path("pw"))
with open(path("install-md.conf"), "w") as f:
    f.write(text)
p = run_beacongw(["-c", path("install-md.conf"), "--db", db, "--check-config"])
check(p.returncode == 0, "install.md's snippet is accepted (%d: %s)" % (p.returncode,
                                                                      p.stderr.strip()))

finish()
