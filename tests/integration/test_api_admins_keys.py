"""Admins, roles (global and domain admins) and API keys."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from helpers import ApiCase, unique, unique_domain  # noqa: E402

tearDownModule = helpers.print_coverage


class AdminTests(ApiCase):

    def test_admin_crud(self):
        d1, d2 = self.mk_domain(), self.mk_domain()
        name = unique("adm")
        r = self.req("POST", "/admins", {"username": name, "password": "long-enough-pw",
                                         "role": "domain", "domains": [d1]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Location"), f"/api/v1/admins/{name}")
        a = r.json
        self.assertEqual((a["username"], a["role"], a["domains"], a["enabled"]),
                         (name, "domain", [d1], True))
        self.assertNotIn("password", a)
        self.assertNotIn("password_hash", a)
        self.assertEqual(self.ok("GET", f"/admins/{name}"), a)
        names = [x["username"] for x in self.list_all("/admins", limit=2)]
        self.assertIn(name, names)
        self.assertIn(self.api.admin_user, names)
        self.assertEqual(names, sorted(names))
        a2 = self.ok("PATCH", f"/admins/{name}", {"domains": [d2, d1]})
        self.assertEqual(a2["domains"], sorted([d1, d2]))
        a3 = self.ok("PATCH", f"/admins/{name}", {"role": "global"})
        self.assertEqual((a3["role"], a3["domains"]), ("global", []))
        self.ok("DELETE", f"/admins/{name}", status=204)
        self.assert_problem(self.req("GET", f"/admins/{name}"), 404, "not-found")
        self.assert_problem(self.req("DELETE", f"/admins/{name}"), 404, "not-found")
        self.assert_problem(self.req("PATCH", f"/admins/{name}", {"enabled": True}), 404,
                            "not-found")

    def test_admin_create_conflicts_and_validation(self):
        d = self.mk_domain()
        name, _, _ = self.mk_admin(role="domain", domains=[d], login=False)
        r = self.req("POST", "/admins", {"username": name, "password": "long-enough-pw",
                                         "role": "global"})
        self.assert_problem(r, 409, "already-exists")
        base = {"username": unique("adm"), "password": "long-enough-pw", "role": "domain",
                "domains": [d]}
        for field, value in [("username", "bad name"), ("username", ""), ("username", "x" * 65),
                             ("password", "short"), ("role", "root"),
                             ("domains", [unique_domain("missing")]), ("domains", ["not a domain"]),
                             ("enabled", "yes"), ("domains", "example.com")]:
            with self.subTest(field=field, value=value):
                self.assert_invalid(self.req("POST", "/admins", dict(base, **{field: value})),
                                    field)
        r = self.req("POST", "/admins", dict(base, role="global", domains=[d]))
        self.assert_invalid(r, "domains")
        self.assert_problem(self.req("GET", f"/admins/{base['username']}"), 404, "not-found")

    def test_domains_only_for_domain_admins(self):
        d = self.mk_domain()
        g, _, _ = self.mk_admin(role="global", login=False)
        self.assert_invalid(self.req("PATCH", f"/admins/{g}", {"domains": [d]}), "domains")
        self.assertEqual(self.ok("GET", f"/admins/{g}")["domains"], [])
        da, _, _ = self.mk_admin(role="domain", domains=[d], login=False)
        self.assert_invalid(self.req("PATCH", f"/admins/{da}", {"domains": []}), "domains")
        self.assert_invalid(self.req("PATCH", f"/admins/{g}", {"role": "domain"}), "domains")
        self.assertEqual(self.ok("GET", f"/admins/{da}")["domains"], [d])
        self.assertEqual(self.ok("GET", f"/admins/{g}")["role"], "global")

    def test_domain_admin_needs_a_domain(self):
        # openapi.yaml: "A domain admin needs at least one domain in domains" (422).
        r = self.req("POST", "/admins", {"username": unique("adm"), "password": "long-enough-pw",
                                         "role": "domain"})
        self.assert_invalid(r, "domains")

    def test_global_admin_changes_own_password(self):
        name, pw, token = self.mk_admin(role="global")
        r = self.req("PATCH", f"/admins/{name}", {"password": "new-password-1"}, token=token)
        self.assert_invalid(r, "old_password")
        r = self.req("PATCH", f"/admins/{name}", {"password": "new-password-1",
                                                  "old_password": "wrong-old-pw"}, token=token)
        self.assert_problem(r, 401, "invalid-credentials")
        self.ok("PATCH", f"/admins/{name}", {"password": "new-password-1", "old_password": pw},
                token=token)
        self.api.login(name, "new-password-1")
        # a global admin resets another admin's password without the old one
        self.ok("PATCH", f"/admins/{name}", {"password": "new-password-2"})
        self.api.login(name, "new-password-2")


class RoleTests(ApiCase):
    """A domain admin sees and manages only its domains."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("test_me")  # an instance, for the fixture helpers
        cls.own = tc.mk_domain()
        cls.foreign = tc.mk_domain()
        tc.mk_user(cls.foreign, "fuser", password="foreign-password")
        tc.ok("POST", f"/domains/{cls.foreign}/aliases",
              {"local": "falias", "targets": [f"fuser@{cls.foreign}"]}, status=201)
        tc.ok("POST", f"/domains/{cls.foreign}/dkim-keys", {"algorithm": "ed25519",
                                                            "selector": "fsel"}, status=201)
        cls.dadmin, cls.dpw, cls.dtoken = tc.mk_admin(role="domain", domains=[cls.own])

    def test_me(self):
        me = self.ok("GET", "/me", token=self.dtoken)
        self.assertEqual(me, {"username": self.dadmin, "role": "domain", "domains": [self.own],
                              "auth": "jwt"})

    def test_sees_only_its_domains(self):
        names = [d["name"] for d in self.list_all("/domains", token=self.dtoken)]
        self.assertEqual(names, [self.own])
        self.assertEqual(self.ok("GET", f"/domains/{self.own}", token=self.dtoken)["name"],
                         self.own)

    def test_foreign_domain_is_not_found(self):
        f = self.foreign
        missing = unique_domain("nx")
        for d in (f, missing):
            for method, path in [("GET", f"/domains/{d}"), ("GET", f"/domains/{d}/users"),
                                 ("GET", f"/domains/{d}/users/fuser"),
                                 ("GET", f"/domains/{d}/aliases"),
                                 ("GET", f"/domains/{d}/aliases/falias"),
                                 ("GET", f"/domains/{d}/dkim-keys"),
                                 ("GET", f"/domains/{d}/dns"),
                                 ("GET", f"/domains/{d}/users/fuser/app-passwords"),
                                 ("PATCH", f"/domains/{d}"),
                                 ("DELETE", f"/domains/{d}"),
                                 ("DELETE", f"/domains/{d}/users/fuser"),
                                 ("DELETE", f"/domains/{d}/aliases/falias"),
                                 ("DELETE", f"/domains/{d}/dkim-keys/fsel"),
                                 ("POST", f"/domains/{d}/dkim-keys/fsel/rotate")]:
                with self.subTest(method=method, path=path):
                    body = {} if method == "PATCH" else None
                    r = self.req(method, path, body, token=self.dtoken)
                    self.assert_problem(r, 404, "not-found")
            for path, body in [(f"/domains/{d}/users", {"local": "intruder"}),
                               (f"/domains/{d}/aliases", {"local": "x", "targets": ["a@b.org"]}),
                               (f"/domains/{d}/dkim-keys", {"algorithm": "ed25519"})]:
                with self.subTest(path=path):
                    self.assert_problem(self.req("POST", path, body, token=self.dtoken), 404,
                                        "not-found")
        # nothing of the foreign domain was touched
        self.assertEqual(self.ok("GET", f"/domains/{f}")["user_count"], 1)
        self.assertEqual(len(self.ok("GET", f"/domains/{f}/dkim-keys")["items"]), 1)

    def test_forbidden_operations(self):
        t = self.dtoken
        for method, path, body in [
                ("POST", "/domains", {"name": unique_domain()}),
                ("PATCH", f"/domains/{self.own}", {"description": "mine"}),
                ("DELETE", f"/domains/{self.own}", None),
                ("GET", "/admins", None),
                ("POST", "/admins", {"username": unique("x"), "password": "long-enough-pw",
                                     "role": "global"}),
                ("GET", f"/admins/{self.api.admin_user}", None),
                ("PATCH", f"/admins/{self.api.admin_user}", {"enabled": False}),
                ("DELETE", f"/admins/{self.api.admin_user}", None),
                ("DELETE", f"/admins/{self.dadmin}", None),
                ("PATCH", f"/admins/{self.dadmin}", {"role": "global"}),
                ("PATCH", f"/admins/{self.dadmin}", {"domains": [self.foreign]}),
                ("PATCH", f"/admins/{self.dadmin}", {"enabled": False})]:
            with self.subTest(method=method, path=path):
                self.assert_problem(self.req(method, path, body, token=t), 403, "forbidden")
        self.assertEqual(self.ok("GET", "/me", token=t)["domains"], [self.own])
        self.assertTrue(self.ok("GET", f"/admins/{self.api.admin_user}")["enabled"])

    def test_manages_its_domain(self):
        t, d = self.dtoken, self.own
        user, pw, _ = self.mk_user(d, token=t)
        self.ok("PATCH", f"/domains/{d}/users/{user['local']}", {"display_name": "Dee"}, token=t)
        self.ok("POST", f"/domains/{d}/aliases", {"local": unique("al"),
                                                  "targets": [user["address"]]},
                status=201, token=t)
        key = self.ok("POST", f"/domains/{d}/dkim-keys", {"algorithm": "ed25519"}, status=201,
                      token=t)
        self.ok("GET", f"/domains/{d}/dns", token=t, validate=False)  # schema: test_api_domains
        self.ok("DELETE", f"/domains/{d}/dkim-keys/{key['selector']}", status=204, token=t)
        self.ok("DELETE", f"/domains/{d}/users/{user['local']}", status=204, token=t)

    def test_reads_itself_and_changes_own_password(self):
        a = self.ok("GET", f"/admins/{self.dadmin}", token=self.dtoken)
        self.assertEqual(a["domains"], [self.own])
        name, pw, token = self.mk_admin(role="domain", domains=[self.own])
        r = self.req("PATCH", f"/admins/{name}", {"password": "changed-password",
                                                  "old_password": "not-my-password"}, token=token)
        self.assert_problem(r, 401, "invalid-credentials")
        r = self.req("PATCH", f"/admins/{name}", {"password": "changed-password"}, token=token)
        self.assert_invalid(r, "old_password")
        self.ok("PATCH", f"/admins/{name}", {"password": "changed-password",
                                             "old_password": pw}, token=token)
        self.assert_problem(self.req("GET", "/me", token=token), 401, "unauthorized")  # revoked
        token = self.api.login(name, "changed-password")
        # another domain admin's record is off limits
        self.assert_problem(self.req("PATCH", f"/admins/{self.dadmin}",
                                     {"password": "hijacked-password"}, token=token), 403,
                            "forbidden")
        self.assert_problem(self.req("GET", f"/admins/{self.dadmin}", token=token), 403,
                            "forbidden")

    def test_alias_targets_do_not_reveal_foreign_users(self):
        # A domain admin must not learn which addresses exist in domains it cannot see:
        # an alias target there is answered the same whether it exists or not.
        t = self.dtoken
        exists = self.req("POST", f"/domains/{self.own}/aliases",
                          {"local": unique("p"), "targets": [f"fuser@{self.foreign}"]}, token=t)
        missing = self.req("POST", f"/domains/{self.own}/aliases",
                           {"local": unique("p"), "targets": [f"nobody@{self.foreign}"]}, token=t)
        self.assertEqual(exists.status, missing.status, f"{exists} vs {missing}")

    def test_user_credential_endpoints_ignore_a_domain_admin_token(self):
        # openapi.yaml: a bearer token, when sent, must be valid but grants nothing here;
        # so a domain admin's token does not turn the foreign user into a 404.
        path = f"/domains/{self.foreign}/users/fuser"
        r = self.req("POST", path + "/password", {"old_password": "foreign-password",
                                                   "new_password": "foreign-password-2"},
                     token=self.dtoken)
        self.assertEqual(r.status, 204, r)
        r = self.req("POST", path + "/app-passwords", {"name": "x",
                                                        "password": "foreign-password-2"},
                     token=self.dtoken)
        self.assertEqual(r.status, 201, r)

    def test_domain_admin_api_key_acts_with_its_role(self):
        key = self.mk_apikey(token=self.dtoken)
        self.assertEqual(key["owner"], self.dadmin)
        k = key["secret"]
        me = self.ok("GET", "/me", token=k)
        self.assertEqual((me["role"], me["domains"], me["auth"]), ("domain", [self.own],
                                                                    "api_key"))
        self.assertEqual([d["name"] for d in self.list_all("/domains", token=k)], [self.own])
        self.assert_problem(self.req("GET", f"/domains/{self.foreign}", token=k), 404,
                            "not-found")
        self.assert_problem(self.req("POST", "/domains", {"name": unique_domain()}, token=k),
                            403, "forbidden")
        self.assert_problem(self.req("GET", "/admins", token=k), 403, "forbidden")
        # its own keys only; the global admin sees them all
        mine = self.list_all("/api-keys", token=k)
        self.assertEqual({x["owner"] for x in mine}, {self.dadmin})
        gkey = self.mk_apikey()
        everything = {x["id"] for x in self.list_all("/api-keys")}
        self.assertTrue({key["id"], gkey["id"]} <= everything)
        self.assert_problem(self.req("DELETE", f"/api-keys/{gkey['id']}", token=k), 404,
                            "not-found")
        self.ok("GET", "/me", token=gkey["secret"])


