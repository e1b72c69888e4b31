"""Aliases and the catch-all: CRUD, target rules (hosted targets must exist,
outside targets keep their local part's case, relay tricks refused)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from helpers import ApiCase, q, unique  # noqa: E402

tearDownModule = helpers.print_coverage


class AliasTests(ApiCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("test_alias_crud")
        cls.d = tc.mk_domain()
        cls.user = tc.mk_user(cls.d, "alice", password="alice-password")[0]
        cls.other = tc.mk_domain()
        tc.mk_user(cls.other, "bob")

    def aliases(self, local="", d=None):
        base = f"/domains/{q(d or self.d)}/aliases"
        return f"{base}/{local}" if local else base

    def create(self, local, targets, **kw):
        return self.req("POST", self.aliases(), dict(kw, local=local, targets=targets))

    def test_alias_crud(self):
        local = unique("al")
        r = self.create(local, ["alice@" + self.d, "Friend@Example.ORG"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Location"), f"/api/v1/domains/{self.d}/aliases/{local}")
        a = r.json
        self.assertEqual((a["address"], a["local"], a["domain"], a["enabled"]),
                         (f"{local}@{self.d}", local, self.d, True))
        self.assertEqual(a["targets"], [f"alice@{self.d}", "Friend@example.org"])
        self.assertEqual(self.ok("GET", self.aliases(local)), a)
        self.assertIn(a, self.list_all(self.aliases(), limit=1))
        self.assertEqual(self.ok("GET", f"/domains/{self.d}")["alias_count"],
                         len(self.list_all(self.aliases())))
        snap = [x for x in self.snapshot()["aliases"] if x["address"] == a["address"]]
        self.assertEqual(snap, [{"address": a["address"], "domain": self.d, "local": local,
                                 "targets": a["targets"], "enabled": True}])
        a2 = self.ok("PATCH", self.aliases(local), {"targets": ["bob@" + self.other]})
        self.assertEqual((a2["targets"], a2["enabled"]), ([f"bob@{self.other}"], True))
        a3 = self.ok("PATCH", self.aliases(local), {"enabled": False})
        self.assertEqual((a3["targets"], a3["enabled"]), ([f"bob@{self.other}"], False))
        a4 = self.ok("PATCH", self.aliases(local), {})
        self.assertEqual((a4["targets"], a4["enabled"]), (a3["targets"], False))
        self.ok("DELETE", self.aliases(local), status=204)
        self.assert_problem(self.req("GET", self.aliases(local)), 404, "not-found")
        self.assert_problem(self.req("DELETE", self.aliases(local)), 404, "not-found")
        self.assert_problem(self.req("PATCH", self.aliases(local), {"enabled": True}), 404,
                            "not-found")
        self.assertFalse([x for x in self.snapshot()["aliases"] if x["address"] == a["address"]])

    def test_catch_all(self):
        d = self.mk_domain()
        self.mk_user(d, "postmaster")
        r = self.req("POST", f"/domains/{d}/aliases", {"local": "*",
                                                       "targets": [f"postmaster@{d}"]})
        self.assertEqual(r.status, 201, r)
        a = r.json
        self.assertEqual((a["address"], a["local"]), (f"*@{d}", "*"))
        self.assertTrue(r.headers.get("Location", "").startswith(f"/api/v1/domains/{d}/aliases/"))
        for path in [f"/domains/{d}/aliases/*", f"/domains/{d}/aliases/%2A",
                     f"/domains/{d}/aliases/%2a"]:
            with self.subTest(path=path):
                self.assertEqual(self.ok("GET", path), a)
        self.ok("POST", f"/domains/{d}/aliases", {"local": "abuse",
                                                  "targets": ["someone@example.org"]}, status=201)
        self.ok("POST", f"/domains/{d}/aliases", {"local": "#team",
                                                  "targets": ["someone@example.org"]}, status=201)
        items = self.ok("GET", f"/domains/{d}/aliases")["items"]
        # openapi.yaml: sorted by local part, byte by byte ('#' < '*')
        self.assertEqual([x["local"] for x in items][:2], ["#team", "*"])
        self.assert_problem(self.req("POST", f"/domains/{d}/aliases",
                                     {"local": "*", "targets": ["x@example.org"]}), 409,
                            "already-exists")
        self.assertTrue([x for x in self.snapshot()["aliases"] if x["address"] == f"*@{d}"])
        # an alias may target the catch-all only as an outside-looking address: refused
        self.assert_invalid(self.create(unique("c"), [f"*@{d}"]), "targets")
        self.ok("PATCH", f"/domains/{d}/aliases/%2A", {"enabled": False})
        self.ok("DELETE", f"/domains/{d}/aliases/%2A", status=204)
        self.assert_problem(self.req("GET", f"/domains/{d}/aliases/*"), 404, "not-found")

    def test_outside_targets_keep_case(self):
        a = self.ok("POST", self.aliases(), {"local": unique("out"), "targets": [
            "John.Smith@Example.COM", "jörg@example.org", "UPPER@bücher.example"]}, status=201)
        self.assertEqual(a["targets"], ["John.Smith@example.com", "jörg@example.org",
                                        "UPPER@xn--bcher-kva.example"])

    def test_hosted_targets(self):
        # hosted targets are lower-cased and must exist as a user or an alias
        a = self.ok("POST", self.aliases(), {"local": unique("h"),
                                             "targets": [f"ALICE@{self.d.upper()}"]}, status=201)
        self.assertEqual(a["targets"], [f"alice@{self.d}"])
        chained = self.ok("POST", self.aliases(), {"local": unique("h"),
                                                   "targets": [a["address"]]}, status=201)
        self.assertEqual(chained["targets"], [a["address"]])
        for target in [f"nobody@{self.d}", f"nobody@{self.other}", f"ALICE@{self.other}"]:
            with self.subTest(target=target):
                self.assert_invalid(self.create(unique("h"), [target]), "targets")
        self.assert_invalid(self.req("PATCH", self.aliases(a["local"]),
                                     {"targets": [f"ghost@{self.d}"]}), "targets")
        self.assertEqual(self.ok("GET", self.aliases(a["local"]))["targets"], [f"alice@{self.d}"])

    def test_self_target(self):
        local = unique("self")
        self.assert_invalid(self.create(local, [f"{local}@{self.d}"]), "targets")
        self.ok("POST", self.aliases(), {"local": local, "targets": ["x@example.org"]},
                status=201)
        for t in [f"{local}@{self.d}", f"{local.upper()}@{self.d.upper()}"]:
            with self.subTest(target=t):
                self.assert_invalid(self.req("PATCH", self.aliases(local),
                                             {"targets": ["y@example.org", t]}), "targets")
        self.assertEqual(self.ok("GET", self.aliases(local))["targets"], ["x@example.org"])

    def test_relay_tricks_refused(self):
        for target in ["a%b@c.com", "@a:b@c.com", "@a,@b:c@d.com", '"q"@c.com', '"a@b"@c.com',
                       "b!a@c.com", "a@[192.0.2.1]", "<a@c.com>", "a@c.com.", "a@", "@c.com",
                       "nodomain", "a@c", "a..b@c.com", ".a@c.com", "a b@c.com",
                       "a\\b@c.com", "a@c.com\r\nRCPT TO:<x@y.com>",
                       "x" * 65 + "@c.com", "a@" + "b" * 64 + ".com",
                       "a@" + ".".join(["b" * 60] * 5) + ".com"]:
            with self.subTest(target=target[:40]):
                self.assert_invalid(self.create(unique("r"), [target]), "targets")
                self.assert_invalid(self.create(unique("r"), ["ok@example.org", target]),
                                    "targets")

    def test_nul_in_target_refused(self):
        r = self.create(unique("r"), ["a@b@c.com\u0000"])
        self.assert_problem(r, 400, "invalid-json")

    def test_target_count(self):
        self.assert_invalid(self.create(unique("n"), []), "targets")
        self.assert_invalid(self.create(unique("n"), [f"t{i}@example.org" for i in range(101)]),
                            "targets")
        hundred = [f"t{i}@example.org" for i in range(100)]
        a = self.ok("POST", self.aliases(), {"local": unique("n"), "targets": hundred},
                    status=201)
        self.assertEqual(a["targets"], hundred)
        self.assert_invalid(self.req("PATCH", self.aliases(a["local"]), {"targets": []}),
                            "targets")
        self.assert_invalid(self.req("PATCH", self.aliases(a["local"]),
                                     {"targets": hundred + ["t100@example.org"]}), "targets")
        self.assertEqual(self.ok("GET", self.aliases(a["local"]))["targets"], hundred)
        self.assert_invalid(self.create(unique("n"), "a@example.org"), "targets")
        self.assert_invalid(self.create(unique("n"), [5]), "targets")
        self.assert_invalid(self.req("POST", self.aliases(), {"local": unique("n")}), "targets")

    def test_local_rules(self):
        self.assert_problem(self.create("alice", ["x@example.org"]), 409, "already-exists")
        self.assert_problem(self.create("ALICE", ["x@example.org"]), 409, "already-exists")
        local = unique("dup")
        self.ok("POST", self.aliases(), {"local": local, "targets": ["x@example.org"]},
                status=201)
        self.assert_problem(self.create(local.upper(), ["y@example.org"]), 409, "already-exists")
        for bad in ["a%b", "", "a b", "a@b", ".x", "x" * 65]:
            with self.subTest(local=bad):
                self.assert_invalid(self.create(bad, ["x@example.org"]), "local")
        created = self.ok("POST", self.aliases(), {"local": "Sales.Team",
                                                   "targets": ["x@example.org"],
                                                   "enabled": False}, status=201)
        self.assertEqual((created["local"], created["enabled"]), ("sales.team", False))
        self.assertEqual(self.ok("GET", self.aliases("SALES.TEAM"))["local"], "sales.team")
        self.assert_invalid(self.req("PATCH", self.aliases("sales.team"), {"local": "x"}),
                            "local")
        self.assert_problem(self.create("x", ["a@example.org"], **{"d": 1}), 422,
                            "validation-failed")
        self.assert_problem(self.req("POST", "/domains/nosuch.example/aliases",
                                     {"local": "x", "targets": ["a@example.org"]}), 404,
                            "not-found")

    def test_duplicate_targets_collapse(self):
        a = self.ok("POST", self.aliases(), {"local": unique("dd"), "targets": [
            "x@example.org", "x@EXAMPLE.org", f"alice@{self.d}", f"Alice@{self.d}"]}, status=201)
        self.assertEqual(a["targets"], ["x@example.org", f"alice@{self.d}"])


if __name__ == "__main__":
    unittest.main()
