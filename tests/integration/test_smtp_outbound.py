"""ownmail-smtp's outside deliveries through its outbound queue (lib/queue):
submitted mail and alias forwards reach a receiving server found by MX
lookup (dnsmasq serves the zone), a 4xx is retried, a 5xx comes back as a
DSN in the sender's own mailbox."""
import email
import email.policy
import os
import smtplib
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402
from queue_smtpstub import SmtpStub  # noqa: E402
from test_smtp import message  # noqa: E402


class TestOutbound(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ownmail-outbound-")
        cls.dns = mailharness.Dnsmasq(cls.tmp, ["--mx-host=remote.test,mx.remote.test,10",
                                                "--host-record=mx.remote.test,127.0.0.1"])
        cls.stub = SmtpStub().start()
        cls.stack = mailharness.MailStack(smtp_config={
            "queue.dns": f"127.0.0.1:{cls.dns.port}",
            "queue.remote_port": str(cls.stub.server.server_address[1]),
            "queue.retry_min": "1s",
            "queue.retry_max": "2s",
            "queue.scan_interval": "1s",
        })
        cls.stack.start()
        cls.dom = helpers.unique_domain("ob")
        cls.stack.domain(cls.dom)
        cls.alice = f"alice@{cls.dom}"
        cls.stack.user(cls.dom, "alice", "alice-password-1")
        cls.stack.alias(cls.dom, "fwd", ["friend@remote.test"])
        time.sleep(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        cls.stub.stop()
        cls.dns.stop()

    def submit(self, rcpts, subject):
        with smtplib.SMTP("127.0.0.1", self.stack.sub_port, timeout=30) as s:
            s.starttls(context=mailharness.client_tls())
            s.ehlo("client.example")
            s.login(self.alice, "alice-password-1")
            s.sendmail(self.alice, rcpts, message(self.alice, ", ".join(rcpts), subject=subject))

    def received(self, subject, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.stub.lock:
                got = [t for t in self.stub.transactions if subject.encode() in t.get("data", b"")]
            if got:
                return got
            time.sleep(0.1)
        return []

    def test_submission_reaches_the_mx(self):
        tag = helpers.unique("out")
        self.submit(["bob@remote.test", "carol@remote.test"], tag)
        got = self.received(tag)
        self.assertEqual(len(got), 1)  # one transaction for the domain
        self.assertEqual(sorted(r.split(">")[0] for r in got[0]["rcpts"]),
                         ["<bob@remote.test", "<carol@remote.test"])
        self.assertEqual(got[0]["from"].split(">")[0], f"<{self.alice}")
        self.assertTrue(got[0]["data"].startswith(b"Received: from "))

    def test_alias_forwards_outside(self):
        tag = helpers.unique("fwd")
        with smtplib.SMTP("127.0.0.1", self.stack.mx_port, timeout=15) as s:
            s.sendmail("someone@elsewhere.example", [f"fwd@{self.dom}"],
                       message("someone@elsewhere.example", f"fwd@{self.dom}", subject=tag))
        got = self.received(tag)
        self.assertEqual(len(got), 1)
        self.assertIn("friend@remote.test", got[0]["rcpts"][0])

    def test_temporary_failure_is_retried(self):
        tag = helpers.unique("retry")
        self.stub.rcpt_replies["later@remote.test"] = ["451 4.3.0 try again later"]
        self.submit(["later@remote.test"], tag)
        self.assertEqual(len(self.received(tag, timeout=30)), 1)

    def test_permanent_failure_returns_a_dsn(self):
        tag = helpers.unique("bounce")
        self.stub.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no such user"]
        self.submit(["nobody@remote.test"], tag)
        deadline = time.time() + 30
        dsn = None
        while time.time() < deadline and dsn is None:
            for _, raw in self.stack.mailbox(self.alice, "alice-password-1"):
                m = email.message_from_bytes(raw, policy=email.policy.default)
                if m.get_content_type() == "multipart/report" and tag.encode() in raw:
                    dsn = m
            time.sleep(0.3)
        self.assertIsNotNone(dsn, "no DSN in the sender's mailbox")
        status = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"]
        self.assertEqual(len(status), 1)
        text = status[0].as_string()
        self.assertIn("nobody@remote.test", text)
        self.assertIn("5.1.1", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