class LastGlobalAdminTests(ApiCase):
    """Only the bootstrap admin is global here at first."""

    def test_last_global_admin(self):
        me = self.api.admin_user
        d = self.mk_domain()
        self.assert_problem(self.req("DELETE", f"/admins/{me}"), 409, "last-global-admin")
        self.assert_problem(self.req("PATCH", f"/admins/{me}", {"role": "domain",
                                                               "domains": [d]}), 409,
                            "last-global-admin")
        self.assert_problem(self.req("PATCH", f"/admins/{me}", {"enabled": False}), 409,
                            "last-global-admin")
        self.assertEqual(self.ok("GET", "/me")["role"], "global")
        # a second global admin that is disabled does not count
        g2, g2pw, _ = self.mk_admin(role="global", login=False)
        self.ok("PATCH", f"/admins/{g2}", {"enabled": False})
        self.assert_problem(self.req("DELETE", f"/admins/{me}"), 409, "last-global-admin")
        # a domain admin does not count either
        self.mk_admin(role="domain", domains=[d], login=False)
        self.assert_problem(self.req("PATCH", f"/admins/{me}", {"role": "domain",
                                                               "domains": [d]}), 409,
                            "last-global-admin")
        # with g2 enabled, the first may go; then g2 is the last one
        self.ok("PATCH", f"/admins/{g2}", {"enabled": True})
        g2token = self.api.login(g2, g2pw)
        self.ok("DELETE", f"/admins/{me}", status=204, token=g2token)
        self.assert_problem(self.req("GET", "/me"), 401, "unauthorized")
        self.assert_problem(self.req("DELETE", f"/admins/{g2}", token=g2token), 409,
                            "last-global-admin")
        self.assert_problem(self.req("PATCH", f"/admins/{g2}", {"enabled": False},
                                     token=g2token), 409, "last-global-admin")


