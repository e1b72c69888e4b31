"""ownmail-pop3, continued from test_pop3.py: pop3.dele = trash, credentials
refused without TLS when pop3.plaintext_loopback is off, connection limits,
the idle and session timeouts, the maildrop lock across processes and a
killed holder, Redis down, SIGTERM (a running RETR finishes first)."""
import base64
import os
import poplib
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mailharness  # noqa: E402
from pop3case import (PASSWORD, LOCK_WAIT, Pop3Case, Pop3Raw, imap_inbox, stuff, subject_of,
                      capa)  # noqa: E402


class TestTrash(Pop3Case):
    pop3_config = {"pop3.dele": "trash"}
    users = ("tom", "tim")

    def test_dele_moves_to_trash(self):
        self.deliver("tom", ["t-1", "t-2", "t-3"])
        _, far = imap_inbox(self.imap("tom"))
        r = self.raw("tom")
        _, data = r.multi("CAPA")
        self.assertEqual(capa(data)["EXPIRE"], ["NEVER"])
        r.ok("DELE 1")
        r.ok("DELE 3")
        self.assertStatus(r.cmd("QUIT"), "+OK")
        _, inbox = imap_inbox(self.imap("tom"))
        self.assertEqual([subject_of(m[3]) for m in inbox], ["t-2"])
        _, trash = imap_inbox(self.imap("tom"), "Trash")
        self.assertEqual(sorted(subject_of(m[3]) for m in trash), ["t-1", "t-3"])
        # the same octets
        self.assertEqual(sorted(m[3] for m in trash), sorted([far[0][3], far[2][3]]))
        r = self.raw("tom")
        self.assertEqual(self.stat(r)[0], 1)
        r.ok("QUIT")

    def test_trash_with_a_message_gone_meanwhile(self):
        """IMAP expunges one of the marked messages during the session: the
        others still go to Trash at QUIT."""
        self.deliver("tim", ["g-1", "g-2", "g-3"])
        _, far = imap_inbox(self.imap("tim"))
        r = self.raw("tim")
        r.ok("DELE 1")
        r.ok("DELE 2")
        c = self.imap("tim")
        c.select("INBOX")
        c.uid("STORE", str(far[0][0]), "+FLAGS", r"(\Deleted)")
        self.assertEqual(c.uid("EXPUNGE", str(far[0][0]))[0], "OK")
        self.assertStatus(r.cmd("QUIT"), "+OK")
        _, inbox = imap_inbox(self.imap("tim"))
        self.assertEqual([subject_of(m[3]) for m in inbox], ["g-3"])
        _, trash = imap_inbox(self.imap("tim"), "Trash")
        self.assertEqual([subject_of(m[3]) for m in trash], ["g-2"])


class TestTlsRequired(Pop3Case):
    pop3_config = {"pop3.plaintext_loopback": "false"}
    users = ("tia",)

    def test_plain_port_refuses_credentials(self):
        r = self.raw()
        _, data = r.multi("CAPA")
        listed = capa(data)
        self.assertIn("STLS", listed)
        self.assertNotIn("USER", listed)
        self.assertNotIn("SASL", listed)
        refused = b"-ERR [SYS/PERM] use STLS or port 995 first"
        self.assertEqual(r.cmd(f"USER {self.addr('tia')}"), refused)
        self.assertEqual(r.cmd(f"PASS {PASSWORD}"), refused)
        b64 = base64.b64encode(b"\0" + self.addr("tia").encode() + b"\0" + PASSWORD.encode())
        self.assertEqual(r.cmd(b"AUTH PLAIN " + b64), refused)
        self.assertEqual(r.cmd("AUTH PLAIN"), refused)  # no continuation either
        self.assertEqual(r.cmd("AUTH"), refused)
        self.assertStatus(r.cmd("STAT"), "-ERR")  # still not logged in
        c = self.pop()
        with self.assertRaises(poplib.error_proto):
            c.user(self.addr("tia"))
            c.pass_(PASSWORD)

    def test_stls_then_login(self):
        c = self.pop()
        c.stls(mailharness.client_tls())
        caps = c.capa()
        self.assertIn("USER", caps)
        self.assertEqual(caps["SASL"], ["PLAIN"])
        self.assertNotIn("STLS", caps)
        c.user(self.addr("tia"))
        self.assertTrue(c.pass_(PASSWORD).startswith(b"+OK"))
        c.quit()

    def test_implicit_tls(self):
        c = self.pop(tls=True)
        self.assertIn("USER", c.capa())
        c.user(self.addr("tia"))
        self.assertTrue(c.pass_(PASSWORD).startswith(b"+OK"))
        c.quit()


class TestLimits(Pop3Case):
    pop3_config = {"pop3.timeout": "1s", "pop3.session_timeout": "3s",
                   "pop3.connections_per_ip": "3"}
    users = ("ida",)

    def test_connections_per_ip(self):
        conns = [self.raw() for _ in range(3)]
        r = self.raw()
        self.assertEqual(r.greeting,
                         b"-ERR [SYS/TEMP] too many connections from your address, try again later")
        self.assertTrue(r.closed())
        conns[0].ok("QUIT")
        deadline = time.time() + LOCK_WAIT
        while True:  # the server has seen the close
            r = self.raw()
            if r.greeting.startswith(b"+OK") or time.time() > deadline:
                break
            r.close()
            time.sleep(0.1)
        self.assertRegex(r.greeting, rb"^\+OK ")

    def test_idle_autologout_without_update(self):
        """RFC 1939 3: the autologout timer ends the session and does not
        enter the UPDATE state."""
        self.deliver("ida", ["idle-1"])
        r = self.raw()
        start = time.time()
        self.assertEqual(r.line(), b"-ERR autologout: idle too long")
        self.assertGreater(time.time() - start, 0.7)
        self.assertTrue(r.closed())
        r = self.raw("ida")
        r.ok("DELE 1")
        self.assertEqual(r.line(), b"-ERR autologout: idle too long")
        self.assertTrue(r.closed())
        r = self.raw("ida")  # the lock went with the session, and nothing else
        self.assertEqual(self.stat(r)[0], 1)
        r.ok("QUIT")

    def test_session_time_limit(self):
        r = self.raw("ida")
        start = time.time()
        while time.time() - start < 10:
            line = r.cmd("NOOP")
            if not line.startswith(b"+OK"):
                break
            time.sleep(0.5)
        self.assertEqual(line, b"-ERR [SYS/TEMP] session time limit reached")
        self.assertGreater(time.time() - start, 2)
        self.assertTrue(r.closed())


