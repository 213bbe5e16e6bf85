#!/usr/bin/python3
"""beaconctl end to end against real SQLite files.

Usage: ctl_test.py CASE   (one ctest entry per case; each uses its own temp dir)

Every rejected command must print one clear line, exit non-zero and leave the
database byte-for-byte unchanged (sha256 of the database and its WAL).
"""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BGW_BUILD_DIR", ".")
CTL = os.path.join(BUILD, "beaconctl")

UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
UUID2 = "00000000-1111-2222-3333-444455556666"
IRK = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
EIDKEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NS, INST = "9a8b7c6d5e4f3a2b1c0d", "00aa11bb22cc"


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Ctl:
    def __init__(self, tmp):
        self.tmp = tmp
        self.db = os.path.join(tmp, "store.db")

    def run(self, *args, db=None, env=None, stdin=None, timeout=120):
        e = dict(os.environ)
        e.pop("BEACONGW_DB", None)
        if env:
            e.update(env)
        cmd = [CTL] + (["--db", db or self.db] if db is not False else []) + list(args)
        # No terminal unless a case makes one: what cron and pipelines see.
        p = subprocess.run(cmd, capture_output=True, text=True, env=e, input=stdin,
                           stdin=subprocess.DEVNULL if stdin is None else None,
                           timeout=timeout)
        return p

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw))

    def fails(self, code, needle, *args, **kw):
        """The command fails with exit code and a one-line message containing needle,
        and the database does not change."""
        before = self.state()
        p = self.run(*args, **kw)
        check(p.returncode == code,
              f"{args}: expected exit {code}, got {p.returncode} ({p.stderr.strip()})")
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 1, f"{args}: expected one error line, got {lines}")
        check(lines[0].startswith("beaconctl: "), f"{args}: odd message {lines[0]}")
        check(needle.lower() in lines[0].lower(), f"{args}: '{needle}' not in '{lines[0]}'")
        check(self.state() == before, f"{args}: database changed")
        return lines[0]

    def state(self):
        """sha256 of the database file and of its WAL's content (if any)."""
        h = hashlib.sha256()
        for suffix in ("", "-wal"):
            path = self.db + suffix
            if os.path.exists(path) and os.path.getsize(path) > 0:
                with open(path, "rb") as f:
                    h.update(suffix.encode() + f.read())
        return h.hexdigest()

    def checkpoint(self):
        c = sqlite3.connect(self.db)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()

    def sql(self, statements):
        c = sqlite3.connect(self.db)
        c.execute("PRAGMA foreign_keys = ON")
        c.executescript(statements)
        c.commit()
        c.close()

    def query(self, statement):
        c = sqlite3.connect(self.db)
        try:
            rows = c.execute(statement).fetchall()
            c.commit()
            return rows
        finally:
            c.close()

    def populated(self):
        self.ok("init")
        self.ok("customer", "add", "C1", "--segment", "first-flat")
        self.ok("identifier", "add", "C1", "ibeacon", f"{UUID}:1:2")
        self.ok("consent", "grant", "C1", "retargeting", "--channel", "push")
        self.ok("customer", "add", "C7")
        self.checkpoint()


