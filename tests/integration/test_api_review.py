"""Regression tests for problems found in review: each names what went wrong."""
import concurrent.futures
import unittest

from helpers import ApiCase, q, unique, unique_domain


class ReviewTests(ApiCase):
    extra_config = {"throttle.account_max": "5", "throttle.ip_max": "100000"}

    def test_token_of_deleted_admin_does_not_fit_a_new_one(self):
        d = self.mk_domain()
        name, _, old_token = self.mk_admin(domains=[d])
        self.assertEqual(self.req("DELETE", f"/admins/{name}").status, 204)
        self.assert_problem(self.req("GET", "/me", token=old_token), 401, "unauthorized")
        # The same name again, now global: the old token must stay dead.
        self.ok("POST", "/admins", {"username": name, "password": "another-long-password",
                                    "role": "global"}, status=201)
        self.assert_problem(self.req("GET", "/me", token=old_token), 401, "unauthorized")
        self.assert_problem(self.req("POST", "/auth/refresh", token=old_token), 401,
                            "unauthorized")

    def test_parallel_guesses_are_all_counted(self):
        d = self.mk_domain()
        user, _, _ = self.mk_user(d, password="the-right-password")
        path = f"/domains/{q(d)}/users/{user['local']}/password"

        def guess(i):
            return self.req("POST", path, {"old_password": f"wrong-{i}-password",
                                           "new_password": "new-password-123"}, token=None).status

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(guess, range(30)))
        # Only throttle.account_max attempts reach the password check.
        self.assertEqual(statuses.count(401), 5, statuses)
        self.assertEqual(statuses.count(429), 25, statuses)

    def test_slash_in_hosted_local_part_refused(self):
        d = self.mk_domain()
        self.assert_invalid(self.req("POST", f"/domains/{q(d)}/users",
                                     {"local": "x/y", "password": "long-enough-password"}),
                            "local")
        self.assert_invalid(self.req("POST", f"/domains/{q(d)}/aliases",
                                     {"local": "a/b", "targets": ["x@example.org"]}), "local")

    def test_empty_password_for_app_password_is_401(self):
        d = self.mk_domain()
        user, _, _ = self.mk_user(d, password="the-right-password")
        path = f"/domains/{q(d)}/users/{user['local']}/app-passwords"
        for pw in ["", "x" * 1025]:
            with self.subTest(length=len(pw)):
                r = self.req("POST", path, {"name": "phone", "password": pw}, token=None)
                self.assert_problem(r, 401, "invalid-credentials")

    def test_unknown_user_same_answer(self):
        d = self.mk_domain()
        r = self.req("POST", f"/domains/{q(d)}/users/{unique('nobody')}/password",
                     {"old_password": "whatever-password", "new_password": "new-password-123"},
                     token=None)
        self.assert_problem(r, 401, "invalid-credentials")
        r = self.req("POST", f"/domains/{q(unique_domain())}/users/someone/password/reset",
                     {"recovery_key": "AAAA-AAAA", "new_password": "new-password-123"}, token=None)
        self.assert_problem(r, 401, "invalid-credentials")


if __name__ == "__main__":
    unittest.main()
