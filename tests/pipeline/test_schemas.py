#!/usr/bin/python3
"""Every payload the pipeline publishes validates against docs/schema/."""
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed")
    sys.exit(77)

SRC = os.environ["BGW_SOURCE_DIR"]
BUILD = os.environ["BGW_BUILD_DIR"]


def schema(name):
    with open(os.path.join(SRC, "docs", "schema", name + ".schema.json")) as f:
        s = json.load(f)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker())


validators = {"trigger": schema("trigger"), "footfall": schema("footfall"),
              "beacons": schema("beacons")}
out = subprocess.run([os.path.join(BUILD, "tests", "pipeline_json_samples")], check=True,
                     capture_output=True, text=True).stdout
seen = {k: 0 for k in validators}
ids = set()
for line in out.splitlines():
    topic, _, payload = line.partition(" ")
    if topic not in validators:
        continue
    doc = json.loads(payload)
    validators[topic].validate(doc)
    seen[topic] += 1
    if topic == "trigger":
        assert doc["id"] not in ids, "duplicate trigger id"
        ids.add(doc["id"])
        assert doc["zone"] == 'entrance "A"', doc
print(seen)
assert seen["trigger"] == 6, seen  # enter, dwell, exit for two customers
assert seen["footfall"] >= 1, seen
assert seen["beacons"] >= 2, seen
kinds = {json.loads(l.partition(" ")[2])["kind"] for l in out.splitlines() if l.startswith("beacons ")}
assert kinds == {"fixed", "tag"}, kinds
# A payload that leaks anything extra is refused by the schemas.
bad = {"site": "s", "gateway": "g", "zone": "z", "period_start": "2026-03-10T09:00:00Z",
       "period_s": 900, "count": 7, "address": "11:22:33:44:55:66"}
assert not validators["footfall"].is_valid(bad)
print("ok")
