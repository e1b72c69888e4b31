"""Self-test of oaschema.py: it must accept conforming responses and reject drift.

Run: /usr/bin/python3 tests/integration/test_oaschema.py
"""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.pop("OWNMAIL_OA_COVERAGE", None)

import oaschema  # noqa: E402

JSON = "application/json"
PROBLEM = "application/problem+json"
TS = "2026-11-25T16:00:00Z"
PUBKEY = "A" * 43 + "="

DOMAIN = {
    "name": "xn--bcher-kva.example", "name_unicode": "bücher.example", "description": "",
    "enabled": True, "default_quota_bytes": 0, "max_users": 0, "user_count": 1,
    "alias_count": 0, "created_at": TS, "updated_at": TS,
}
USER = {
    "address": "alice@example.com", "local": "alice", "domain": "example.com",
    "display_name": "Alice", "enabled": True, "quota_bytes": 1073741824,
    "store_id": "3f9a1c0e7b5d2a4f8e6c1b0a9d8e7f60", "public_key": PUBKEY, "app_password_count": 0,
    "created_at": TS, "updated_at": TS,
}
ALIAS = {
    "address": "*@example.com", "local": "*", "domain": "example.com",
    "targets": ["alice@example.com"], "enabled": True, "created_at": TS, "updated_at": TS,
}
DKIM = {
    "selector": "s202611", "algorithm": "ed25519", "status": "active", "created_at": TS,
    "dns_name": "s202611._domainkey.example.com",
    "txt": "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
}
DNS = {
    "domain": "example.com",
    "records": [
        {"type": "MX", "name": "example.com.", "ttl": 3600, "value": "10 mail.example.com.",
         "priority": 10, "target": "mail.example.com.", "purpose": "mx", "description": "d"},
        {"type": "TXT", "name": "example.com.", "ttl": 3600, "value": '"v=spf1 mx -all"',
         "purpose": "spf", "description": "d"},
        {"type": "CNAME", "name": "mta-sts.example.com.", "ttl": 3600,
         "value": "mail.example.com.", "target": "mail.example.com.", "purpose": "mta-sts", "description": "d"},
        {"type": "SRV", "name": "_submission._tcp.example.com.", "ttl": 3600,
         "value": "0 1 587 mail.example.com.", "priority": 0, "weight": 1, "port": 587,
         "target": "mail.example.com.", "purpose": "mail-srv", "description": "d"},
        {"type": "SRV", "name": "_caldav._tcp.example.com.", "ttl": 3600, "value": "0 0 0 .",
         "priority": 0, "weight": 0, "port": 0, "target": ".", "purpose": "dav-srv", "description": "d"},
    ],
}
NOT_FOUND = {"type": "/problems/not-found", "title": "Not Found", "status": 404,
             "detail": "no such domain"}
INVALID = {"type": "/problems/validation-failed", "title": "Validation failed", "status": 422,
           "detail": "1 invalid member", "errors": [{"field": "name", "message": "too long"}]}


def body(obj):
    return json.dumps(obj).encode()


def changed(obj, **kw):
    out = copy.deepcopy(obj)
    for k, v in kw.items():
        if v is KeyError:
            del out[k]
        else:
            out[k] = v
    return out