def case_commands(c):
    out = c.ok("init")
    check("schema version 11" in out, out)
    check("schema version 11" in c.ok("init"), "init not idempotent")
    c.ok("customer", "add", "C1", "--segment", "first-flat", "--segment", "furnishing")
    c.ok("customer", "add", "C7")
    c.ok("identifier", "add", "C1", "ibeacon", UUID.upper().replace("-", "") + ":1:2")
    c.ok("identifier", "add", "C1", "eddystone-uid", f"{NS}:{INST}")
    c.ok("identifier", "add", "C1", "eddystone-eid", f"{EIDKEY}:10:-30")
    c.ok("identifier", "add", "C7", "irk", IRK)
    c.ok("consent", "grant", "C1", "presence", "--source", "app", "--policy", "2026-01")
    c.ok("consent", "grant", "C1", "retargeting", "--channel", "push", "--channel", "email",
         "--expires", "+30d")
    c.ok("consent", "withdraw", "C1", "retargeting")
    c.ok("consent", "grant", "C1", "retargeting", "--channel", "push")
    c.ok("segment", "add", "C7", "vip")
    c.ok("segment", "remove", "C1", "furnishing")
    c.ok("campaign", "add", "sofa", "--zone", "living", "--event", "dwell", "--segment",
         "first-flat", "--min-dwell", "60", "--cooldown", "3600", "--daily-cap", "2",
         "--channel", "push", "--from", "2026-01-01", "--until", "2099-01-01",
         "--hours", "09:00-20:00")
    c.ok("campaign", "add", "door", "--zone", "entrance", "--event", "enter")

    customers = c.json("customer", "list")
    check([x["customer_ref"] for x in customers] == ["C1", "C7"], customers)
    c1 = customers[0]
    check(c1["identifiers"] == 3 and c1["presence"] == "active" and
          c1["retargeting"] == "active" and c1["segments"] == "first-flat", c1)
    table = c.ok("customer", "list")
    check(table.splitlines()[0].split()[0] == "REF" and "C7" in table, table)

    show = c.json("customer", "show", "C1")
    types = sorted(i["type"] for i in show["identifiers"])
    check(types == ["eddystone-eid", "eddystone-uid", "ibeacon"], types)
    check(EIDKEY not in json.dumps(show), "key printed")
    eid = [i for i in show["identifiers"] if i["type"] == "eddystone-eid"][0]
    check(eid["exponent"] == 10 and eid["clock_offset"] == -30, eid)
    ret = [k for k in show["consents"] if k["purpose"] == "retargeting"]
    check(len(ret) == 2 and ret[0]["withdrawn_at"] and not ret[1]["withdrawn_at"], ret)
    check(show["segments"] == ["first-flat"], show["segments"])
    check("identifiers" in c.ok("customer", "show", "C1"), "human show")

    consents = c.json("consent", "list")
    check(len(consents) == 3, consents)
    check(len(c.json("consent", "list", "C7")) == 0, "C7 consents")
    check("PURPOSE" in c.ok("consent", "list", "C1"), "consent table")

    camps = c.json("campaign", "list")
    check([x["name"] for x in camps] == ["door", "sofa"], camps)
    sofa = camps[1]
    check(sofa["hours"] == "09:00-20:00" and sofa["segment"] == "first-flat" and
          sofa["channels"] == ["push"] and sofa["daily_cap"] == 2, sofa)
    c.ok("campaign", "remove", "door", "--yes")
    check(len(c.json("campaign", "list")) == 1, "campaign remove")

    c.ok("identifier", "remove", "irk", IRK.upper())
    check(c.json("customer", "show", "C7")["identifiers"] == [], "identifier remove")

    audit = c.json("audit")
    actions = [a["action"] for a in audit]
    for a in ("customer.add", "identifier.add", "consent.grant", "consent.withdraw",
              "segment.add", "segment.remove", "campaign.add", "campaign.remove",
              "identifier.remove"):
        check(a in actions, f"audit lacks {a}")
    check(all(a["actor"].startswith("beaconctl:") for a in audit), "actor")
    only_c2 = c.json("audit", "--ref", "C7")
    check(only_c2 and all(a["customer_ref"] == "C7" for a in only_c2), only_c2)
    check(c.json("audit", "--since", "+1d") == [], "audit --since +1d")
    check(len(c.json("audit", "--since", "-1d")) == len(c.json("audit")), "audit --since -1d")
    check(len(c.json("audit", "--since", "-5m")) > 0, "audit --since -5m")
    check("ACTION" in c.ok("audit"), "audit table")

    old = int(time.time()) - 45 * 86400
    c.sql(f"INSERT INTO visits (customer_id, zone, entered_at, exited_at) VALUES "
          f"(1, 'living', {old}, {old + 60}), (1, 'living', {int(time.time())}, NULL);"
          f"INSERT INTO consents (customer_id, purpose, granted_at, expires_at, source, id) "
          f"VALUES (2, 0, {old}, {old + 10}, 'app', "
          f"(SELECT value FROM kv WHERE key = 'consent_next_id'));"
          f"UPDATE kv SET value = value + 1 WHERE key = 'consent_next_id';")
    r = c.json("purge", "--days", "30", "--yes")
    check(r["visits"] == 1 and r["consents_archived"] == 1, r)
    r = c.json("--yes", "purge")
    check(r["visits"] == 0, r)
    check(len(c.json("export", "C7")["consents_archived"]) == 1, "archive in export")

    doc = json.loads(c.ok("export", "C1"))
    check(doc["customer"]["customer_ref"] == "C1" and len(doc["visits"]) == 1, doc.keys())
    c.ok("customer", "remove", "C7", "--yes")
    check([x["customer_ref"] for x in c.json("customer", "list")] == ["C1"], "remove")
    c.ok("forget", "C1", "--yes")
    check(c.json("customer", "list") == [], "forget")
    tomb = [a for a in c.json("audit") if a["action"] == "forget"]
    check(len(tomb) == 1 and tomb[0]["before"]["identifiers"] == 3, tomb)

    # $BEACONGW_DB is the default database
    check(c.run("customer", "list", db=False, env={"BEACONGW_DB": c.db}).returncode == 0,
          "BEACONGW_DB")


def case_help_and_usage(c):
    check("Usage" in c.ok("--help", db=False), "main help")
    for cmd in ("init", "customer", "identifier", "consent", "segment", "campaign", "import",
                "export", "forget", "audit", "purge", "eid"):
        out = c.ok(cmd, "--help", db=False)
        check("Usage" in out, f"{cmd} --help")
    for sub in (("customer", "add"), ("customer", "list"), ("customer", "show"),
                ("customer", "remove"), ("identifier", "add"), ("identifier", "remove"),
                ("consent", "grant"), ("consent", "withdraw"), ("consent", "list"),
                ("segment", "add"), ("segment", "remove"), ("campaign", "add"),
                ("campaign", "list"), ("campaign", "remove")):
        check("Usage" in c.ok(*sub, "--help", db=False), f"{sub} --help")
    c.ok("init")
    c.checkpoint()
    c.fails(64, "unknown command", "frobnicate")
    c.fails(64, "unknown option", "--frob", "customer", "list")
    c.fails(64, "missing subcommand", "customer")
    c.fails(64, "unknown subcommand", "customer", "rename", "A", "B")
    c.fails(64, "missing argument", "customer", "add")
    c.fails(64, "unexpected argument", "customer", "add", "A", "B")
    c.fails(64, "needs a value", "consent", "grant", "A", "presence", "--channel")
    c.fails(64, "--zone is required", "campaign", "add", "x", "--event", "enter")
    c.fails(65, "--event", "campaign", "add", "x", "--zone", "z", "--event", "linger")
    c.fails(65, "--hours", "campaign", "add", "x", "--zone", "z", "--event", "enter",
            "--hours", "9-5")
    c.fails(65, "purpose", "consent", "grant", "A", "marketing")
    c.fails(65, "--days", "purge", "--days", "0")
    c.fails(65, "bad time", "consent", "grant", "A", "presence", "--expires", "soon")
    p = c.run("customer", "list", db=os.path.join(c.tmp, "nothere.db"))
    check(p.returncode == 69 and "beaconctl init" in p.stderr, p.stderr)
    check(not os.path.exists(os.path.join(c.tmp, "nothere.db")), "created by a query")