class LastGlobalAdminRaceTests(ApiCase):
    """Two global admins disabling each other at the same moment must not both
    succeed: that leaves no enabled global admin (a lockout)."""

    def enabled_globals(self):
        db = sqlite3.connect(f"file:{os.path.join(self.api.data_dir, 'control.db')}?mode=ro",
                             uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM admins WHERE role = 'global' AND "
                              "enabled = 1").fetchone()[0]
        finally:
            db.close()

    def test_concurrent_mutual_disable(self):
        a, apw = self.api.admin_user, self.api.admin_password
        b, bpw, _ = self.mk_admin(role="global", login=False)
        for round_ in range(20):
            ta, tb = self.api.login(a, apw), self.api.login(b, bpw)
            # a password change in the same PATCH widens the window between the
            # last-global-admin check and the write
            jobs = [(ta, b, bpw), (tb, a, apw)]
            statuses = helpers.parallel(
                lambda i: self.req("PATCH", f"/admins/{jobs[i][1]}",
                                   {"enabled": False, "password": jobs[i][2]},
                                   token=jobs[i][0]).status, 2)
            left = self.enabled_globals()
            self.assertGreaterEqual(left, 1, f"round {round_}: {statuses} left no enabled "
                                             f"global admin")
            self.assertIn(sorted(statuses), ([200, 401], [200, 409]), statuses)
            # put the disabled one back, as the one still enabled
            if statuses[0] == 200:
                self.ok("PATCH", f"/admins/{b}", {"enabled": True}, token=self.api.login(a, apw))
            else:
                self.ok("PATCH", f"/admins/{a}", {"enabled": True}, token=self.api.login(b, bpw))


