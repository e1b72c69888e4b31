"""ownmail-imap against bad input over raw sockets: unknown commands and
commands in the wrong state, bad sequence sets, huge and truncated literals
(synchronizing and not, lib/imap/imap_reader.h's resynchronization rules),
invalid modified UTF-7 names, overlong lines, bad tags, pipelining, NUL and
8-bit garbage, nesting, the error limit. After each nasty input the server
must still serve a fresh connection (and must not have crashed: the
workers run under the sanitizers in CI).

Also home of ImapRaw, the byte-level client test_imap.py uses: it reads
responses line by line with their literals and parses FETCH data."""
import os
import re
import socket
import sys
import time
import unittest
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

LITERAL_AT_END = re.compile(rb"~?\{(\d+)\+?\}\r\n$")


class ImapRaw:
    """An IMAP client at the byte level: sends what it is given, reads
    responses whole (a line and the literals it announces)."""

    def __init__(self, port, tls=False, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.greeting = self.response()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def response(self):
        """One response: a line with its literals inlined (their "{n}\\r\\n"
        kept), CRLF stripped. ConnectionError when the server closed."""
        out = b""
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed by the server after %r" % out)
            out += line
            m = LITERAL_AT_END.search(line)
            if not m:
                return out.rstrip(b"\r\n")
            out += self.f.read(int(m.group(1)))

    def starttls(self):
        """TLS from here on (after the server's OK to STARTTLS)."""
        self.sock = mailharness.client_tls().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def until(self, tag):
        """(untagged responses, tagged line) of the command tagged tag."""
        tag = tag.encode() if isinstance(tag, str) else tag
        untagged = []
        while True:
            r = self.response()
            if r.startswith(tag + b" "):
                return untagged, r
            untagged.append(r)

    def cmd(self, text):
        """Sends "tag text" and returns (untagged, tagged line)."""
        t = self.tag()
        body = text.encode() if isinstance(text, str) else text
        self.send(t.encode() + b" " + body + b"\r\n")
        return self.until(t)

    def ok(self, text):
        untagged, done = self.cmd(text)
        if not re.match(rb"\S+ OK( |$)", done):
            raise AssertionError(f"{text!r}: {done!r}")
        return untagged

    def login(self, user, password):
        self.ok(f'LOGIN "{user}" "{password}"')
        return self

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
        try:
            self.sock.close()
        except OSError:
            pass


def parse(data, i=0):
    """IMAP response data at data[i:] into Python values until the end or a
    ")": atoms as str (a "BODY[...]<n>" label is one atom), quoted strings
    and literals as bytes (literal8 too), NIL as None, lists as lists.
    Returns (values, index)."""
    out = []
    n = len(data)
    while i < n:
        c = data[i:i + 1]
        if c == b" ":
            i += 1
        elif c == b")":
            return out, i + 1
        elif c == b"(":
            sub, i = parse(data, i + 1)
            out.append(sub)
        elif c == b'"':
            s = bytearray()
            i += 1
            while data[i:i + 1] != b'"':
                if data[i:i + 1] == b"\\":
                    i += 1
                s += data[i:i + 1]
                i += 1
            out.append(bytes(s))
            i += 1
        elif c in (b"{", b"~") and re.match(rb"~?\{\d+\+?\}\r\n", data[i:]):
            m = re.match(rb"~?\{(\d+)\+?\}\r\n", data[i:])
            start = i + m.end()
            out.append(data[start:start + int(m.group(1))])
            i = start + int(m.group(1))
        else:
            j = i
            while j < n and data[j:j + 1] not in (b" ", b"(", b")"):
                if data[j:j + 1] == b"[":
                    j = data.index(b"]", j)
                j += 1
            atom = data[i:j].decode()
            out.append(None if atom.upper() == "NIL" else atom)
            i = j
    return out, i


def fetch_items(response):
    """"* n FETCH (...)" into (n, {NAME: value}); names upper-cased."""
    m = re.match(rb"\* (\d+) FETCH \(", response)
    assert m, response
    values, _ = parse(response, m.end())
    items = {}
    for k in range(0, len(values) - 1, 2):
        items[values[k].upper()] = values[k + 1]
    return int(m.group(1)), items


def fetches(untagged):
    """{n: items} of the FETCH responses among untagged ones."""
    return dict(fetch_items(u) for u in untagged if re.match(rb"\* \d+ FETCH ", u))


PASSWORD = "imap-password-1"


def imap_metrics(stack):
    """The IMAP worker's /metrics as {name: value}."""
    url = f"http://127.0.0.1:{stack.imap_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    return {ln.rsplit(" ", 1)[0]: float(ln.rsplit(" ", 1)[1])
            for ln in text.splitlines() if ln and not ln.startswith("#")}


