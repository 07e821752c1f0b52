#!/usr/bin/env python3
"""Writes webhook_signatures.json: X-Twilio-Signature vectors computed with
Python's hmac, hashlib and base64, independently of the Go code.

    python3 testdata/webhook_signatures.py > testdata/webhook_signatures.json

The signed text is the URL, then each form key and value with no separator,
keys sorted and a repeated key's values sorted (every value counts). A JSON
body is signed through the URL alone, with bodySHA256 = hex SHA-256 of the
raw body appended to its query.
"""
import base64
import hashlib
import hmac
import json
import urllib.parse

TOKEN = "tok3n-s3cret-value-0123456789abcd"
OLD_TOKEN = "old-t0ken-ffffffffffffffffffffffff"
PUBLIC = "https://example.com/hooks/verify"


def sign(token, url, pairs):
    text = url
    for key in sorted({k for k, _ in pairs}):
        for value in sorted(v for k, v in pairs if k == key):
            text += key + value
    mac = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def event(uuid, **extra):
    pairs = [
        ("uuid", uuid),
        ("type", "challenge.approved"),
        ("account_sid", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("service_sid", "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("entity_identity", "ff483d1ff591898a9942916050d2ca3f"),
        ("factor_sid", "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("factor_type", "push"),
        ("factor_friendly_name", "Ada's phone"),
        ("challenge_sid", "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("challenge_status", "approved"),
        ("challenge_details", '{"message":"Log in?","date":"2026-01-02T03:04:05Z","fields":[{"label":"IP","value":"10.0.0.1"}]}'),
        ("challenge_hidden_details", '{"ip":"172.168.1.234"}'),
        ("challenge_metadata", '{"os":"Android"}'),
    ]
    for k, v in extra.items():
        pairs = [(pk, v if pk == k else pv) for pk, pv in pairs]
    return pairs


vectors = []


def form_vector(name, public_url, delivery_url, pairs, sign_tokens_with, tokens, valid,
                signed_url=None, signed_pairs=None, replay=False):
    signature = sign(sign_tokens_with, signed_url or delivery_url, signed_pairs or pairs)
    vectors.append({
        "name": name,
        "public_url": public_url,
        "delivery_url": delivery_url,
        "content_type": "application/x-www-form-urlencoded",
        "body": urllib.parse.urlencode(pairs),
        "tokens": tokens,
        "signature": signature,
        "valid": valid,
        "replay": replay,
    })


form_vector("form as configured", PUBLIC, PUBLIC, event("uuid-0001"), TOKEN, [TOKEN], True)
form_vector("default port added by Twilio", PUBLIC, "https://example.com:443/hooks/verify",
            event("uuid-0002"), TOKEN, [TOKEN], True)
form_vector("default port removed by Twilio", "https://example.com:443/hooks/verify", PUBLIC,
            event("uuid-0003"), TOKEN, [TOKEN], True)
form_vector("http default port added", "http://example.com/hooks/verify", "http://example.com:80/hooks/verify",
            event("uuid-0004"), TOKEN, [TOKEN], True)
form_vector("another port is another URL", PUBLIC, "https://example.com:8443/hooks/verify",
            event("uuid-0005"), TOKEN, [TOKEN], False)
form_vector("query string present", PUBLIC + "?tenant=acme&x=a%20b", PUBLIC + "?tenant=acme&x=a%20b",
            event("uuid-0006"), TOKEN, [TOKEN], True)
form_vector("query string missing from the configured URL", PUBLIC, PUBLIC + "?tenant=acme",
            event("uuid-0007"), TOKEN, [TOKEN], False)
form_vector("repeated keys, every value counts", PUBLIC, PUBLIC,
            event("uuid-0008") + [("x_tag", "zeta"), ("x_tag", "alpha"), ("x_tag", "alpha")], TOKEN, [TOKEN], True)
form_vector("repeated key with one value dropped", PUBLIC, PUBLIC,
            event("uuid-0009") + [("x_tag", "zeta")], TOKEN, [TOKEN], False,
            signed_pairs=event("uuid-0009") + [("x_tag", "zeta"), ("x_tag", "alpha")])
form_vector("non-ASCII value", PUBLIC, PUBLIC,
            event("uuid-0010", factor_friendly_name="Téléphone d’Ada 📱"), TOKEN, [TOKEN], True)
form_vector("wrong token", PUBLIC, PUBLIC, event("uuid-0011"), OLD_TOKEN, [TOKEN], False)
form_vector("rotated token: second of two", PUBLIC, PUBLIC, event("uuid-0012"), TOKEN, [OLD_TOKEN, TOKEN], True)
form_vector("tampered value", PUBLIC, PUBLIC, event("uuid-0013", challenge_status="denied", type="challenge.denied"),
            TOKEN, [TOKEN], False, signed_pairs=event("uuid-0013"))
form_vector("replayed uuid", PUBLIC, PUBLIC, event("uuid-0014"), TOKEN, [TOKEN], True, replay=True)


def json_vector(name, public_url, obj, tokens, valid, tamper=None):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    sep = "&" if "?" in public_url else "?"
    delivery = public_url + sep + "bodySHA256=" + digest
    signature = sign(TOKEN, delivery, [])
    if tamper:
        body = tamper(body)
    vectors.append({
        "name": name,
        "public_url": public_url,
        "delivery_url": delivery,
        "content_type": "application/json",
        "body": body,
        "tokens": tokens,
        "signature": signature,
        "valid": valid,
        "replay": False,
    })


def json_event(uuid):
    obj = dict(event(uuid))
    obj["challenge_details"] = json.loads(obj["challenge_details"])  # a nested object
    return obj


json_vector("JSON with bodySHA256", PUBLIC, json_event("uuid-0101"), [TOKEN], True)
json_vector("JSON with bodySHA256 after a configured query", PUBLIC + "?tenant=acme", json_event("uuid-0102"), [TOKEN], True)
json_vector("JSON body changed after signing", PUBLIC, json_event("uuid-0103"), [TOKEN], False,
            tamper=lambda b: b.replace('"approved"', '"denied"'))

print(json.dumps({
    "comment": "Computed with: python3 testdata/webhook_signatures.py > testdata/webhook_signatures.json "
               "(Python hmac/hashlib/base64; see the script for the rule).",
    "vectors": vectors,
}, indent=2, ensure_ascii=False))