class ApiKeyTests(ApiCase):

    def curl(self, secret, path):
        out = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}",
                              "-H", f"Authorization: Bearer {secret}",
                              f"{self.api.url}/api/v1{path}"],
                             capture_output=True, text=True, timeout=60, check=True)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def test_create_use_revoke(self):
        r = self.req("POST", "/api-keys", {"name": "deploy bot"})
        self.assertEqual(r.status, 201, r)
        key = r.json
        self.assertEqual(r.headers.get("Location"), f"/api/v1/api-keys/{key['id']}")
        self.assertTrue(key["secret"].startswith(f"omk_{key['id']}_"), key)
        self.assertEqual((key["name"], key["owner"], key["expires_at"], key["last_used_at"]),
                         ("deploy bot", self.api.admin_user, None, None))
        listed = [x for x in self.list_all("/api-keys") if x["id"] == key["id"]]
        self.assertEqual(len(listed), 1)
        self.assertNotIn("secret", listed[0])
        self.assertNotIn(key["secret"].split("_", 2)[2], json.dumps(self.list_all("/api-keys")))
        # automation uses curl
        code, body = self.curl(key["secret"], "/me")
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["auth"], "api_key")
        code, body = self.curl(key["secret"], "/domains")
        self.assertEqual(code, 200, body)
        listed = [x for x in self.list_all("/api-keys") if x["id"] == key["id"]][0]
        self.assertIsNotNone(listed["last_used_at"])
        # a wrong secret with the right id
        wrong = f"omk_{key['id']}_" + "A" * 43
        self.assert_problem(self.req("GET", "/me", token=wrong), 401, "unauthorized")
        self.ok("DELETE", f"/api-keys/{key['id']}", status=204)
        self.assert_problem(self.req("GET", "/me", token=key["secret"]), 401, "unauthorized")
        code, body = self.curl(key["secret"], "/me")
        self.assertEqual(code, 401, body)
        self.assert_problem(self.req("DELETE", f"/api-keys/{key['id']}"), 404, "not-found")
        self.assertNotIn(key["id"], [x["id"] for x in self.list_all("/api-keys")])

    def test_expiry(self):
        self.assert_invalid(self.req("POST", "/api-keys", {"name": "old",
                                                           "expires_at": "2001-01-01T00:00:00Z"}),
                            "expires_at")
        for bad in ["tomorrow", "2099-13-01T00:00:00Z", "2099-01-01", 5]:
            with self.subTest(expires_at=bad):
                self.assert_invalid(self.req("POST", "/api-keys", {"name": "x",
                                                                   "expires_at": bad}),
                                    "expires_at")
        key = self.mk_apikey(expires_at="2099-01-31T00:00:00Z")
        self.assertEqual(key["expires_at"], "2099-01-31T00:00:00Z")
        key = self.mk_apikey(expires_at=None)
        self.assertIsNone(key["expires_at"])
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
        key = self.mk_apikey(expires_at=soon)
        self.assertEqual(self.ok("GET", "/me", token=key["secret"])["auth"], "api_key")
        time.sleep(5)
        self.assert_problem(self.req("GET", "/me", token=key["secret"]), 401, "unauthorized")

    def test_key_validation(self):
        self.assert_invalid(self.req("POST", "/api-keys", {}), "name")
        self.assert_invalid(self.req("POST", "/api-keys", {"name": ""}), "name")
        self.assertEqual(self.mk_apikey(name="n" * 64)["name"], "n" * 64)
        # openapi.yaml Name: maxLength 64
        self.assert_invalid(self.req("POST", "/api-keys", {"name": "n" * 65}), "name")
        self.assert_invalid(self.req("POST", "/api-keys", {"name": "x", "scope": "all"}), "scope")

    def test_key_dies_with_its_owner(self):
        name, _, token = self.mk_admin(role="global")
        key = self.mk_apikey(token=token)
        self.ok("GET", "/me", token=key["secret"])
        self.ok("PATCH", f"/admins/{name}", {"enabled": False})
        self.assert_problem(self.req("GET", "/me", token=key["secret"]), 401, "unauthorized")
        self.ok("PATCH", f"/admins/{name}", {"enabled": True})
        self.ok("GET", "/me", token=key["secret"])
        self.ok("DELETE", f"/admins/{name}", status=204)
        self.assert_problem(self.req("GET", "/me", token=key["secret"]), 401, "unauthorized")
        self.assertNotIn(key["id"], [x["id"] for x in self.list_all("/api-keys")])

    def test_key_follows_owner_role_change(self):
        d = self.mk_domain()
        name, _, token = self.mk_admin(role="global")
        key = self.mk_apikey(token=token)
        self.ok("POST", "/domains", {"name": unique_domain()}, status=201, token=key["secret"])
        self.ok("PATCH", f"/admins/{name}", {"role": "domain", "domains": [d]})
        self.assert_problem(self.req("POST", "/domains", {"name": unique_domain()},
                                     token=key["secret"]), 403, "forbidden")
        self.assertEqual([x["name"] for x in self.list_all("/domains", token=key["secret"])],
                         [d])


if __name__ == "__main__":
    unittest.main()
