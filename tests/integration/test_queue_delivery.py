"""Integration test of the outbound queue (lib/queue) through ownmail-queue.

Independent of the api harness: it starts its own dnsmasq (the zone the
queue resolves through, on a free loopback port) and receiving SMTP stubs
(queue_smtpstub.py, one plain, one offering STARTTLS with a self-signed
certificate made here with openssl), queues mail with `ownmail-queue put`,
delivers with `run-once` / `flush`, and checks what the stubs received, the
queue listing, and the DSNs the command writes to --dsn-dir (parsed with
Python's email module).
"""
import base64
import email
import email.policy
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queue_smtpstub import SmtpStub, free_port  # noqa: E402

BIN = os.path.join(os.environ.get("OWNMAIL_BIN_DIR", "build/bin"), "ownmail-queue")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

MESSAGE = (b"From: alice@local.test\r\nTo: bob@remote.test\r\nSubject: queue test\r\n"
           b"Message-ID: <q1@local.test>\r\n\r\nfirst line\r\n.a line starting with a dot\r\n"
           b"last line\r\n")


def dns_ready(port):
    """True once the resolver answers a query for remote.test MX."""
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p for p in (b"remote", b"test")) + b"\0"
    q += struct.pack(">HH", 15, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", port))
            return s.recv(512)[:2] == q[:2]
        except OSError:
            return False


class QueueDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("dnsmasq") is None and not os.path.exists("/usr/sbin/dnsmasq"):
            raise unittest.SkipTest("dnsmasq (dnsmasq-base) is not installed")
        cls.tmp = tempfile.mkdtemp(prefix="test_queue_delivery.")
        cls.dns_port = free_port()
        dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        cls.dns_log = open(os.path.join(cls.tmp, "dnsmasq.log"), "w")
        cls.dns = subprocess.Popen(
            [dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts",
             f"--port={cls.dns_port}", "--listen-address=127.0.0.1", "--bind-interfaces",
             "--log-facility=-", "--local=/test/", f"--pid-file={cls.tmp}/dnsmasq.pid",
             "--mx-host=remote.test,mx.remote.test,10",
             "--host-record=mx.remote.test,127.0.0.1",
             # RFC 7505 null MX: preference 0, the root name.
             "--dns-rr=nullmx.test,15,000000",
             # No MX: the domain's own address is the implicit MX.
             "--host-record=implicit.test,127.0.0.1"],
            stdout=cls.dns_log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if dns_ready(cls.dns_port):
                break
            time.sleep(0.05)
        else:
            cls.tearDownClass()
            raise RuntimeError("dnsmasq did not start")
        cert, key = os.path.join(cls.tmp, "cert.pem"), os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=mx.remote.test", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        cls.plain = SmtpStub().start()
        cls.tls = SmtpStub(certfile=cert, keyfile=key, auth=True).start()

    @classmethod
    def tearDownClass(cls):
        for name in ("plain", "tls"):
            if hasattr(cls, name):
                getattr(cls, name).stop()
        if getattr(cls, "dns", None) is not None:
            cls.dns.terminate()
            cls.dns.wait(10)
            cls.dns_log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.plain.reset()
        self.tls.reset()
        self.data = tempfile.mkdtemp(dir=self.tmp)
        self.dsn_dir = os.path.join(self.data, "dsn")
        os.mkdir(self.dsn_dir)

    # ---------------------------------------------------------------- helpers

    def cli(self, *args, stdin=b""):
        r = subprocess.run([BIN, "--data-dir", self.data, *args], input=stdin,
                           capture_output=True, timeout=120)
        err = r.stderr.decode("utf-8", "replace")
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, err)
        self.assertEqual(r.returncode, 0, f"ownmail-queue {args}: {err}")
        return r.stdout.decode(), err

    def put(self, sender, *rcpts, extra=(), message=MESSAGE):
        args = ["put", "--from", sender]
        for r in rcpts:
            args += ["--to", r]
        out, _ = self.cli(*args, *extra, stdin=message)
        return out.strip()

    def run_queue(self, stub=None, *extra, command="run-once"):
        stub = stub or self.plain
        return self.cli("--dns", f"127.0.0.1:{self.dns_port}", "--remote-port", str(stub.port),
                        "--dsn-dir", self.dsn_dir, "--retry-min", "1", "--retry-max", "2",
                        "--connect-timeout", "5", "--command-timeout", "10", *extra, command)

    def listing(self):
        return self.cli("list")[0]

    def dsns(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dsn_dir, "*.eml"))):
            with open(path, "rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.compat32))
        return out

    def report(self, dsn):
        """(per-message fields, [per-recipient fields]) of a DSN."""
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        parts = dsn.get_payload()
        self.assertEqual(len(parts), 3)
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        blocks = parts[1].get_payload()
        return blocks[0], blocks[1:], parts[2]

    # ------------------------------------------------------------------ tests

    def test_mx_delivery_two_recipients_one_transaction(self):
        qid = self.put("alice@local.test", "bob@remote.test", "carol@remote.test")
        self.assertRegex(qid, r"^[0-9a-f]{32}$")
        self.assertIn("bob@remote.test\tpending", self.listing())
        self.assertNotIn("first line", self.listing())  # no message content in the listing
        out, err = self.run_queue()
        self.assertIn("delivered=2", out)
        txns = self.plain.transactions
        self.assertEqual(len(txns), 1, txns)
        self.assertEqual(txns[0]["rcpts"], ["<bob@remote.test>", "<carol@remote.test>"])
        self.assertTrue(txns[0]["from"].startswith("<alice@local.test>"))
        self.assertIn(f"SIZE={len(MESSAGE)}", txns[0]["from"])
        self.assertEqual(txns[0]["data"], MESSAGE)  # dot-stuffing undone by the receiver
        self.assertIn("mx=mx.remote.test", err)
        self.assertIn("status=delivered", err)
        self.assertEqual(self.listing(), "")
        self.assertEqual(self.dsns(), [])

    def test_implicit_mx(self):
        self.put("alice@local.test", "dave@implicit.test")
        out, err = self.run_queue()
        self.assertIn("delivered=1", out)
        self.assertIn("mx=implicit.test", err)
        self.assertEqual(self.plain.transactions[0]["rcpts"], ["<dave@implicit.test>"])

    def test_4xx_is_retried_then_delivered(self):
        self.plain.rcpt_replies["bob@remote.test"] = ["451 4.3.0 try again later"]
        self.put("alice@local.test", "bob@remote.test")
        retry = ("--retry-min", "3", "--retry-max", "3")
        out, _ = self.run_queue(None, *retry)
        self.assertIn("deferred=1", out)
        listing = self.listing()
        self.assertIn("bob@remote.test\tpending\tattempts=1", listing)
        self.assertIn("451 4.3.0 try again later", listing)
        out, _ = self.run_queue(None, *retry)  # not due yet (retry in 3 s)
        self.assertIn("attempts=0", out)
        time.sleep(3.2)
        out, _ = self.run_queue(None, *retry)
        self.assertIn("delivered=1", out)
        self.assertEqual(len(self.plain.transactions), 1)
        self.assertEqual(self.listing(), "")

    def test_5xx_gives_a_dsn(self):
        self.plain.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no such user here"]
        self.put("alice@local.test", "bob@remote.test", "nobody@remote.test",
                 extra=["--notify", "failure", "--orcpt", "rfc822;orig@remote.test",
                        "--envid", "ENV42"])
        out, _ = self.run_queue()
        self.assertIn("delivered=1", out)
        self.assertIn("bounced=1", out)
        self.assertEqual(self.plain.transactions[0]["rcpts"], ["<bob@remote.test>"])
        # The RCPT carried the DSN parameters (the stub offers DSN).
        rcpt_lines = [c for s in self.plain.sessions for c in s["commands"]
                      if c.startswith("RCPT TO:<nobody@")]
        self.assertEqual(rcpt_lines,
                         ["RCPT TO:<nobody@remote.test> NOTIFY=FAILURE ORCPT=rfc822;orig@remote.test"])
        mail_lines = [c for s in self.plain.sessions for c in s["commands"]
                      if c.startswith("MAIL")]
        self.assertIn("ENVID=ENV42", mail_lines[0])
        [dsn] = self.dsns()
        self.assertEqual(dsn["To"], "<alice@local.test>")
        self.assertIn("MAILER-DAEMON@", dsn["From"])
        per_msg, rcpts, original = self.report(dsn)
        self.assertEqual(per_msg["Original-Envelope-Id"], "ENV42")
        self.assertTrue(per_msg["Reporting-MTA"].startswith("dns;"))
        self.assertIsNotNone(per_msg["Arrival-Date"])
        self.assertEqual(len(rcpts), 1)
        r = rcpts[0]
        self.assertEqual(r["Final-Recipient"], "rfc822; nobody@remote.test")
        self.assertEqual(r["Original-Recipient"], "rfc822;orig@remote.test")
        self.assertEqual(r["Action"], "failed")
        self.assertEqual(r["Status"], "5.1.1")
        self.assertEqual(r["Remote-MTA"], "dns; mx.remote.test")
        self.assertEqual(r["Diagnostic-Code"], "smtp; 550 5.1.1 no such user here")
        self.assertEqual(original.get_content_type(), "message/rfc822")
        self.assertEqual(original.get_payload()[0]["Subject"], "queue test")
        self.assertEqual(self.listing(), "")

    def test_ret_hdrs_returns_headers_only(self):
        self.plain.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no"]
        self.put("alice@local.test", "nobody@remote.test", extra=["--ret", "hdrs"])
        self.run_queue()
        [dsn] = self.dsns()
        _, _, original = self.report(dsn)
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        text = original.get_payload()
        self.assertIn("Subject: queue test", text)
        self.assertNotIn("first line", text)

    def test_null_sender_never_gets_a_dsn(self):
        self.plain.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no"]
        self.put("<>", "nobody@remote.test")
        out, _ = self.run_queue()
        self.assertIn("bounced=1", out)
        self.assertIn("dsns=0", out)
        self.assertEqual(self.dsns(), [])
        self.assertEqual(self.listing(), "")
        mail_lines = [c for s in self.plain.sessions for c in s["commands"] if c.startswith("MAIL")]
        self.assertTrue(mail_lines[0].startswith("MAIL FROM:<>"))

    def test_notify_never_suppresses_the_dsn(self):
        self.plain.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no"]
        self.put("alice@local.test", "nobody@remote.test", extra=["--notify", "never"])
        out, _ = self.run_queue()
        self.assertIn("bounced=1", out)
        self.assertEqual(self.dsns(), [])

    # ------------------------------------------- success DSNs (RFC 3461 5.2.2)

    def test_relayed_dsn_when_the_server_lacks_dsn(self):
        # A server without DSN cannot be told NOTIFY=SUCCESS: the queue
        # reports the hand-over itself, as "relayed".
        self.plain.offer_dsn = False
        self.put("alice@local.test", "bob@remote.test",
                 extra=["--notify", "success,failure", "--orcpt", "rfc822;orig@remote.test",
                        "--envid", "ENV7", "--ret", "full"])
        out, err = self.run_queue()
        self.assertIn("delivered=1", out)
        self.assertIn("dsns=1", out)
        # Nothing of RFC 3461 went to that server (the stub refuses it).
        commands = [c for s in self.plain.sessions for c in s["commands"]]
        self.assertIn("RCPT TO:<bob@remote.test>", commands)
        self.assertIn(f"MAIL FROM:<alice@local.test> SIZE={len(MESSAGE)}", commands)
        [dsn] = self.dsns()
        self.assertEqual(dsn["Subject"], "Delivery Status Notification (Success)")
        self.assertEqual(dsn["To"], "<alice@local.test>")
        per_msg, rcpts, original = self.report(dsn)
        self.assertEqual(per_msg["Original-Envelope-Id"], "ENV7")
        [r] = rcpts
        self.assertEqual(r["Action"], "relayed")
        self.assertEqual(r["Status"], "2.0.0")
        self.assertEqual(r["Final-Recipient"], "rfc822; bob@remote.test")
        self.assertEqual(r["Original-Recipient"], "rfc822;orig@remote.test")
        self.assertEqual(r["Remote-MTA"], "dns; mx.remote.test")
        self.assertEqual(r["Diagnostic-Code"], "smtp; 250 2.0.0 ok")
        # RFC 3461 4.3: RET=FULL is for failures; a success returns headers.
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: queue test", original.get_payload())
        self.assertNotIn("first line", original.get_payload())
        self.assertEqual(self.listing(), "")

    def test_no_dsn_of_ours_when_the_server_offers_dsn(self):
        # NOTIFY went on with the RCPT: reporting is the next server's job.
        self.put("alice@local.test", "bob@remote.test", extra=["--notify", "success"])
        out, _ = self.run_queue()
        self.assertIn("delivered=1", out)
        self.assertIn("dsns=0", out)
        rcpts = [c for s in self.plain.sessions for c in s["commands"] if c.startswith("RCPT")]
        self.assertEqual(rcpts, ["RCPT TO:<bob@remote.test> NOTIFY=SUCCESS"])
        self.assertEqual(self.dsns(), [])
        self.assertEqual(self.listing(), "")

    def test_no_relayed_dsn_unless_success_was_asked_for(self):
        self.plain.offer_dsn = False
        self.put("alice@local.test", "bob@remote.test", extra=["--notify", "failure"])
        self.put("alice@local.test", "carol@remote.test")  # no NOTIFY: FAILURE only
        self.put("<>", "dave@remote.test", extra=["--notify", "success"])  # never to <>
        out, _ = self.run_queue()
        self.assertIn("delivered=3", out)
        self.assertIn("dsns=0", out)
        self.assertEqual(self.dsns(), [])
        self.assertEqual(self.listing(), "")

    def test_failed_and_relayed_in_one_dsn(self):
        self.plain.offer_dsn = False
        self.plain.rcpt_replies["nobody@remote.test"] = ["550 5.1.1 no such user here"]
        self.put("alice@local.test", extra=["--to", "bob@remote.test", "--notify", "success",
                                            "--to", "nobody@remote.test"])
        out, _ = self.run_queue()
        self.assertIn("delivered=1", out)
        self.assertIn("bounced=1", out)
        self.assertIn("dsns=1", out)
        [dsn] = self.dsns()
        self.assertEqual(dsn["Subject"], "Undelivered Mail Returned to Sender")
        _, rcpts, original = self.report(dsn)
        self.assertEqual({r["Final-Recipient"]: r["Action"] for r in rcpts},
                         {"rfc822; bob@remote.test": "relayed",
                          "rfc822; nobody@remote.test": "failed"})
        # A failure is reported, so RET applies (none given: all of it).
        self.assertEqual(original.get_content_type(), "message/rfc822")

    def test_relayed_dsn_waits_for_a_successful_hand_over(self):
        # Crash safety: "reported" is recorded only once the DSN was handed
        # over. A DSN directory that cannot be written is a hand-over that
        # fails: the entry stays, and the next pass hands the DSN over
        # without delivering the message again.
        self.plain.offer_dsn = False
        self.put("alice@local.test", "bob@remote.test", extra=["--notify", "success"])
        out, _ = self.cli("--dns", f"127.0.0.1:{self.dns_port}", "--remote-port",
                          str(self.plain.port), "--dsn-dir", os.path.join(self.data, "missing"),
                          "run-once")
        self.assertIn("delivered=1", out)
        self.assertIn("dsns=0", out)
        self.assertIn("bob@remote.test\tdelivered(unreported)", self.listing())
        out, _ = self.run_queue()
        self.assertIn("attempts=0", out)
        self.assertIn("dsns=1", out)
        self.assertEqual(len(self.plain.transactions), 1)
        [dsn] = self.dsns()
        _, [r], _ = self.report(dsn)
        self.assertEqual(r["Action"], "relayed")
        self.assertEqual(self.listing(), "")

    def test_null_mx_fails_permanently(self):
        self.put("alice@local.test", "someone@nullmx.test")
        out, _ = self.run_queue()
        self.assertIn("bounced=1", out)
        self.assertEqual(self.plain.sessions, [])  # nothing was contacted
        [dsn] = self.dsns()
        _, rcpts, _ = self.report(dsn)
        self.assertEqual(rcpts[0]["Status"], "5.1.10")
        self.assertIn("null MX", rcpts[0]["Diagnostic-Code"])

    def test_unknown_domain_fails_permanently(self):
        self.put("alice@local.test", "someone@nowhere.test")
        out, _ = self.run_queue()
        self.assertIn("bounced=1", out)
        [dsn] = self.dsns()
        _, rcpts, _ = self.report(dsn)
        self.assertEqual(rcpts[0]["Status"], "5.1.2")

    def test_starttls_is_used_when_offered(self):
        self.put("alice@local.test", "bob@remote.test")
        out, err = self.run_queue(self.tls)
        self.assertIn("delivered=1", out)
        [txn] = self.tls.transactions
        self.assertTrue(txn["tls"])
        [session] = self.tls.sessions
        self.assertIn(session["tls_version"], ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(session["commands"][:2], ["EHLO localhost", "STARTTLS"])
        self.assertIn('tls="TLSv1.', err)
        self.assertIn("verify=", err)  # the (not enforced) verification is logged
        self.assertEqual(txn["data"], MESSAGE)

    def test_no_starttls_flag_sends_in_plain_text(self):
        self.put("alice@local.test", "bob@remote.test")
        out, _ = self.run_queue(self.tls, "--no-starttls")
        self.assertIn("delivered=1", out)
        self.assertFalse(self.tls.transactions[0]["tls"])

    def test_relay_host_with_auth_over_tls(self):
        self.put("alice@local.test", "bob@elsewhere.example")
        out, _ = self.cli("--relay-host", f"127.0.0.1:{self.tls.port}", "--relay-user", "relayuser",
                          "--relay-password", "s3cret", "--relay-no-verify",
                          "--dsn-dir", self.dsn_dir, "run-once")
        self.assertIn("delivered=1", out)
        [session] = self.tls.sessions
        self.assertTrue(session["tls"])
        self.assertEqual(base64.b64decode(session["auth"].split(" ", 1)[1]),
                         b"\0relayuser\0s3cret")
        self.assertEqual(self.tls.transactions[0]["rcpts"], ["<bob@elsewhere.example>"])

    def test_flush_ignores_the_schedule(self):
        self.plain.rcpt_replies["bob@remote.test"] = ["421 4.7.0 busy"]
        self.put("alice@local.test", "bob@remote.test")
        self.run_queue(None, "--retry-min", "3600")
        out, _ = self.cli("--dns", f"127.0.0.1:{self.dns_port}", "--remote-port",
                          str(self.plain.port), "--retry-min", "3600", "flush")
        self.assertIn("delivered=1", out)

    def test_8bit_body_and_smtputf8(self):
        body = MESSAGE.replace(b"first line", "première ligne".encode())
        self.put("alice@local.test", "bob@remote.test", message=body)
        self.put("alice@local.test", "carol@remote.test", extra=["--smtputf8"])
        out, _ = self.run_queue()
        self.assertIn("delivered=2", out)
        mails = sorted(c for s in self.plain.sessions for c in s["commands"]
                       if c.startswith("MAIL"))
        self.assertEqual(len(mails), 2)
        self.assertIn("BODY=8BITMIME", mails[0] + mails[1])  # RFC 6152: 8-bit body
        self.assertIn("SMTPUTF8", mails[0] + mails[1])  # RFC 6531: asked for
        datas = sorted(t["data"] for t in self.plain.transactions)
        self.assertIn(body, datas)

    def test_no_plaintext_in_the_queue_directory(self):
        marker = b"PLAINTEXT-MARKER-9c2"
        self.put("alice@local.test", "bob@remote.test",
                 message=MESSAGE.replace(b"first line", marker))
        for path in glob.glob(os.path.join(self.data, "queue", "*")):
            with open(path, "rb") as f:
                blob = f.read()
            self.assertNotIn(marker, blob)
            self.assertNotIn(b"remote.test", blob)


if __name__ == "__main__":
    unittest.main(verbosity=2)