def case_bad_identifiers(c):
    c.populated()
    bad = [
        ("ibeacon", f"{UUID}:1", "UUID:MAJOR:MINOR"),
        ("ibeacon", f"{UUID}:1:70000", "MINOR"),
        ("ibeacon", f"{UUID[:-1]}:1:2", "UUID"),
        ("eddystone-uid", f"{NS}{INST}", "NAMESPACE:INSTANCE"),
        ("eddystone-uid", f"{NS}:{INST}ff", "INSTANCE"),
        ("eddystone-eid", f"{EIDKEY}", "KEY:K"),
        ("eddystone-eid", f"{EIDKEY}:16", "out of range"),
        ("eddystone-eid", f"{EIDKEY[:-2]}:4", "32 hex digits"),
        ("eddystone-eid", f"{EIDKEY}:4:soon", "OFFSET"),
        ("irk", IRK + "00", "32 hex digits"),
        ("irk", "zz" + IRK[2:], "hexadecimal"),
        ("bluetooth", "00:11:22:33:44:55", "unknown identifier type"),
    ]
    for t, v, needle in bad:
        c.fails(65, needle, "identifier", "add", "C1", t, v)
    c.fails(65, "no such", "identifier", "remove", "irk", IRK)
    c.fails(65, "customer_ref", "customer", "add", "bad ref with spaces")
    c.fails(65, "segment name", "segment", "add", "C1", "bad segment")


def case_useless_grant(c):
    """A retargeting grant without a channel could never send a trigger:
    refused with the reason, nothing recorded; with a channel it works."""
    c.populated()
    msg = c.fails(65, "needs at least one --channel", "consent", "grant", "C7", "retargeting")
    check("C7" in msg, f"the message names the customer: {msg}")
    rows = c.json("consent", "list", "C7")
    check(rows == [], f"nothing recorded: {rows}")
    c.ok("consent", "grant", "C7", "presence")
    c.ok("consent", "grant", "C7", "retargeting", "--channel", "email")


def case_unknown_customer(c):
    c.populated()
    for args in (("identifier", "add", "NOPE", "irk", IRK),
                 ("consent", "grant", "NOPE", "presence"),
                 ("consent", "withdraw", "NOPE", "presence"),
                 ("consent", "list", "NOPE"),
                 ("segment", "add", "NOPE", "vip"),
                 ("segment", "remove", "NOPE", "vip"),
                 ("customer", "show", "NOPE"),
                 ("customer", "remove", "NOPE", "--yes"),
                 ("export", "NOPE"),
                 ("forget", "NOPE", "--yes"),
                 ("audit", "--ref", "NOPE")):
        c.fails(65, "no customer 'NOPE'", *args)
    c.fails(65, "no presence consent", "consent", "withdraw", "C7", "presence")
    c.fails(65, "no campaign", "campaign", "remove", "nope", "--yes")


def case_duplicates(c):
    c.populated()
    c.fails(65, "already exists", "customer", "add", "C1")
    c.fails(65, "already enrolled", "identifier", "add", "C1", "ibeacon", f"{UUID}:1:2")
    # the same identifier for another customer, written differently
    c.fails(65, "already enrolled", "identifier", "add", "C7", "ibeacon",
            UUID.upper().replace("-", "") + ":1:2")
    c.fails(65, "already in segment", "segment", "add", "C1", "first-flat")
    c.ok("campaign", "add", "x", "--zone", "z", "--event", "enter")
    c.checkpoint()
    c.fails(65, "already exists", "campaign", "add", "x", "--zone", "z", "--event", "exit")
    # customer add with a bad segment adds nothing (one transaction)
    c.fails(65, "segment name", "customer", "add", "C3", "--segment", "no good")
    check("C3" not in c.ok("customer", "list"), "partial customer add")


def case_locked(c):
    c.populated()
    # Hashing the files here would close a descriptor of this process on the
    # database and so drop the holder's POSIX locks: hash before and after.
    before = c.state()
    holder = sqlite3.connect(c.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO kv VALUES ('held', 'yes')")
    try:
        for args in (("customer", "add", "C9"), ("consent", "withdraw", "C1", "retargeting"),
                     ("forget", "C1", "--yes"), ("purge", "--yes"), ("import", "-")):
            p = c.run(*args, stdin="customer_ref,identifiers,consents,segments\nZ,,,\n")
            check(p.returncode == 69 and "locked" in p.stderr,
                  f"{args}: {p.returncode} {p.stderr}")
            check(len(p.stderr.strip().splitlines()) == 1, p.stderr)
        # readers are not blocked by a writer in WAL mode
        check("C1" in c.ok("customer", "list"), "read while locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    c.checkpoint()
    check(c.state() == before, "changed while locked")
    check("C9" not in c.ok("customer", "list"), "C9 added")


def case_readonly(c):
    c.populated()
    # 1. Opened read-only (SQLite URI): root ignores file modes, this does not.
    uri = f"file:{c.db}?mode=ro"
    before = c.state()
    for args in (("customer", "add", "C9"), ("consent", "withdraw", "C1", "retargeting"),
                 ("forget", "C1", "--yes")):
        p = c.run(*args, db=uri)
        check(p.returncode == 69 and "read-only" in p.stderr, f"{args}: {p.stderr}")
    check("C1" in c.ok("customer", "list", db=uri), "query on read-only")
    check(c.state() == before, "changed")
    # 2. A read-only file system (tmpfs remounted ro), when we may mount.
    mnt = os.path.join(c.tmp, "ro")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt],
                      capture_output=True).returncode != 0:
        print("note: cannot mount a tmpfs here; read-only file system part skipped")
        return
    try:
        db = os.path.join(mnt, "store.db")
        subprocess.run(["cp", c.db, db], check=True)
        check(subprocess.run(["mount", "-o", "remount,ro", mnt]).returncode == 0, "remount")
        h = hashlib.sha256(open(db, "rb").read()).hexdigest()
        p = c.run("customer", "add", "C9", db=db)
        check(p.returncode == 69 and "read-only file system" in p.stderr and
              len(p.stderr.strip().splitlines()) == 1, p.stderr)
        check("C1" in c.ok("customer", "list", db=db), "query on a read-only file system")
        check(c.json("export", "C1", db=db)["customer"]["customer_ref"] == "C1", "export ro")
        check(hashlib.sha256(open(db, "rb").read()).hexdigest() == h, "changed on ro fs")
    finally:
        subprocess.run(["umount", mnt])


