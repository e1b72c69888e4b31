"""ownmail-smtp over real sockets: MX delivery into sealed spools, relay
refusals, submission with STARTTLS and AUTH, pipelining, BDAT, limits,
smuggling, STARTTLS injection, quota, throttling, no plaintext on disk.
Clients: Python's smtplib, raw sockets, and swaks."""
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

MARKER = "OWNMAIL-SMTP-PLAINTEXT-MARKER"


def message(frm, to, subject="hello", body="Hello there.\r\n", extra=""):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{helpers.unique('m')}@test>\r\n{extra}\r\n{body}")


class Raw:
    """A line-level SMTP client for what smtplib will not send."""

    def __init__(self, port, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        if tls:
            self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed")
            lines.append(line.decode(errors="replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self):
        code, _ = self.cmd("STARTTLS")
        assert code == 220
        self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SmtpCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack()
        cls.stack.start()
        cls.dom = helpers.unique_domain("mx")
        cls.stack.domain(cls.dom)
        cls.alice = f"alice@{cls.dom}"
        cls.bob = f"bob@{cls.dom}"
        cls.stack.user(cls.dom, "alice", "alice-password-1")
        cls.stack.user(cls.dom, "bob", "bob-password-1")
        cls.stack.alias(cls.dom, "team", [cls.alice, cls.bob])
        cls.catch_dom = helpers.unique_domain("ca")
        cls.stack.domain(cls.catch_dom)
        cls.stack.user(cls.catch_dom, "carol", "carol-password-1")
        cls.stack.alias(cls.catch_dom, "*", [f"carol@{cls.catch_dom}"])
        time.sleep(1.0)  # the change feed reaches the worker

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def mx(self):
        return smtplib.SMTP("127.0.0.1", self.stack.mx_port, timeout=15)

    def submission(self, user=None, password=None):
        s = smtplib.SMTP("127.0.0.1", self.stack.sub_port, timeout=30)
        s.starttls(context=mailharness.client_tls())
        s.ehlo("client.example")  # RFC 3207 4.2: the session starts over after TLS
        if user is not None:
            s.login(user, password)
        return s

    def inbox(self, address, password):
        return [raw for _, raw in self.stack.mailbox(address, password)]

    def wait_spool(self, address, n, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.stack.spool_files(address)) < n:
            time.sleep(0.05)
        return self.stack.spool_files(address)


class TestMx(SmtpCase):
    def test_greeting_and_ehlo(self):
        with self.mx() as s:
            code, caps = s.ehlo("client.example")
            self.assertEqual(code, 250)
            for cap in ("PIPELINING", "SIZE 1048576", "8BITMIME", "ENHANCEDSTATUSCODES",
                        "SMTPUTF8", "CHUNKING", "DSN", "STARTTLS"):
                self.assertIn(cap, caps.decode().splitlines())
            self.assertNotIn("AUTH", caps.decode())  # no AUTH on the MX port
            self.assertEqual(s.noop()[0], 250)
            self.assertEqual(s.verify("alice")[0], 252)

    def test_delivery_to_user_is_sealed_and_drained(self):
        body = f"{MARKER} body line\r\n.leading dot\r\n"
        with self.mx() as s:
            s.sendmail("sender@outside.example", [self.alice],
                       message("sender@outside.example", self.alice, body=body))
        files = self.wait_spool(self.alice, 1)
        self.assertGreaterEqual(len(files), 1)
        # No plaintext anywhere under the data directory.
        for root, _, names in os.walk(self.stack.data_dir):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    self.assertNotIn(MARKER.encode(), f.read(), os.path.join(root, n))
        msgs = self.inbox(self.alice, "alice-password-1")
        mine = [m for m in msgs if MARKER.encode() in m]
        self.assertEqual(len(mine), 1)
        self.assertTrue(mine[0].startswith(b"Received: from "), mine[0][:200])
        self.assertIn(b"\r\n.leading dot\r\n", mine[0])  # dot-unstuffed once
        self.assertEqual(self.stack.spool_files(self.alice), [])  # drained

    def test_alias_and_catch_all(self):
        tag = helpers.unique("alias")
        with self.mx() as s:
            s.sendmail("x@outside.example", [f"team@{self.dom}", f"TEAM@{self.dom.upper()}"],
                       message("x@outside.example", f"team@{self.dom}", subject=tag))
            s.sendmail("x@outside.example", [f"anything-{tag}@{self.catch_dom}"],
                       message("x@outside.example", "c", subject=tag))
        for who, pw in ((self.alice, "alice-password-1"), (self.bob, "bob-password-1")):
            got = [m for m in self.inbox(who, pw) if tag.encode() in m]
            self.assertEqual(len(got), 1, who)  # one copy despite two RCPTs
        got = [m for m in self.inbox(f"carol@{self.catch_dom}", "carol-password-1")
               if tag.encode() in m]
        self.assertEqual(len(got), 1)

    def test_unknown_user(self):
        with self.mx() as s:
            s.ehlo("c.example")
            s.mail("x@outside.example")
            code, text = s.rcpt(f"nobody@{self.dom}")
            self.assertEqual(code, 550)
            self.assertIn(b"5.1.1", text)

    def test_open_relay_attempts(self):
        attempts = [
            "<victim@outside.example>",
            f"<victim%outside.example@{self.dom}>",
            f"<@{self.dom}:victim@outside.example>",
            f"<\"victim@outside.example\"@{self.dom}>",
            f"<victim!outside.example@{self.dom}>",
            "<victim@[127.0.0.1]>",
        ]
        with self.mx() as s:
            s.ehlo("c.example")
            for a in attempts:
                s.rset()
                self.assertEqual(s.mail("x@outside.example")[0], 250)
                code, text = s.docmd("RCPT TO:" + a)
                self.assertIn(code, (550, 553), (a, text))
        # Nothing reached the outside: there is no outbound queue entry.
        self.assertFalse(os.path.isdir(os.path.join(self.stack.data_dir, "queue")) and
                         os.listdir(os.path.join(self.stack.data_dir, "queue")))

    def test_pipelining(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        tag = helpers.unique("pipe")
        r.send(f"MAIL FROM:<p@outside.example>\r\nRCPT TO:<{self.alice}>\r\n"
               f"RCPT TO:<nobody@{self.dom}>\r\nRCPT TO:<{self.bob}>\r\nDATA\r\n")
        codes = [r.reply()[0] for _ in range(5)]
        self.assertEqual(codes, [250, 250, 550, 250, 354])
        r.send(f"Subject: {tag}\r\n\r\nbody\r\n.\r\nMAIL FROM:<p@outside.example>\r\n"
               f"RCPT TO:<{self.alice}>\r\nQUIT\r\n")
        self.assertEqual([r.reply()[0] for _ in range(4)], [250, 250, 250, 221])
        r.close()
        got = [m for m in self.inbox(self.bob, "bob-password-1") if tag.encode() in m]
        self.assertEqual(len(got), 1)

    def test_bdat(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        tag = helpers.unique("bdat")
        part1 = f"Subject: {tag}\r\n\r\nfirst chunk\r\n".encode()
        part2 = b".not stuffed\r\nlast\r\n"
        r.send(b"MAIL FROM:<b@outside.example>\r\nRCPT TO:<%s>\r\n" % self.alice.encode())
        self.assertEqual([r.reply()[0] for _ in range(2)], [250, 250])
        r.send(b"BDAT %d\r\n%s" % (len(part1), part1))
        self.assertEqual(r.reply()[0], 250)
        r.send(b"BDAT %d LAST\r\n%sQUIT\r\n" % (len(part2), part2))  # pipelined QUIT
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 221)
        r.close()
        got = [m for m in self.inbox(self.alice, "alice-password-1") if tag.encode() in m]
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].endswith(b"first chunk\r\n.not stuffed\r\nlast\r\n"), got[0])

    def test_bdat_without_transaction_keeps_sync(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.send(b"BDAT 11 LAST\r\nNOOP NOOP\r\nNOOP\r\n")
        self.assertEqual(r.reply()[0], 503)  # the 11 octets were read and dropped
        self.assertEqual(r.reply()[0], 250)  # the NOOP after them
        r.close()

    def test_size_limits(self):
        big = "x" * 998 + "\r\n"
        msg = message("x@outside.example", self.alice, body=big * 1100)
        with self.mx() as s:
            s.ehlo("c.example")
            code, text = s.docmd(f"MAIL FROM:<x@outside.example> SIZE={2 * 1024 * 1024}")
            self.assertEqual(code, 552, text)
            s.rset()
            # smtplib declares SIZE: refused at MAIL.
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("x@outside.example", [self.alice], msg)
            self.assertEqual(e.exception.smtp_code, 552)
        # Without SIZE the text itself is counted, and the session stays in sync.
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<x@outside.example>")
        self.assertEqual(r.cmd(f"RCPT TO:<{self.alice}>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(msg + "\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 552, text)
        self.assertEqual(r.cmd("NOOP")[0], 250)
        r.close()

    def test_bare_line_ends_refused(self):
        for body in (b"one\n.\nMAIL FROM:<evil@x>\r\n", b"one\r.\r\nsmuggled\r\n",
                     b"bare\nlf\r\n"):
            r = Raw(self.stack.mx_port)
            r.cmd("EHLO c.example")
            r.cmd("MAIL FROM:<s@outside.example>")
            self.assertEqual(r.cmd(f"RCPT TO:<{self.alice}>")[0], 250)
            self.assertEqual(r.cmd("DATA")[0], 354)
            tag = helpers.unique("smug").encode()
            r.send(b"Subject: " + tag + b"\r\n\r\n" + body + b"\r\n.\r\n")
            code, text = r.reply()
            self.assertEqual(code, 550, text)
            self.assertIn("5.5.2", text)
            self.assertEqual(r.cmd("NOOP")[0], 250)
            r.close()
            self.assertFalse([m for m in self.inbox(self.alice, "alice-password-1") if tag in m])

    def test_starttls_injection_discarded(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.send("STARTTLS\r\nMAIL FROM:<injected@outside.example>\r\n")
        self.assertEqual(r.reply()[0], 220)
        r.sock = mailharness.client_tls().wrap_socket(r.sock)
        r.f = r.sock.makefile("rb")
        # Had the injected MAIL been kept, this would be "503 nested MAIL" or
        # a 250 for it; after TLS the session starts over: EHLO first.
        self.assertEqual(r.cmd("MAIL FROM:<x@outside.example>")[0], 503)
        code, caps = r.cmd("EHLO c.example")
        self.assertEqual(code, 250)
        self.assertNotIn("STARTTLS", caps)
        self.assertEqual(r.cmd("MAIL FROM:<x@outside.example>")[0], 250)
        r.close()

    def test_too_many_errors_end_the_session(self):
        r = Raw(self.stack.mx_port)
        codes = [r.cmd("BOGUS")[0] for _ in range(10)]
        self.assertEqual(codes, [500] * 10)
        self.assertEqual(r.reply()[0], 421)  # after the tenth error
        with self.assertRaises(ConnectionError):
            r.reply()
        r.close()

    def test_disabled_user(self):
        user = f"off-{helpers.unique()}"
        self.stack.user(self.dom, user, "disabled-password-1")
        r = self.stack.api.request("PATCH", f"/api/v1/domains/{self.dom}/users/{user}",
                                   {"enabled": False}, token=self.stack.token)
        self.assertEqual(r.status, 200, r)
        time.sleep(1.0)
        with self.mx() as s:
            s.ehlo("c.example")
            s.mail("x@outside.example")
            code, text = s.rcpt(f"{user}@{self.dom}")
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.2.1", text)

    def test_new_mail_is_published(self):
        import harness
        sub = socket.create_connection(("127.0.0.1", self.stack.api.redis.port), timeout=10)
        sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$15\r\nownmail:newmail\r\n")
        f = sub.makefile("rb")
        self.assertEqual(harness._resp_read(f)[0], "subscribe")
        with self.mx() as s:
            s.sendmail("x@outside.example", [self.bob], message("x@outside.example", self.bob))
        kind, channel, store = harness._resp_read(f)
        sub.close()
        self.assertEqual((kind, channel), ("message", "ownmail:newmail"))
        self.assertEqual(store, self.stack.entity(self.bob)["store_id"])

    def test_line_length_enforced(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<x@outside.example>")
        self.assertEqual(r.cmd(f"RCPT TO:<{self.alice}>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send("Subject: long\r\n\r\n" + "z" * 1200 + "\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 550, text)
        self.assertIn("5.6.0", text)
        r.close()

    def test_too_many_recipients(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<x@outside.example>")
        r.send(f"RCPT TO:<{self.alice}>\r\n" * 100)
        self.assertEqual({r.reply()[0] for _ in range(100)}, {250})
        self.assertEqual(r.cmd(f"RCPT TO:<{self.bob}>")[0], 452)  # one past the limit
        for _ in range(8):
            self.assertEqual(r.cmd(f"RCPT TO:<{self.bob}>")[0], 452)
        self.assertEqual(r.cmd(f"RCPT TO:<{self.bob}>")[0], 452)  # the tenth error...
        self.assertEqual(r.reply()[0], 421)  # ...ends the session
        r.close()

    def test_alias_of_recipients_already_given(self):
        with self.mx() as s:
            s.ehlo("c.example")
            s.mail("x@outside.example")
            self.assertEqual(s.rcpt(self.alice)[0], 250)
            self.assertEqual(s.rcpt(self.bob)[0], 250)
            # Everyone the alias reaches is already a recipient: still fine.
            self.assertEqual(s.rcpt(f"team@{self.dom}")[0], 250)

    def test_bdat_rules(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<b@outside.example>")
        self.assertEqual(r.cmd(f"RCPT TO:<{self.alice}>")[0], 250)
        r.send(b"BDAT 5\r\nabcde")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 503)  # RFC 3030 2: no DATA after BDAT
        # A chunk that can never fit is refused and the connection closed.
        code, _ = r.cmd("BDAT 18446744073709551606 LAST")
        self.assertEqual(code, 552)
        with self.assertRaises(ConnectionError):
            r.reply()
        r.close()

    def test_swaks(self):
        if shutil.which("swaks") is None:
            self.fail("swaks is not installed (setup.sh installs it)")
        tag = helpers.unique("swaks")
        out = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.stack.mx_port),
                              "--from", "sw@outside.example", "--to", self.bob,
                              "--header", f"Subject: {tag}", "--tls"],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout.decode() + out.stderr.decode())
        got = [m for m in self.inbox(self.bob, "bob-password-1") if tag.encode() in m]
        self.assertEqual(len(got), 1)
        self.assertIn(b"with ESMTPS", got[0])  # swaks used STARTTLS


if __name__ == "__main__":
    unittest.main(verbosity=2)
