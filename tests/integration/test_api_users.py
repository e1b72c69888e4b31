"""Users: CRUD, passwords (generated, changed with the old one, reset with the
recovery key), app passwords, throttling of the credential endpoints, key
material in the workers' snapshot, and no plaintext secret in control.db."""
import base64
import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from helpers import APP_PASSWORD_RE, RECOVERY_RE, ApiCase, q, unique  # noqa: E402

tearDownModule = helpers.print_coverage


class UserTests(ApiCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = cls("test_user_crud").mk_domain()

    def users(self, local="", d=None):
        base = f"/domains/{q(d or self.d)}/users"
        return f"{base}/{q(local)}" if local else base

    def change(self, local, old, new, token=None, d=None, **kw):
        return self.req("POST", self.users(local, d) + "/password",
                        {"old_password": old, "new_password": new}, token=token, **kw)

    def reset(self, local, key, new, token=None, d=None):
        return self.req("POST", self.users(local, d) + "/password/reset",
                        {"recovery_key": key, "new_password": new}, token=token)

    def app_create(self, local, password, name="phone", token=None):
        return self.req("POST", self.users(local) + "/app-passwords",
                        {"name": name, "password": password}, token=token)

    # ---- CRUD

    def test_user_crud(self):
        local = unique("crud")
        r = self.req("POST", self.users(), {"local": local, "password": "first-password",
                                            "display_name": "Crud Üser ☃", "quota_bytes": 12345})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Location"), f"/api/v1/domains/{self.d}/users/{local}")
        out = r.json
        self.assertNotIn("password", out)
        self.assertRegex(out["recovery_key"], RECOVERY_RE)
        u = out["user"]
        self.assertEqual((u["address"], u["local"], u["domain"], u["display_name"], u["enabled"],
                          u["quota_bytes"], u["app_password_count"]),
                         (f"{local}@{self.d}", local, self.d, "Crud Üser ☃", True, 12345, 0))
        self.assertRegex(u["store_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(len(base64.b64decode(u["public_key"], validate=True)), 32)
        self.assertEqual(self.ok("GET", self.users(local)), u)
        self.assertIn(u, self.list_all(self.users(), limit=2))
        u2 = self.ok("PATCH", self.users(local), {"display_name": "Renamed", "quota_bytes": 0,
                                                  "enabled": False})
        self.assertEqual((u2["display_name"], u2["quota_bytes"], u2["enabled"]),
                         ("Renamed", 0, False))
        self.assertEqual((u2["store_id"], u2["public_key"]), (u["store_id"], u["public_key"]))
        u3 = self.ok("PATCH", self.users(local), {})
        self.assertEqual({k: v for k, v in u3.items() if k != "updated_at"},
                         {k: v for k, v in u2.items() if k != "updated_at"})
        snap = [x for x in self.snapshot()["users"] if x["address"] == u["address"]][0]
        self.assertEqual((snap["enabled"], snap["display_name"], snap["quota_bytes"]),
                         (False, "Renamed", 0))
        self.ok("PATCH", self.users(local), {"enabled": True})
        files = helpers.fake_store(self.api, u["store_id"])
        self.ok("DELETE", self.users(local), status=204)
        for path in files:
            self.assertFalse(os.path.exists(path), f"{path} left behind")
        self.assert_problem(self.req("GET", self.users(local)), 404, "not-found")
        self.assert_problem(self.req("DELETE", self.users(local)), 404, "not-found")
        self.assert_problem(self.req("PATCH", self.users(local), {}), 404, "not-found")
        self.assertFalse([x for x in self.snapshot()["users"] if x["address"] == u["address"]])
        self.assert_problem(self.change(local, "first-password", "second-password"), 401,
                            "invalid-credentials")
        self.assertEqual(self.ok("GET", f"/domains/{self.d}")["user_count"],
                         len(self.list_all(self.users())))

    def test_defaults_and_normalization(self):
        dom = self.ok("GET", f"/domains/{self.d}")
        u, pw, _ = self.mk_user(self.d, "Mixed.Case", password="a-long-password")
        self.assertEqual((u["local"], u["display_name"], u["enabled"], u["quota_bytes"]),
                         ("mixed.case", "", True, dom["default_quota_bytes"]))
        self.assertEqual(self.ok("GET", self.users("MIXED.CASE"))["local"], "mixed.case")
        for local in ["mixed.case", "MIXED.case"]:
            r = self.req("POST", self.users(), {"local": local})
            self.assert_problem(r, 409, "already-exists")
        self.assertEqual(self.change("MIXED.CASE", pw, "b-long-password").status, 204)

    def test_create_validation(self):
        for body, field in [({"local": "a%b"}, "local"), ({"local": ""}, "local"),
                            ({"local": "a..b"}, "local"), ({"local": "*"}, "local"),
                            ({"local": "a b"}, "local"), ({"local": "x" * 65}, "local"),
                            ({"local": ".a"}, "local"), ({"local": "a!b"}, "local"),
                            ({"local": "ü"}, "local"), ({"local": 5}, "local"), ({}, "local"),
                            ({"local": "ok1", "password": "short"}, "password"),
                            ({"local": "ok1", "quota_bytes": -1}, "quota_bytes"),
                            ({"local": "ok1", "quota_bytes": "1G"}, "quota_bytes"),
                            ({"local": "ok1", "display_name": "x" * 257}, "display_name"),
                            ({"local": "ok1", "enabled": 1}, "enabled"),
                            ({"local": "ok1", "recovery_key": "mine"}, "recovery_key")]:
            with self.subTest(body=str(body)[:50]):
                self.assert_invalid(self.req("POST", self.users(), body), field)
        self.assert_problem(self.req("GET", self.users("ok1")), 404, "not-found")
        self.assert_problem(self.req("POST", "/domains/nosuch.example/users", {"local": "x"}),
                            404, "not-found")

    def test_update_validation(self):
        u, _, _ = self.mk_user(self.d)
        before = self.ok("GET", self.users(u["local"]))
        for body, field in [({"quota_bytes": -1}, "quota_bytes"), ({"enabled": "no"}, "enabled"),
                            ({"display_name": None}, "display_name"), ({"local": "x"}, "local"),
                            ({"password": "a-long-password"}, "password")]:
            with self.subTest(body=str(body)):
                self.assert_invalid(self.req("PATCH", self.users(u["local"]), body), field)
        self.assertEqual(self.ok("GET", self.users(u["local"])), before)

    def test_local_conflicts_with_alias(self):
        target, _, _ = self.mk_user(self.d)
        self.ok("POST", f"/domains/{self.d}/aliases", {"local": "info",
                                                       "targets": [target["address"]]}, status=201)
        for local in ["info", "INFO"]:
            self.assert_problem(self.req("POST", self.users(), {"local": local}), 409,
                                "already-exists")
        self.assert_problem(self.req("GET", self.users("info")), 404, "not-found")

    def test_max_users(self):
        d = self.mk_domain(max_users=1)
        self.mk_user(d)
        r = self.req("POST", f"/domains/{d}/users", {"local": "second"})
        self.assert_invalid(r, "local")
        self.assertEqual(self.ok("GET", f"/domains/{d}")["user_count"], 1)
        self.ok("PATCH", f"/domains/{d}", {"max_users": 2})
        self.mk_user(d, "second")
        self.ok("PATCH", f"/domains/{d}", {"max_users": 0})
        self.mk_user(d, "third")

    def test_max_users_under_concurrency(self):
        d = self.mk_domain(max_users=3)
        statuses = helpers.parallel(
            lambda i: self.req("POST", f"/domains/{d}/users",
                               {"local": f"racer{i}", "password": "racing-password"}).status, 10)
        self.assertEqual(sorted(statuses), [201] * 3 + [422] * 7)
        self.assertEqual(self.ok("GET", f"/domains/{d}")["user_count"], 3)
        self.assertEqual(len(self.list_all(f"/domains/{d}/users")), 3)

    # ---- passwords

    def test_generated_password(self):
        u, generated, key = self.mk_user(self.d)
        self.assertIsInstance(generated, str)
        self.assertGreaterEqual(len(generated), 12)
        self.assertEqual(self.change(u["local"], generated, "my-own-password").status, 204)

    def test_password_change(self):
        u, _, _ = self.mk_user(self.d, password="old-password-1")
        local = u["local"]
        self.assert_invalid(self.change(local, "old-password-1", "short"), "new_password")
        self.assert_invalid(self.req("POST", self.users(local) + "/password",
                                     {"old_password": "old-password-1"}, token=None),
                            "new_password")
        r = self.change(local, "old-password-1", "new-password-2")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assert_problem(self.change(local, "old-password-1", "new-password-3"), 401,
                            "invalid-credentials")
        self.assertEqual(self.change(local, "new-password-2", "new-password-3").status, 204)
        snap = [x for x in self.snapshot()["users"] if x["address"] == u["address"]][0]
        self.assertEqual(sorted(c["kind"] for c in snap["credentials"]), ["password", "recovery"])

    def test_password_change_does_not_reveal_addresses(self):
        u, _, _ = self.mk_user(self.d, password="right-password")
        wrong = self.assert_problem(self.change(u["local"], "wrong-password", "new-password-x"),
                                    401, "invalid-credentials")
        for path_local, dom in [(unique("nobody"), self.d), (u["local"], "nosuch.example"),
                                ("not valid!", self.d), (u["local"], "-bad-")]:
            with self.subTest(local=path_local, domain=dom):
                r = self.change(path_local, "wrong-password", "new-password-x", d=dom)
                self.assertEqual(self.assert_problem(r, 401, "invalid-credentials"), wrong)
                r = self.reset(path_local, "0000-0000-0000-0000-0000-0000-0000-0000",
                               "new-password-x", d=dom)
                self.assert_problem(r, 401, "invalid-credentials")

    def test_password_change_bearer(self):
        u, _, _ = self.mk_user(self.d, password="right-password")
        # No token is consulted here (security: [] in openapi.yaml): a bad one is
        # ignored, and an admin token grants nothing: the old password is needed.
        r = self.change(u["local"], "wrong-password", "new-password-x", token=self.token)
        self.assert_problem(r, 401, "invalid-credentials")
        self.assertEqual(self.change(u["local"], "right-password", "new-password-x",
                                     token=self.token).status, 204)
        self.assertEqual(self.change(u["local"], "new-password-x", "new-password-y",
                                     token="not.a.token").status, 204)

    def test_reset_with_recovery_key(self):
        u, _, key = self.mk_user(self.d, password="forgotten-password")
        local = u["local"]
        self.assertEqual(self.reset(local, key, "reset-password-1").status, 204)
        self.assert_problem(self.change(local, "forgotten-password", "x-password-2"), 401,
                            "invalid-credentials")
        self.assertEqual(self.change(local, "reset-password-1", "changed-password-2").status, 204)
        # as a person may type it; the recovery key stays valid
        sloppy = key.replace("-", "").lower()
        self.assertEqual(self.reset(local, sloppy, "reset-password-3").status, 204)
        typo = key.replace("0", "O").replace("1", "l")  # O read as 0, I/L as 1
        self.assertEqual(self.reset(local, typo, "reset-password-3b").status, 204)
        spaced = " ".join(key.split("-")).lower()
        self.assertEqual(self.reset(local, spaced, "reset-password-4").status, 204)
        self.assertEqual(self.change(local, "reset-password-4", "final-password-5").status, 204)
        other, _, other_key = self.mk_user(self.d)
        # four wrong keys: a fifth failure would start the throttle (tested below)
        for bad in [other_key, "hello", "0" * 32, "x" * 300]:
            with self.subTest(key=bad[:20]):
                self.assert_problem(self.reset(local, bad, "never-password"), 401,
                                    "invalid-credentials")
        self.assertEqual(self.change(local, "final-password-5", "final-password-6").status, 204)

    # ---- app passwords

    def test_app_passwords(self):
        u, pw, _ = self.mk_user(self.d, password="app-owner-password")
        local = u["local"]
        self.assert_problem(self.app_create(local, "wrong-password"), 401, "invalid-credentials")
        r = self.app_create(local, pw, name="Phone")
        self.assertEqual(r.status, 201, r)
        a = r.json
        self.assertRegex(a["app_password"], APP_PASSWORD_RE)
        self.assertEqual(a["name"], "Phone")
        self.assertEqual(r.headers.get("Location"),
                         f"/api/v1/domains/{self.d}/users/{local}/app-passwords/{a['id']}")
        self.assertEqual(self.ok("GET", self.users(local))["app_password_count"], 1)
        listed = self.ok("GET", self.users(local) + "/app-passwords")
        self.assertEqual(listed, {"items": [{"id": a["id"], "name": "Phone",
                                             "created_at": a["created_at"]}],
                                  "next_cursor": None})
        self.assertNotIn(a["app_password"].replace(" ", ""), str(listed))
        self.assert_problem(self.req("GET", self.users(local) + "/app-passwords", token=None),
                            401, "unauthorized")
        self.assert_problem(self.req("DELETE", self.users(local) + f"/app-passwords/{a['id']}",
                                     token=None), 401, "unauthorized")
        b = self.app_create(local, pw, name="Phone").json  # names need not be unique
        snap = [x for x in self.snapshot()["users"] if x["address"] == u["address"]][0]
        self.assertEqual(sorted(c["kind"] for c in snap["credentials"]),
                         ["app", "app", "password", "recovery"])
        self.ok("DELETE", self.users(local) + f"/app-passwords/{a['id']}", status=204)
        self.assert_problem(self.req("DELETE", self.users(local) + f"/app-passwords/{a['id']}"),
                            404, "not-found")
        self.assertEqual([x["id"] for x in self.ok("GET", self.users(local) +
                                                   "/app-passwords")["items"]], [b["id"]])
        self.assertEqual(self.ok("GET", self.users(local))["app_password_count"], 1)
        for name in ["", "x" * 101, "x" * 65]:  # openapi.yaml Name: maxLength 64
            self.assert_invalid(self.app_create(local, pw, name=name), "name")
        # the app password is a credential of its own, not the account password
        self.assert_problem(self.change(local, b["app_password"], "a-new-password"), 401,
                            "invalid-credentials")

    def test_app_password_location_is_canonical(self):
        self.ok("POST", "/domains", {"name": "müller.example"}, status=201)
        self.mk_user("müller.example", "owner", password="owner-password")
        r = self.req("POST", f"/domains/{q('Müller.example')}/users/OWNER/app-passwords",
                     {"name": "tablet", "password": "owner-password"}, token=None)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("Location"), "/api/v1/domains/xn--mller-kva.example/users/"
                         f"owner/app-passwords/{r.json['id']}")

    # ---- throttling

    def test_credential_endpoints_are_throttled(self):
        u, pw, key = self.mk_user(self.d, password="throttled-password")
        local = u["local"]
        for i in range(5):
            self.assert_problem(self.change(local, f"wrong-{i}-password", "new-password-x"), 401,
                                "invalid-credentials")
        for r in [self.change(local, "wrong-password", "new-password-x"),
                  self.change(local, pw, "new-password-x"),
                  self.reset(local, key, "new-password-x"),
                  self.app_create(local, pw)]:
            self.assert_problem(r, 429, "too-many-requests")
            self.assertTrue(1 <= int(r.headers["Retry-After"]) <= 60, r.headers)
        # other users are not affected
        v, vpw, _ = self.mk_user(self.d, password="other-password")
        self.assertEqual(self.change(v["local"], vpw, "other-password-2").status, 204)
        # an unknown address is throttled the same way
        ghost = unique("ghost")
        for _ in range(5):
            self.assert_problem(self.reset(ghost, key, "new-password-x"), 401,
                                "invalid-credentials")
        self.assert_problem(self.reset(ghost, key, "new-password-x"), 429, "too-many-requests")

    # ---- key material

    def test_key_material_in_snapshot_and_no_plaintext_on_disk(self):
        secrets = []
        u, pw, key = self.mk_user(self.d, password="Plaintext-Canary-1")
        secrets += [pw, key, key.replace("-", "")]
        g, gen, gkey = self.mk_user(self.d)
        secrets += [gen, gkey, gkey.replace("-", "")]
        self.assertEqual(self.change(u["local"], pw, "Plaintext-Canary-2").status, 204)
        self.assertEqual(self.reset(u["local"], key, "Plaintext-Canary-3").status, 204)
        app = self.app_create(u["local"], "Plaintext-Canary-3").json["app_password"]
        secrets += ["Plaintext-Canary-2", "Plaintext-Canary-3", app, app.replace(" ", "")]

        snap = self.snapshot()
        entry = [x for x in snap["users"] if x["address"] == u["address"]][0]
        self.assertEqual(entry["store_id"], u["store_id"])
        self.assertEqual(entry["public_key"], u["public_key"])
        self.assertEqual(len(base64.b64decode(entry["x25519_sealed_sk"], validate=True)), 73)
        kinds = sorted(c["kind"] for c in entry["credentials"])
        self.assertEqual(kinds, ["app", "password", "recovery"])
        ids = [c["id"] for c in entry["credentials"]]
        self.assertEqual(len(ids), len(set(ids)))
        for c in entry["credentials"]:
            wrap = base64.b64decode(c["wrap"], validate=True)
            self.assertEqual(len(wrap), 97, c)
            self.assertEqual(wrap[0], 1)  # wrap version
        self.assertIsInstance(snap["seq"], int)
        text = str(snap)
        for s in secrets:
            self.assertNotIn(s, text)

        files = glob.glob(os.path.join(self.api.data_dir, "control.db*"))
        self.assertTrue(any(f.endswith("-wal") for f in files), files)
        for path in files + [self.api.log_path]:
            with open(path, "rb") as f:
                raw = f.read()
            for s in secrets:
                for form in {s, s.lower(), s.upper()}:
                    self.assertNotIn(form.encode(), raw, f"{form!r} in {os.path.basename(path)}")
                    self.assertNotIn(form.encode("utf-16-le"), raw)

    def test_internal_directory_needs_the_worker_secret(self):
        path = "/internal/v1/directory"
        secret = self.api.worker_secret()
        for headers in [{}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Bearer {secret.upper()}"},
                        {"Authorization": f"Bearer {secret[:-1]}"},
                        {"Authorization": f"Bearer {secret}0"},
                        {"Authorization": f"Basic {secret}"},
                        {"Authorization": f"Bearer {self.token}"}]:
            with self.subTest(headers=str(headers)[:40]):
                r = self.api.request("GET", path, headers=headers, validate=False)
                self.assertEqual(r.status, 401, r)
                self.assertTrue(r.content_type.startswith(helpers.PROBLEM_CT))
                self.assertNotIn(b"credentials", r.body)
        r = self.api.request("GET", path, token=secret, validate=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json), ["aliases", "dkim_keys", "domains", "seq", "users"])


if __name__ == "__main__":
    unittest.main()
