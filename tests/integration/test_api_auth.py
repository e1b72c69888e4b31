"""Authentication of the REST api: tokens, refresh, /me, throttling of failed
logins (per account and per client address) and attacks on the JWT check."""
import base64
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from helpers import DROP, ApiCase, forge, jwt_encode, jwt_parts, jwt_payload, unique  # noqa: E402

tearDownModule = helpers.print_coverage


class TokenTests(ApiCase):

    def login(self, username, password, **kw):
        return self.req("POST", "/auth/token", {"username": username, "password": password},
                        token=None, **kw)

    def me(self, token, **kw):
        return self.req("GET", "/me", token=token, **kw)

    # ---- issuing

    def test_token_issue(self):
        r = self.login(self.api.admin_user, self.api.admin_password)
        self.assertEqual(r.status, 200, r)
        body = r.json
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")  # RFC 6749 section 5.1
        self.assertEqual(body["expires_in"], 900)  # api.jwt_ttl default
        header, claims = jwt_parts(body["access_token"])
        self.assertEqual(header.get("alg"), "HS256")
        self.assertEqual(claims["iss"], "ownmail")
        self.assertEqual(claims["aud"], "ownmail-api")
        self.assertEqual(claims["sub"], self.api.admin_user)
        self.assertEqual(claims["exp"] - claims["iat"], body["expires_in"])
        self.assertLessEqual(abs(claims["iat"] - helpers.now()), 30)
        self.assertEqual(claims["nbf"], claims["iat"])
        self.assertEqual(claims["auth_time"], claims["iat"])
        self.assertTrue(claims["jti"])
        other = jwt_payload(self.api.login())
        self.assertNotEqual(other["jti"], claims["jti"])
        # The brief lists role among the claims.
        self.assertEqual(claims.get("role"), "global", f"claims: {sorted(claims)}")

    def test_wrong_password_and_unknown_user_look_the_same(self):
        wrong = self.login(self.api.admin_user, "not-the-password")
        body_wrong = self.assert_problem(wrong, 401, "invalid-credentials")
        unknown = self.login(unique("nobody"), "not-the-password")
        body_unknown = self.assert_problem(unknown, 401, "invalid-credentials")
        self.assertEqual(body_wrong, body_unknown)
        self.assertTrue(wrong.headers.get("WWW-Authenticate", "").startswith("Bearer"))

    def test_disabled_admin_cannot_log_in(self):
        name, pw, _ = self.mk_admin(role="global", login=False)
        self.ok("PATCH", f"/admins/{name}", {"enabled": False})
        self.assert_problem(self.login(name, pw), 401, "invalid-credentials")

    def test_token_request_validation(self):
        self.assert_invalid(self.req("POST", "/auth/token", {"username": "admin"}, token=None),
                            "password")
        r = self.req("POST", "/auth/token", {"username": "admin", "password": "x" * 12, "otp": 1},
                     token=None)
        self.assert_invalid(r, "otp")
        r = self.req("POST", "/auth/token", {"username": 7, "password": "x" * 12}, token=None)
        self.assert_invalid(r, "username")

    # ---- /me

    def test_me_with_jwt(self):
        me = self.ok("GET", "/me")
        self.assertEqual(me, {"username": self.api.admin_user, "role": "global", "domains": [],
                              "auth": "jwt"})

    def test_me_with_api_key(self):
        key = self.mk_apikey()
        me = self.ok("GET", "/me", token=key["secret"])
        self.assertEqual(me["auth"], "api_key")
        self.assertEqual(me["username"], self.api.admin_user)
        self.assertEqual(me["role"], "global")

    # ---- the Authorization header

    def test_missing_authorization(self):
        r = self.me(None)
        self.assert_problem(r, 401, "unauthorized")
        self.assertTrue(r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers)

    def test_malformed_authorization(self):
        t = self.token
        for value in ["Bearer", "Bearer ", "Bearer abc", "Bearer a.b.c", "Bearer ..",
                      f"Bearer {t}x", f"Bearer {t}.", f"Bearer {t[:-3]}", f"Token {t}", t,
                      f"Bearer {t} {t}", "Bearer omk_", "Bearer omk_0123456789abcdef_x",
                      "Bearer " + "A" * 5000]:
            with self.subTest(value=value[:60]):
                r = self.req("GET", "/me", token=None, headers={"Authorization": value})
                self.assert_problem(r, 401, "unauthorized")

    def test_basic_scheme_refused(self):
        creds = base64.b64encode(
            f"{self.api.admin_user}:{self.api.admin_password}".encode()).decode()
        r = self.req("GET", "/me", token=None, headers={"Authorization": f"Basic {creds}"})
        self.assert_problem(r, 401, "unauthorized")

    def test_bearer_scheme_is_case_insensitive(self):
        # RFC 9110 section 11.1: the auth-scheme is case-insensitive.
        r = self.req("GET", "/me", token=None, headers={"Authorization": f"bearer {self.token}"})
        self.assertEqual(r.status, 200, r)

    # ---- JWT attacks

    def test_forged_token_with_the_real_key_is_accepted(self):
        # The control for the attacks below: our HS256 forging is right.
        t = forge(self.api, self.token, jti="forged-control")
        self.assertEqual(self.me(t).status, 200)

    def test_alg_none(self):
        claims = jwt_payload(self.token)
        for header in [{"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"alg": "NONE"}]:
            with self.subTest(header=header):
                t = jwt_encode(header, claims, b"", alg="none")
                self.assert_problem(self.me(t), 401, "unauthorized")
                # with a signature part that is present but meaningless
                self.assert_problem(self.me(t + "AAAA"), 401, "unauthorized")
                # alg none but the real HS256 signature kept
                sig = self.token.split(".")[2]
                self.assert_problem(self.me(t + sig), 401, "unauthorized")

    def test_hs512(self):
        claims = jwt_payload(self.token)
        for key in [b"secret", b"ownmail", b"", helpers.jwt_key(self.api)]:
            with self.subTest(key=key[:8]):
                t = jwt_encode({"alg": "HS512", "typ": "JWT"}, claims, key)
                self.assert_problem(self.me(t), 401, "unauthorized")

    def test_guessed_hs256_key(self):
        for key in [b"secret", b"ownmail", os.urandom(32)]:
            with self.subTest(key=key[:8]):
                self.assert_problem(self.me(forge(self.api, self.token, key=key)), 401,
                                    "unauthorized")

    def test_tampered_payload(self):
        other, _, other_token = self.mk_admin(role="global")
        h, p, s = self.token.split(".")
        claims = jwt_payload(self.token)
        claims["sub"] = other
        p2 = helpers.b64url(json.dumps(claims, separators=(",", ":")).encode())
        self.assert_problem(self.me(f"{h}.{p2}.{s}"), 401, "unauthorized")
        claims["sub"] = self.api.admin_user
        claims["exp"] += 86400
        p3 = helpers.b64url(json.dumps(claims, separators=(",", ":")).encode())
        self.assert_problem(self.me(f"{h}.{p3}.{s}"), 401, "unauthorized")
        # the same substitution signed with the real key passes: only the signature stopped it
        t = forge(self.api, self.token, sub=other, tv=jwt_payload(other_token)["tv"])
        me = self.me(t)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["username"], other)

    def test_expired(self):
        n = helpers.now()
        t = forge(self.api, self.token, iat=n - 1000, nbf=n - 1000, auth_time=n - 1000,
                  exp=n - 100)
        self.assert_problem(self.me(t), 401, "unauthorized")
        t = forge(self.api, self.token, exp=n)  # exp is exclusive (RFC 7519 4.1.4)
        self.assert_problem(self.me(t), 401, "unauthorized")

    def test_wrong_issuer_or_audience(self):
        cases = [{"iss": "evil"}, {"iss": DROP}, {"aud": "other-api"}, {"aud": DROP},
                 {"aud": ["other-api"]}, {"iss": "Ownmail"}]
        for c in cases:
            with self.subTest(claims=str(c)):
                self.assert_problem(self.me(forge(self.api, self.token, **c)), 401,
                                    "unauthorized")

    def test_not_yet_valid(self):
        n = helpers.now()
        for c in [{"nbf": n + 3600}, {"iat": n + 3600, "auth_time": n + 3600},
                  {"auth_time": n + 3600}]:
            with self.subTest(claims=str(c)):
                self.assert_problem(self.me(forge(self.api, self.token, **c)), 401,
                                    "unauthorized")

    def test_missing_or_bad_claims(self):
        for c in [{"exp": DROP}, {"nbf": DROP}, {"iat": DROP}, {"sub": DROP}, {"jti": DROP},
                  {"tv": DROP}, {"auth_time": DROP}, {"sub": ""}, {"exp": "never"},
                  {"sub": unique("ghost")}, {"tv": jwt_payload(self.token)["tv"] + 1}]:
            with self.subTest(claims=str(c)):
                self.assert_problem(self.me(forge(self.api, self.token, **c)), 401,
                                    "unauthorized")

    def test_bad_headers(self):
        claims = jwt_payload(self.token)
        key = helpers.jwt_key(self.api)
        for header in [{"alg": "HS256", "typ": "JWS"}, {"alg": "HS256", "crit": ["exp"]},
                       {"alg": "hs256"}, {"typ": "JWT"}]:
            with self.subTest(header=header):
                t = jwt_encode(header, claims, key, alg="HS256")
                self.assert_problem(self.me(t), 401, "unauthorized")

    # ---- revocation

    def test_password_change_revokes_tokens(self):
        name, pw, token = self.mk_admin(role="global")
        self.assertEqual(self.me(token).status, 200)
        new = "a-new-password-" + unique()
        self.ok("PATCH", f"/admins/{name}", {"password": new, "old_password": pw}, token=token)
        self.assert_problem(self.me(token), 401, "unauthorized")
        self.assert_problem(self.login(name, pw), 401, "invalid-credentials")
        self.assertEqual(self.me(self.api.login(name, new)).status, 200)

    def test_disable_revokes_tokens(self):
        name, _, token = self.mk_admin(role="global")
        self.ok("PATCH", f"/admins/{name}", {"enabled": False})
        self.assert_problem(self.me(token), 401, "unauthorized")
        self.ok("PATCH", f"/admins/{name}", {"enabled": True})
        self.assert_problem(self.me(token), 401, "unauthorized")  # revoked stays revoked

    def test_deleted_admin_token_refused(self):
        name, _, token = self.mk_admin(role="global")
        self.ok("DELETE", f"/admins/{name}", status=204)
        self.assert_problem(self.me(token), 401, "unauthorized")

    # ---- refresh

    def test_refresh(self):
        token = self.api.login()
        r = self.req("POST", "/auth/refresh", token=token)
        self.assertEqual(r.status, 200, r)
        new = r.json["access_token"]
        self.assertEqual(r.json["token_type"], "Bearer")
        old_claims, new_claims = jwt_payload(token), jwt_payload(new)
        self.assertEqual(new_claims["auth_time"], old_claims["auth_time"])
        self.assertNotEqual(new_claims["jti"], old_claims["jti"])
        self.assertEqual(new_claims["sub"], self.api.admin_user)
        self.assertEqual(self.me(new).json["auth"], "jwt")

    def test_refresh_with_api_key_forbidden(self):
        key = self.mk_apikey()
        self.assert_problem(self.req("POST", "/auth/refresh", token=key["secret"]), 403,
                            "forbidden")

    def test_refresh_needs_a_token(self):
        self.assert_problem(self.req("POST", "/auth/refresh", token=None), 401, "unauthorized")
        t = forge(self.api, self.token, exp=helpers.now() - 5)
        self.assert_problem(self.req("POST", "/auth/refresh", token=t), 401, "unauthorized")

    def test_refresh_refused_after_max_session(self):
        n = helpers.now()
        t = forge(self.api, self.token, iat=n, nbf=n, exp=n + 600, auth_time=n - 13 * 3600)
        self.assertEqual(self.me(t).status, 200)  # the token itself is valid
        self.assert_problem(self.req("POST", "/auth/refresh", token=t), 401, "unauthorized")
        t = forge(self.api, self.token, iat=n, nbf=n, exp=n + 600, auth_time=n - 11 * 3600)
        self.assertEqual(self.req("POST", "/auth/refresh", token=t).status, 200)

    # ---- Redis down: no throttle counters, so no logins (fail closed)

    def test_login_fails_closed_without_redis(self):
        self.api.redis.stop()
        try:
            r = self.login(self.api.admin_user, self.api.admin_password)
            self.assert_problem(r, 503, "service-unavailable")
            # a valid token still works: only logins need the counters
            self.assertEqual(self.me(self.token).status, 200)
        finally:
            self.api.redis.start()
        self.assertEqual(self.login(self.api.admin_user, self.api.admin_password).status, 200)


class AccountThrottleTests(ApiCase):
    """throttle.account_max = 5 (harness default), ip_max large."""

    def login(self, username, password):
        return self.req("POST", "/auth/token", {"username": username, "password": password},
                        token=None)

    def test_account_throttle(self):
        name, pw, _ = self.mk_admin(role="global", login=False)
        for i in range(5):
            self.assert_problem(self.login(name, f"wrong-{i}-password"), 401,
                                "invalid-credentials")
        r = self.login(name, "wrong-again-password")
        self.assert_problem(r, 429, "too-many-requests")
        retry = int(r.headers["Retry-After"])
        self.assertTrue(1 <= retry <= 60, retry)
        # the right password is refused as well while throttled
        r = self.login(name, pw)
        self.assert_problem(r, 429, "too-many-requests")
        self.assertIn("Retry-After", r.headers)
        # another account from the same address is not affected
        self.assertEqual(self.login(self.api.admin_user, self.api.admin_password).status, 200)
        ttl = self.api.redis.command("TTL", f"ownmail:throttle:admin:acct:{name}")
        self.assertTrue(0 < ttl <= 60, ttl)

    def test_unknown_account_is_throttled_too(self):
        ghost = unique("ghost")
        for _ in range(5):
            self.assert_problem(self.login(ghost, "whatever-password"), 401,
                                "invalid-credentials")
        self.assert_problem(self.login(ghost, "whatever-password"), 429, "too-many-requests")

    def test_success_resets_the_account_counter(self):
        name, pw, _ = self.mk_admin(role="global", login=False)
        for _ in range(4):
            self.login(name, "wrong-password!")
        self.assertEqual(self.login(name, pw).status, 200)
        for _ in range(4):
            self.assert_problem(self.login(name, "wrong-password!"), 401, "invalid-credentials")
        self.assertEqual(self.login(name, pw).status, 200)


class IpThrottleTests(ApiCase):
    extra_config = {"throttle.ip_max": "3", "throttle.window": "3s"}

    def login(self, username, password, source):
        return self.req("POST", "/auth/token", {"username": username, "password": password},
                        token=None, source=source)

    def test_ip_throttle(self):
        for i in range(3):
            # three different accounts: the per-account limit (5) is never reached
            self.assert_problem(self.login(unique("ip"), "wrong-password", "127.0.0.2"), 401,
                                "invalid-credentials")
        r = self.login(self.api.admin_user, self.api.admin_password, "127.0.0.2")
        self.assert_problem(r, 429, "too-many-requests")
        self.assertTrue(1 <= int(r.headers["Retry-After"]) <= 3, r.headers)
        # another client address is not affected
        self.assertEqual(self.login(self.api.admin_user, self.api.admin_password,
                                    "127.0.0.3").status, 200)
        # the window passes
        time.sleep(4)
        self.assertEqual(self.login(self.api.admin_user, self.api.admin_password,
                                    "127.0.0.2").status, 200)


if __name__ == "__main__":
    unittest.main()
