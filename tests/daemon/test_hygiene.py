#!/usr/bin/env python3
"""Process hygiene (issue 13, path 7), as an administrator would check it.

- Under umask 022, `beaconctl init` creates the database 0600, and the -wal
  and -shm files that come with it are 0600 too.
- The running daemon is not dumpable: its /proc/PID files belong to root,
  not to the user it runs as (the kernel's mark of a non-dumpable process);
  with `[gateway] allow_core_dumps = yes` they belong to that user again.
- A password_file that its group or others can read is refused, by
  --check-config and at start, with exit 78 and a message that says what to
  do; `[mqtt] password_file_insecure_ok = yes` accepts it; 0600 is fine.
- The systemd unit sets LimitCORE=0."""
import os
import sqlite3
import stat
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bgwtest as bt  # noqa: E402
from bgwtest import check, ctl, finish, run_beacongw, say, write_config  # noqa: E402

bt.need_binaries()
tmp = bt.TempDir("hygiene")
db = tmp("gw.db")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- file modes ----
old = os.umask(0o022)
try:
    ctl(db, "init")
    ctl(db, "customer", "add", "C-1")
    check(mode(db) == 0o600, "database created 0600 under umask 022: %04o" % mode(db))
    con = sqlite3.connect(db)
    con.execute("INSERT INTO kv (key, value) VALUES ('hygiene', 'x')")
    con.commit()
    for suffix in ("-wal", "-shm"):
        path = db + suffix
        check(os.path.exists(path) and mode(path) == 0o600,
              "%s is 0600 too: %s" % (suffix, oct(mode(path)) if os.path.exists(path) else "-"))
    con.close()
finally:
    os.umask(old)

# ---- dumpable ----
# A capture the daemon replays in real time: the process lives for a while.
cap = bt.offline_capture(tmp, bt.load_scenario(2, visit_s=20.0, duration_s=25), tmp("h.btsnoop"))
os.chmod(tmp.path, 0o755)
os.chmod(cap, 0o644)
RUN_AS = 65534 if os.geteuid() == 0 else None   # root sees every process as dumpable


def owner_of_proc(allow):
    conf = write_config(tmp, db, bt.free_port(), name="dump-%s.conf" % allow,
                        gateway={"allow_core_dumps": allow})
    os.chmod(conf, 0o644)

    def drop():
        if RUN_AS is not None:
            os.setgid(RUN_AS)
            os.setuid(RUN_AS)
    import subprocess
    p = subprocess.Popen([bt.BEACONGW, "-c", conf, "--dump", "--realtime", "--source",
                          "btsnoop:" + cap], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=drop, env=bt.clean_env())
    try:
        time.sleep(1.0)
        check(p.poll() is None, "beacongw --dump runs (%s)" % p.poll())
        return os.stat("/proc/%d/status" % p.pid).st_uid
    finally:
        p.kill()
        p.wait()


me = RUN_AS if RUN_AS is not None else os.geteuid()
if me == 0:
    say("cannot tell dumpable processes apart as root without another user; skipped")
else:
    uid = owner_of_proc("no")
    check(uid == 0, "the daemon is not dumpable: /proc/PID owned by %d, not %d" % (uid, me))
    uid = owner_of_proc("yes")
    check(uid == me, "allow_core_dumps = yes keeps it dumpable: /proc/PID owned by %d" % uid)

# ---- password file ----
pw = tmp("mqtt.password")
with open(pw, "w") as f:
    f.write("secret\n")
for m, insecure_ok, want in ((0o644, None, 78), (0o640, None, 78), (0o644, "yes", 0),
                             (0o600, None, 0)):
    os.chmod(pw, m)
    mqtt = {"username": "gw", "password_file": pw}
    if insecure_ok:
        mqtt["password_file_insecure_ok"] = insecure_ok
    conf = write_config(tmp, db, bt.free_port(), name="pw.conf", mqtt=mqtt)
    p = run_beacongw(["-c", conf, "--check-config"])
    check(p.returncode == want, "--check-config with password_file %04o%s: exit %d (%d): %s"
          % (m, " (insecure_ok)" if insecure_ok else "", p.returncode, want, p.stderr[-300:]))
    if want:
        check("password_file" in p.stderr and "chmod 600" in p.stderr
              and "password_file_insecure_ok" in p.stderr, "the message says what to do: %s"
              % p.stderr.strip())
        p = run_beacongw(["-c", conf, "--once", "--source", "btsnoop:" + cap])
        check(p.returncode == 78, "start refused too: exit %d" % p.returncode)

# ---- the unit ----
unit = open(os.path.join(bt.SOURCE, "systemd", "beacongw.service")).read()
check("\nLimitCORE=0\n" in unit, "the unit sets LimitCORE=0")
tmp.cleanup()
finish()