def case_corrupt(c):
    garbage = os.path.join(c.tmp, "garbage.db")
    with open(garbage, "wb") as f:
        f.write(os.urandom(8192))
    c.db = garbage
    c.fails(69, "corrupt", "customer", "list")
    c.fails(69, "corrupt", "customer", "add", "C1")
    c.fails(69, "corrupt", "init")
    # a real database with damaged b-tree pages
    c.db = os.path.join(c.tmp, "store.db")
    c.populated()
    for i in range(50):
        c.ok("customer", "add", f"X{i:03d}")
    c.checkpoint()
    size = os.path.getsize(c.db)
    with open(c.db, "r+b") as f:
        for page in range(1, size // 4096):
            f.seek(page * 4096)
            f.write(b"\xa5" * 64)
    c.fails(69, "corrupt", "customer", "add", "C9")
    c.fails(69, "corrupt", "customer", "list")


def case_future_schema(c):
    c.populated()
    c.sql("PRAGMA user_version = 99")
    c.checkpoint()
    for args in (("customer", "list"), ("customer", "add", "C9"), ("init",)):
        c.fails(78, "newer than this program", *args)
    other = os.path.join(c.tmp, "other.db")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    c.db = other
    c.fails(78, "not a beacongw", "init")


def case_import_errors(c):
    c.populated()
    good = os.path.join(c.tmp, "good.csv")
    with open(good, "w") as f:
        f.write("customer_ref,identifiers,consents,segments\r\n"
                f"D1,ibeacon {UUID}:9:9|irk {IRK},presence;retargeting@push+email,vip|new\r\n"
                f'D2,"eddystone-eid {EIDKEY}:4:0",presence/2099-01-01,\r\n'
                "D3,,,\r\n")
    p = c.run("import", "--policy", "v7", good)
    check(p.returncode == 0 and p.stderr == "", p.stderr)
    check("imported 3 customers, 3 identifiers, 3 consents, 2 segment" in p.stdout, p.stdout)
    d1 = c.json("customer", "show", "D1")
    check(len(d1["identifiers"]) == 2 and d1["segments"] == ["new", "vip"], d1)
    check(all(k["source"] == "import" and k["policy_version"] == "v7" for k in d1["consents"]),
          d1["consents"])
    c.checkpoint()

    cases = [
        ("customer_ref,identifiers\n", "line 1: header"),
        ("", "empty file"),
        ("customer_ref,identifiers,consents,segments\nE1,,,\nE2,ibeacon nope,,\n",
         "line 3:"),
        ("customer_ref,identifiers,consents,segments\nE1,,,\nE1,,,\n", "line 3: customer 'E1'"),
        ("customer_ref,identifiers,consents,segments\nE1,,,\nD1,,,\n", "already exists"),
        ("customer_ref,identifiers,consents,segments\nE1,irk " + IRK + ",,\n",
         "line 2: irk identifier is already enrolled"),
        ("customer_ref,identifiers,consents,segments\nE1,,marketing,\n", "line 2: unknown "
         "consent purpose"),
        ("customer_ref,identifiers,consents,segments\nE1,,,a|a\n", "listed twice"),
        ("customer_ref,identifiers,consents,segments\nE1,,\n", "line 2: expected 4 fields"),
        ("customer_ref,identifiers,consents,segments\nE1,\"x,,\n", "unterminated"),
        ("customer_ref,identifiers,consents,segments\nE1,irk 00,,\n", "32 hex digits"),
        ("customer_ref,identifiers,consents,segments\nE1,,presence/2001-01-01,\n", "past"),
    ]
    for i, (text, needle) in enumerate(cases):
        path = os.path.join(c.tmp, f"bad{i}.csv")
        with open(path, "w") as f:
            f.write(text)
        c.fails(65, needle, "import", path)
    c.fails(65, "cannot read", "import", os.path.join(c.tmp, "missing.csv"))
    check("E1" not in c.ok("customer", "list"), "partial import")
    # standard input
    p = c.run("import", "-", stdin="customer_ref,identifiers,consents,segments\nS1,,,\n")
    check(p.returncode == 0 and "imported 1 customers" in p.stdout, p.stdout + p.stderr)


HEAD = "customer_ref,identifiers,consents,segments\n"


def _csv(c, name, text):
    path = os.path.join(c.tmp, name)
    with open(path, "w") as f:
        f.write(HEAD + text)
    return path


def _current(c, ref):
    """purpose -> (channels, withdrawn) of ref's consents in force or ended."""
    out = {}
    for k in c.json("consent", "list", ref):
        out[k["purpose"]] = (",".join(k["channels"]), k.get("withdrawn_at") is not None)
    return out


def _listed(c, ref):
    return next(r for r in c.json("customer", "list") if r["customer_ref"] == ref)


def case_import_update(c):
    """A CRM export applied to an existing database: the default mode refuses
    it, --update adds and changes, leaves everyone else alone and says so."""
    c.populated()
    again = _csv(c, "again.csv", f"C1,ibeacon {UUID}:1:2,presence;retargeting@push+email,vip\n"
                 f"C8,irk {IRK},presence,\n")
    c.checkpoint()
    msg = c.fails(65, "line 2: customer 'C1' already exists", "import", again)
    check("--update" in msg, msg)
    out = c.ok("import", "--update", "--policy", "v2", again)
    check(out.startswith(f"update from {again}: 1 added, 1 changed, 0 withdrawn, "
                         "0 unchanged"), out)
    d1 = c.json("customer", "show", "C1")
    check(d1["segments"] == ["first-flat", "vip"], d1)
    row = _listed(c, "C1")
    check(row["presence"] == "active" and row["retargeting"] == "active", row)
    cur = _current(c, "C1")
    check(cur["retargeting"] == ("push,email", False), cur)
    check(_listed(c, "C7")["presence"] == "none", "C7 touched")
    # the same file once more: nothing to do
    r = c.json("import", "--update", "--policy", "v2", again)
    check((r["mode"], r["added"], r["changed"], r["withdrawn"], r["unchanged"]) ==
          ("update", 0, 0, 0, 2), r)
    # update never takes an identifier from its holder
    moved = _csv(c, "moved.csv", f"C7,ibeacon {UUID}:1:2,,\n")
    c.checkpoint()
    c.fails(65, "line 2: ibeacon identifier is already enrolled to another customer",
            "import", "--update", moved)
    c.fails(64, "exclude each other", "import", "--update", "--sync", moved)


def case_import_compacts(c):
    """The first import into a store without customers leaves the file packed
    (as small as VACUUM makes it); an import into a store that has customers
    does not rewrite the file."""
    c.ok("init")
    rows = "".join(f"K{i:04d},ibeacon {UUID}:7:{i + 1},presence;retargeting@push,vip\n"
                   for i in range(3000))
    first = _csv(c, "first.csv", rows)
    r = c.json("import", first)
    check(r["added"] == 3000 and r["compacted"] is True, r)
    con = sqlite3.connect(c.db)
    check(con.execute("PRAGMA freelist_count").fetchone()[0] == 0, "free pages left")
    packed = os.path.join(c.tmp, "packed.db")
    con.execute("VACUUM INTO ?", (packed,))
    con.close()
    check(os.path.getsize(c.db) == os.path.getsize(packed),
          f"{os.path.getsize(c.db)} bytes, {os.path.getsize(packed)} after VACUUM")
    more = _csv(c, "more.csv", f"K9999,ibeacon {UUID}:8:1,presence,\n")
    r = c.json("import", more)
    check(r["added"] == 1 and r["compacted"] is False, r)
    check(len(c.json("customer", "show", "K0042")["identifiers"]) == 1, "listing")


def case_import_sync(c):
    """--sync makes the database equal to the file: what the file no longer
    grants is withdrawn through the same path as consent withdraw, queued
    messages of those consents included; unlisted customers are kept."""
    c.populated()
    c.ok("consent", "grant", "C7", "presence")
    c.ok("identifier", "add", "C7", "irk", IRK)
    c.sql("INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
          "SELECT 't-c1', 1, 'beacongw/v1/s/g/trigger', '{}', id FROM customers "
          "WHERE customer_ref = 'C1';"
          "INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
          "SELECT 'v-c7', 2, 'beacongw/v1/s/g/visit', '{}', id FROM customers "
          "WHERE customer_ref = 'C7';"
          "INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
          "VALUES ('t-none', 3, 'beacongw/v1/s/g/trigger', '{}', NULL);")
    # C1 keeps presence only (retargeting and segment dropped), C9 is new,
    # C7 is not in the file.
    path = _csv(c, "crm.csv", f"C1,ibeacon {UUID}:1:2,presence,\nC9,,presence,vip\n")
    r = c.json("import", "--sync", path)
    check((r["mode"], r["added"], r["changed"], r["withdrawn"], r["unchanged"]) ==
          ("sync", 1, 2, 2, 0), r)
    check(r["segment_memberships_removed"] == 1 and r["identifiers_removed"] == 0, r)
    check(_current(c, "C1") == {"presence": ("", False), "retargeting": ("push", True)},
          _current(c, "C1"))
    check(_current(c, "C7") == {"presence": ("", True)}, _current(c, "C7"))
    # withdrawn, not removed: C7 and its identifier stay, with the history
    c7 = c.json("customer", "show", "C7")
    check(len(c7["identifiers"]) == 1, c7)
    left = [t for (t,) in c.query("SELECT trigger_id FROM outbox ORDER BY id")]
    check(left == ["t-none"], f"queued rows of withdrawn consents still there: {left}")
    drops = c.query("SELECT count(*) FROM audit WHERE action = 'consent.withdraw' "
                    "AND after LIKE '%\"queued_dropped\":1%'")[0][0]
    check(drops == 2, f"{drops} withdrawals recorded a dropped row")
    # the same file again: all current, and the counts say so on a terminal line
    out = c.ok("import", "--sync", path)
    check(out.startswith(f"sync from {path}: 0 added, 0 changed, 0 withdrawn, 2 unchanged"),
          out)
    # an emptied file withdraws everyone's consents and deletes no one
    empty = _csv(c, "empty.csv", "")
    r = c.json("import", "--sync", empty)
    check((r["added"], r["changed"], r["withdrawn"]) == (0, 2, 2), r)
    check(len(c.json("customer", "list")) == 3, "customers deleted")


def case_import_sync_bad_row(c):
    """A bad row anywhere (here after rows that would withdraw and add)
    leaves the database byte-for-byte as it was, in either mode."""
    c.populated()
    c.sql("INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
          "SELECT 't-c1', 1, 'beacongw/v1/s/g/trigger', '{}', id FROM customers "
          "WHERE customer_ref = 'C1';")
    c.checkpoint()
    cases = [
        (f"C1,,presence,\nC5,,presence,\nC6,ibeacon nope,,\nC7,,,\n", "line 4:"),
        ("C1,,presence;retargeting,\n", "line 2: retargeting consent needs at least one "
         "channel"),
        ("C1,,presence,\nC1,,,\n", "line 3: customer 'C1' is listed twice"),
        (f"C5,irk {IRK},,\nC6,irk {IRK},,\n", "line 3: irk identifier is"),
        ("C1,,presence;presence,\n", "listed twice"),
    ]
    for i, (text, needle) in enumerate(cases):
        path = _csv(c, f"bad{i}.csv", text)
        for mode in ("--update", "--sync"):
            c.fails(65, needle, "import", mode, path)
    check(c.query("SELECT count(*) FROM outbox")[0][0] == 1, "queued row lost")
    # the default mode refuses the channel-less grant with the same words
    path = _csv(c, "new.csv", "N1,,retargeting,\n")
    c.fails(65, "needs at least one channel", "import", path)


def _needles(values):
    out = []
    for v in values:
        out.append(v.encode())
        out.append(v.upper().encode())
    return out


def case_forget_scrubs(c):
    c.ok("init")
    ref = "CRM-ZQXJ-7731"
    c.ok("customer", "add", ref, "--segment", "vip")
    c.ok("customer", "add", "KEEP-1")
    c.ok("identifier", "add", ref, "ibeacon", f"{UUID}:4242:4343")
    c.ok("identifier", "add", ref, "eddystone-uid", f"{NS}:{INST}")
    c.ok("identifier", "add", ref, "eddystone-eid", f"{EIDKEY}:9:12")
    c.ok("identifier", "add", ref, "irk", IRK)
    c.ok("identifier", "add", "KEEP-1", "ibeacon", f"{UUID2}:1:1")
    c.ok("consent", "grant", ref, "presence")
    c.ok("consent", "grant", ref, "retargeting", "--channel", "push")
    # Free-text sources: one naming a device, one as a signed MQTT grant
    # writes it (pointing back to a payload that names the customer).
    c.ok("consent", "grant", ref, "presence", "--source", "tablet-of-bob-QX17")
    c.ok("consent", "grant", ref, "retargeting", "--channel", "push", "--source",
         "mqtt seq 4242917")
    c.ok("campaign", "add", "k", "--zone", "z", "--event", "enter")
    c.sql("INSERT INTO visits (customer_id, zone, entered_at) VALUES (1, 'z', 1);"
          "INSERT INTO trigger_log (trigger_id, customer_id, campaign_id, at) "
          "VALUES ('trig-qq-1', 1, 1, 1);"
          "INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) VALUES "
          f"('trig-qq-2', 1, 't', '{{\"customer_ref\":\"{ref}\",\"irk\":\"{IRK}\"}}', 1);")
    # many more rows so pages split and move before the erasure
    for i in range(30):
        c.ok("customer", "add", f"FILL-{i:03d}")
    raw = [bytes.fromhex(UUID.replace("-", "")), bytes.fromhex(IRK), bytes.fromhex(EIDKEY),
           bytes.fromhex(NS), bytes.fromhex(INST)]
    needles = _needles([ref, UUID, UUID.replace("-", ""), IRK, EIDKEY, NS, INST,
                        f"{UUID}:4242:4343", "trig-qq-", "tablet-of-bob-QX17",
                        "mqtt seq 4242917"]) + raw

    def found():
        hits = []
        for suffix in ("", "-wal", "-journal"):
            path = c.db + suffix
            if os.path.exists(path):
                data = open(path, "rb").read()
                hits += [(suffix, n) for n in needles if n in data]
        return hits

    check(found(), "the search finds nothing even before forget: test is broken")
    out = c.ok("forget", ref, "--yes")
    check("vacuumed" in out, out)
    hits = found()
    check(not hits, f"found after forget: {hits}")
    check("KEEP-1" in c.ok("customer", "list"), "other customer lost")
    check(c.json("customer", "show", "KEEP-1")["identifiers"][0]["value"] == f"{UUID2}:1:1",
          "other identifier lost")
    tomb = [a for a in c.json("audit") if a["action"] == "forget"]
    check(len(tomb) == 1 and tomb[0]["customer_ref"] is None, tomb)
    # Their earlier rows: action and time, nothing of what they held.
    rows = c.query("SELECT action, before, after FROM audit WHERE customer_id = 1 "
                   "AND action <> 'forget'")
    check(len(rows) >= 8, f"the audit keeps the history's actions: {rows}")
    check(all(b is None and a is None for _, b, a in rows), f"audit rows not emptied: {rows}")
    # Still append-only for everyone else.
    try:
        c.query("UPDATE audit SET after = NULL WHERE customer_id = 2")
        check(False, "an audit row of a living customer could be changed")
    except sqlite3.DatabaseError as e:
        check("append-only" in str(e), str(e))


def case_export_complete(c):
    c.ok("init")
    ref = "EXP-1"
    c.ok("customer", "add", ref, "--segment", "vip", "--segment", "new")
    c.ok("customer", "add", "OTHER")
    c.ok("identifier", "add", ref, "ibeacon", f"{UUID}:5:6")
    c.ok("identifier", "add", ref, "irk", IRK)
    c.ok("identifier", "add", "OTHER", "ibeacon", f"{UUID}:7:7")
    c.ok("consent", "grant", ref, "presence")
    c.ok("consent", "withdraw", ref, "presence")
    c.ok("consent", "grant", ref, "presence", "--policy", "v2")
    c.ok("consent", "grant", "OTHER", "presence")
    c.ok("campaign", "add", "k", "--zone", "z", "--event", "enter")
    now = int(time.time())
    c.sql(f"INSERT INTO visits (customer_id, zone, entered_at, exited_at, dwell_s, max_rssi) "
          f"VALUES (1, 'z', {now - 100}, {now - 50}, 50, -60), (1, 'y', {now - 40}, NULL, "
          f"NULL, -70), (2, 'z', {now}, NULL, NULL, -50);"
          f"INSERT INTO trigger_log (trigger_id, customer_id, campaign_id, at) VALUES "
          f"('t-1', 1, 1, {now}), ('t-2', 2, 1, {now});"
          f"INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) VALUES "
          f"('t-1', 1, 'top', '{{\"id\":\"t-1\"}}', 1), ('t-2', 2, 'top', '{{}}', 2);"
          f"INSERT INTO consents_archive (customer_id, purpose, channels, granted_at, "
          f"expires_at, source, policy_version, archived_at) VALUES "
          f"(1, 'retargeting', 'push', 1, 2, 'app', 'v1', 3);")
    doc = json.loads(c.ok("export", ref))
    con = sqlite3.connect(c.db)

    def n(sql):
        return con.execute(sql).fetchone()[0]
    check(doc["customer"]["customer_ref"] == ref, doc["customer"])
    check(len(doc["identifiers"]) == n("SELECT count(*) FROM identifiers WHERE customer_id=1"),
          "identifiers")
    check(len(doc["consents"]) == n("SELECT count(*) FROM consents WHERE customer_id=1") == 2,
          "consents")
    check(len(doc["consents_archived"]) == 1, "archive")
    check(sorted(doc["segments"]) == ["new", "vip"], doc["segments"])
    check(len(doc["visits"]) == 2 and doc["visits"][0]["dwell_s"] == 50, doc["visits"])
    check([t["trigger_id"] for t in doc["trigger_history"]] == ["t-1"], doc["trigger_history"])
    check([t["trigger_id"] for t in doc["pending_triggers"]] == ["t-1"], "pending")
    check(len(doc["audit"]) == n("SELECT count(*) FROM audit WHERE customer_id=1"), "audit")
    text = json.dumps(doc)
    check(IRK not in text and "key_fingerprint" in text, "key shown")
    check("OTHER" not in text and ":7:7" not in text and "t-2" not in text, "other person")


def _aes(key, block):
    p = subprocess.run(["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", key],
                       input=block, capture_output=True, check=True)
    return p.stdout


def case_eid(c):
    key = "e2b2ac2a3f2e1d0c0b0a09080706050f"
    for k, t in ((0, 0), (10, 1_700_000_000), (15, 0xffffffff), (7, 12345)):
        # Oracle: the Eddystone-EID construction with openssl's AES.
        tk = _aes(key, bytes(11) + b"\xff" + bytes(2) + (t >> 16).to_bytes(2, "big"))
        q = (t >> k) << k
        eid = _aes(tk.hex(), bytes(11) + bytes([k]) + q.to_bytes(4, "big"))[:8].hex()
        out = c.ok("eid", "--key", key, "--exponent", str(k), "--time", str(t), db=False)
        check(out.strip() == eid, f"k={k} t={t}: {out.strip()} != {eid}")
    j = c.json("eid", "--key", key, "--exponent", "3", "--time", "17", db=False)
    check(j["period_start"] == 16 and len(j["eid"]) == 16, j)
    c.fails(65, "--exponent", "eid", "--key", key, "--exponent", "16", "--time", "1", db=False)
    c.fails(65, "--key", "eid", "--key", key[:-2], "--exponent", "1", "--time", "1", db=False)
    c.fails(65, "--time", "eid", "--key", key, "--exponent", "1", "--time", "-1", db=False)
    c.fails(64, "required", "eid", "--key", key, db=False)


def case_uicr(c):
    """The UICR words carry the enrolled key, exponent and clock base; reading a
    key is audited; a customer without an EID tag is a clear error."""
    key = "000102030405060708090a0b0c0d0e0f"
    c.ok("init")
    c.ok("customer", "add", "tag-owner")
    c.ok("identifier", "add", "tag-owner", "eddystone-eid", key + ":10:1000")
    j = c.json("uicr", "tag-owner", "--at", "@1800000000")
    words = [int(w, 16) for w in j["words"]]
    check(len(words) == 32 and j["address"] == 0x10001080, j)
    check(words[0] == 0x46574742 and words[1] == 1, "magic and version: %r" % words[:2])
    raw = b"".join(w.to_bytes(4, "little") for w in words)
    check(bytes.fromhex(key) in raw, "the enrolled key is in the UICR words")
    check(j["exponent"] == 10 and j["clock_base"] == 1800000000 - 1000, j)
    text = c.ok("uicr", "tag-owner")
    check(text.count("flash fillw 0x100010") == 32, text)
    audit = c.json("audit")
    check(sum(1 for a in audit if a.get("action") == "identifier.uicr") == 2, audit)
    c.ok("customer", "add", "no-tag")
    c.fails(65, "no eddystone-eid", "uicr", "no-tag")
    c.fails(65, "nobody", "uicr", "nobody")
    c.fails(64, "missing", "uicr")


def case_import_progress(c):
    """A progress bar on a terminal, nothing on a pipe (checked in import_errors)."""
    import pty
    c.ok("init")
    path = os.path.join(c.tmp, "p.csv")
    with open(path, "w") as f:
        f.write("customer_ref,identifiers,consents,segments\n")
        for i in range(20000):
            f.write(f"P{i},,presence,\n")
    master, slave = pty.openpty()
    p = subprocess.Popen([CTL, "--db", c.db, "import", path], stdout=subprocess.PIPE,
                         stderr=slave, text=True)
    os.close(slave)
    out, _ = p.communicate(timeout=300)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    check(p.returncode == 0 and "imported 20000 customers" in out, out)
    check(b"\r[" in tty and b"100%" in tty and b"20000 rows" in tty, f"no progress bar: {tty!r}")


def case_import_million(c):
    rows = int(os.environ.get("BGW_IMPORT_ROWS", "1000000"))
    c.ok("init")
    path = os.path.join(c.tmp, "million.csv")
    with open(path, "w") as f:
        f.write("customer_ref,identifiers,consents,segments\n")
        for i in range(rows):
            f.write(f"C{i:07d},ibeacon {UUID}:{i >> 16}:{i & 0xffff}|irk {i:032x},"
                    f"presence;retargeting@push+email,seg{i % 10}\n")
    t0 = time.monotonic()
    p = c.run("import", path, timeout=850)
    secs = time.monotonic() - t0
    check(p.returncode == 0, p.stderr)
    print(f"bench: import of {rows} rows took {secs:.1f} s ({p.stdout.strip()})")
    con = sqlite3.connect(c.db)
    check(con.execute("SELECT count(*) FROM customers").fetchone()[0] == rows, "customers")
    check(con.execute("SELECT count(*) FROM identifiers").fetchone()[0] == 2 * rows, "ids")
    check(con.execute("SELECT count(*) FROM consents").fetchone()[0] == 2 * rows, "consents")
    con.close()
    last = c.json("customer", "show", f"C{rows - 1:07d}")
    check(len(last["identifiers"]) == 2 and last["segments"] == [f"seg{(rows - 1) % 10}"], last)


def on_terminal(c, answer, *args):
    """Runs beaconctl with a pseudo-terminal as stdin, answers the question."""
    import pty
    import select
    cmd = [CTL, "--db", c.db] + list(args)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CTL, cmd)
    out = b""
    sent = False
    while True:
        r, _, _ = select.select([fd], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not sent and b"[y/N]" in out:
            os.write(fd, answer.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace"), sent


def case_confirm(c):
    """Destructive commands ask on a terminal, take --yes, refuse a script that
    said neither; nothing changes until the answer is yes."""
    c.populated()
    c.ok("campaign", "add", "door", "--zone", "z", "--event", "enter")
    c.checkpoint()
    for args in (("forget", "C1"), ("customer", "remove", "C7"), ("campaign", "remove", "door"),
                 ("purge",), ("purge", "--days", "7")):
        c.fails(64, "--yes", *args)
    for args in (("forget", "C1"), ("customer", "remove", "C7"), ("campaign", "remove", "door"),
                 ("purge",)):
        before = c.state()
        code, out, asked = on_terminal(c, "n", *args)
        check(asked and code == 1 and "nothing changed" in out, f"{args}: {code} {out!r}")
        check(c.state() == before, f"{args}: changed after 'n'")
    code, out, asked = on_terminal(c, "y", "customer", "remove", "C7")
    check(asked and code == 0 and "removed" in out, f"remove on 'y': {code} {out!r}")
    code, out, asked = on_terminal(c, "yes", "campaign", "remove", "door")
    check(asked and code == 0, f"campaign remove on 'yes': {code} {out!r}")
    check(c.json("campaign", "list") == [], "campaign not removed")
    c.ok("--yes", "forget", "C1")
    check(c.json("customer", "list") == [], "forget --yes (global option)")


def case_beacons(c):
    """beaconctl beacon: every type, normalised; bad values and duplicates
    change nothing; remove asks first; each change is audited."""
    c.ok("init")
    c.ok("beacon", "add", "door", "ibeacon", UUID.upper() + ":7:9", "--place", "front door")
    c.ok("beacon", "add", "wall", "eddystone-uid", "8B0CA750E7A74E14BD99:0000000000E1")
    c.ok("beacon", "add", "shelf", "eddystone-ns", "00112233445566778899")
    c.ok("beacon", "add", "poster", "eddystone-url", "https://example.com/sale")
    c.ok("beacon", "add", "till", "tlm", "c0:ff:ee:00:00:01", "--place", "till 2")
    rows = c.json("beacon", "list")
    got = {r["name"]: (r["type"], r["value"], r["place"]) for r in rows}
    check(got == {"door": ("ibeacon", UUID + ":7:9", "front door"),
                  "wall": ("eddystone-uid", "8b0ca750e7a74e14bd99:0000000000e1", ""),
                  "shelf": ("eddystone-ns", "00112233445566778899", ""),
                  "poster": ("eddystone-url", "https://example.com/sale", ""),
                  "till": ("tlm", "C0:FF:EE:00:00:01", "till 2")}, got)
    c.checkpoint()
    for args, word in ((("door2", "ibeacon", UUID + ":7:9"), "already registered"),
                       (("door", "tlm", "C0:FF:EE:00:00:02"), "already registered"),
                       (("x", "ibeacon", UUID + ":70000:1"), "MAJOR"),
                       (("x", "eddystone-uid", "00112233"), "NAMESPACE:INSTANCE"),
                       (("x", "eddystone-url", "ftp://x"), "http"),
                       (("x", "tlm", "C0:FF:EE"), "address"),
                       (("x", "altbeacon", "00"), "unknown beacon type"),
                       (("bad name", "tlm", "C0:FF:EE:00:00:03"), "beacon")):
        c.fails(65, word, "beacon", "add", *args)
    c.fails(64, "--yes", "beacon", "remove", "door")
    c.fails(65, "no beacon", "beacon", "remove", "nope", "--yes")
    c.ok("beacon", "remove", "door", "--yes")
    check("door" not in [r["name"] for r in c.json("beacon", "list")], "door removed")
    actions = [a["action"] for a in c.json("audit")]
    check(actions.count("beacon.add") == 5 and actions.count("beacon.remove") == 1, actions)


def main():
    if len(sys.argv) != 2 or f"case_{sys.argv[1]}" not in globals():
        print(__doc__)
        return 64
    if not os.access(CTL, os.X_OK):
        print(f"skipped: {CTL} not built")
        return 77
    with tempfile.TemporaryDirectory(prefix="bgw-ctl-") as tmp:
        try:
            globals()[f"case_{sys.argv[1]}"](Ctl(tmp))
        except Failure as e:
            print(f"FAIL {sys.argv[1]}: {e}")
            return 1
    print(f"ok {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
