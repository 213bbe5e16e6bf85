"""A strict parser of the Prometheus text exposition format 0.0.4, for the
metrics file of the service tests."""
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN)"
SAMPLE_RE = re.compile(r"^(%s)(\{.*\})? (%s)( -?[0-9]+)?$" % (NAME, VALUE))
LABEL_VALUE_RE = re.compile(r'(%s)="((?:[^"\\\n]|\\[\\"n])*)"' % LABEL)
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(Exception):
    pass


def _labels(text, lineno):
    """'{a="x",b="y"}' -> (("a", "x"), ("b", "y")); raises on anything else."""
    inner = text[1:-1]
    out, pos = [], 0
    while pos < len(inner):
        m = LABEL_VALUE_RE.match(inner, pos)
        if not m:
            raise PromError("line %d: bad label set %s" % (lineno, text))
        name = m.group(1)
        if name in dict(out):
            raise PromError("line %d: label %s twice" % (lineno, name))
        value = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        out.append((name, value))
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise PromError("line %d: expected ',' in %s" % (lineno, text))
            pos += 1
            if pos == len(inner):
                raise PromError("line %d: trailing ',' in %s" % (lineno, text))
    return tuple(sorted(out))


def parse_prom(text):
    """Parse the text format strictly. Returns {family: {"type", "help",
    "samples": {labels tuple: float}}}. Rules enforced: UTF-8 lines ending in
    '\\n'; HELP and TYPE at most once per family, TYPE before its samples;
    samples of a family contiguous; every sample has HELP and TYPE; no
    duplicate sample; counters named *_total with finite values >= 0."""
    if not text.endswith("\n"):
        raise PromError("text does not end with a newline")
    fams, order, current = {}, [], None
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            raise PromError("line %d: empty line" % lineno)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.fullmatch(NAME, name):
                    raise PromError("line %d: bad metric name %r" % (lineno, name))
                fam = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
                if fam["samples"]:
                    raise PromError("line %d: %s after samples of %s" % (lineno, parts[1],
                                                                        name))
                key = parts[1].lower()
                if fam[key] is not None:
                    raise PromError("line %d: second %s for %s" % (lineno, parts[1], name))
                if len(parts) < 4 or not parts[3]:
                    raise PromError("line %d: %s without text" % (lineno, parts[1]))
                if key == "type" and parts[3] not in TYPES:
                    raise PromError("line %d: unknown type %r" % (lineno, parts[3]))
                fam[key] = parts[3]
                if name not in order:
                    order.append(name)
                current = name
                continue
            continue   # any other comment
        m = SAMPLE_RE.match(line)
        if not m:
            raise PromError("line %d: not a sample: %r" % (lineno, line))
        name, labels, value = m.group(1), m.group(2), m.group(3)
        if name != current:
            if name in fams and fams[name]["samples"]:
                raise PromError("line %d: samples of %s are not together" % (lineno, name))
            raise PromError("line %d: sample %s without HELP/TYPE" % (lineno, name))
        fam = fams[name]
        if fam["type"] is None or fam["help"] is None:
            raise PromError("line %d: %s lacks HELP or TYPE" % (lineno, name))
        key = _labels(labels, lineno) if labels else ()
        if key in fam["samples"]:
            raise PromError("line %d: duplicate sample %s%s" % (lineno, name, labels or ""))
        v = float(value)
        if fam["type"] == "counter":
            if not name.endswith("_total"):
                raise PromError("line %d: counter %s not named *_total" % (lineno, name))
            if not v >= 0 or v == float("inf"):
                raise PromError("line %d: counter %s = %s" % (lineno, name, value))
        fam["samples"][key] = v
    for name, fam in fams.items():
        if not fam["samples"]:
            raise PromError("%s has HELP/TYPE but no sample" % name)
    return fams


def value(fams, name, **labels):
    """One sample's value (labels as keyword arguments)."""
    return fams[name]["samples"][tuple(sorted(labels.items()))]


def read_metrics(path):
    with open(path, encoding="utf-8") as f:
        return parse_prom(f.read())