class Schemas(unittest.TestCase):
    """Good and bad bodies for the main schemas."""

    def ok(self, method, path, status, obj, ctype=JSON, headers=None):
        oaschema.validate(method, path, status, ctype, body(obj), headers=headers)

    def bad(self, method, path, status, obj, ctype=JSON, contains=None, headers=None):
        with self.assertRaises(AssertionError) as cm:
            oaschema.validate(method, path, status, ctype, body(obj), headers=headers)
        if contains:
            self.assertIn(contains, str(cm.exception))
        return str(cm.exception)

    def test_domain(self):
        p = "/api/v1/domains/example.com"
        self.ok("GET", p, 200, DOMAIN)
        self.bad("GET", p, 200, changed(DOMAIN, extra=1), contains="'extra' was unexpected")
        self.bad("GET", p, 200, changed(DOMAIN, name_unicode=KeyError), contains="name_unicode")
        self.bad("GET", p, 200, changed(DOMAIN, name="Example.COM"))
        self.bad("GET", p, 200, changed(DOMAIN, name="example.com."))
        self.bad("GET", p, 200, changed(DOMAIN, name="example"))
        self.bad("GET", p, 200, changed(DOMAIN, created_at="2026-11-25 16:00:00"))
        self.bad("GET", p, 200, changed(DOMAIN, created_at="2026-11-25T16:00:00.123Z"))
        self.bad("GET", p, 200, changed(DOMAIN, created_at="2026-13-45T16:00:00Z"))
        self.bad("GET", p, 200, changed(DOMAIN, max_users=-1))
        self.bad("GET", p, 200, changed(DOMAIN, enabled="true"))
        self.bad("GET", p, 200, changed(DOMAIN, user_count=1.5))

    def test_domain_list(self):
        p = "/api/v1/domains?limit=10"
        self.ok("GET", p, 200, {"items": [DOMAIN], "next_cursor": None})
        self.ok("GET", p, 200, {"items": [], "next_cursor": "abc"})
        self.bad("GET", p, 200, {"items": [DOMAIN]}, contains="next_cursor")
        self.bad("GET", p, 200, {"items": [DOMAIN], "next_cursor": 3})
        self.bad("GET", p, 200, {"items": [DOMAIN], "next_cursor": ""})
        self.bad("GET", p, 200, [DOMAIN])

    def test_user_created(self):
        p = "/api/v1/domains/example.com/users"
        good = {"user": USER, "recovery_key": "7KQ2-M9XD-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"}
        loc = {"Location": "/api/v1/domains/example.com/users/alice"}
        self.ok("POST", p, 201, good, headers=loc)
        self.ok("POST", p, 201, changed(good, password="generated-secret-1"), headers=loc)
        self.bad("POST", p, 201, good, headers={}, contains="Location")
        self.bad("POST", p, 201, changed(good, recovery_key="abcd"))
        self.bad("POST", p, 201, changed(good, recovery_key="7KQ2-M9XD-ABCD-EFGH-JKMN-PQRS-TVWX-YZ0I"))
        self.bad("POST", p, 201, changed(good, recovery_key="7KQ2-M9XD-ABCD-EFGH"))
        self.bad("POST", p, 201, changed(good, user=changed(USER, local="Alice")))
        self.bad("POST", p, 201, changed(good, user=changed(USER, domain="localhost")))
        self.bad("POST", p, 201, changed(good, user=changed(USER, public_key="short")))
        self.bad("POST", p, 201, changed(good, user=changed(USER, store_id="../x")))
        self.bad("POST", p, 201, changed(good, user=changed(USER, password_hash="x")))

    def test_alias_catch_all_path(self):
        for p in ("/api/v1/domains/example.com/aliases/*",
                  "/api/v1/domains/example.com/aliases/%2A"):
            self.ok("GET", p, 200, ALIAS)
        self.bad("GET", "/api/v1/domains/example.com/aliases/*", 200, changed(ALIAS, targets=[]))

    def test_dkim(self):
        p = "/api/v1/domains/example.com/dkim-keys/s1/rotate"
        loc = {"Location": "/api/v1/domains/example.com/dkim-keys/s202611"}
        self.ok("POST", p, 201, DKIM, headers=loc)
        self.bad("POST", p, 201, changed(DKIM, status="revoked"))
        self.bad("POST", p, 201, changed(DKIM, algorithm="rsa-1024"))
        self.bad("POST", p, 201, changed(DKIM, txt="k=ed25519; p=abc"))

    def test_dns(self):
        p = "/api/v1/domains/example.com/dns"
        self.ok("GET", p, 200, DNS)
        srv_no_port = copy.deepcopy(DNS)
        del srv_no_port["records"][3]["port"]
        self.bad("GET", p, 200, srv_no_port)
        mx_weight = copy.deepcopy(DNS)
        mx_weight["records"][0]["weight"] = 5
        self.bad("GET", p, 200, mx_weight)
        no_dot = copy.deepcopy(DNS)
        no_dot["records"][1]["name"] = "example.com"
        self.bad("GET", p, 200, no_dot)
        wrong_purpose = copy.deepcopy(DNS)
        wrong_purpose["records"][1]["purpose"] = "mx"
        self.bad("GET", p, 200, wrong_purpose)

    def test_token_and_me(self):
        tok = {"access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
               "token_type": "Bearer", "expires_in": 900}
        self.ok("POST", "/api/v1/auth/token", 200, tok)
        self.bad("POST", "/api/v1/auth/token", 200, changed(tok, token_type="bearer"))
        self.bad("POST", "/api/v1/auth/token", 200, changed(tok, access_token="opaque"))
        me = {"username": "admin", "role": "global", "domains": [], "auth": "jwt"}
        self.ok("GET", "/api/v1/me", 200, me)
        self.bad("GET", "/api/v1/me", 200, changed(me, auth="apikey"))

    def test_api_key_created(self):
        key = {"id": "k7", "name": "ci", "owner": "admin", "created_at": TS, "expires_at": None,
               "last_used_at": None, "secret": "omk_k7_abcdefghijklmnopqrstuvwx"}
        loc = {"Location": "/api/v1/api-keys/k7"}
        self.ok("POST", "/api/v1/api-keys", 201, key, headers=loc)
        self.ok("POST", "/api/v1/api-keys", 201, changed(key, expires_at=TS), headers=loc)
        self.bad("POST", "/api/v1/api-keys", 201, changed(key, secret="k7_abc"))
        listed = changed(key, secret=KeyError)
        self.ok("GET", "/api/v1/api-keys", 200, {"items": [listed], "next_cursor": None})
        self.bad("GET", "/api/v1/api-keys", 200, {"items": [key], "next_cursor": None},
                 contains="'secret' was unexpected")

    def test_app_password_created(self):
        p = "/api/v1/domains/example.com/users/alice/app-passwords"
        ap = {"id": "a1", "name": "phone", "created_at": TS, "app_password": "abcd efgh ijkl mnop"}
        self.ok("POST", p, 201, ap, headers={"Location": p + "/a1"})
        self.bad("POST", p, 201, changed(ap, app_password="abcdefghijklmnop"))

    def test_problem(self):
        p = "/api/v1/domains/nope.example"
        self.ok("GET", p, 404, NOT_FOUND, ctype=PROBLEM)
        self.bad("GET", p, 404, NOT_FOUND, ctype=JSON, contains="not documented")
        self.bad("GET", p, 404, changed(NOT_FOUND, type="/problems/forbidden"))
        self.bad("GET", p, 404, changed(NOT_FOUND, status=400), ctype=PROBLEM,
                 contains="differs from the HTTP status")
        self.bad("GET", p, 404, changed(NOT_FOUND, type="/problems/gone"), ctype=PROBLEM)
        self.bad("GET", p, 404, changed(NOT_FOUND, instance="/x"), ctype=PROBLEM)
        self.bad("GET", p, 404, changed(NOT_FOUND, detail=KeyError), ctype=PROBLEM)

    def test_validation_failed_needs_errors(self):
        p = "/api/v1/domains"
        self.ok("POST", p, 422, INVALID, ctype=PROBLEM)
        self.bad("POST", p, 422, changed(INVALID, errors=KeyError), ctype=PROBLEM)
        self.bad("POST", p, 422, changed(INVALID, errors=[{"field": "name"}]), ctype=PROBLEM)

    def test_retry_after(self):
        tmr = {"type": "/problems/too-many-requests", "title": "Too Many Requests",
               "status": 429, "detail": "slow down"}
        p = "/api/v1/auth/token"
        self.ok("POST", p, 429, tmr, ctype=PROBLEM, headers={"Retry-After": "30"})
        self.bad("POST", p, 429, tmr, ctype=PROBLEM, headers={}, contains="Retry-After")
        self.bad("POST", p, 429, tmr, ctype=PROBLEM, headers=[("Retry-After", "soon")])
        self.bad("POST", p, 429, tmr, ctype=PROBLEM, headers={"retry-after": "0"})

    def test_readyz_and_text(self):
        ready = {"status": "fail", "checks": {"database": "ok", "redis": "fail"}}
        self.ok("GET", "/readyz", 503, ready)
        self.bad("GET", "/readyz", 503, changed(ready, checks={"database": "ok"}))
        self.bad("GET", "/readyz", 200, ready)
        self.ok("GET", "/readyz", 200, {"status": "ok", "checks": {"database": "ok", "redis": "ok"}})
        oaschema.validate("GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
                          b"ownmail_feed_last_seq 3\n")
        with self.assertRaises(AssertionError):
            oaschema.validate("GET", "/metrics", 200, JSON, b"{}")
        oaschema.validate("GET", "/problems/not-found", 200, "text/plain", "No such resource.")


