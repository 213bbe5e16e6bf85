#!/usr/bin/python3
"""The manual pages render without a warning, agree with --help, and
beacongw.conf(5) documents every key of the configuration table.

For each program built, every long option its --help lists (for beaconctl
also every 'beaconctl COMMAND --help') appears in its page, and every long
option the page documents appears in --help: examples (.EX blocks and the
EXAMPLES section) are left out, as they may show other programs' options.
"""
import glob
import gzip
import os
import re
import subprocess
import sys

SRC = os.environ["BGW_SOURCE_DIR"]
BUILD = os.environ["BGW_BUILD_DIR"]
MAN_DIR = os.path.join(SRC, "docs", "man")
OPTION = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*[a-z0-9])")
# A page may quote another program's command line ("beacongw --source ...").
PROGRAMS = re.compile(r"(?<![\w/.-])(beacongw|beaconctl|beaconsim|systemctl|journalctl|sqlite3|"
                      r"mosquitto_sub|mosquitto_pub|mosquitto|btmon|man|dpkg|apt|apt-get)(?![\w.-])")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def roff_text(path, drop_examples):
    """The page's text with escapes removed: '\\-' is '-', fonts are gone."""
    lines = []
    in_ex = in_examples = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(".EX"):
                in_ex = True
            elif line.startswith(".EE"):
                in_ex = False
                continue
            if line.startswith(".SH"):
                in_examples = "EXAMPLE" in line.upper()
            if drop_examples and (in_ex or in_examples):
                continue
            if line.startswith('.\\"'):
                continue
            line = line.replace("\\-", "-").replace("\\(en", "-")
            # mdoc: "Fl -json" renders as --json, "Fl c" as -c.
            line = re.sub(r"\bFl\s+(?=\S)", "-", line)
            line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
            line = re.sub(r"\\[&%:|^]", "", line)
            lines.append(line)
    return "".join(lines)


def render(path):
    """man --warnings and groff -ww: no diagnostics, exit status 0."""
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    checks = [
        ["man", "--warnings", "-E", "UTF-8", "-l", path],
        ["groff", "-ww", "-z", "-man", "-Kutf8", path],
    ]
    for cmd in checks:
        try:
            r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        except FileNotFoundError:
            print("note: %s not installed, not run" % cmd[0])
            continue
        if r.returncode != 0 or r.stderr.strip():
            fail("%s: %s: exit %d: %s" % (os.path.basename(path), cmd[0], r.returncode,
                                          r.stderr.strip()))


def run_help(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30)
    if r.returncode != 0:
        fail("%s exits %d" % (" ".join(argv[-2:]), r.returncode))
    return r.stdout


def beaconctl_commands(main_help):
    """Command names from the 'Commands:' block of beaconctl --help."""
    names, inside = [], False
    for line in main_help.splitlines():
        if line.strip().lower().startswith("commands"):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+([a-z][a-z-]*)\s", line)
            if not m:
                if line.strip():
                    break
                continue
            names.append(m.group(1))
    return names


def own_options(prog, text):
    """Long options in text, except those following another program's name."""
    found = set()
    for line in text.splitlines():
        for m in OPTION.finditer(line):
            names = PROGRAMS.findall(line[:m.start()])
            if names and names[-1] != prog:
                continue
            found.add(m.group(1))
    return found


def help_options(prog):
    exe = os.path.join(BUILD, prog)
    text = run_help([exe, "--help"])
    if prog == "beaconctl":
        commands = beaconctl_commands(text)
        if not commands:
            fail("beaconctl --help lists no commands")
        for cmd in commands:
            text += run_help([exe, cmd, "--help"])
    return set(OPTION.findall(text))


def check_options(prog, page):
    in_help = help_options(prog)
    in_page_all = set(OPTION.findall(roff_text(page, drop_examples=False)))
    in_page = own_options(prog, roff_text(page, drop_examples=True))
    for opt in sorted(in_help - in_page_all):
        fail("%s --help lists --%s, %s does not" % (prog, opt, os.path.basename(page)))
    for opt in sorted(in_page - in_help):
        fail("%s documents --%s, %s --help does not" % (os.path.basename(page), opt, prog))
    print("%s: %d long options agree between --help and %s" %
          (prog, len(in_help & in_page_all), os.path.basename(page)))