# ------------------------------------------------------------------ processes


def second_worker(stack, name):
    """Another ownmail-pop3 on the same data directory and Redis, with its
    own ports: a copy of the configuration with the pop3.* addresses
    changed."""
    port, tls_port, metrics = harness.free_port(), harness.free_port(), harness.free_port()
    with open(stack.api.config_path) as f:
        text = f.read()
    for key, value in (("pop3.listen", port), ("pop3.tls_listen", tls_port),
                       ("pop3.metrics_listen", metrics)):
        text, n = re.subn(rf"(?m)^{re.escape(key)}\s*=.*$", f"{key} = 127.0.0.1:{value}", text)
        assert n == 1, key
    path = os.path.join(stack.api.workdir, f"{name}.conf")
    with open(path, "w") as f:
        f.write(text)
    return mailharness.WorkerProc("ownmail-pop3", path,
                                  os.path.join(stack.api.workdir, f"{name}.log"), port)


class TestProcesses(Pop3Case):
    users = ("pam", "pat", "pet")

    def test_lock_across_processes_and_a_killed_holder(self):
        """The maildrop lock holds across worker processes; when the
        holder's process dies, the lock goes with it and its DELEs with it."""
        self.deliver("pam", ["proc-1", "proc-2"])
        other = second_worker(self.stack, "pop3-b")
        other.start()
        self.addCleanup(other.stop, signal.SIGKILL, False)
        holder = Pop3Raw(other.port)
        self.addCleanup(holder.close)
        holder.login(self.addr("pam"), PASSWORD)
        holder.ok("DELE 1")
        r = self.raw()
        r.ok(f"USER {self.addr('pam')}")
        self.assertStatus(r.cmd(f"PASS {PASSWORD}"), "-ERR", "IN-USE")
        other.stop(signal.SIGKILL, expect_clean=False)
        r.ok(f"USER {self.addr('pam')}")
        self.assertStatus(r.cmd(f"PASS {PASSWORD}"), "+OK")
        self.assertEqual(self.stat(r)[0], 2)
        r.ok("QUIT")

    def test_redis_down(self):
        """Without Redis the failed-login counters cannot be checked: logins
        fail closed with [SYS/TEMP], and work again once it is back."""
        self.stack.api.redis.stop()
        try:
            r = self.raw()
            r.ok(f"USER {self.addr('pat')}")
            self.assertStatus(r.cmd(f"PASS {PASSWORD}"), "-ERR", "SYS/TEMP")
            self.assertStatus(r.multi("CAPA")[0], "+OK")  # the session goes on
        finally:
            self.stack.api.redis.start()
        deadline = time.time() + 10
        while True:
            r = self.raw()
            r.ok(f"USER {self.addr('pat')}")
            status = r.cmd(f"PASS {PASSWORD}")
            if status.startswith(b"+OK") or time.time() > deadline:
                break
            r.close()
            time.sleep(0.2)
        self.assertStatus(status, "+OK")
        r.ok("QUIT")

    def test_sigterm_during_retr(self):
        """A RETR running when SIGTERM comes is finished, then the session
        gets its goodbye; the worker exits 0."""
        body = "".join(f".line {i:06d} " + "y" * 60 + "\r\n" for i in range(10000))
        self.deliver("pet", ["huge"], body={"huge": body})
        _, far = imap_inbox(self.imap("pet"))
        other = second_worker(self.stack, "pop3-d")
        other.start()
        self.addCleanup(other.stop, signal.SIGKILL, False)
        r = Pop3Raw(other.port)
        self.addCleanup(r.close)
        r.login(self.addr("pet"), PASSWORD)
        r.send(b"RETR 1\r\n")
        time.sleep(0.3)  # the server is writing, the client not reading yet
        other.proc.send_signal(signal.SIGTERM)
        status, data = r.line(), r.data()
        self.assertStatus(status, "+OK")
        self.assertEqual(data, stuff(far[0][3]))
        self.assertEqual(r.line(), b"-ERR [SYS/TEMP] the server is shutting down")
        self.assertTrue(r.closed())
        self.assertEqual(other.proc.wait(timeout=30), 0, other.log_tail())
        other.proc = None
        other.log.close()

    def test_sigterm(self):
        """SIGTERM ends the sessions without UPDATE and the worker exits 0."""
        self.deliver("pat", ["term-1"])
        other = second_worker(self.stack, "pop3-c")
        other.start()
        self.addCleanup(other.stop, signal.SIGKILL, False)
        holder = Pop3Raw(other.port)
        self.addCleanup(holder.close)
        holder.login(self.addr("pat"), PASSWORD)
        holder.ok("DELE 1")
        idle = Pop3Raw(other.port)
        self.addCleanup(idle.close)
        other.stop(signal.SIGTERM)  # asserts exit code 0
        self.assertTrue(holder.closed())
        self.assertTrue(idle.closed())
        r = self.raw("pat")
        self.assertEqual(self.stat(r)[0], 1)
        self.assertAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
