"""Bad requests (malformed JSON, wrong media type, oversized bodies, unknown or
mistyped fields, unknown paths and methods) change nothing and get problem
details; and the operational endpoints (/healthz, /readyz, /metrics,
/problems/<slug>)."""
import http.client
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import helpers  # noqa: E402
import oaschema  # noqa: E402
from helpers import ApiCase, unique, unique_domain  # noqa: E402

tearDownModule = helpers.print_coverage

SLUGS = ["invalid-json", "bad-request", "unsupported-media-type", "payload-too-large",
         "validation-failed", "unauthorized", "invalid-credentials", "forbidden", "not-found",
         "method-not-allowed", "already-exists", "domain-not-empty", "last-global-admin",
         "too-many-requests", "service-unavailable", "internal-error"]
BODY_MAX = 64 * 1024


class BadInputTests(ApiCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("test_malformed_json")
        cls.d = tc.mk_domain()
        cls.local = tc.mk_user(cls.d, "victim", password="victim-password")[0]["local"]
        tc.ok("POST", f"/domains/{cls.d}/aliases", {"local": "al", "targets": ["x@example.org"]},
              status=201)

    def setUp(self):
        self.before = self.state()

    def tearDown(self):
        # whatever a test sent, nothing changed
        self.assertEqual(self.state(), self.before)

    def state(self):
        return (self.ok("GET", "/domains?limit=500"),
                self.ok("GET", f"/domains/{self.d}/users?limit=500"),
                self.ok("GET", f"/domains/{self.d}/aliases?limit=500"),
                self.ok("GET", "/admins?limit=500"), self.ok("GET", "/api-keys?limit=500"))

    def raw(self, method, path, body=None, headers=None, chunks=None, validate=True):
        """A request with exactly these headers (no implicit Content-Type)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=60)
        hdrs = {"Authorization": f"Bearer {self.token}"}
        hdrs.update(headers or {})
        try:
            if chunks is not None:
                conn.putrequest(method, path)
                for k, v in hdrs.items():
                    conn.putheader(k, v)
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for c in chunks:
                    conn.send(b"%x\r\n%s\r\n" % (len(c), c))
                conn.send(b"0\r\n\r\n")
            else:
                conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            resp = harness.Response(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()
        if validate:
            oaschema.validate(method, path.split("?")[0], resp.status, resp.content_type,
                              resp.body, headers=resp.headers)
        return resp

    def targets(self):
        """(method, path, a valid-looking body) of endpoints that take JSON."""
        d, u = self.d, self.local
        return [("POST", "/api/v1/domains", {"name": unique_domain()}),
                ("PATCH", f"/api/v1/domains/{d}", {"description": "x"}),
                ("POST", f"/api/v1/domains/{d}/users", {"local": unique("u")}),
                ("PATCH", f"/api/v1/domains/{d}/users/{u}", {"display_name": "x"}),
                ("POST", f"/api/v1/domains/{d}/aliases", {"local": unique("a"),
                                                          "targets": ["y@example.org"]}),
                ("PATCH", f"/api/v1/domains/{d}/aliases/al", {"enabled": False}),
                ("POST", "/api/v1/admins", {"username": unique("a"), "password": "long-password",
                                            "role": "global"}),
                ("POST", "/api/v1/api-keys", {"name": "k"}),
                ("POST", "/api/v1/auth/token", {"username": "admin", "password": "x" * 10}),
                ("POST", f"/api/v1/domains/{d}/users/{u}/password",
                 {"old_password": "wrong-password", "new_password": "never-used-password"})]

    # ---- bodies

    def test_malformed_json(self):
        bodies = [b'{"name":', b'{name: "x.example"}', b"{'name':'x.example'}",
                  b'{"name":"x.example"} trailing', b'{"name":"x.example"}{}', b"",
                  b'{"name":"x.example",}', b"\xff\xfe{}", b"NaN", b'{"a":NaN}',
                  b"[]", b'[{"name":"x.example"}]', b'"x.example"', b"42",
                  b"null", b"true"]
        for method, path, _ in self.targets():
            for body in bodies:
                with self.subTest(method=method, path=path, body=body[:30]):
                    r = self.raw(method, path, body, {"Content-Type": "application/json"})
                    self.assert_problem(r, 400, "invalid-json")

    def test_content_type(self):
        for method, path, body in self.targets():
            data = json.dumps(body).encode()
            for ct in [None, "text/plain", "application/x-www-form-urlencoded", "text/json",
                       "application/jsonx", "application/json-seq", "multipart/form-data"]:
                with self.subTest(method=method, path=path, ct=ct):
                    r = self.raw(method, path, data, {} if ct is None else {"Content-Type": ct})
                    self.assert_problem(r, 415, "unsupported-media-type")

    def test_content_type_parameters_accepted(self):
        body = json.dumps({"username": unique("nobody"), "password": "wrong-password"}).encode()
        for ct in ["application/json; charset=utf-8", "Application/JSON",
                   "application/json;charset=UTF-8"]:
            with self.subTest(ct=ct):
                r = self.raw("POST", "/api/v1/auth/token", body, {"Content-Type": ct})
                self.assert_problem(r, 401, "invalid-credentials")

    def test_body_too_large(self):
        def padded(size):
            head = b'{"name":"big.example","description":"'
            return head + b"x" * (size - len(head) - 2) + b'"}'
        for method, path, _ in self.targets():
            with self.subTest(method=method, path=path):
                r = self.raw(method, path, padded(BODY_MAX + 1),
                             {"Content-Type": "application/json"})
                self.assert_problem(r, 413, "payload-too-large")
                r = self.raw(method, path, padded(4 * BODY_MAX),
                             {"Content-Type": "application/json"})
                self.assert_problem(r, 413, "payload-too-large")
        # exactly at the limit the body is read (and then refused for its content)
        r = self.raw("POST", "/api/v1/domains", padded(BODY_MAX),
                     {"Content-Type": "application/json"})
        self.assert_invalid(r, "description")

    def test_chunked_body_too_large(self):
        chunk = b"x" * 8192
        body = [b'{"name":"big.example","description":"'] + [chunk] * 10 + [b'"}']
        r = self.raw("POST", "/api/v1/domains", headers={"Content-Type": "application/json"},
                     chunks=body)
        self.assert_problem(r, 413, "payload-too-large")

    def test_unknown_fields(self):
        for method, path, body in self.targets():
            with self.subTest(method=method, path=path):
                r = self.req(method, path, dict(body, colour="red"))
                b = self.assert_invalid(r, "colour")
                self.assertIn({"field": "colour", "message": "unknown field"}, b["errors"])

    def test_wrong_types(self):
        d, u = self.d, self.local
        cases = [("POST", "/domains", {"name": 5}, "name"),
                 ("POST", "/domains", {"name": ["a.example"]}, "name"),
                 ("POST", "/domains", {"name": None}, "name"),
                 ("POST", "/domains", {"name": unique_domain(), "enabled": "true"}, "enabled"),
                 ("POST", "/domains", {"name": unique_domain(), "max_users": 1.5}, "max_users"),
                 ("POST", "/domains", {"name": unique_domain(), "max_users": "3"}, "max_users"),
                 ("POST", "/domains", {"name": unique_domain(), "max_users": 1e300},
                  "max_users"),
                 ("POST", "/domains", {"name": unique_domain(), "default_quota_bytes": -1},
                  "default_quota_bytes"),
                 ("POST", "/domains", {"name": unique_domain(), "description": {}},
                  "description"),
                 ("PATCH", f"/domains/{d}/users/{u}", {"quota_bytes": "big"}, "quota_bytes"),
                 ("PATCH", f"/domains/{d}/users/{u}", {"quota_bytes": True}, "quota_bytes"),
                 ("PATCH", f"/domains/{d}/users/{u}", {"quota_bytes": 2 ** 64}, "quota_bytes"),
                 ("PATCH", f"/domains/{d}/users/{u}", {"enabled": None}, "enabled"),
                 ("PATCH", f"/domains/{d}/users/{u}", {"display_name": 7}, "display_name"),
                 ("PATCH", f"/domains/{d}/aliases/al", {"targets": "x@example.org"}, "targets"),
                 ("PATCH", f"/domains/{d}/aliases/al", {"targets": [1]}, "targets"),
                 ("POST", "/admins", {"username": "x", "password": 1234567890, "role": "global"},
                  "password"),
                 ("POST", "/admins", {"username": unique("a"), "password": "long-password",
                                      "role": "domain", "domains": [1]}, "domains")]
        for method, path, body, field in cases:
            with self.subTest(method=method, path=path, body=str(body)[:50]):
                self.assert_invalid(self.req(method, path, body), field)

    def test_missing_required(self):
        d = self.d
        for method, path, body, fields in [
                ("POST", "/domains", {}, ["name"]),
                ("POST", f"/domains/{d}/users", {}, ["local"]),
                ("POST", f"/domains/{d}/aliases", {}, ["local", "targets"]),
                ("POST", "/admins", {}, ["username", "password", "role"]),
                ("POST", "/api-keys", {}, ["name"]),
                ("POST", f"/domains/{d}/dkim-keys", {}, ["algorithm"]),
                ("POST", "/auth/token", {}, ["username", "password"])]:
            with self.subTest(path=path):
                self.assert_invalid(self.req(method, path, body), *fields)

    def test_nul_bytes_in_strings(self):
        # A NUL inside a JSON string must not truncate the value into another valid one.
        for method, path, body, field in [
                ("POST", "/domains", {"name": "nul.example\u0000.evil.example"}, "name"),
                ("POST", f"/domains/{self.d}/users", {"local": "bob\u0000evil"}, "local"),
                ("POST", f"/domains/{self.d}/aliases", {"local": "nul\u0000x",
                                                        "targets": ["x@example.org"]}, "local"),
                ("POST", f"/domains/{self.d}/aliases", {"local": unique("n"),
                                                        "targets": ["x@example.org\u0000.evil"]},
                 "targets"),
                ("POST", "/admins", {"username": "root\u0000x", "password": "long-password",
                                     "role": "global"}, "username"),
                ("POST", "/api-keys", {"name": "k\u0000hidden"}, "name")]:
            with self.subTest(path=path, body=str(body)[:60]):
                # refused before parsing, as a body no value may be read from
                self.assert_problem(self.req(method, path, body), 400, "invalid-json")
        self.assert_problem(self.req("GET", "/domains/nul.example"), 404, "not-found")
        self.assert_problem(self.req("GET", f"/domains/{self.d}/users/bob"), 404, "not-found")

    # ---- paths and methods

    def test_unknown_path(self):
        for path in ["/api/v1/nope", "/api/v1/", "/api/v1", "/api/v1/domains/", "/api/v2/domains",
                     f"/api/v1/domains/{self.d}/nope", f"/api/v1/domains/{self.d}/users/x/y/z/w",
                     "/api/v1/me/", "/internal/v1/nope", "/api/v1/" + "x" * 3000]:
            with self.subTest(path=path[:60]):
                r = self.req("GET", path, validate=False)
                self.assertEqual(r.status, 404, r)
                oaschema.validate_problem(404, r.content_type, r.body, "/problems/not-found")

    def test_no_path_traversal(self):
        for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                     "/api/v1/../../../etc/passwd", "/problems/../../../../etc/passwd",
                     "/..%2f..%2f..%2fetc%2fpasswd"]:
            with self.subTest(path=path):
                r = self.raw("GET", path, validate=False)
                self.assertNotIn(b"root:", r.body)
                self.assertIn(r.status, (400, 403, 404), r)

    def test_wrong_method(self):
        for method, path, allow in [("PUT", "/api/v1/domains", {"GET", "POST"}),
                                    ("DELETE", "/api/v1/domains", {"GET", "POST"}),
                                    ("PUT", f"/api/v1/domains/{self.d}",
                                     {"GET", "PATCH", "DELETE"}),
                                    ("POST", f"/api/v1/domains/{self.d}",
                                     {"GET", "PATCH", "DELETE"}),
                                    ("GET", "/api/v1/auth/token", {"POST"}),
                                    ("DELETE", "/api/v1/auth/refresh", {"POST"}),
                                    ("PATCH", "/api/v1/me", {"GET"}),
                                    ("GET", f"/api/v1/domains/{self.d}/users/x/password",
                                     {"POST"}),
                                    ("POST", "/healthz", {"GET"}), ("PUT", "/readyz", {"GET"})]:
            with self.subTest(method=method, path=path):
                # 405 comes before authentication
                r = self.req(method, path, token=None, validate=False)
                self.assert_problem(r, 405, "method-not-allowed")
                got = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
                self.assertEqual(got - {"HEAD", "OPTIONS"}, allow, r.headers)
                oaschema.validate(method, path, r.status, r.content_type, r.body,
                                  headers=r.headers)


class DeepNestingTests(ApiCase):
    """Deeply nested JSON must be answered, not crash the api (its own api: a crash
    here fails only this class). POST /auth/token needs no authentication."""

    def test_deep_nesting(self):
        for depth in [100, 800, 5000, 20000]:
            for kind, body in [("array", b'{"a":' + b"[" * depth + b"]" * depth + b"}"),
                               ("object", b'{"a":' + b'{"a":' * depth + b"1" + b"}" * (depth + 1))]:
                where = f"{kind} nested {depth} deep ({len(body)} bytes)"
                try:
                    r = self.req("POST", "/auth/token", raw=body, token=None,
                                 headers={"Content-Type": "application/json"})
                except OSError as e:
                    self.fail(f"{where}: no answer, the api crashed: {e!r}")
                self.assertIn(r.status, (400, 413, 422), f"{where}: {r}")
                self.assertTrue(r.content_type.startswith(helpers.PROBLEM_CT), where)
        self.assertEqual(self.req("GET", "/healthz", token=None).status, 200)


class Utf8Tests(ApiCase):
    """JSON text is UTF-8 (RFC 8259 section 8.1): a body with invalid UTF-8 in a
    string is not JSON. Accepted, it is stored and then poisons every later
    response that includes it (a list that no client can decode)."""

    def test_invalid_utf8_in_strings(self):
        d = self.mk_domain()
        u = self.mk_user(d)[0]["local"]
        for method, path, body in [
                ("POST", "/api/v1/api-keys", b'{"name":"k\xff"}'),
                ("POST", "/api/v1/api-keys", b'{"name":"\xc0\xaf"}'),  # overlong '/'
                ("POST", "/api/v1/api-keys", b'{"name":"\xed\xa0\x80"}'),  # a surrogate
                ("PATCH", f"/api/v1/domains/{d}", b'{"description":"caf\xe9"}'),  # Latin-1
                ("POST", f"/api/v1/domains/{d}/users", b'{"local":"x1","display_name":"\xff"}'),
                ("PATCH", f"/api/v1/domains/{d}/users/{u}", b'{"display_name":"\xfe\xff"}'),
                ("POST", "/api/v1/api-keys", b'{"name":"k\\ud800"}')]:  # lone surrogate escape
            with self.subTest(method=method, path=path, body=body):
                r = self.req(method, path, raw=body, headers={"Content-Type": "application/json"},
                             validate=False)
                self.assert_problem(r, 400, "invalid-json")
        # and whatever happened, every list still is UTF-8 JSON (validated by oaschema)
        self.ok("GET", "/api-keys")
        self.ok("GET", "/domains")
        self.ok("GET", f"/domains/{d}/users")


class OperationsTests(ApiCase):

    def test_healthz(self):
        r = self.req("GET", "/healthz", token=None)
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}))

    def test_readyz(self):
        seen = []
        r = self.req("GET", "/readyz", token=None, validate=False)
        seen.append(r)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["checks"], {"database": "ok", "redis": "ok"})
        self.api.redis.stop()
        try:
            r = self.req("GET", "/readyz", token=None, validate=False)
            seen.append(r)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json["checks"]["database"], "ok")
            self.assertNotEqual(r.json["checks"]["redis"], "ok")
            self.assertNotEqual(r.json["status"], seen[0].json["status"])
            self.assertEqual(self.req("GET", "/healthz", token=None).status, 200)
        finally:
            self.api.redis.start()
        deadline = time.time() + 15
        while self.req("GET", "/readyz", token=None, validate=False).status != 200:
            self.assertLess(time.time(), deadline, "not ready again after Redis came back")
            time.sleep(0.2)
        for r in seen:  # and both shapes are the documented ones
            oaschema.validate("GET", "/readyz", r.status, r.content_type, r.body,
                              headers=r.headers)

    def test_metrics(self):
        name = self.mk_domain()
        self.ok("GET", f"/domains/{name}")
        r = self.req("GET", "/metrics", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.content_type.startswith("text/plain"), r.content_type)
        text = r.body.decode()
        lines = text.splitlines()
        req_re = re.compile(r'^ownmail_http_requests_total\{route="([^"]*)",method="([A-Z]+)",'
                            r'status="(\d{3})"\} (\d+)$')
        series = [m.groups() for m in map(req_re.match, lines) if m]
        self.assertTrue(series, text[:500])
        self.assertTrue(any(s[1] == "POST" and s[2] == "201" for s in series), series)
        self.assertTrue([ln for ln in lines if re.match(r"^ownmail_feed_lag_events \d+$", ln)])
        self.assertTrue([ln for ln in lines if re.match(r"^ownmail_feed_last_seq \d+$", ln)])
        self.assertTrue([ln for ln in lines
                         if ln.startswith("ownmail_http_request_duration_seconds_bucket{")])
        self.assertNotIn(name, text)  # routes are templates, never concrete paths
        # the relay publishes: the lag drops to 0
        deadline = time.time() + 15
        while True:
            text = self.req("GET", "/metrics", token=None).body.decode()
            lag = int(re.search(r"^ownmail_feed_lag_events (\d+)$", text, re.M).group(1))
            last = int(re.search(r"^ownmail_feed_last_seq (\d+)$", text, re.M).group(1))
            if lag == 0 and last > 0:
                break
            self.assertLess(time.time(), deadline, f"feed lag stays at {lag}")
            time.sleep(0.2)

    def test_metrics_route_labels_are_spec_templates(self):
        # openapi.yaml: "route is the path template from this file".
        self.ok("GET", f"/domains/{self.mk_domain()}")
        text = self.req("GET", "/metrics", token=None).body.decode()
        routes = set(re.findall(r'^ownmail_http_requests_total\{route="([^"]*)"', text, re.M))
        templates = set(oaschema.spec()["paths"])
        self.assertIn("/api/v1/domains/{domain}", routes, sorted(routes))
        self.assertFalse({r for r in routes if "{}" in r}, sorted(routes))
        self.assertTrue(routes - templates <= {"unmatched", "/api/v1unmatched"}, sorted(routes))

    def test_problem_documents(self):
        for slug in SLUGS:
            with self.subTest(slug=slug):
                r = self.req("GET", f"/problems/{slug}", token=None)
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.content_type.startswith("text/plain"), r.content_type)
                self.assertTrue(r.body.strip())
        r = self.req("GET", "/problems/validation-failed", token=None)
        self.assertIn(b"422", r.body)
        r = self.req("GET", "/problems/no-such-problem", token=None)
        self.assert_problem(r, 404, "not-found")


if __name__ == "__main__":
    unittest.main()