class Matching(unittest.TestCase):
    """Path, method, status and content-type matching."""

    def test_percent_decoded_u_label(self):
        tmpl, op = oaschema.find_operation("GET", "/api/v1/domains/b%C3%BCcher.example/users")
        self.assertEqual(tmpl, "/api/v1/domains/{domain}/users")
        self.assertEqual(op["operationId"], "listUsers")

    def test_full_url_and_query(self):
        tmpl, _ = oaschema.find_operation(
            "DELETE", "http://127.0.0.1:8080/api/v1/domains/example.com?force=true")
        self.assertEqual(tmpl, "/api/v1/domains/{domain}")

    def test_literal_beats_parameter(self):
        tmpl, _ = oaschema.find_operation(
            "POST", "/api/v1/domains/example.com/users/alice/password/reset")
        self.assertEqual(tmpl, "/api/v1/domains/{domain}/users/{local}/password/reset")

    def test_encoded_slash_stays_in_one_segment(self):
        tmpl, _ = oaschema.find_operation("GET", "/api/v1/domains/a%2Fb")
        self.assertEqual(tmpl, "/api/v1/domains/{domain}")

    def test_path_not_in_spec(self):
        for p in ("/api/v1/nope", "/api/v1/domains/", "/api/v1//users", "/internal/v1/directory",
                  "/api/v1/domains/example.com/users/alice/extra/deep"):
            with self.assertRaises(AssertionError) as cm:
                oaschema.validate("GET", p, 200, JSON, b"{}")
            self.assertIn("path not in spec", str(cm.exception))

    def test_method_not_in_spec(self):
        with self.assertRaises(AssertionError) as cm:
            oaschema.validate("PUT", "/api/v1/domains", 200, JSON, b"{}")
        self.assertIn("method not in spec", str(cm.exception))

    def test_status_not_documented(self):
        with self.assertRaises(AssertionError) as cm:
            oaschema.validate("GET", "/api/v1/domains", 418, PROBLEM, body(NOT_FOUND))
        self.assertIn("status not documented for this operation", str(cm.exception))
        with self.assertRaises(AssertionError) as cm:
            oaschema.validate("POST", "/api/v1/domains", 200, JSON, body(DOMAIN))
        self.assertIn("status not documented", str(cm.exception))

    def test_no_content(self):
        oaschema.validate("DELETE", "/api/v1/domains/example.com", 204, None, b"")
        with self.assertRaises(AssertionError):
            oaschema.validate("DELETE", "/api/v1/domains/example.com", 204, JSON, b"{}")

    def test_bad_json(self):
        for raw in (b"{", b'{"status":"ok","status":"ok"}', b'{"status":NaN}', b"\xff"):
            with self.assertRaises(AssertionError):
                oaschema.validate("GET", "/healthz", 200, JSON, raw)
        with self.assertRaises(AssertionError):
            oaschema.validate("GET", "/healthz", 200, None, b'{"status":"ok"}')

    def test_405(self):
        mna = {"type": "/problems/method-not-allowed", "title": "Method Not Allowed",
               "status": 405, "detail": "PUT is not allowed"}
        oaschema.validate("PUT", "/api/v1/domains", 405, PROBLEM, body(mna),
                          headers={"Allow": "GET, POST"})
        with self.assertRaises(AssertionError):
            oaschema.validate("PUT", "/api/v1/domains", 405, PROBLEM, body(mna),
                              headers={"Allow": "GET"})
        with self.assertRaises(AssertionError):
            oaschema.validate("PUT", "/api/v1/domains", 405, PROBLEM, body(NOT_FOUND))

    def test_validate_problem(self):
        oaschema.validate_problem(404, PROBLEM, body(NOT_FOUND), "/problems/not-found")
        with self.assertRaises(AssertionError):
            oaschema.validate_problem(404, JSON, body(NOT_FOUND))
        with self.assertRaises(AssertionError):
            oaschema.validate_problem(404, PROBLEM, body(NOT_FOUND), "/problems/forbidden")


