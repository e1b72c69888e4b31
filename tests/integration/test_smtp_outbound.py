"""ownmail-smtp's outside deliveries through its outbound queue (lib/queue):
submitted mail and alias forwards reach a receiving server found by MX
lookup (dnsmasq serves the zone), a 4xx is retried, a 5xx comes back as a
DSN in the sender's own mailbox. And the DSN extension (RFC 3461) end to
end: "delivered" for a local recipient, "relayed" through a server without
DSN, NOTIFY passed on to one with it, nothing for NOTIFY=NEVER."""
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
        cls.bob = f"bob@{cls.dom}"
        cls.stack.user(cls.dom, "alice", "alice-password-1")
        cls.stack.user(cls.dom, "bob", "bob-password-1")
        cls.stack.alias(cls.dom, "fwd", ["friend@remote.test"])
        cls.stack.alias(cls.dom, "mix", [cls.bob, "mixfriend@remote.test"])
        time.sleep(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        cls.stub.stop()
        cls.dns.stop()

    def submit(self, rcpts, subject, mail_options=(), rcpt_options=()):
        with smtplib.SMTP("127.0.0.1", self.stack.sub_port, timeout=30) as s:
            s.starttls(context=mailharness.client_tls())
            s.ehlo("client.example")
            s.login(self.alice, "alice-password-1")
            s.sendmail(self.alice, rcpts, message(self.alice, ", ".join(rcpts), subject=subject),
                       mail_options=list(mail_options), rcpt_options=list(rcpt_options))

    def dsn_for(self, tag, timeout=30):
        """The DSN in alice's mailbox about the message tagged tag (its
        headers come back in every DSN), parsed; None when there is none."""
        deadline = time.time() + timeout
        while True:
            for _, raw in self.stack.mailbox(self.alice, "alice-password-1"):
                m = email.message_from_bytes(raw, policy=email.policy.compat32)
                if m.get_content_type() == "multipart/report" and tag.encode() in raw:
                    return m
            if time.time() >= deadline:
                return None
            time.sleep(0.3)

    @staticmethod
    def fields(dsn):
        """(per-message fields, [per-recipient fields], the returned part)."""
        parts = dsn.get_payload()
        blocks = parts[1].get_payload()
        return blocks[0], blocks[1:], parts[2]

    def queue_drained(self, timeout=20):
        """True once no entry is left in the outbound queue: every delivery
        and its DSN step are done."""
        qdir = os.path.join(self.stack.data_dir, "queue")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not [f for f in os.listdir(qdir) if f.endswith(".msg")]:
                return True
            time.sleep(0.1)
        return False

    def rcpt_lines(self, address, timeout=20):
        """The RCPT lines the stub was sent for address."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.stub.lock:
                got = [c for s in self.stub.sessions for c in s["commands"]
                       if c.startswith(f"RCPT TO:<{address}>")]
            if got:
                return got
            time.sleep(0.1)
        return []

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

    # ------------------------------------------------- DSN (RFC 3461)

    def test_delivered_dsn_for_a_local_recipient(self):
        tag = helpers.unique("dlv")
        self.submit([self.bob], tag, mail_options=["RET=FULL", f"ENVID=E-{tag}"],
                    rcpt_options=["NOTIFY=SUCCESS", f"ORCPT=rfc822;{self.bob}"])
        # Spooled before the 250: there at once, no waiting.
        dsn = self.dsn_for(tag, timeout=0)
        self.assertIsNotNone(dsn, "no DSN in the sender's mailbox")
        self.assertEqual(dsn["Subject"], "Delivery Status Notification (Success)")
        self.assertEqual(dsn["To"], f"<{self.alice}>")
        per_msg, rcpts, original = self.fields(dsn)
        self.assertEqual(per_msg["Original-Envelope-Id"], f"E-{tag}")
        [r] = rcpts
        self.assertEqual(r["Action"], "delivered")
        self.assertEqual(r["Status"], "2.0.0")
        self.assertEqual(r["Final-Recipient"], f"rfc822; {self.bob}")
        self.assertEqual(r["Original-Recipient"], f"rfc822;{self.bob}")
        self.assertIsNone(r["Remote-MTA"])
        # RFC 3461 4.3: RET=FULL is for failures; a success returns headers.
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.assertIn(tag, original.get_payload())
        self.assertNotIn("Hello there.", original.get_payload())
        got = [raw for _, raw in self.stack.mailbox(self.bob, "bob-password-1")
               if tag.encode() in raw]
        self.assertEqual(len(got), 1)

    def test_delivered_dsn_to_an_outside_sender_is_queued(self):
        # MX: the sender is not hosted here, so the DSN travels as mail,
        # from the null reverse-path (RFC 3461 6.2), to its MX.
        tag = helpers.unique("odlv")
        with smtplib.SMTP("127.0.0.1", self.stack.mx_port, timeout=15) as s:
            s.sendmail("sender@remote.test", [self.bob],
                       message("sender@remote.test", self.bob, subject=tag),
                       rcpt_options=["NOTIFY=SUCCESS"])
        got = self.received(tag)
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["from"].startswith("<>"), got[0]["from"])
        self.assertEqual([r.split(">")[0] for r in got[0]["rcpts"]], ["<sender@remote.test"])
        dsn = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        _, [r], _ = self.fields(dsn)
        self.assertEqual(r["Action"], "delivered")
        self.assertEqual(r["Final-Recipient"], f"rfc822; {self.bob}")

    def test_no_delivered_dsn_without_notify_success(self):
        tag = helpers.unique("nodlv")
        self.submit([self.bob], tag, rcpt_options=["NOTIFY=FAILURE"])
        self.submit([self.bob], tag + "x")
        self.assertIsNone(self.dsn_for(tag, timeout=0))

    def test_relayed_dsn_when_the_mx_lacks_dsn(self):
        tag = helpers.unique("rly")
        self.stub.offer_dsn = False
        self.addCleanup(setattr, self.stub, "offer_dsn", True)
        self.submit(["relay@remote.test"], tag, rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        got = self.received(tag)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["rcpts"], ["<relay@remote.test>"])  # NOTIFY not passed on
        dsn = self.dsn_for(tag)
        self.assertIsNotNone(dsn, "no relayed DSN in the sender's mailbox")
        self.assertEqual(dsn["Subject"], "Delivery Status Notification (Success)")
        _, [r], original = self.fields(dsn)
        self.assertEqual(r["Action"], "relayed")
        self.assertEqual(r["Status"], "2.0.0")
        self.assertEqual(r["Final-Recipient"], "rfc822; relay@remote.test")
        self.assertEqual(r["Remote-MTA"], "dns; mx.remote.test")
        self.assertTrue(r["Diagnostic-Code"].startswith("smtp; 250 "), r["Diagnostic-Code"])
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")

    def test_notify_passed_on_when_the_mx_offers_dsn(self):
        tag = helpers.unique("pass")
        self.submit(["passon@remote.test"], tag, rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        got = self.received(tag)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["rcpts"], ["<passon@remote.test> NOTIFY=SUCCESS,FAILURE "
                                           "ORCPT=rfc822;passon@remote.test"])
        self.assertTrue(self.queue_drained(), "the queue entry stayed")
        self.assertIsNone(self.dsn_for(tag, timeout=0))

    def test_alias_forwarding_outside_gets_no_delivered_dsn(self):
        # "delivered" is final (RFC 3464 2.3.3), but the forwarded copy is
        # not: NOTIFY goes on with it, and it reports for itself.
        tag = helpers.unique("mix")
        self.submit([f"mix@{self.dom}"], tag, rcpt_options=["NOTIFY=SUCCESS"])
        self.assertEqual(self.rcpt_lines("mixfriend@remote.test")[0],
                         "RCPT TO:<mixfriend@remote.test> NOTIFY=SUCCESS "
                         f"ORCPT=rfc822;mix@{self.dom}")
        self.assertTrue(self.queue_drained(), "the queue entry stayed")
        self.assertIsNone(self.dsn_for(tag, timeout=0))
        got = [raw for _, raw in self.stack.mailbox(self.bob, "bob-password-1")
               if tag.encode() in raw]
        self.assertEqual(len(got), 1)

    def test_notify_never_to_a_failing_remote_gets_no_dsn(self):
        tag = helpers.unique("never")
        self.stub.rcpt_replies["never@remote.test"] = ["550 5.1.1 no such user"]
        self.submit(["never@remote.test"], tag, rcpt_options=["NOTIFY=NEVER"])
        self.assertEqual(self.rcpt_lines("never@remote.test")[0],
                         "RCPT TO:<never@remote.test> NOTIFY=NEVER "
                         "ORCPT=rfc822;never@remote.test")
        self.assertTrue(self.queue_drained(), "the queue entry stayed")
        self.assertIsNone(self.dsn_for(tag, timeout=0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
