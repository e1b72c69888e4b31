"""Domains (CRUD, IDNA, name validation, pagination, forced delete), the DNS
records a domain needs, and its DKIM keys."""
import base64
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from helpers import ApiCase, b64url, q, unique, unique_domain  # noqa: E402

tearDownModule = helpers.print_coverage

HOST = "mail.test.example."  # harness hostname, with the root dot


def txt_text(value):
    """The text of a TXT value: bare, or zone-file quoted strings joined."""
    if value.startswith('"'):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', value)
        for p in parts:
            assert len(p.encode()) <= 255, f"TXT string over 255 octets: {p[:40]}..."
        return "".join(parts)
    return value


class DomainTests(ApiCase):

    def test_domain_crud(self):
        name = unique_domain()
        r = self.req("POST", "/domains", {"name": name, "description": "first"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Location"), f"/api/v1/domains/{name}")
        d = r.json
        self.assertEqual((d["name"], d["name_unicode"], d["description"], d["enabled"],
                          d["max_users"], d["user_count"], d["alias_count"]),
                         (name, name, "first", True, 0, 0, 0))
        self.assertEqual(d["created_at"], d["updated_at"])
        self.assertEqual(self.ok("GET", f"/domains/{name}"), d)
        d2 = self.ok("PATCH", f"/domains/{name}", {"description": "second", "enabled": False,
                                                   "max_users": 10,
                                                   "default_quota_bytes": 1 << 20})
        self.assertEqual((d2["description"], d2["enabled"], d2["max_users"],
                          d2["default_quota_bytes"]), ("second", False, 10, 1 << 20))
        self.assertGreaterEqual(d2["updated_at"], d["created_at"])
        self.assertEqual(d2["created_at"], d["created_at"])
        d3 = self.ok("PATCH", f"/domains/{name}", {})
        self.assertEqual({k: v for k, v in d3.items() if k != "updated_at"},
                         {k: v for k, v in d2.items() if k != "updated_at"})
        self.assertIn(name, [x["name"] for x in self.list_all("/domains")])
        self.ok("DELETE", f"/domains/{name}", status=204)
        self.assert_problem(self.req("GET", f"/domains/{name}"), 404, "not-found")
        self.assert_problem(self.req("DELETE", f"/domains/{name}"), 404, "not-found")
        self.assert_problem(self.req("PATCH", f"/domains/{name}", {}), 404, "not-found")
        self.assertNotIn(name, [x["name"] for x in self.list_all("/domains")])

    def test_update_validation(self):
        name = self.mk_domain()
        before = self.ok("GET", f"/domains/{name}")
        for body, field in [({"name": "other.example"}, "name"), ({"max_users": -1}, "max_users"),
                            ({"description": "x" * 257}, "description"),
                            ({"default_quota_bytes": -5}, "default_quota_bytes"),
                            ({"enabled": "no"}, "enabled"), ({"max_users": 2.5}, "max_users")]:
            with self.subTest(body=str(body)[:40]):
                self.assert_invalid(self.req("PATCH", f"/domains/{name}", body), field)
        self.assertEqual(self.ok("GET", f"/domains/{name}"), before)

    def test_idna(self):
        r = self.req("POST", "/domains", {"name": "bücher.example"})
        self.assertEqual(r.status, 201, r)
        d = r.json
        self.assertEqual(d["name"], "xn--bcher-kva.example")
        self.assertEqual(d["name_unicode"], "bücher.example")
        self.assertEqual(r.headers.get("Location"), "/api/v1/domains/xn--bcher-kva.example")
        for form in ["xn--bcher-kva.example", "bücher.example", "XN--BCHER-KVA.EXAMPLE",
                     "Bücher.Example", "bücher.example."]:
            with self.subTest(form=form):
                self.assertEqual(self.ok("GET", f"/domains/{q(form)}")["name"],
                                 "xn--bcher-kva.example")
        for form in ["xn--bcher-kva.example", "BÜCHER.example", "bücher.example.",
                     "XN--BCHER-KVA.example"]:
            with self.subTest(duplicate=form):
                self.assert_problem(self.req("POST", "/domains", {"name": form}), 409,
                                    "already-exists")
        user, _, _ = self.mk_user("bücher.example", "leser")
        self.assertEqual(user["address"], "leser@xn--bcher-kva.example")
        self.assertEqual(user["domain"], "xn--bcher-kva.example")
        self.ok("DELETE", f"/domains/{q('bücher.example')}?force=true", status=204)
        self.assert_problem(self.req("GET", "/domains/xn--bcher-kva.example"), 404, "not-found")

    def test_invalid_names(self):
        names = ["", "a", "-a.com", "a-.com", "a..com", ".a.com", "a.com..",
                 ("a" * 63 + ".") * 3 + "a" * 62,  # 254 octets
                 "a" * 64 + ".com", "1.2.3.4", "exa mple.com", "ex_ample.com", "example",
                 "ab--cd.example", "xn--zz.example", "[1.2.3.4]", "a@b.com", "a/b.com",
                 "a.com\n", "a\tb.com"]
        for name in names:
            with self.subTest(name=name[:70]):
                r = self.req("POST", "/domains", {"name": name})
                body = self.assert_invalid(r, "name")
                self.assertTrue(all(e["message"] for e in body["errors"]), body)
        self.assertEqual(len("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61), 253)
        longest = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
        self.assertEqual(self.ok("POST", "/domains", {"name": longest}, status=201)["name"],
                         longest)
        self.assert_invalid(self.req("POST", "/domains", {"name": 5}), "name")
        self.assert_invalid(self.req("POST", "/domains", {}), "name")

    def test_duplicates(self):
        name = self.mk_domain()
        for form in [name, name.upper(), name + ".", name.capitalize()]:
            with self.subTest(form=form):
                self.assert_problem(self.req("POST", "/domains", {"name": form}), 409,
                                    "already-exists")

    def test_pagination(self):
        mine = sorted(self.mk_domain(f"{unique('pg')}-{i}.example") for i in range(7))
        everything = [d["name"] for d in self.ok("GET", "/domains?limit=500")["items"]]
        self.assertEqual(everything, sorted(everything))
        seen, cursor, pages = [], None, 0
        while True:
            path = "/domains?limit=3" + (f"&cursor={q(cursor)}" if cursor else "")
            page = self.ok("GET", path)
            self.assertLessEqual(len(page["items"]), 3)
            seen += [d["name"] for d in page["items"]]
            cursor = page["next_cursor"]
            pages += 1
            if cursor is None:
                break
            self.assertEqual(len(page["items"]), 3, "a short page must be the last one")
            self.assertLess(pages, 100)
        self.assertEqual(len(seen), len(set(seen)), "repeats")
        self.assertEqual(seen, everything, "gaps or wrong order")
        self.assertTrue(set(mine) <= set(seen))
        page = self.ok("GET", "/domains?limit=1")
        self.assertEqual(len(page["items"]), 1)
        self.assertIsNotNone(page["next_cursor"])

    def test_bad_pagination_parameters(self):
        self.mk_domain()
        before = self.ok("GET", "/domains?limit=500")
        for query in ["limit=0", "limit=501", "limit=abc", "limit=-1", "limit=", "limit=1.5",
                      "limit=3x", "limit=99999999999999999999", "cursor=!!!", "cursor=%25%25",
                      "cursor=AAAA",  # decodes to NUL bytes
                      "cursor=" + "A" * 2000]:
            with self.subTest(query=query[:40]):
                self.assert_problem(self.req("GET", f"/domains?{query}"), 400, "bad-request")
        self.assertEqual(self.ok("GET", "/domains?limit=500"), before)

    def test_forged_cursor(self):
        # A cursor the server never issued is refused, not used as a position.
        for raw in [b"not a domain name!", b"\xff\xfe\xfd", b"zzzz.example' OR 1=1 --"]:
            with self.subTest(raw=raw):
                r = self.req("GET", f"/domains?cursor={b64url(raw)}")
                self.assert_problem(r, 400, "bad-request")

    def test_concurrent_creates(self):
        name = unique_domain("race")
        forms = [name, name.upper(), name + "."]
        statuses = helpers.parallel(
            lambda i: self.req("POST", "/domains", {"name": forms[i % 3]}).status, 12)
        self.assertEqual(sorted(statuses), [201] + [409] * 11)
        self.assertEqual([d for d in self.list_all("/domains") if d["name"] == name][0]["name"],
                         name)

    def test_create_while_the_domain_is_deleted(self):
        # Key generation and password hashing run before the write transaction; a domain
        # deleted meanwhile is gone (404), not an internal error.
        for i in range(3):
            d = self.mk_domain()
            jobs = [("POST", f"/domains/{d}/dkim-keys", {"algorithm": "rsa-2048"}),
                    ("POST", f"/domains/{d}/users", {"local": "late", "password": "late-password"}),
                    ("DELETE", f"/domains/{d}?force=true", None)]
            out = helpers.parallel(lambda k: self.req(*jobs[k]), 3)
            self.assertEqual(out[2].status, 204, out[2])
            for r in out[:2]:
                self.assertIn(r.status, (201, 404), r)
            self.assert_problem(self.req("GET", f"/domains/{d}"), 404, "not-found")

    def test_delete_non_empty(self):
        name = self.mk_domain()
        user, _, _ = self.mk_user(name, "owner", password="owner-password")
        self.ok("POST", f"/domains/{name}/aliases", {"local": "info",
                                                     "targets": [user["address"]]}, status=201)
        key = self.ok("POST", f"/domains/{name}/dkim-keys", {"algorithm": "ed25519"}, status=201)
        dadmin, _, dtoken = self.mk_admin(role="domain", domains=[name])
        d = self.ok("GET", f"/domains/{name}")
        self.assertEqual((d["user_count"], d["alias_count"]), (1, 1))
        self.assert_problem(self.req("DELETE", f"/domains/{name}"), 409, "domain-not-empty")
        self.assert_problem(self.req("DELETE", f"/domains/{name}?force=false"), 409,
                            "domain-not-empty")
        self.assert_problem(self.req("DELETE", f"/domains/{name}?force=yes"), 400, "bad-request")
        self.assertEqual(self.ok("GET", f"/domains/{name}")["user_count"], 1)
        files = helpers.fake_store(self.api, user["store_id"])
        self.ok("DELETE", f"/domains/{name}?force=true", status=204)
        self.assert_problem(self.req("GET", f"/domains/{name}"), 404, "not-found")
        for path in files:
            self.assertFalse(os.path.exists(path), f"{path} left behind")
        snap = self.snapshot()
        self.assertFalse([u for u in snap["users"] if u["domain"] == name])
        self.assertFalse([a for a in snap["aliases"] if a["domain"] == name])
        self.assertFalse([k for k in snap["dkim_keys"] if k["domain"] == name])
        self.assertFalse([x for x in snap["domains"] if x["name"] == name])
        self.assertEqual(self.ok("GET", "/me", token=dtoken)["domains"], [])
        # a domain of the same name starts empty
        self.mk_domain(name)
        self.assertEqual(self.ok("GET", f"/domains/{name}/users")["items"], [])
        self.assertEqual(self.ok("GET", f"/domains/{name}/aliases")["items"], [])
        self.assertEqual(self.ok("GET", f"/domains/{name}/dkim-keys")["items"], [])
        self.assert_problem(self.req("GET", f"/domains/{name}/users/owner"), 404, "not-found")
        self.assertNotIn(key["selector"], str(self.ok("GET", f"/domains/{name}/dns",
                                                      validate=False)))
        # and the old user's credentials are gone with it
        r = self.req("POST", f"/domains/{name}/users/owner/password",
                     {"old_password": "owner-password", "new_password": "another-password"},
                     token=None)
        self.assert_problem(r, 401, "invalid-credentials")
        self.ok("DELETE", f"/domains/{name}", status=204)


class DnsDkimTests(ApiCase):

    def dns(self, domain, validate=False):
        return self.ok("GET", f"/domains/{q(domain)}/dns", validate=validate)

    def dkim_p(self, txt):
        m = re.fullmatch(r"v=DKIM1; k=(ed25519|rsa); p=([A-Za-z0-9+/]+=*)", txt)
        self.assertIsNotNone(m, txt)
        return m.group(1), base64.b64decode(m.group(2), validate=True)

    def check_rsa_der(self, der):
        r = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-noout", "-text"],
                           input=der, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"2048 bit", r.stdout)

    def test_dkim_ed25519(self):
        d = self.mk_domain()
        r = self.req("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519"})
        self.assertEqual(r.status, 201, r)
        k = r.json
        self.assertEqual(r.headers.get("Location"), f"/api/v1/domains/{d}/dkim-keys/{k['selector']}")
        self.assertEqual((k["algorithm"], k["status"]), ("ed25519", "active"))
        self.assertEqual(k["dns_name"], f"{k['selector']}._domainkey.{d}")
        kind, raw = self.dkim_p(k["txt"])
        self.assertEqual((kind, len(raw)), ("ed25519", 32))
        self.assertEqual(self.ok("GET", f"/domains/{d}/dkim-keys")["items"], [k])
        snap = [x for x in self.snapshot()["dkim_keys"] if x["domain"] == d]
        self.assertEqual(len(snap), 1)
        self.assertEqual((snap[0]["selector"], snap[0]["status"]), (k["selector"], "active"))
        sealed = base64.b64decode(snap[0]["private_key_sealed"])
        self.assertNotIn(b"PRIVATE KEY", sealed)

    def test_dkim_rsa(self):
        d = self.mk_domain()
        k = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "rsa-2048",
                                                        "selector": "Mail2026"}, status=201)
        self.assertEqual(k["selector"], "mail2026")
        kind, der = self.dkim_p(k["txt"])
        self.assertEqual(kind, "rsa")
        self.check_rsa_der(der)

    def test_dkim_create_validation(self):
        d = self.mk_domain()
        for body, field in [({"algorithm": "rsa-1024"}, "algorithm"), ({"algorithm": "RSA"},
                                                                       "algorithm"),
                            ({}, "algorithm"), ({"algorithm": "ed25519", "selector": "-x"},
                                                "selector"),
                            ({"algorithm": "ed25519", "selector": "a.b"}, "selector"),
                            ({"algorithm": "ed25519", "selector": "x" * 64}, "selector"),
                            ({"algorithm": "ed25519", "selector": ""}, "selector"),
                            ({"algorithm": "ed25519", "bits": 4096}, "bits")]:
            with self.subTest(body=str(body)[:50]):
                self.assert_invalid(self.req("POST", f"/domains/{d}/dkim-keys", body), field)
        self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519", "selector": "s1"},
                status=201)
        self.assert_problem(self.req("POST", f"/domains/{d}/dkim-keys",
                                     {"algorithm": "rsa-2048", "selector": "S1"}), 409,
                            "already-exists")
        self.assertEqual(len(self.ok("GET", f"/domains/{d}/dkim-keys")["items"]), 1)

    def test_dkim_rotate_and_delete(self):
        d = self.mk_domain()
        old = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "rsa-2048"}, status=201)
        r = self.req("POST", f"/domains/{d}/dkim-keys/{old['selector']}/rotate")
        self.assertEqual(r.status, 201, r)
        new = r.json
        self.assertEqual(r.headers.get("Location"),
                         f"/api/v1/domains/{d}/dkim-keys/{new['selector']}")
        self.assertNotEqual(new["selector"], old["selector"])
        self.assertEqual((new["algorithm"], new["status"]), ("rsa-2048", "active"))
        self.assertNotEqual(new["txt"], old["txt"])
        self.check_rsa_der(self.dkim_p(new["txt"])[1])
        keys = {k["selector"]: k for k in self.ok("GET", f"/domains/{d}/dkim-keys")["items"]}
        self.assertEqual(keys[old["selector"]]["status"], "retired")
        self.assertEqual(keys[old["selector"]]["txt"], old["txt"])
        self.assertEqual(keys[new["selector"]]["status"], "active")
        recs = {r["name"]: txt_text(r["value"]) for r in self.dns(d)["records"]
                if r["type"] == "TXT"}
        self.assertEqual(recs.get(f"{old['selector']}._domainkey.{d}."), old["txt"])
        self.assertEqual(recs.get(f"{new['selector']}._domainkey.{d}."), new["txt"])
        snap = {k["selector"]: k["status"] for k in self.snapshot()["dkim_keys"]
                if k["domain"] == d}
        self.assertEqual(snap, {old["selector"]: "retired", new["selector"]: "active"})
        # delete the retired key
        self.ok("DELETE", f"/domains/{d}/dkim-keys/{old['selector']}", status=204)
        self.assertEqual([k["selector"] for k in self.ok("GET", f"/domains/{d}/dkim-keys")["items"]],
                         [new["selector"]])
        self.assertNotIn(old["selector"], str(self.dns(d)))
        self.assert_problem(self.req("DELETE", f"/domains/{d}/dkim-keys/{old['selector']}"), 404,
                            "not-found")
        self.assert_problem(self.req("POST", f"/domains/{d}/dkim-keys/{old['selector']}/rotate"),
                            404, "not-found")
        self.assert_problem(self.req("POST", f"/domains/{d}/dkim-keys/nosuch/rotate"), 404,
                            "not-found")

    def test_dkim_list_by_selector(self):
        # openapi.yaml listDkimKeys: "Active and retired keys, ordered by selector."
        d = self.mk_domain()
        self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519", "selector": "zzz"},
                status=201)
        self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519", "selector": "aaa"},
                status=201)
        keys = self.ok("GET", f"/domains/{d}/dkim-keys")["items"]
        self.assertEqual([k["selector"] for k in keys], ["aaa", "zzz"])

    def test_rotate_retired_key(self):
        # openapi.yaml: "Rotating a key that is already retired gives 422."
        d = self.mk_domain()
        old = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519"}, status=201)
        self.ok("POST", f"/domains/{d}/dkim-keys/{old['selector']}/rotate", status=201)
        r = self.req("POST", f"/domains/{d}/dkim-keys/{old['selector']}/rotate")
        self.assert_problem(r, 422, "validation-failed")
        self.assertEqual(len(self.ok("GET", f"/domains/{d}/dkim-keys")["items"]), 2)

    def test_dns_records(self):
        d = self.mk_domain()
        ed = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519"}, status=201)
        rsa = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "rsa-2048"}, status=201)
        out = self.dns(d)
        self.assertEqual(out["domain"], d)
        recs = out["records"]
        for r in recs:
            self.assertTrue(r["name"].endswith(f"{d}."), r)
            self.assertIsInstance(r["ttl"], int)
            self.assertTrue(r["purpose"], r)

        def one(rtype, name):
            found = [r for r in recs if r["type"] == rtype and r["name"] == name]
            self.assertEqual(len(found), 1, f"{rtype} {name}: {found}")
            return found[0]

        mx = one("MX", f"{d}.")
        self.assertEqual((mx["priority"], mx["value"]), (10, f"10 {HOST}"))
        self.assertTrue(txt_text(one("TXT", f"{d}.")["value"]).startswith("v=spf1 "))
        for key in (ed, rsa):
            self.assertEqual(txt_text(one("TXT", f"{key['selector']}._domainkey.{d}.")["value"]),
                             key["txt"])
        dmarc = txt_text(one("TXT", f"_dmarc.{d}.")["value"])
        self.assertTrue(dmarc.startswith("v=DMARC1; p="), dmarc)
        self.assertRegex(txt_text(one("TXT", f"_mta-sts.{d}.")["value"]),
                         r"^v=STSv1; id=[A-Za-z0-9]{1,32}$")
        self.assertEqual(one("CNAME", f"mta-sts.{d}.")["value"], HOST)
        self.assertTrue(txt_text(one("TXT", f"_smtp._tls.{d}.")["value"])
                        .startswith("v=TLSRPTv1; rua="))
        self.assertEqual(one("CNAME", f"autoconfig.{d}.")["value"], HOST)
        self.assertEqual(one("CNAME", f"autodiscover.{d}.")["value"], HOST)
        # RFC 6186 / RFC 8314 / RFC 6764 SRV records: service -> port (0 = not offered)
        srv = {"_autodiscover._tcp": 443, "_submission._tcp": 587, "_submissions._tcp": 465,
               "_imap._tcp": 143, "_imaps._tcp": 993, "_pop3._tcp": 110, "_pop3s._tcp": 995,
               "_caldavs._tcp": 443, "_carddavs._tcp": 443, "_caldav._tcp": 0,
               "_carddav._tcp": 0}
        for service, port in srv.items():
            with self.subTest(srv=service):
                r = one("SRV", f"{service}.{d}.")
                target = "." if port == 0 else HOST
                self.assertEqual((r["port"], r["target"]), (port, target))
                self.assertEqual(r["value"], f"{r['priority']} {r['weight']} {port} {target}")
        for service, path in [("_caldavs._tcp", "/.well-known/caldav"),
                              ("_carddavs._tcp", "/.well-known/carddav")]:
            self.assertEqual(txt_text(one("TXT", f"{service}.{d}.")["value"]), f"path={path}")
        # RFC 8314 section 5.1: implicit TLS preferred over STARTTLS
        self.assertLessEqual(one("SRV", f"_submissions._tcp.{d}.")["priority"],
                             one("SRV", f"_submission._tcp.{d}.")["priority"])
        self.assertLessEqual(one("SRV", f"_imaps._tcp.{d}.")["priority"],
                             one("SRV", f"_imap._tcp.{d}.")["priority"])

    def test_dns_records_match_the_spec(self):
        d = self.mk_domain()
        self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "rsa-2048"}, status=201)
        self.dns(d, validate=True)

    def test_dns_of_idn_domain(self):
        self.ok("POST", "/domains", {"name": "пример.example"}, status=201)
        out = self.dns("пример.example")
        self.assertEqual(out["domain"], "xn--e1afmkfd.example")
        self.assertTrue(all(r["name"].endswith("xn--e1afmkfd.example.") for r in out["records"]))


if __name__ == "__main__":
    unittest.main()