class Coverage(unittest.TestCase):

    def setUp(self):
        oaschema.reset_coverage()

    def test_covered_and_report(self):
        oaschema.validate("GET", "/healthz", 200, JSON, b'{"status":"ok"}')
        oaschema.validate("GET", "/api/v1/domains/x.example", 404, PROBLEM, body(NOT_FOUND))
        self.assertEqual(oaschema.covered(), {("GET", "/healthz", 200),
                                              ("GET", "/api/v1/domains/{domain}", 404)})
        ops = {(m, t) for m, t, _ in oaschema.uncovered_operations()}
        self.assertNotIn(("GET", "/healthz"), ops)
        self.assertNotIn(("GET", "/api/v1/domains/{domain}"), ops)
        self.assertIn(("GET", "/readyz"), ops)
        report = oaschema.report_uncovered(responses=True)
        self.assertIn("never exercised: GET /readyz (getReadiness)", report)
        self.assertIn("GET /api/v1/domains/{domain} -> 200", report)
        self.assertNotIn("GET /api/v1/domains/{domain} -> 404", report)

    def test_shared_coverage_file(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"oacov-{os.getpid()}.jsonl")
        os.environ["OWNMAIL_OA_COVERAGE"] = path
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write('["GET", "/metrics", 200]\n')
            oaschema.validate("GET", "/healthz", 200, JSON, b'{"status":"ok"}')
            self.assertEqual(oaschema.covered(), {("GET", "/healthz", 200),
                                                  ("GET", "/metrics", 200)})
            with open(path, encoding="utf-8") as f:
                self.assertEqual(len(f.readlines()), 2)
        finally:
            del os.environ["OWNMAIL_OA_COVERAGE"]
            os.unlink(path)

    def test_failed_match_is_not_covered(self):
        with self.assertRaises(AssertionError):
            oaschema.validate("GET", "/api/v1/domains", 418, PROBLEM, body(NOT_FOUND))
        self.assertEqual(oaschema.covered(), set())