def caps(line):
    """The capabilities of a greeting, a tagged OK or "* CAPABILITY"."""
    m = re.search(rb"\[CAPABILITY ([^\]]*)\]", line) or re.match(rb"\* CAPABILITY (.*)", line)
    return m.group(1).decode().split()


def quiet_logout(c):
    try:
        c.logout()
    except Exception:  # noqa: BLE001
        pass


class ImapCase(unittest.TestCase):
    """One mail stack with IMAP per class; users (local parts of one
    domain) share PASSWORD."""
    imap_config = None
    users = ()

    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True, imap_config=cls.imap_config)
        cls.stack.start()
        cls.dom = helpers.unique_domain("im")
        cls.stack.domain(cls.dom)
        for local in cls.users:
            cls.stack.user(cls.dom, local, PASSWORD)
        time.sleep(1.0)  # the change feed reaches the workers

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def addr(self, local):
        return f"{local}@{self.dom}"

    def raw(self, local=None, tls=False, select=None):
        r = ImapRaw(self.stack.imaps_port if tls else self.stack.imap_port, tls=tls)
        self.addCleanup(r.close)
        if local is not None:
            r.login(self.addr(local), PASSWORD)
        if select is not None:
            r.ok(f"SELECT {select}")
        return r

    def imap(self, local=None, tls=False):
        c = self.stack.imap_connect(tls)
        self.addCleanup(quiet_logout, c)
        if local is not None:
            c.login(self.addr(local), PASSWORD)
        return c

    def assertStatus(self, done, status, code=None):
        self.assertRegex(done, rb"^\S+ " + status.encode() + rb" ", done)
        if code is not None:
            self.assertIn(b"[" + code.encode(), done)

    def cmd_status(self, r, text, status, code=None):
        """Sends text on r; its tagged response must be status [code]."""
        _, done = r.cmd(text)
        self.assertStatus(done, status, code)
        return done

    def wait_spool(self, local, n=1, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.stack.spool_files(self.addr(local))) < n:
            time.sleep(0.05)


