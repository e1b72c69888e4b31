"""ownmail-imap as a process among others: a change made in one worker
process reaches an IDLE session of the same user in another one (through
Redis) within a second; SIGKILL during APPENDs loses no acknowledged message
and duplicates none; SIGTERM says BYE to idling clients and exits 0; started
as root it serves as an unprivileged user."""
import os
import pwd
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import helpers  # noqa: E402
import mailharness  # noqa: E402

PASSWORD = "process-password-1"
APPENDERS = 4


class Line:
    """A raw IMAP client reading line by line."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        assert self.line().startswith(b"* OK")

    def line(self):
        raw = self.f.readline()
        if not raw:
            raise EOFError("connection closed")
        return raw.rstrip(b"\r\n")

    def send(self, data):
        self.sock.sendall(data)

    def ok(self, tag, command):
        self.send(f"{tag} {command}\r\n".encode())
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                assert line.startswith(tag.encode() + b" OK"), line
                return untagged
            untagged.append(line)

    def close(self):
        self.sock.close()


def second_worker(stack, name):
    """Another ownmail-imap on the same data directory and Redis, with its
    own ports: a copy of the configuration with the imap.* addresses
    changed."""
    port, tls_port, metrics = harness.free_port(), harness.free_port(), harness.free_port()
    with open(stack.api.config_path) as f:
        text = f.read()
    text = re.sub(r"(?m)^imap\.listen\s*=.*$", f"imap.listen = 127.0.0.1:{port}", text)
    text = re.sub(r"(?m)^imap\.tls_listen\s*=.*$", f"imap.tls_listen = 127.0.0.1:{tls_port}",
                  text)
    text = re.sub(r"(?m)^imap\.metrics_listen\s*=.*$",
                  f"imap.metrics_listen = 127.0.0.1:{metrics}", text)
    path = os.path.join(stack.api.workdir, f"{name}.conf")
    with open(path, "w") as f:
        f.write(text)
    return mailharness.WorkerProc("ownmail-imap", path,
                                  os.path.join(stack.api.workdir, f"{name}.log"), port)


class TestProcesses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True)
        cls.stack.start()
        cls.dom = helpers.unique_domain("pr")
        cls.stack.domain(cls.dom)
        for u in ("pia", "pete", "paul"):
            cls.stack.user(cls.dom, u, PASSWORD)
        time.sleep(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def login(self, port, user, select=True):
        c = Line(port)
        c.ok("l", f"LOGIN {user}@{self.dom} {PASSWORD}")
        if select:
            c.ok("s", "SELECT INBOX")
        return c

    def test_change_in_another_process_reaches_idle(self):
        other = second_worker(self.stack, "imap2")
        other.start()
        try:
            self.stack.deliver(f"pia@{self.dom}", subject="one")
            idler = self.login(self.stack.imap_port, "pia")
            idler.send(b"i IDLE\r\n")
            self.assertEqual(idler.line(), b"+ idling")
            writer = self.login(other.port, "pia")
            t0 = time.monotonic()
            writer.ok("w", "STORE 1 +FLAGS (\\Flagged)")
            line = idler.line()
            delay = time.monotonic() - t0
            self.assertRegex(line, rb"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)\)$")
            print(f"\nIDLE in one process: a STORE in another seen {delay * 1000:.0f} ms later",
                  file=sys.stderr)
            self.assertLess(delay, 1.0)  # the bound
            # an APPEND in the other process: EXISTS here
            t0 = time.monotonic()
            writer.send(b"a APPEND INBOX {25+}\r\nSubject: two\r\n\r\nsecond\r\n\r\n")
            self.assertRegex(idler.line(), rb"^\* 2 EXISTS$")
            self.assertLess(time.monotonic() - t0, 1.0)
            while not writer.line().startswith(b"a OK"):
                pass
            idler.send(b"DONE\r\n")
            rest = [idler.line()]
            while not rest[-1].startswith(b"i "):
                rest.append(idler.line())
            self.assertEqual(rest[-1], b"i OK IDLE terminated")
            idler.close()
            writer.close()
        finally:
            other.stop()

    def test_sigkill_during_appends(self):
        """Every APPEND answered OK is in the mailbox after a SIGKILL and a
        restart, exactly once."""
        acked, lock, stop = [], threading.Lock(), threading.Event()
        port = self.stack.imap_port

        def appender(n):
            i = 0
            try:
                c = self.login(port, "pete", select=False)
            except (OSError, AssertionError):
                return
            while not stop.is_set():
                tag = f"k{n}x{i}"
                body = f"Subject: {tag}\r\nMessage-ID: <{tag}@t>\r\n\r\nload {tag}\r\n".encode()
                try:
                    c.send(f"{tag} APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
                    while True:
                        line = c.line()
                        if line.startswith(tag.encode() + b" OK"):
                            with lock:
                                acked.append(tag)
                            break
                        if line.startswith(tag.encode()):
                            break
                except (OSError, EOFError):
                    return
                i += 1

        threads = [threading.Thread(target=appender, args=(n,)) for n in range(APPENDERS)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        self.stack.imap.stop(signal.SIGKILL, expect_clean=False)
        stop.set()
        for t in threads:
            t.join(timeout=15)
        self.assertGreater(len(acked), 10, "no load got through before the kill")
        self.stack.imap.start()
        c = self.login(self.stack.imap_port, "pete")
        found = {}
        for line in c.ok("f", "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject)])"):
            m = re.search(rb"Subject: (k\d+x\d+)", line)
            if m:
                found[m.group(1).decode()] = found.get(m.group(1).decode(), 0) + 1
        c.close()
        missing = [t for t in acked if t not in found]
        self.assertEqual(missing, [], "acknowledged APPENDs lost")
        self.assertEqual([t for t, n in found.items() if n > 1], [], "APPENDs stored twice")

    def test_sigterm_says_bye(self):
        other = second_worker(self.stack, "imap3")
        other.start()
        idler = self.login(other.port, "paul")
        idler.send(b"i IDLE\r\n")
        self.assertEqual(idler.line(), b"+ idling")
        other.proc.send_signal(signal.SIGTERM)
        self.assertRegex(idler.line(), rb"^\* BYE ")
        self.assertEqual(other.proc.wait(timeout=30), 0)
        other.proc = None
        other.log.close()
        idler.close()

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
    def test_drops_privileges(self):
        nobody = pwd.getpwnam("nobody")
        other = second_worker(self.stack, "imap4")
        with open(other.config_path) as f:
            text = f.read()
        with open(other.config_path, "w") as f:
            f.write(re.sub(r"(?m)^imap\.user\s*=.*$", "imap.user = nobody", text))
        # nobody must read the data directory it serves: here it cannot, so
        # only the process identity is checked (the api owns the files).
        other.start()
        try:
            with open(f"/proc/{other.proc.pid}/status") as f:
                status = f.read()
            uids = re.search(r"(?m)^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status).groups()
            self.assertEqual(set(int(u) for u in uids), {nobody.pw_uid})
            c = Line(other.port)  # still serving
            c.ok("c", "CAPABILITY")
            c.close()
        finally:
            other.stop(expect_clean=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
