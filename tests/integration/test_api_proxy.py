"""Behind a reverse proxy (api.trusted_proxies), login throttling counts the
client named by X-Forwarded-For; from anyone else that header is ignored."""
import unittest

import harness


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = harness.Api({"api.trusted_proxies": "127.0.0.1",
                               "throttle.ip_max": "3", "throttle.account_max": "1000"})
        cls.api.start()

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def fail_login(self, xff=None, source=None):
        headers = {"X-Forwarded-For": xff} if xff else {}
        return self.api.request("POST", "/api/v1/auth/token",
                                {"username": "nobody", "password": "wrong-password"},
                                headers=headers, source=source)

    def test_forwarded_clients_are_counted_apart(self):
        for _ in range(3):
            self.assertEqual(self.fail_login("198.51.100.1").status, 401)
        self.assertEqual(self.fail_login("198.51.100.1").status, 429)
        # another client behind the same proxy is not locked out with it...
        self.assertEqual(self.fail_login("198.51.100.2").status, 401)
        # ...and a client cannot pick its own address by prepending one
        self.assertEqual(self.fail_login("203.0.113.9, 198.51.100.1").status, 429)

    def test_untrusted_peer_cannot_spoof(self):
        # 127.0.0.3 is not a trusted proxy: its X-Forwarded-For is ignored, so
        # changing the header does not escape the limit on 127.0.0.3 itself.
        for i in range(3):
            self.assertEqual(self.fail_login(f"192.0.2.{i}", source="127.0.0.3").status, 401)
        self.assertEqual(self.fail_login("192.0.2.99", source="127.0.0.3").status, 429)


if __name__ == "__main__":
    unittest.main()
