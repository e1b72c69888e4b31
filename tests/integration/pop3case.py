"""Shared by the POP3 tests (test_pop3.py, test_pop3_more.py,
test_pop3_clients.py): Pop3Raw, a client for exact octets; Pop3Case, one
stack (Redis, api, smtp, imap, pop3) per class with its users; helpers to
dot-stuff, take a TOP, and read a mailbox over IMAP."""
import os
import poplib
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

PASSWORD = "pop3-password-1"
SPACED_PASSWORD = "correct horse  battery staple"
LONG_PASSWORD = "long-" + "x" * 250
LOCK_WAIT = 5  # seconds a dropped session may keep the maildrop locked

# lines starting with "." (stuffed by smtplib, unstuffed by ownmail-smtp,
# stuffed again by ownmail-pop3), a lone "." inside and as the last line
DOTTED_BODY = (".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n. dot space\r\n"
               "plain line\r\n...\r\nnot.a.dot.line\r\n.\r\n")


class Pop3Raw:
    """A POP3 client at the byte level: sends what it is given, reads
    status lines and multi-line data as raw octets."""

    def __init__(self, port, tls=False, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        """One line without its CRLF (which must be there); ConnectionError
        when the server closed."""
        raw = self.f.readline()
        if not raw:
            raise ConnectionError("closed by the server")
        assert raw.endswith(b"\r\n"), raw
        return raw[:-2]

    def cmd(self, text):
        """Sends one command line; its status line."""
        self.send((text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.line()

    def data(self):
        """Multi-line data as sent, without the terminating ".\\r\\n"."""
        out = []
        while True:
            raw = self.f.readline()
            if not raw:
                raise ConnectionError("closed inside multi-line data after %r" % out[-3:])
            assert raw.endswith(b"\r\n"), raw[-200:]
            if raw == b".\r\n":
                return b"".join(out)
            out.append(raw)

    def multi(self, text):
        """(status line, raw data or None after -ERR)."""
        status = self.cmd(text)
        return status, (self.data() if status.startswith(b"+OK") else None)

    def ok(self, text):
        status = self.cmd(text)
        if not status.startswith(b"+OK"):
            raise AssertionError(f"{text!r}: {status!r}")
        return status

    def login(self, user, password):
        self.ok(f"USER {user}")
        self.ok(f"PASS {password}")
        return self

    def starttls(self):
        self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def closed(self, timeout=5):
        """Whether the server closed the connection (reading what is left)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.f.readline():
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True

    def close(self):
        """Closes the connection now (the reader holds the socket open until
        it is closed too)."""
        for x in (self.f, self.sock):
            try:
                x.close()
            except OSError:
                pass


def stuff(raw):
    """raw (CRLF lines) as POP3 sends it: a "." before each line that
    starts with one (RFC 1939 3)."""
    lines = raw.split(b"\r\n")
    return b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in lines)


def unstuff(data):
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in data.split(b"\r\n"))


def top_of(raw, n):
    """The header, the blank line and the first n body lines of raw."""
    end = raw.index(b"\r\n\r\n") + 4
    body = raw[end:].splitlines(keepends=True)
    return raw[:end] + b"".join(body[:n])


def capa(lines):
    """CAPA data into {NAME: [args]}."""
    out = {}
    for ln in lines.decode().split("\r\n"):
        if ln:
            words = ln.split()
            out[words[0].upper()] = words[1:]
    return out


def subject_of(raw):
    m = re.search(rb"(?mi)^Subject: ([^\r\n]*)", raw)
    return m.group(1).decode() if m else None


def imap_inbox(c, mailbox="INBOX"):
    """(UIDVALIDITY, [(uid, size, flags, raw)] in UID order) of a mailbox,
    over imaplib, without setting \\Seen."""
    typ, _ = c.select(mailbox, readonly=True)
    assert typ == "OK", mailbox
    uidvalidity = int(c.response("UIDVALIDITY")[1][0])
    typ, data = c.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue
        meta = item[0] + (data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes)
                          else b"")
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        size = int(re.search(rb"RFC822\.SIZE (\d+)", meta).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split())
        out.append((uid, size, flags, item[1]))
    c.close()
    return uidvalidity, sorted(out)


def quiet_close(c):
    """Drops a poplib or Pop3Raw connection without QUIT (no UPDATE)."""
    try:
        c.close()
    except Exception:  # noqa: BLE001
        pass


class Pop3Case(unittest.TestCase):
    """One mail stack with IMAP and POP3 per class; users (local parts of
    one domain) have PASSWORD unless passwords says otherwise."""
    pop3_config = None
    users = ()
    passwords = {}  # users whose password is not PASSWORD

    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True, pop3=True, pop3_config=cls.pop3_config)
        try:
            cls.stack.start()
            cls.dom = helpers.unique_domain("po")
            cls.stack.domain(cls.dom)
            for local in cls.users:
                cls.stack.user(cls.dom, local, cls.passwords.get(local, PASSWORD))
        except BaseException:
            cls.stack.close()
            raise
        time.sleep(1.0)  # the change feed reaches the workers

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def addr(self, local):
        return f"{local}@{self.dom}"

    def raw(self, local=None, tls=False):
        """A Pop3Raw, logged in as local if given: once the maildrop is free
        (a session an earlier test dropped holds it until the server has
        seen the close)."""
        deadline = time.time() + LOCK_WAIT
        while True:
            r = Pop3Raw(self.stack.pop3s_port if tls else self.stack.pop3_port, tls=tls)
            self.addCleanup(r.close)
            if local is None:
                return r
            r.ok(f"USER {self.addr(local)}")
            status = r.cmd(f"PASS {PASSWORD}")
            if status.startswith(b"+OK"):
                return r
            self.assertIn(b"[IN-USE]", status)
            r.close()
            self.assertLess(time.time(), deadline, "the maildrop stayed locked")
            time.sleep(0.1)

    def pop(self, local=None, tls=False):
        """A poplib client, logged in as local if given (as raw())."""
        deadline = time.time() + LOCK_WAIT
        while True:
            c = self.stack.pop3_connect(tls)
            self.addCleanup(quiet_close, c)
            if local is None:
                return c
            c.user(self.addr(local))
            try:
                c.pass_(PASSWORD)
                return c
            except poplib.error_proto as e:
                self.assertIn(b"[IN-USE]", e.args[0])
                quiet_close(c)
                self.assertLess(time.time(), deadline, "the maildrop stayed locked")
                time.sleep(0.1)

    def imap(self, local):
        c = self.stack.imap_login(self.addr(local), PASSWORD)
        self.addCleanup(self.imap_logout, c)
        return c

    @staticmethod
    def imap_logout(c):
        try:
            c.logout()
        except Exception:  # noqa: BLE001
            pass

    def deliver(self, local, subjects, body=None, extra=None):
        """One message per subject through SMTP (acknowledged = spooled);
        body maps a subject to its body, extra to extra header lines."""
        for s in subjects:
            self.stack.deliver(self.addr(local), subject=s,
                               body=(body or {}).get(s, f"Body of {s}.\r\n"),
                               extra_headers=(extra or {}).get(s, ""))

    def assertStatus(self, line, status, code=None):
        self.assertTrue(line.startswith(status.encode()), line)
        if code is not None:
            self.assertIn(b"[" + code.encode() + b"]", line)

    def assertErr(self, r, text, code=None):
        """text gets -ERR [code] and the session goes on."""
        line = r.cmd(text)
        self.assertStatus(line, "-ERR", code)
        return line

    def assertAlive(self):
        self.assertIsNone(self.stack.pop3.proc.poll(), self.stack.pop3.log_tail())

    def stat(self, r):
        m = re.match(rb"^\+OK (\d+) (\d+)$", r.ok("STAT"))
        self.assertTrue(m)
        return int(m.group(1)), int(m.group(2))

    def listing(self, r, command="LIST"):
        """LIST or UIDL as {n: value}."""
        status, data = r.multi(command)
        self.assertStatus(status, "+OK")
        out = {}
        for ln in data.split(b"\r\n")[:-1]:
            n, value = ln.split(b" ")
            out[int(n)] = value.decode()
        return out


# ---------------------------------------------------------------- the session
