"""ownmail-smtp under stress and signals: SIGKILL under load loses no
acknowledged message and duplicates none; SIGTERM lets a transaction in
flight finish; SIGHUP reloads the certificate; started as root it serves as
an unprivileged user; /metrics counts."""
import os
import pwd
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402
from test_smtp import Raw, message  # noqa: E402

SENDERS = 6


class TestDurability(unittest.TestCase):
    def setUp(self):
        self.stack = mailharness.MailStack()
        self.stack.start()
        self.dom = helpers.unique_domain("du")
        self.stack.domain(self.dom)
        self.addr = f"dur@{self.dom}"
        self.stack.user(self.dom, "dur", "durable-password-1")
        time.sleep(1.0)

    def tearDown(self):
        self.stack.close()

    def test_sigkill_under_load(self):
        acked, lock, stop = [], threading.Lock(), threading.Event()

        def sender(n):
            i = 0
            while not stop.is_set():
                tag = f"load-{n}-{i}"
                i += 1
                try:
                    with smtplib.SMTP("127.0.0.1", self.stack.mx_port, timeout=10) as s:
                        s.sendmail("l@outside.example", [self.addr],
                                   message("l@outside.example", self.addr, subject=tag))
                    with lock:
                        acked.append(tag)
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        self.stack.stop_smtp(signal.SIGKILL, expect_clean=False)
        time.sleep(0.3)
        self.stack.start_smtp()
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(acked), 10)
        subjects = []
        for raw in (m for _, m in self.stack.mailbox(self.addr, "durable-password-1")):
            for line in raw.split(b"\r\n"):
                if line.startswith(b"Subject: "):
                    subjects.append(line[9:].decode())
        missing = set(acked) - set(subjects)
        self.assertEqual(missing, set(), "acknowledged but lost")
        dups = {s for s in subjects if subjects.count(s) > 1}
        self.assertEqual(dups, set(), "stored twice")

    def test_sigterm_finishes_the_transaction_in_flight(self):
        r = Raw(self.stack.mx_port)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<t@outside.example>")
        self.assertEqual(r.cmd(f"RCPT TO:<{self.addr}>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send("Subject: in-flight\r\n\r\nfirst half\r\n")
        proc = self.stack.smtp_proc
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # A new client is no longer accepted...
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.stack.mx_port), timeout=2).recv(1)
        # ...but the open transaction completes.
        r.send("second half\r\n.\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 421)
        self.assertEqual(proc.wait(timeout=30), 0)
        self.stack.smtp.proc = None
        self.stack.smtp.log.close()
        got = [m for _, m in self.stack.mailbox(self.addr, "durable-password-1")
               if b"in-flight" in m]
        self.assertEqual(len(got), 1)
        self.assertIn(b"second half", got[0])

    def test_sighup_reloads_certificate(self):
        def subject():
            s = socket.create_connection(("127.0.0.1", self.stack.subs_port), timeout=10)
            t = mailharness.client_tls().wrap_socket(s)
            der = t.getpeercert(binary_form=True)
            t.close()
            out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                                 input=der, capture_output=True, check=True)
            return out.stdout.decode()

        self.assertIn("mail.test.example", subject())
        old = Raw(self.stack.subs_port, tls=True)
        cert, key = mailharness.make_cert(tempfile.mkdtemp(prefix="ownmail-tls2-"),
                                          cn="reloaded.example")
        os.replace(cert, self.stack.cert)
        os.replace(key, self.stack.key)
        self.stack.smtp_proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIn("reloaded.example", subject())
        self.assertEqual(old.cmd("NOOP")[0], 250)  # the old session lives on
        old.close()

    def test_metrics(self):
        with smtplib.SMTP("127.0.0.1", self.stack.mx_port, timeout=10) as s:
            s.sendmail("m@outside.example", [self.addr], message("m@outside.example", self.addr))
        m = self.stack.metrics()
        self.assertGreaterEqual(m.get("smtp_messages_total", 0), 1)
        self.assertGreaterEqual(m.get("connections_total", 0), 1)


@unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root")
class TestPrivilegeDrop(unittest.TestCase):
    def test_serves_as_nobody(self):
        stack = mailharness.MailStack(smtp_user="nobody")
        try:
            stack.api.start()
            stack.token = stack.api.login()
            nobody = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(stack.data_dir):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
            os.chown(stack.data_dir, nobody.pw_uid, nobody.pw_gid)
            os.chmod(stack.api.workdir, 0o711)  # mkdtemp's 0700 would keep nobody out
            for p in (stack.cert, stack.key):
                os.chmod(p, 0o600)  # root-only: read before the drop
            stack.start_smtp()
            # The ports are bound as root, then the worker drops: wait for it.
            deadline = time.time() + 10
            while True:
                with open(f"/proc/{stack.smtp_proc.pid}/status") as f:
                    uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
                if set(uids) == {str(nobody.pw_uid)} or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(set(uids), {str(nobody.pw_uid)})  # real, effective, saved, fs
            dom = helpers.unique_domain("pd")
            stack.domain(dom)
            stack.user(dom, "pd", "privdrop-password-1")
            time.sleep(1.0)
            with smtplib.SMTP("127.0.0.1", stack.mx_port, timeout=10) as s:
                s.sendmail("x@outside.example", [f"pd@{dom}"],
                           message("x@outside.example", f"pd@{dom}", subject="dropped"))
            self.assertEqual(len(stack.spool_files(f"pd@{dom}")), 1)
        finally:
            stack.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