class BadCase(ImapCase):
    users = ("nina",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.password = f"nina@{cls.dom}", PASSWORD
        cls.stack.deliver(cls.user, subject="one")
        cls.stack.deliver(cls.user, subject="two")

    def raw(self, login=False, selected=False):
        return super().raw("nina" if login or selected else None,
                           select="INBOX" if selected else None)

    def assert_alive(self):
        """The worker still runs and serves a fresh session."""
        self.assertIsNone(self.stack.imap.proc.poll(), self.stack.imap.log_tail())
        r = self.raw(login=True)
        self.assertIn(b"2 EXISTS", b"\n".join(r.ok("EXAMINE INBOX")))
        r.ok("LOGOUT")

    def assert_each_bad(self, texts, login=False, selected=False):
        """Each command gets a tagged BAD. A session ends after
        imap.errors_max (20) of them: a new one every 15."""
        r = None
        for i, text in enumerate(texts):
            if i % 15 == 0:
                r = self.raw(login, selected)
            untagged, done = r.cmd(text)
            self.assertStatus(done, "BAD")
        r.ok("NOOP")
        return r

class TestCommandsAndStates(BadCase):
    def test_unknown_commands(self):
        r = self.raw()
        for text in ("FOO", "XYZZY 1 2 3", "UID FOO 1", "UID SELECT INBOX", "UID LOGIN a b",
                     "UID"):
            _, done = r.cmd(text)
            self.assertStatus(done, "BAD")
        r.login(self.user, self.password)
        _, done = r.cmd("FETCHX 1 FLAGS")
        self.assertStatus(done, "BAD")
        r.ok("NOOP")
        self.assert_alive()

    def test_wrong_state(self):
        r = self.raw()
        for text in ("SELECT INBOX", "EXAMINE INBOX", "FETCH 1 FLAGS", "UID FETCH 1 FLAGS",
                     "ENABLE CONDSTORE", "UNSELECT", "CLOSE", "IDLE", "CHECK"):
            untagged, done = r.cmd(text)
            self.assertStatus(done, "BAD")
            self.assertEqual(untagged, [], text)
        r.login(self.user, self.password)
        for text in ("FETCH 1 FLAGS", "UID FETCH 1:* UID", "UNSELECT", "CLOSE", "CHECK",
                     f'LOGIN "{self.user}" "{self.password}"', "AUTHENTICATE PLAIN", "STARTTLS"):
            untagged, done = r.cmd(text)
            self.assertStatus(done, "BAD")
        r.ok("SELECT INBOX")
        for text in ("ENABLE CONDSTORE", f'LOGIN "{self.user}" "{self.password}"'):
            _, done = r.cmd(text)
            self.assertStatus(done, "BAD")
        # a failed SELECT leaves no mailbox selected (RFC 9051 6.3.2)
        _, done = r.cmd("SELECT nonexistent-box")
        self.assertStatus(done, "NO", "NONEXISTENT")
        _, done = r.cmd("FETCH 1 FLAGS")
        self.assertStatus(done, "BAD")
        self.assert_alive()

    def test_bad_arguments(self):
        self.assert_each_bad((
                     "NOOP x", "UNSELECT x", "SELECT",
                     "SELECT INBOX (FOO)", "SELECT INBOX CONDSTORE", "SELECT (INBOX)",
                     "SELECT INBOX (QRESYNC (1 1))", "FETCH", "FETCH 1", "FETCH 1 FOO",
                     "FETCH 1 ()", "FETCH 1 (FLAGS", "FETCH 1 FLAGS)", "FETCH 1 BODY[TEXT",
                     "FETCH 1 BODY[0]", "FETCH 1 BODY[1.0]", "FETCH 1 BODY[]<0.0>",
                     "FETCH 1 BODY[]<1.>", "FETCH 1 BODY[HEADER.FIELDS ()]",
                     "FETCH 1 BODY[HEADER.FIELDS]", "FETCH 1 BINARY[HEADER]",
                     "FETCH 1 BINARY[1.MIME]", "FETCH 1 (FLAGS) (VANISHED)",
                     "FETCH 1 (FLAGS) (CHANGEDSINCE)", "FETCH 1 (FLAGS) (CHANGEDSINCE x)",
                     "FETCH 1 (FLAGS) (FOO 1)", "UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)",
                     "FETCH 1 (ALL)", "FETCH 1 (FLAGS FAST)", "ID", "ID (\"name\")", "ID x",
                     "ENABLE", "IDLE now"), selected=True)
        self.assert_alive()

    def test_id_limits(self):
        """RFC 2971 3.3: 30 pairs, fields of 30 octets, values of 1024."""
        r = self.raw()
        pair = '"k" "v" '
        r.ok(f"ID ({pair * 30})")
        r.ok('ID ("k" NIL)')
        for text in (f"ID ({pair * 31})", f'ID ("{"k" * 31}" "v")', f'ID ("k" "{"v" * 1025}")',
                     'ID (NIL "v")', 'ID ("k" "v" "k2")'):
            self.cmd_status(r, text, "BAD")
        self.assert_alive()

    def test_literal_inside_section_refused(self):
        r = self.raw(selected=True)
        r.send(b"s1 FETCH 1 BODY.PEEK[HEADER.FIELDS {7}\r\n")
        first = r.response()
        if first.startswith(b"+"):  # it asked for the literal: send it
            r.send(b"Subject)]\r\n")
            first = r.response()
        self.assertRegex(first, rb"^s1 BAD ")
        r.ok("NOOP")
        self.assert_alive()


class TestSequenceSets(BadCase):
    def test_bad_sets(self):
        sets = ("0", "1:", ":1", "a", "1,,2", "1,", ",1", "1:0", "0:*", "*:0", "1:a", "-1",
                "1.5", "4294967296", "1:4294967296", "99999999999999999999", "3", "1:3", "2,3",
                "3:*", "$x")
        self.assert_each_bad([f"FETCH {s} FLAGS" for s in sets], selected=True)
        r = self.raw(selected=True)
        # UIDs that do not exist are no error (RFC 9051 6.4.8)
        untagged, done = r.cmd("UID FETCH 50:60 FLAGS")
        self.assertStatus(done, "OK")
        self.assertEqual(untagged, [])
        # ...but a UID set must still parse
        for s in ("0", "1:", "x", "4294967296"):
            _, done = r.cmd(f"UID FETCH {s} FLAGS")
            self.assertStatus(done, "BAD")
        # "*" in an empty mailbox is a number over EXISTS (RFC 9051 9)
        box = helpers.unique("empty")
        r.ok(f"CREATE {box}")
        r.ok(f"SELECT {box}")
        _, done = r.cmd("FETCH * FLAGS")
        self.assertStatus(done, "BAD")
        _, done = r.cmd("FETCH 1:* FLAGS")
        self.assertStatus(done, "BAD")
        untagged, done = r.cmd("UID FETCH 1:* FLAGS")
        self.assertStatus(done, "OK")
        self.assertEqual(untagged, [])
        self.assert_alive()

    def test_good_odd_sets(self):
        r = self.raw(selected=True)
        for s, want in (("2:1", {1, 2}), ("*", {2}), ("*:1", {1, 2}), ("1,1,1", {1}),
                        ("2,1:2", {1, 2}), ("1:*", {1, 2})):
            untagged, done = r.cmd(f"FETCH {s} UID")
            self.assertStatus(done, "OK")
            self.assertEqual(set(fetches(untagged)), want, s)
        # UID n:* with n over the last UID is the last message (RFC 9051 6.4.9)
        untagged, _ = r.cmd("UID FETCH 1000:* UID")
        self.assertEqual(set(fetches(untagged)), {2})


class TestLiterals(BadCase):
    def test_huge_synchronizing_literal_refused_without_continuation(self):
        r = self.raw()
        r.send(b"l1 LOGIN {999999999}\r\n")
        done = r.response()
        self.assertFalse(done.startswith(b"+"), done)
        self.assertRegex(done, rb"^l1 (BAD|NO) ")
        # the client sends nothing of the literal: the session goes on
        r.ok("NOOP")
        r.login(self.user, self.password)
        self.assert_alive()

    def test_synchronizing_literal_over_the_limit_after_login(self):
        r = self.raw(login=True)
        r.send(b"l1 SELECT {100000}\r\n")
        done = r.response()
        self.assertFalse(done.startswith(b"+"), done)
        self.assertRegex(done, rb"^l1 (BAD|NO) \[TOOBIG\]")
        r.ok("NOOP")

    def test_non_synchronizing_literal_over_the_limit_is_skipped(self):
        r = self.raw()
        # over IMAP_LITERAL_MAX (64 KiB), under the skip limit: BAD [TOOBIG]
        # at once, the octets and the rest of the command are skipped
        r.send(b"l1 LOGIN {100000+}\r\n" + b"x" * 100000 + b" password\r\nl2 NOOP\r\n")
        _, done = r.until("l1")
        self.assertRegex(done, rb"^l1 BAD \[TOOBIG\]")
        _, done = r.until("l2")
        self.assertRegex(done, rb"^l2 OK ")
        r.login(self.user, self.password)
        self.assert_alive()

    def test_non_synchronizing_literal_beyond_skipping_ends_the_session(self):
        r = self.raw()
        r.send(b"l1 LOGIN {999999999+}\r\nxxxx\r\nl2 NOOP\r\n")
        first = r.response()
        self.assertRegex(first, rb"^(\* BYE|l1 BAD)")
        self.assertTrue(r.closed(), "the session should end")
        self.assert_alive()

    def test_literal_sizes_that_do_not_parse(self):
        r = self.raw()
        for bad in (b"{abc}", b"{12", b"{-1}", b"{1 }", b"{}"):
            r.send(b"l1 LOGIN " + bad + b"\r\n")
            done = r.response()
            self.assertRegex(done, rb"^l1 BAD ", bad)
        r.ok("NOOP")
        r2 = self.raw()
        r2.send(b"l1 LOGIN {99999999999999999999999+}\r\nabc\r\n")
        self.assertRegex(r2.response(), rb"^(\* BYE|l1 BAD)")
        self.assert_alive()

    def test_literals_in_pieces(self):
        r = self.raw()
        r.send(b"l1 LOGIN {%d}\r\n" % len(self.user))
        self.assertTrue(r.response().startswith(b"+"))
        for ch in self.user.encode():  # one octet per write
            r.send(bytes([ch]))
        r.send(b" {%d+}\r\n%s\r\n" % (len(self.password), self.password.encode()))
        _, done = r.until("l1")
        self.assertRegex(done, rb"^l1 OK ")

    def test_truncated_literal_then_close(self):
        for data in (b"l1 LOGIN {10}\r\n", b"l1 LOGIN {100+}\r\nabc",
                     b"l1 LOGIN {5+}\r\nab", b"l1 ID (\"a\" {50+}\r\n0123"):
            r = self.raw()
            r.send(data)
            time.sleep(0.1)
            r.close()
        r = self.raw(selected=True)
        r.send(b"l1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject {40+}\r\nxx")
        time.sleep(0.1)
        r.close()
        time.sleep(0.2)
        self.assert_alive()

    def test_nul_in_literal_refused(self):
        r = self.raw()
        r.send(b"l1 LOGIN {3+}\r\na\x00b pw\r\n")
        _, done = r.until("l1")
        self.assertRegex(done, rb"^l1 BAD ")
        r.ok("NOOP")


class TestNames(BadCase):
    def test_invalid_modified_utf7(self):
        r = self.raw(login=True)
        for name in ("&", '"&Jjo"', "&AGE-", "&Jjo!", "&U,BTFw-&ZeVnLIqe-x&", '"a&b"',
                     "&AAA-", "&2D0-"):
            _, done = r.cmd(f"SELECT {name}")
            self.assertStatus(done, "BAD")
        # 8-bit in a name without UTF8=ACCEPT / IMAP4rev2
        _, done = r.cmd(b'SELECT "caf\xc3\xa9"')
        self.assertStatus(done, "BAD")
        # valid names that do not exist are NO, not BAD
        for name in ("&AOk-t&AOk-", "&-", "&ZeVnLIqe-"):
            _, done = r.cmd(f"SELECT {name}")
            self.assertStatus(done, "NO", "NONEXISTENT")
        r.ok("ENABLE UTF8=ACCEPT")
        _, done = r.cmd(b'SELECT "\xff\xfe"')
        self.assertStatus(done, "BAD")
        _, done = r.cmd(b'SELECT "caf\xc3\xa9"')
        self.assertStatus(done, "NO", "NONEXISTENT")
        _, done = r.cmd(b'SELECT "a\x00b"')
        self.assertStatus(done, "BAD")
        self.assert_alive()


class TestLinesAndTags(BadCase):
    def test_overlong_lines(self):
        r = self.raw(login=True)
        for size in (8200, 100000, 1000000):
            _, done = r.cmd(b"NOOP " + b"x" * size)
            self.assertStatus(done, "BAD", "TOOBIG")
            r.ok("NOOP")  # the session goes on
        # a long line that ends in a synchronizing literal: refused, no "+"
        r.send(b"o1 LOGIN " + b"y" * 9000 + b" {5}\r\n")
        done = r.response()
        self.assertRegex(done, rb"^o1 BAD \[TOOBIG\]")
        r.ok("NOOP")
        # ...in a non-synchronizing one: its octets are skipped
        r.send(b"o2 LOGIN " + b"y" * 9000 + b" {5+}\r\nNOOP!\r\no3 NOOP\r\n")
        _, done = r.until("o2")
        self.assertRegex(done, rb"^o2 BAD \[TOOBIG\]")
        _, done = r.until("o3")
        self.assertRegex(done, rb"^o3 OK ")
        self.assert_alive()

    def test_tags(self):
        r = self.raw()
        for tag in (b"a(1", b"a)1", b"a{1", b"a*1", b"a%1", b'a"1', b"a\\1", b"+", b"+a",
                    b"a\x01b", b"a\x7fb", b"\xc3\xa9", b"x" * 65, b"a+"):
            r.send(tag + b" NOOP\r\n")
            resp = r.response()
            self.assertRegex(resp, rb"^\* BAD ", tag)
        # valid odd tags are echoed as they are
        for tag in (b"a]1", b"A.b-c_d", b"x" * 64, b"1"):
            r.send(tag + b" NOOP\r\n")
            self.assertEqual(r.response(), tag + b" OK NOOP completed")
        self.assert_alive()

    def test_pipelined_commands_answered_in_order(self):
        r = self.raw()
        batch = [f'p1 LOGIN "{self.user}" "{self.password}"', "p2 BOGUS", "p3 SELECT INBOX",
                 "p4 FETCH 1:* (UID FLAGS)", "p5 FETCH 9 FLAGS", "p6 NOOP", "p7 UID FETCH 2 UID",
                 "p8 UNSELECT", "p9 FETCH 1 FLAGS", "p10 CAPABILITY", "p11 LOGOUT"]
        r.send("".join(c + "\r\n" for c in batch).encode())
        tagged = []
        while True:
            try:
                resp = r.response()
            except ConnectionError:
                break
            if not resp.startswith(b"*"):
                tagged.append(resp.split(b" ")[:2])
        self.assertEqual(tagged, [[b"p1", b"OK"], [b"p2", b"BAD"], [b"p3", b"OK"], [b"p4", b"OK"],
                                  [b"p5", b"BAD"], [b"p6", b"OK"], [b"p7", b"OK"], [b"p8", b"OK"],
                                  [b"p9", b"BAD"], [b"p10", b"OK"], [b"p11", b"OK"]])

    def test_line_endings_and_spacing(self):
        r = self.raw()
        r.send(b"e1 NOOP\n")  # a bare LF ends a line
        self.assertEqual(r.response(), b"e1 OK NOOP completed")
        r.send(b"\r\n\r\ne2 NOOP\r\n")  # empty lines between commands
        self.assertEqual(r.response(), b"e2 OK NOOP completed")
        r.send(b"e3  NOOP \r\n")
        self.assertEqual(r.response(), b"e3 OK NOOP completed")
        r.send(b"e4 noop\r\n")  # command names are case-insensitive
        self.assertEqual(r.response(), b"e4 OK NOOP completed")

    def test_garbage(self):
        r = self.raw()
        for junk in (b"g1 NO\x00OP", b"g\x002 NOOP", b"g3 \xc3\xa9NOOP", b"g4 NOOP\xff",
                     b'g5 ID ("name" "x\x00y")', b'g6 ID ("name" "x\xffy")', b"g7 \x00",
                     b"\x00\x00\x00", b"\xff\xfe\xfd NOOP"):
            r.send(junk + b"\r\n")
            resp = r.response()
            self.assertRegex(resp, rb"^(g\d|\*) BAD ", junk)
        r.ok("NOOP")
        self.assert_alive()

    def test_binary_junk_stream(self):
        junk = bytes((i * 37 + 11) % 256 for i in range(20000))
        r = self.raw()
        r.send(junk + b"\r\n")
        time.sleep(0.3)
        r.close()
        self.assert_alive()

    def test_nesting_limit(self):
        r = self.raw()
        _, done = r.cmd(b"ID " + b"(" * 100 + b")" * 100)
        self.assertStatus(done, "BAD")
        _, done = r.cmd(b"ID " + b"(" * 5000)
        self.assertStatus(done, "BAD")
        r.ok("NOOP")
        self.assert_alive()

    def test_too_many_errors_end_the_session(self):
        r = self.raw()
        for i in range(19):  # imap.errors_max defaults to 20
            _, done = r.cmd("BOGUS")
            self.assertStatus(done, "BAD")
        _, done = r.cmd("BOGUS")
        self.assertStatus(done, "BAD")
        self.assertRegex(r.response(), rb"^\* BYE ")
        self.assertTrue(r.closed())
        self.assert_alive()


class TestLineModes(BadCase):
    """The lines outside commands: AUTHENTICATE responses and IDLE's DONE."""

    def test_sasl_line_too_long(self):
        r = self.raw()
        r.send(b"s1 AUTHENTICATE PLAIN\r\n")
        self.assertTrue(r.response().startswith(b"+"))
        r.send(b"Q" * 9000 + b"\r\ns2 NOOP\r\n")
        _, done = r.until("s1")
        self.assertRegex(done, rb"^s1 BAD \[TOOBIG\]")
        _, done = r.until("s2")
        self.assertRegex(done, rb"^s2 OK ")

    def test_sasl_garbage(self):
        r = self.raw()
        for line in (b"!!!", b"\x00\xff", b"=", b"QUJD", b""):
            r.send(b"s1 AUTHENTICATE PLAIN\r\n")
            self.assertTrue(r.response().startswith(b"+"))
            r.send(line + b"\r\n")
            _, done = r.until("s1")
            self.assertRegex(done, rb"^s1 (BAD|NO) ", line)
        r.login(self.user, self.password)

    def test_idle_line_too_long(self):
        r = self.raw(selected=True)
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.response().startswith(b"+"))
        r.send(b"D" * 100 + b"\r\ni2 NOOP\r\n")
        _, done = r.until("i1")
        self.assertRegex(done, rb"^i1 BAD \[TOOBIG\]")
        _, done = r.until("i2")
        self.assertRegex(done, rb"^i2 OK ")
        r.ok("LOGOUT")
        r.close()
        # the IDLE gauge came back down: nobody idles now
        deadline = time.time() + 3
        while time.time() < deadline and imap_metrics(self.stack).get("imap_sessions_idle") != 0:
            time.sleep(0.1)
        self.assertEqual(imap_metrics(self.stack).get("imap_sessions_idle"), 0)