def config_table_keys():
    """{(section, key): default} of gateway/daemon/config.c's key table
    (default None when the table gives none or an empty one)."""
    path = os.path.join(SRC, "gateway", "daemon", "config.c")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        src = f.read()
    start = src.find("struct config_key keys[]")
    if start < 0:
        return None
    table = src[start:src.find("};", start)]
    keys = {}
    # { "section", "name", CFG_TYPE, offset..., min, max, choices, "default" or NULL, "doc"...
    entry = re.compile(r'\{\s*"([a-z_]+)",\s*"([a-z_0-9]+)",\s*CFG_\w+,\s*'
                       r'(?:F\([^)]*\)|0,\s*0),\s*(?:NOLIM|[-\d.]+,\s*[-\d.]+),\s*\w+,\s*'
                       r'(NULL|"[^"]*")')
    for m in entry.finditer(table):
        default = None if m.group(3) == "NULL" else m.group(3).strip('"')
        keys[(m.group(1), m.group(2))] = default or None
    names = set(re.findall(r'\{\s*"([a-z_]+)",\s*"([a-z_0-9]+)",\s*CFG_', table))
    for missing in names - set(keys):
        keys[missing] = "?"  # an entry this parser does not follow: defaults not compared
    return keys


def conf_page_keys(page):
    """{(section, key): default} documented in beacongw.conf(5): .SS "[section]",
    then .BI "key = " and a "Default: \\fBVALUE\\fR." or "Default: unset." line."""
    keys, section, key = {}, None, None
    with open(page, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'^\.SS\s+"?\[([a-z_]+)\]"?', line)
            if m:
                section = m.group(1)
                continue
            if line.startswith(".SH"):
                section = None
            m = re.match(r'^\.B[IR]?\s+"?([a-z_0-9]+)\s*=', line)
            if m and section:
                key = (section, m.group(1))
                keys[key] = "?"
                continue
            m = re.match(r"^Default: (?:\\fB(.*)\\fR|unset)\.$", line.strip())
            if m and key:
                keys[key] = m.group(1).replace("\\-", "-") if m.group(1) else None
                key = None
    return keys


def main():
    pages = sorted(glob.glob(os.path.join(MAN_DIR, "*.[1-8]")))
    names = [os.path.basename(p) for p in pages]
    for required in ("beacongw.8", "beacongw.conf.5"):
        if required not in names:
            fail("docs/man/%s is missing" % required)
    for page in pages:
        render(page)
        with open(page, "rb") as f:
            if b"\t" in f.read():
                fail("%s contains a tab (roff treats it unlike a space)" % os.path.basename(page))
    print("rendered: %s" % ", ".join(names))

    for prog, page in (("beacongw", "beacongw.8"), ("beaconctl", "beaconctl.1"),
                       ("beaconsim", "beaconsim.1")):
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            print("note: %s not built, --help not compared" % prog)
            continue
        path = os.path.join(MAN_DIR, page)
        if not os.path.exists(path):
            fail("%s is built but docs/man/%s does not exist" % (prog, page))
            continue
        check_options(prog, path)

    table = config_table_keys()
    conf_page = os.path.join(MAN_DIR, "beacongw.conf.5")
    if table is None:
        print("note: no configuration key table yet, beacongw.conf(5) not compared")
    elif os.path.exists(conf_page):
        documented = conf_page_keys(conf_page)
        for sec, key in sorted(set(table) - set(documented)):
            fail("beacongw.conf(5) does not document [%s] %s" % (sec, key))
        for sec, key in sorted(set(documented) - set(table)):
            fail("beacongw.conf(5) documents [%s] %s, which the daemon does not know"
                 % (sec, key))
        for k in sorted(set(table) & set(documented)):
            if "?" not in (table[k], documented[k]) and table[k] != documented[k]:
                fail("beacongw.conf(5) gives [%s] %s the default %r, the daemon %r"
                     % (k[0], k[1], documented[k], table[k]))
        print("beacongw.conf(5): %d keys, as in the daemon's table"
              % len(set(table) & set(documented)))

    # The build tree's copies (MANPATH=build/man) are the pages themselves.
    for page in pages:
        name = os.path.basename(page)
        copy = os.path.join(BUILD, "man", "man" + name.rsplit(".", 1)[1], name)
        if not os.path.exists(copy):
            fail("%s not copied to the build tree (%s)" % (name, copy))
        gz = os.path.join(BUILD, "docs", "man" + name.rsplit(".", 1)[1], name + ".gz")
        if os.path.exists(gz):
            with gzip.open(gz, "rb") as z, open(page, "rb") as f:
                if z.read() != f.read():
                    fail("%s: the compressed copy is stale" % name)

    if failures:
        print("%d problem(s) with the manual pages" % len(failures))
        return 1
    print("manual pages OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
