"""Hands Firebreak's exports to the tools that consume them and reports what they say.

Usage: check.py stix FILE... | misp FILE...
Prints one JSON object per file: {"file", "ok", "problems": [...], ...facts}. Exits 0 even
when a file fails, so the caller (tests/exports.spec.js) can show every problem at once.
"""

import copy
import json
import os
import subprocess
import sys


def check_stix(path):
    problems = []
    # The OASIS validator, strict: every SHOULD is a MUST.
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "stix2_validator"), "--strict", path],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 or "STIX JSON: Valid" not in run.stdout:
        problems.append("stix2-validator --strict: " + (run.stdout + run.stderr).strip())
    import stix2

    with open(path) as f:
        text = f.read()
    try:
        bundle = stix2.parse(text, allow_custom=False)
        types = sorted({o.type for o in bundle.objects})
        patterns = [o.pattern for o in bundle.objects if o.type == "indicator"]
    except Exception as e:  # noqa: BLE001 - the message is the result
        problems.append(f"stix2.parse: {type(e).__name__}: {e}")
        types, patterns = [], []
    return {"types": types, "patterns": patterns, "problems": problems}


def check_misp(path):
    problems = []
    import jsonschema
    import pymisp
    from pymisp import MISPEvent

    data_dir = os.path.join(os.path.dirname(pymisp.__file__), "data")
    with open(os.path.join(data_dir, "schema.json")) as f:
        schema = json.load(f)
    with open(os.path.join(data_dir, "describeTypes.json")) as f:
        mappings = json.load(f)["result"]["category_type_mappings"]
    with open(path) as f:
        data = json.load(f)
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as e:
        problems.append(f"schema.json: {e.message}")
    event = MISPEvent()
    try:
        # load() takes the dictionary apart; keep ours for the checks below.
        event.load(copy.deepcopy(data))
    except Exception as e:  # noqa: BLE001
        problems.append(f"MISPEvent.load: {type(e).__name__}: {e}")
    for attribute in data.get("Event", {}).get("Attribute", []):
        allowed = mappings.get(attribute.get("category"), [])
        if attribute.get("type") not in allowed:
            # PyMISP would quietly change the category; MISP itself refuses the pair.
            problems.append(
                f"{attribute.get('value')!r}: type {attribute.get('type')} is not allowed in category {attribute.get('category')}"
            )
    return {
        "attributes": [
            {"type": a.type, "category": a.category, "value": a.value, "to_ids": a.to_ids,
             "tags": [t.name for t in a.tags]}
            for a in event.attributes
        ],
        "tags": [t.name for t in event.tags],
        "problems": problems,
    }


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    check = {"stix": check_stix, "misp": check_misp}[kind]
    for path in files:
        result = check(path)
        result["file"] = path
        result["ok"] = not result["problems"]
        print(json.dumps(result))


if __name__ == "__main__":
    main()
