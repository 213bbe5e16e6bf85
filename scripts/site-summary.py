#!/usr/bin/env python3
"""What a store with several gateways did, against the scenario's ground
truth: each shopper's zone timeline (from the visit topic), moments in two
zones at once, the share of time each shopper was assigned their true zone,
zone changes the truth does not have, triggers beyond caps and cooldowns,
and the site traffic per gateway.

usage: site-summary.py RECEIVED.jsonl TRUTH.jsonl [--speed X] [--radius M]
                       [--customers REF,REF...] [--json]

RECEIVED: lines {"topic", "payload"} as scripts/demo-subscriber.py writes
them; TRUTH: beaconsim --truth. Seconds of the truth farther than --radius
(default 6 m) from every gateway are not counted (the shopper is on the way
in or out, no gateway can be expected to hold them). --customers: whose
time counts (default: every customer the truth names)."""
import calendar
import json
import sys
import time


def iso(ts):
    ts = ts.rstrip("Z")
    base, _, frac = ts.partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + \
        (int(frac) / 1000.0 if frac else 0.0)


def main(argv):
    opts = argv[1:]
    valued = {"--speed", "--radius", "--customers"}
    args = [a for i, a in enumerate(opts) if not a.startswith("--") and
            (i == 0 or opts[i - 1] not in valued)]
    only = set(opts[opts.index("--customers") + 1].split(",")) if "--customers" in opts \
        else None
    speed = float(opts[opts.index("--speed") + 1]) if "--speed" in opts else 1.0
    radius = float(opts[opts.index("--radius") + 1]) if "--radius" in opts else 6.0
    as_json = "--json" in opts
    received, truth_path = args[0], args[1]

    visits, triggers, site = {}, [], {}
    t_first = t_last = None
    with open(received) as f:
        for line in f:
            m = json.loads(line)
            topic, doc = m["topic"], m["payload"]
            leaf = topic.rsplit("/", 1)[-1]
            gw = topic.split("/")[-2]
            if leaf == "visit":
                visits.setdefault(doc["customer_ref"], []).append(
                    (iso(doc["enter"]), iso(doc["exit"]), doc["zone"], doc["gateway"]))
            elif leaf == "trigger":
                triggers.append(doc)
            elif leaf == "presence":
                n, b = site.get(gw, (0, 0))
                site[gw] = (n + 1, b + len(json.dumps(doc, separators=(",", ":"))))
                t = iso(doc["ts"])
                t_first = t if t_first is None else min(t_first, t)
                t_last = t if t_last is None else max(t_last, t)

    truth = {}
    with open(truth_path) as f:
        for line in f:
            d = json.loads(line)
            if only is not None and d["customer"] not in only:
                continue
            wall = iso(d["t"]) - d["s"] + d["s"] / speed
            truth.setdefault(d["customer"], []).append((wall, d["zone"], d["distance_m"]))

    out = {"customers": {}}
    total = hit = 0
    extra_changes = true_visits = 0
    overlaps = multi = 0
    for ref, seconds in sorted(truth.items()):
        vs = sorted(visits.get(ref, []))
        for (a1, b1, z1, g1), (a2, b2, z2, g2) in zip(vs, vs[1:]):
            if a2 < b1 - 0.001:
                overlaps += 1
        inside = [(t, z) for t, z, dist in seconds if dist <= radius]
        if not vs and not inside:
            continue
        got = []
        for t, z in inside:
            got.append({v[2] for v in vs if v[0] <= t < v[1]})
        # Assigned its true zone: that zone and no other at that second.
        n_hit = sum(1 for (t, z), g in zip(inside, got) if g == {z})
        multi += sum(1 for g in got if len(g) > 1)
        total += len(inside)
        hit += n_hit

        def changes(seq):
            seq = [x for x in seq if x]
            return sum(1 for a, b in zip(seq, seq[1:]) if a != b)
        true_seq = [z for _, z in inside]
        extra = max(0, len(vs) - 1 - changes(true_seq)) if vs else 0
        extra_changes += extra
        true_visits += 1 if inside else 0
        out["customers"][ref] = {
            "visits": [{"zone": z, "gateway": g, "from_s": round(a - vs[0][0], 1),
                        "dwell_s": round(b - a, 1)} for a, b, z, g in vs],
            "in_true_zone": round(n_hit / len(inside), 3) if inside else None,
            "extra_zone_changes": extra,
        }

    by_pair = {}
    for t in triggers:
        k = (t["customer_ref"], t["campaign"])
        by_pair[k] = by_pair.get(k, 0) + 1
    out["triggers"] = len(triggers)
    out["beyond_caps"] = sum(n - 1 for n in by_pair.values() if n > 1)
    out["overlaps"] = overlaps
    out["in_true_zone"] = round(hit / total, 3) if total else None
    out["in_several_zones"] = round(multi / total, 3) if total else None
    out["extra_zone_changes_per_visit"] = round(extra_changes / true_visits, 2) \
        if true_visits else None
    span = (t_last - t_first) if t_first is not None and t_last > t_first else 0
    out["site_traffic"] = {gw: {"msgs_per_s": round(n / span, 2) if span else None,
                                "bytes_per_s": round(b / span, 1) if span else None}
                           for gw, (n, b) in sorted(site.items())}
    if as_json:
        print(json.dumps(out, indent=1))
        return 0
    for ref, c in out["customers"].items():
        line = "  ".join("%s@%s %+.0fs %.0fs" % (v["zone"], v["gateway"], v["from_s"],
                                                 v["dwell_s"]) for v in c["visits"])
        print("%-10s %s" % (ref, line or "(no visit)"))
        if c["in_true_zone"] is not None:
            print("%-10s   in its true zone %.0f %% of the time, %d zone change(s) the truth "
                  "does not have" % ("", 100 * c["in_true_zone"], c["extra_zone_changes"]))
    print("moments in two zones at once: %d" % overlaps)
    if out["in_true_zone"] is not None:
        print("assigned the true zone (and no other): %.1f %% of shopper-seconds; in two "
              "zones or more: %.1f %%" % (100 * out["in_true_zone"],
                                          100 * out["in_several_zones"]))
    print("triggers: %d, beyond caps and cooldowns: %d" % (out["triggers"], out["beyond_caps"]))
    for gw, tr in out["site_traffic"].items():
        print("site traffic of %s: %s msg/s, %s B/s" % (gw, tr["msgs_per_s"], tr["bytes_per_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
