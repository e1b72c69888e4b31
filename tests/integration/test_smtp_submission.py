"""ownmail-smtp submission (STARTTLS and implicit TLS): AUTH only over TLS,
passwords and app passwords, throttling, sender ownership (envelope and
From header), quota at RCPT."""
import os
import smtplib
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402
from test_smtp import Raw, SmtpCase, message  # noqa: E402


class TestSubmission(SmtpCase):
    def test_auth_not_offered_before_tls(self):
        with smtplib.SMTP("127.0.0.1", self.stack.sub_port, timeout=15) as s:
            code, caps = s.ehlo("c.example")
            self.assertNotIn(b"AUTH", caps)
            self.assertIn(b"STARTTLS", caps)
            self.assertIn(b"DSN", caps.splitlines())  # RFC 3461 on every port
            code, text = s.docmd("AUTH PLAIN AGFsaWNlAHg=")
            self.assertEqual(code, 538, text)
            code, text = s.docmd("MAIL FROM:<%s>" % self.alice)
            self.assertEqual(code, 530, text)

    def test_starttls_auth_and_send(self):
        tag = helpers.unique("sub")
        with self.submission(self.alice, "alice-password-1") as s:
            s.sendmail(self.alice, [self.bob], message(self.alice, self.bob, subject=tag))
        got = [m for m in self.inbox(self.bob, "bob-password-1") if tag.encode() in m]
        self.assertEqual(len(got), 1)
        self.assertIn(b"with ESMTPSA", got[0])

    def test_auth_login_and_implicit_tls(self):
        tag = helpers.unique("ssl")
        with smtplib.SMTP_SSL("127.0.0.1", self.stack.subs_port, timeout=30,
                              context=mailharness.client_tls()) as s:
            s.ehlo("c.example")
            self.assertTrue(s.has_extn("dsn"))
            s.user, s.password = self.bob, "bob-password-1"
            code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            self.assertEqual(code, 235, text)
            s.sendmail(self.bob, [self.alice], message(self.bob, self.alice, subject=tag))
        got = [m for m in self.inbox(self.alice, "alice-password-1") if tag.encode() in m]
        self.assertEqual(len(got), 1)

    def test_app_password(self):
        r = self.stack.api.request(
            "POST", f"/api/v1/domains/{self.dom}/users/bob/app-passwords",
            {"password": "bob-password-1", "name": "phone"})
        self.assertEqual(r.status, 201, r)
        app = r.json["app_password"]
        time.sleep(1.0)
        with self.submission(self.bob, app) as s:
            self.assertEqual(s.noop()[0], 250)

    def test_wrong_password_then_throttled(self):
        user = f"thr-{helpers.unique()}"
        self.stack.user(self.dom, user, "right-password-1")
        time.sleep(1.0)
        addr = f"{user}@{self.dom}"
        def plain(password):
            with self.submission() as s:
                s.user, s.password = addr, password
                # One mechanism, one attempt (smtplib.login would try the next).
                with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                    s.auth("PLAIN", s.auth_plain)
                return e.exception.smtp_code

        self.assertEqual([plain("wrong-password") for _ in range(5)], [535] * 5)
        self.assertEqual(plain("right-password-1"), 454)  # right, but too late

    def test_unknown_user_is_a_plain_failure(self):
        with self.submission() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login(f"ghost@{self.dom}", "whatever")
            self.assertEqual(e.exception.smtp_code, 535)

    def test_sender_must_be_owned(self):
        with self.submission(self.alice, "alice-password-1") as s:
            code, text = s.mail(self.bob)
            self.assertEqual(code, 553, text)
            s.rset()
            self.assertEqual(s.mail(f"team@{self.dom}")[0], 250)  # an alias targeting alice
            s.rset()
            self.assertEqual(s.mail("<>")[0], 553)
            s.rset()
            # Envelope fine, From header someone else's.
            with self.assertRaises(smtplib.SMTPDataError) as e:
                s.sendmail(self.alice, [self.bob], message(self.bob, self.bob))
            self.assertEqual(e.exception.smtp_code, 550)
            with self.assertRaises(smtplib.SMTPDataError):
                s.sendmail(self.alice, [self.bob],
                           message(f"{self.alice}, ceo@outside.example", self.bob))

    def test_outside_address_the_queue_cannot_carry(self):
        with self.submission(self.alice, "alice-password-1") as s:
            s.mail(self.alice)
            code, text = s.docmd('RCPT TO:<"john doe"@outside.example>')
            self.assertEqual(code, 550, text)  # at RCPT, not a 451 at every DATA

    def test_outside_recipient_is_queued(self):
        with self.submission(self.alice, "alice-password-1") as s:
            s.sendmail(self.alice, ["someone@outside.example"],
                       message(self.alice, "someone@outside.example"))
        out = subprocess.run([os.path.join(mailharness.harness.BIN_DIR, "ownmail-queue"),
                              "--data-dir", self.stack.data_dir, "list"],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"someone@outside.example", out.stdout)


class TestQuota(SmtpCase):
    def test_recipient_over_quota(self):
        user = f"q-{helpers.unique()}"
        self.stack.user(self.dom, user, "quota-password-1", quota=40000)
        time.sleep(1.0)
        addr = f"{user}@{self.dom}"
        body = "y" * 70 + "\r\n"
        with self.mx() as s:
            s.sendmail("x@outside.example", [addr],
                       message("x@outside.example", addr, body=body * 400))  # ~28 KB
            s.ehlo("c.example")
            self.assertEqual(s.docmd("MAIL FROM:<x@outside.example> SIZE=28000")[0], 250)
            code, text = s.rcpt(addr)
            self.assertEqual(code, 452, text)
            self.assertIn(b"4.2.2", text)
            self.assertEqual(s.rcpt(self.alice)[0], 250)  # others still fine
            s.rset()
            self.assertEqual(s.docmd("MAIL FROM:<x@outside.example> SIZE=1000")[0], 250)
            self.assertEqual(s.rcpt(addr)[0], 250)  # a small one still fits


class TestRawSubmission(SmtpCase):
    def test_plain_initial_response_and_cancel(self):
        import base64
        r = Raw(self.stack.sub_port)
        r.cmd("EHLO c.example")
        r.starttls()
        r.cmd("EHLO c.example")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        self.assertEqual(r.cmd("*")[0], 501)
        tok = base64.b64encode(f"\0{self.alice}\0alice-password-1".encode()).decode()
        self.assertEqual(r.cmd("AUTH PLAIN " + tok)[0], 235)
        self.assertEqual(r.cmd("AUTH PLAIN " + tok)[0], 503)
        r.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