class TestTransport(BadCase):
    """Garbage below the protocol: TLS and COMPRESS streams."""

    def test_deflate_bomb(self):
        """200 MiB of one line in 200 KiB of deflate: refused as a long
        line, the session goes on (lib/net inflates in bounded steps)."""
        r = self.raw(login=True)
        r.ok("COMPRESS DEFLATE")
        comp, dec = zlib.compressobj(9, wbits=-15), zlib.decompressobj(wbits=-15)
        data = comp.compress(b"d1 NOOP ")
        chunk = b"x" * (1 << 20)
        for _ in range(200):
            data += comp.compress(chunk)
        r.sock.sendall(data + comp.compress(b"\r\nd2 NOOP\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
        r.sock.settimeout(60)
        out = b""
        while b"d2 " not in out:
            got = r.sock.recv(65536)
            self.assertTrue(got, out)
            out += dec.decompress(got)
        self.assertIn(b"d1 BAD [TOOBIG]", out)
        self.assertIn(b"d2 OK", out)
        self.assert_alive()

    def test_invalid_deflate_stream(self):
        r = self.raw(login=True)
        r.ok("COMPRESS DEFLATE")
        r.send(bytes((i * 73 + 5) % 256 for i in range(4000)))
        self.assertTrue(r.closed())
        self.assert_alive()

    def test_tls_garbage(self):
        r = self.raw()
        r.send(b"s1 STARTTLS\r\n")
        self.assertRegex(r.response(), rb"^s1 OK ")
        r.send(b"this is no TLS handshake\r\n" * 20)
        self.assertTrue(r.closed())
        plain = socket.create_connection(("127.0.0.1", self.stack.imaps_port), timeout=10)
        self.addCleanup(plain.close)
        plain.sendall(b"p1 LOGIN a b\r\n" * 20)  # clear text on the TLS port
        plain.settimeout(10)
        try:
            self.assertNotIn(b"OK", plain.recv(100))
        except (ConnectionError, socket.timeout):
            pass
        self.assert_alive()


class TestLimits(ImapCase):
    imap_config = {"imap.connections_per_ip": "3", "imap.sessions_per_user": "2"}
    users = ("lena",)

    def conn(self, local=None):
        """A session, once the server has seen earlier ones close."""
        deadline = time.time() + 5
        while True:
            r = self.raw()
            if r.greeting.startswith(b"* OK ") or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertRegex(r.greeting, rb"^\* OK ")
        if local is not None:
            r.login(self.addr(local), PASSWORD)
        return r

    def test_connections_per_ip(self):
        held = [self.conn() for _ in range(3)]
        extra = self.raw()
        self.assertRegex(extra.greeting, rb"^\* BYE \[UNAVAILABLE\]")
        self.assertTrue(extra.closed())
        held.pop().ok("LOGOUT")
        self.conn()  # the slot comes back

    def test_sessions_per_user(self):
        a, b, c = self.conn("lena"), self.conn("lena"), self.conn()
        self.cmd_status(c, f'LOGIN "{self.addr("lena")}" "{PASSWORD}"', "NO", "LIMIT")
        b.ok("LOGOUT")
        deadline = time.time() + 5
        while True:
            _, done = c.cmd(f'LOGIN "{self.addr("lena")}" "{PASSWORD}"')
            if b" OK " in done or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertStatus(done, "OK")
        a.ok("NOOP")


if __name__ == "__main__":
    unittest.main(verbosity=2)