class SpecRules(unittest.TestCase):
    """Rules of the brief that the linter does not check."""

    @classmethod
    def setUpClass(cls):
        cls.spec = oaschema.spec()
        cls.ops = [(m, t, op) for t, item in cls.spec["paths"].items()
                   for m, op in item.items() if m in oaschema.HTTP_METHODS]

    def resolve(self, obj):
        return oaschema._resolve(obj)

    def walk(self, node, where="#"):
        if isinstance(node, dict):
            yield where, node
            for k, v in node.items():
                yield from self.walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from self.walk(v, f"{where}/{i}")

    def test_problem_types_are_the_briefs(self):
        slugs = ["invalid-json", "bad-request", "unsupported-media-type", "payload-too-large",
                 "validation-failed", "unauthorized", "invalid-credentials", "forbidden",
                 "not-found", "method-not-allowed", "already-exists", "domain-not-empty",
                 "last-global-admin", "too-many-requests", "service-unavailable",
                 "internal-error"]
        enum = self.spec["components"]["schemas"]["ProblemType"]["enum"]
        self.assertEqual(sorted(enum), sorted("/problems/" + s for s in slugs))

    def test_schemas_are_valid_2020_12(self):
        for name, schema in self.spec["components"]["schemas"].items():
            with self.subTest(schema=name):
                oaschema.Draft202012Validator.check_schema(schema)

    def test_no_internal_paths(self):
        self.assertFalse([t for t in self.spec["paths"] if t.startswith("/internal")])

    def test_every_ref_resolves(self):
        for where, node in self.walk(self.spec):
            if "$ref" in node and isinstance(node["$ref"], str):
                self.resolve({"$ref": node["$ref"]})

    def test_objects_are_closed(self):
        for name, schema in self.spec["components"]["schemas"].items():
            for where, node in self.walk(schema, name):
                if "properties" not in node and node.get("type") != "object":
                    continue
                if where.split("/")[-2:-1] == ["allOf"]:
                    continue  # constraint-only subschema narrowing a Problem variant
                self.assertIs(node.get("additionalProperties"), False, where)

    def test_errors_are_problems(self):
        for m, t, op in self.ops:
            for status, resp in op["responses"].items():
                if str(status)[0] in "45" and (t, str(status)) != ("/readyz", "503"):
                    content = self.resolve(resp).get("content", {})
                    self.assertEqual(list(content), ["application/problem+json"],
                                     f"{m} {t} {status}")

    def test_operation_basics(self):
        for m, t, op in self.ops:
            self.assertTrue(op.get("operationId") and op.get("summary") and op.get("tags"), t)
            codes = set(map(str, op["responses"]))
            if m == "delete":
                self.assertIn("204", codes, t)
            if "201" in codes:
                headers = self.resolve(op["responses"]["201"]).get("headers", {})
                self.assertIn("Location", headers, f"{m} {t}")
            if "requestBody" in op:
                self.assertTrue({"400", "413", "415", "422"} <= codes, f"{m} {t}")
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                self.assertIs(self.resolve(schema).get("additionalProperties"), False, t)

    def test_lists_are_paginated(self):
        for m, t, op in self.ops:
            ok = self.resolve(op["responses"].get("200", {}))
            schema = ok.get("content", {}).get(JSON, {}).get("schema")
            if not schema:
                continue
            props = self.resolve(schema).get("properties", {})
            if "items" not in props:
                continue
            names = {self.resolve(p)["name"] for p in op.get("parameters", [])}
            self.assertEqual(names, {"limit", "cursor"}, f"{m} {t}")
            self.assertIn("next_cursor", props, f"{m} {t}")
            self.assertIn("400", op["responses"], f"{m} {t}")

    def test_anonymous_endpoints(self):
        anon = {(m, t) for m, t, op in self.ops
                if op.get("security") is not None and (op["security"] == [] or {} in op["security"])}
        self.assertEqual(anon, {
            ("post", "/api/v1/auth/token"), ("get", "/healthz"), ("get", "/readyz"),
            ("get", "/metrics"), ("get", "/problems/{slug}"),
            ("post", "/api/v1/domains/{domain}/users/{local}/password"),
            ("post", "/api/v1/domains/{domain}/users/{local}/password/reset"),
            ("post", "/api/v1/domains/{domain}/users/{local}/app-passwords"),
        })

if __name__ == "__main__":
    unittest.main(verbosity=1)
