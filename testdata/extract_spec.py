#!/usr/bin/env python3
"""Extract the paths the SDK's tests check requests against from the whole
Verify v2 OpenAPI spec, with every schema they reference, so the module
builds and tests without the whole file (which kin-openapi refuses: one of
its Passkeys examples breaks its own schema).

    python3 testdata/extract_spec.py ../shared/spec/twilio_verify_v2.json testdata
"""
import json
import sys

SUBSETS = {
    "verify_v2_services.json": ["/v2/Services", "/v2/Services/{Sid}"],
    "verify_v2_verifications.json": [
        "/v2/Services/{ServiceSid}/Verifications",
        "/v2/Services/{ServiceSid}/Verifications/{Sid}",
        "/v2/Services/{ServiceSid}/VerificationCheck",
    ],
    "verify_v2_passkeys.json": [
        "/v2/Services/{ServiceSid}/Passkeys/Factors",
        "/v2/Services/{ServiceSid}/Passkeys/VerifyFactor",
        "/v2/Services/{ServiceSid}/Passkeys/Challenges",
        "/v2/Services/{ServiceSid}/Passkeys/ApproveChallenge",
    ],
}


def refs(node, out):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main(src, dst):
    with open(src) as f:
        spec = json.load(f)
    schemas = spec["components"]["schemas"]
    for name, paths in SUBSETS.items():
        sub = {k: spec[k] for k in ("openapi", "info", "servers", "security")}
        sub["paths"] = {p: spec["paths"][p] for p in paths}
        needed, seen = set(), set()
        refs(sub["paths"], needed)
        while needed - seen:
            n = (needed - seen).pop()
            seen.add(n)
            refs(schemas[n], needed)
        sub["components"] = {
            "securitySchemes": spec["components"]["securitySchemes"],
            "schemas": {n: schemas[n] for n in sorted(seen)},
        }
        tags = {t for item in sub["paths"].values() for op in item.values()
                if isinstance(op, dict) for t in op.get("tags", [])}
        sub["tags"] = [t for t in spec.get("tags", []) if t["name"] in tags]
        with open(f"{dst}/{name}", "w") as f:
            json.dump(sub, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
