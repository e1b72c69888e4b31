"""ownmail-imap over real sockets: STORE (FLAGS, +FLAGS, -FLAGS, .SILENT,
UNCHANGEDSINCE / MODIFIED), COPY and MOVE with COPYUID, EXPUNGE and UID
EXPUNGE numbering (and VANISHED with QRESYNC), APPEND with flags and date,
MULTIAPPEND all or nothing, BINARY APPEND, APPENDUID, TRYCREATE, APPENDLIMIT,
read-only refusals, what a second session sees, bad input.
Clients: Python's imaplib and a raw socket client for exact responses."""
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

LIMIT = 1048576  # imap.message_max in mailharness


def message(subject="hello", body="Hello there.\r\n", nl="\r\n"):
    text = (f"From: a@outside.test\r\nTo: b@inside.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{helpers.unique('m')}@test>\r\n\r\n{body}")
    return text.replace("\r\n", nl).encode()


class Raw:
    """A line-level IMAP client: every untagged line of a command, exactly."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()
        self.n = 0

    def line(self):
        data = self.f.readline()
        if not data:
            raise ConnectionError("closed")
        return data.decode(errors="replace").rstrip("\r\n")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def tag(self):
        self.n += 1
        return f"r{self.n}"

    def read_until(self, tag):
        """(untagged lines, the tagged line); a literal in a line is read too."""
        lines = []
        while True:
            ln = self.line()
            m = re.search(r"\{(\d+)\}$", ln)
            if m:
                ln += self.f.read(int(m.group(1))).decode(errors="replace") + self.line()
            if ln.startswith(tag + " "):
                return lines, ln
            lines.append(ln)

    def cmd(self, text):
        t = self.tag()
        self.send(f"{t} {text}\r\n")
        return self.read_until(t)

    def login(self, user, password):
        _, done = self.cmd(f'LOGIN "{user}" "{password}"')
        assert " OK " in done, done

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class ImapMessagesCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True)
        cls.stack.start()
        cls.dom = helpers.unique_domain("im")
        cls.stack.domain(cls.dom)
        cls.user = f"mia@{cls.dom}"
        cls.password = "mia-password-1"
        cls.stack.user(cls.dom, "mia", cls.password)
        cls.quser = f"quinn@{cls.dom}"
        cls.stack.user(cls.dom, "quinn", cls.password, quota=5000)
        time.sleep(1.0)  # the change feed reaches the workers

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def raw(self, user=None):
        r = Raw(self.stack.imap_port)
        r.login(user or self.user, self.password)
        self.addCleanup(r.close)
        return r

    def imap(self):
        c = self.stack.imap_login(self.user, self.password)
        self.addCleanup(self._logout, c)
        return c

    @staticmethod
    def _logout(c):
        try:
            c.logout()
        except Exception:  # noqa: BLE001
            pass

    def box(self, n=0, flags=None):
        """A new mailbox holding n messages: its name."""
        name = helpers.unique("box")
        c = self.imap()
        self.assertEqual(c.create(name)[0], "OK")
        for i in range(n):
            typ, _ = c.append(name, flags, None, message(f"m{i + 1}"))
            self.assertEqual(typ, "OK")
        return name

    def selected(self, n, flags=None):
        name = self.box(n, flags)
        r = self.raw()
        _, done = r.cmd(f"SELECT {name}")
        self.assertIn("OK [READ-WRITE]", done)
        return name, r

    def uids(self, r):
        lines, done = r.cmd("FETCH 1:* (UID)")
        return [int(re.search(r"UID (\d+)", ln).group(1)) for ln in lines if " FETCH " in ln]

    def flags(self, r, seq="1:*"):
        lines, done = r.cmd(f"FETCH {seq} (FLAGS)")
        self.assertIn("OK", done)
        return {int(ln.split()[1]): re.search(r"FLAGS \(([^)]*)\)", ln).group(1)
                for ln in lines if " FETCH " in ln}


class TestStore(ImapMessagesCase):
    def test_store_forms(self):
        _, r = self.selected(3)
        lines, done = r.cmd("STORE 1 +FLAGS (\\Seen)")
        self.assertIn("OK", done)
        self.assertEqual(lines, ["* 1 FETCH (FLAGS (\\Seen))"])
        lines, done = r.cmd("STORE 2 FLAGS (\\Flagged $Label)")
        self.assertEqual(lines, ["* 2 FETCH (FLAGS (\\Flagged $Label))"])
        lines, done = r.cmd("STORE 2 -FLAGS $label")  # keywords compare without case
        self.assertEqual(lines, ["* 2 FETCH (FLAGS (\\Flagged))"])
        lines, done = r.cmd("STORE 1:3 +FLAGS.SILENT (\\Answered)")
        self.assertEqual(lines, [])
        self.assertIn("OK", done)
        self.assertEqual(self.flags(r), {1: "\\Seen \\Answered", 2: "\\Answered \\Flagged",
                                         3: "\\Answered"})
        lines, done = r.cmd("STORE 1 +FLAGS (\\Seen)")  # no change: no FETCH
        self.assertEqual(lines, [])
        uids = self.uids(r)
        lines, done = r.cmd(f"UID STORE {uids[2]} FLAGS (\\Draft)")
        self.assertEqual(lines, [f"* 3 FETCH (FLAGS (\\Draft) UID {uids[2]})"])
        lines, done = r.cmd("UID STORE 4000000 +FLAGS (\\Seen)")  # none: OK
        self.assertEqual(lines, [])
        self.assertIn("OK", done)

    def test_store_with_imaplib(self):
        name = self.box(2)
        c = self.imap()
        c.select(name)
        typ, data = c.store("1:2", "+FLAGS", "(\\Flagged)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), 2)
        typ, data = c.fetch("1:2", "(FLAGS)")
        self.assertTrue(all(b"\\Flagged" in d for d in data))

    def test_second_session_sees_flags(self):
        name, a = self.selected(2)
        b = self.raw()
        b.cmd(f"SELECT {name}")
        uids = self.uids(b)
        a.cmd("STORE 2 +FLAGS (\\Seen $Work)")
        lines, done = b.cmd("NOOP")
        self.assertIn(f"* 2 FETCH (UID {uids[1]} FLAGS (\\Seen $Work))", lines)
        lines, _ = a.cmd("NOOP")  # its own change is not repeated
        self.assertEqual(lines, [])

    def test_condstore(self):
        name = self.box(3)
        r = self.raw()
        r.cmd("ENABLE CONDSTORE")
        r.cmd(f"SELECT {name}")
        lines, _ = r.cmd("FETCH 1:3 (MODSEQ)")
        modseq = {int(ln.split()[1]): int(re.search(r"MODSEQ \((\d+)\)", ln).group(1))
                  for ln in lines}
        lines, done = r.cmd("STORE 1 +FLAGS (\\Seen)")
        uids = self.uids(r)
        m = re.match(rf"\* 1 FETCH \(FLAGS \(\\Seen\) UID {uids[0]} MODSEQ \((\d+)\)\)",
                     lines[0])
        self.assertTrue(m, lines)
        new = int(m.group(1))
        self.assertGreater(new, modseq[1])
        # message 1 changed after modseq[1]: it fails, 2 passes.
        top = max(modseq[1], modseq[2])
        lines, done = r.cmd(f"STORE 1:2 (UNCHANGEDSINCE {top}) +FLAGS (\\Flagged)")
        self.assertIn("OK [MODIFIED 1]", done)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith(f"* 2 FETCH (FLAGS (\\Flagged) UID {uids[1]} MODSEQ ("),
                        lines)
        # .SILENT with CONDSTORE: FETCH with MODSEQ only (RFC 7162 3.1.3)
        lines, done = r.cmd(f"STORE 3 (UNCHANGEDSINCE {modseq[3]}) +FLAGS.SILENT (\\Seen)")
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], rf"^\* 3 FETCH \(UID {uids[2]} MODSEQ \(\d+\)\)$")
        self.assertNotIn("MODIFIED", done)
        # UNCHANGEDSINCE 0 always fails
        lines, done = r.cmd("UID STORE 1:* (UNCHANGEDSINCE 0) +FLAGS (\\Deleted)")
        self.assertIn(f"OK [MODIFIED {uids[0]}:{uids[2]}]", done)
        self.assertEqual(lines, [])

    def test_unchangedsince_enables_condstore(self):
        _, r = self.selected(1)
        lines, done = r.cmd("STORE 1 (UNCHANGEDSINCE 99999999) +FLAGS (\\Seen)")
        self.assertIn("OK", done)
        self.assertRegex(lines[0], r"^\* 1 FETCH \(FLAGS \(\\Seen\) UID \d+ MODSEQ \(\d+\)\)$")


class TestCopyMove(ImapMessagesCase):
    def test_copy_copyuid(self):
        src, r = self.selected(3)
        dst = self.box(0)
        r.cmd("STORE 2 +FLAGS (\\Flagged $Keep)")
        uids = self.uids(r)
        lines, done = r.cmd(f"COPY 2:3 {dst}")
        m = re.match(r"r\d+ OK \[COPYUID (\d+) (\S+) (\S+)\]", done)
        self.assertTrue(m, done)
        self.assertEqual(m.group(2), f"{uids[1]}:{uids[2]}")
        self.assertEqual(m.group(3), "1:2")
        lines, _ = r.cmd(f"EXAMINE {dst}")
        self.assertIn(f"* OK [UIDVALIDITY {m.group(1)}]", "\n".join(lines))
        self.assertEqual(self.flags(r), {1: "\\Flagged $Keep", 2: ""})
        # nothing to copy: OK, no COPYUID
        lines, done = r.cmd(f"UID COPY 3000000 {src}")
        self.assertIn("OK", done)
        self.assertNotIn("COPYUID", done)
        # a copy into the selected mailbox arrives as EXISTS
        lines, done = r.cmd(f"COPY 1 {dst}")
        self.assertIn("OK [COPYUID", done)
        self.assertIn("* 3 EXISTS", lines)

    def test_copy_imaplib_and_trycreate(self):
        src = self.box(1)
        c = self.imap()
        c.select(src)
        typ, data = c.copy("1", "NoSuchBox" + helpers.unique())
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        typ, data = c.uid("COPY", "1:*", "INBOX")
        self.assertEqual(typ, "OK")
        typ, data = c.response("COPYUID")  # imaplib keeps the tagged response code
        self.assertRegex(data[0], rb"^\d+ \d+ \d+$")

    def test_move(self):
        src, a = self.selected(4)
        dst = self.box(0)
        b = self.raw()
        b.cmd(f"SELECT {src}")
        uids = self.uids(a)
        lines, done = a.cmd(f"MOVE 2:3 {dst}")
        self.assertIn("OK", done)
        self.assertRegex(lines[0], rf"^\* OK \[COPYUID \d+ {uids[1]}:{uids[2]} 1:2\]")
        self.assertEqual(lines[1:], ["* 2 EXPUNGE", "* 2 EXPUNGE"])
        self.assertEqual(self.uids(a), [uids[0], uids[3]])
        lines, _ = a.cmd("NOOP")
        self.assertEqual(lines, [])
        lines, _ = b.cmd("NOOP")
        self.assertEqual(lines, ["* 2 EXPUNGE", "* 2 EXPUNGE"])
        lines, done = a.cmd(f"STATUS {dst} (MESSAGES)")
        self.assertIn("MESSAGES 2", lines[0])
        lines, done = a.cmd(f"UID MOVE {uids[3]} NoSuch{helpers.unique()}")
        self.assertIn("NO [TRYCREATE]", done)

    def test_move_qresync(self):
        src = self.box(3)
        dst = self.box(0)
        r = self.raw()
        r.cmd("ENABLE QRESYNC")
        r.cmd(f"SELECT {src}")
        uids = self.uids(r)
        lines, done = r.cmd(f"UID MOVE {uids[0]},{uids[2]} {dst}")
        self.assertIn("OK", done)
        self.assertRegex(lines[0], r"^\* OK \[COPYUID \d+ ")
        self.assertEqual(lines[1], f"* VANISHED {uids[0]},{uids[2]}")
        self.assertEqual(len(lines), 2)

    def test_move_to_the_selected_mailbox(self):
        src, r = self.selected(2)
        lines, done = r.cmd(f"MOVE 1 {src}")
        self.assertIn("OK", done)
        self.assertIn("* 1 EXPUNGE", lines)
        self.assertIn("* 2 EXISTS", lines)  # the copy arrives at the end


class TestExpunge(ImapMessagesCase):
    def test_expunge_numbering(self):
        _, r = self.selected(5)
        uids = self.uids(r)
        r.cmd("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        lines, done = r.cmd("EXPUNGE")
        self.assertIn("OK", done)
        self.assertEqual(lines, ["* 2 EXPUNGE", "* 3 EXPUNGE"])
        self.assertEqual(self.uids(r), [uids[0], uids[2], uids[4]])

    def test_uid_expunge_only_its_set(self):
        name, r = self.selected(4)
        b = self.raw()
        b.cmd(f"SELECT {name}")
        uids = self.uids(r)
        r.cmd("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        lines, done = r.cmd(f"UID EXPUNGE {uids[1]}:{uids[3]}")
        self.assertEqual(lines, ["* 2 EXPUNGE", "* 2 EXPUNGE"])
        self.assertEqual(self.uids(r), [uids[0], uids[3]])
        lines, _ = b.cmd("NOOP")
        self.assertIn("* 2 EXPUNGE", lines)
        self.assertEqual(lines.count("* 2 EXPUNGE"), 2)

    def test_expunge_imaplib_and_qresync(self):
        name = self.box(3)
        c = self.imap()
        c.select(name)
        c.store("1,3", "+FLAGS", "(\\Deleted)")
        typ, data = c.expunge()
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"1", b"2"])
        r = self.raw()
        r.cmd("ENABLE QRESYNC")
        r.cmd(f"SELECT {name}")
        uid = self.uids(r)[0]
        r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        lines, _ = r.cmd("EXPUNGE")
        self.assertEqual(lines, [f"* VANISHED {uid}"])


class TestAppend(ImapMessagesCase):
    def test_append_flags_date_appenduid(self):
        name = self.box(0)
        c = self.imap()
        typ, data = c.append(name, "(\\Seen $Todo)", '"01-Feb-2020 10:00:00 +0100"',
                             message("dated", nl="\n"))
        self.assertEqual(typ, "OK")
        m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
        self.assertTrue(m, data)
        self.assertEqual(m.group(2), b"1")
        c.select(name)
        typ, data = c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        head = data[0][0]
        self.assertIn(b"\\Seen", head)
        self.assertIn(b"$Todo", head)
        self.assertIn(b'INTERNALDATE " 1-Feb-2020 09:00:00 +0000"', head)
        body = data[0][1]
        self.assertNotIn(b"\n", body.replace(b"\r\n", b""))  # stored with CRLF
        self.assertIn(f"RFC822.SIZE {len(body)}".encode(), head)
        typ, data = c.fetch("1", "(ENVELOPE)")
        self.assertIn(b'"dated"', data[0])
        typ, data = c.status(name, "(UIDVALIDITY)")
        self.assertIn(b"UIDVALIDITY " + m.group(1), data[0])

    def test_append_to_selected_sends_exists(self):
        name, r = self.selected(1)
        msg = message("new")
        lines, done = r.cmd(f"APPEND {name} {{{len(msg)}+}}\r\n{msg.decode()}")
        self.assertIn("OK [APPENDUID", done)
        self.assertIn("* 2 EXISTS", lines)
        lines, _ = r.cmd("NOOP")
        self.assertNotIn("* 2 EXISTS", lines)

    def test_multiappend(self):
        name = self.box(0)
        r = self.raw()
        m1, m2, m3 = message("one"), message("two"), message("three")
        t = r.tag()
        r.send(f"{t} APPEND {name} (\\Seen) {{{len(m1)}}}\r\n")
        self.assertTrue(r.line().startswith("+"))
        r.send(m1 + f' (\\Flagged) "05-Mar-2021 08:00:00 +0000" {{{len(m2)}}}\r\n'.encode())
        self.assertTrue(r.line().startswith("+"))
        r.send(m2 + f" {{{len(m3)}}}\r\n".encode())
        self.assertTrue(r.line().startswith("+"))
        r.send(m3 + b"\r\n")
        lines, done = r.read_until(t)
        self.assertRegex(done, r"OK \[APPENDUID \d+ 1:3\]")
        r.cmd(f"SELECT {name}")
        self.assertEqual(self.flags(r), {1: "\\Seen", 2: "\\Flagged", 3: ""})

    def test_multiappend_all_or_nothing(self):
        r = self.raw(self.quser)  # quota 5000 octets
        name = helpers.unique("q")
        r.cmd(f"CREATE {name}")
        m1 = message("small", body="x" * 1000 + "\r\n")
        m2 = message("big", body="y" * 6000 + "\r\n")
        lines, done = r.cmd(f"APPEND {name} {{{len(m2)}+}}\r\n{m2.decode()}")
        if " OK " in done:
            self.skipTest("the store has no quota limit: the worker does not set the "
                          "directory's quota on the store (store_quota_set_limit)")
        self.assertIn("NO [OVERQUOTA]", done)
        lines, done = r.cmd(f"APPEND {name} {{{len(m1)}+}}\r\n{m1.decode()} "
                            f"{{{len(m2)}+}}\r\n{m2.decode()}")
        self.assertIn("NO [OVERQUOTA]", done)
        lines, _ = r.cmd(f"STATUS {name} (MESSAGES)")
        self.assertIn("MESSAGES 0", lines[0])
        lines, done = r.cmd(f"APPEND {name} {{{len(m1)}+}}\r\n{m1.decode()}")
        self.assertIn("OK [APPENDUID", done)

    def test_trycreate_and_toobig(self):
        r = self.raw()
        msg = message()
        lines, done = r.cmd(f"APPEND Missing{helpers.unique()} {{{len(msg)}+}}\r\n{msg.decode()}")
        self.assertIn("NO [TRYCREATE]", done)
        t = r.tag()
        r.send(f"{t} APPEND INBOX {{{LIMIT + 1}}}\r\n")
        ln = r.line()
        self.assertTrue(ln.startswith(f"{t} NO [TOOBIG]"), ln)  # no "+": nothing is sent
        lines, done = r.cmd("NOOP")
        self.assertIn("OK", done)

    def test_binary_append(self):
        name = self.box(0)
        r = self.raw()
        msg = (b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
               b"Subject: bin\r\n\r\n\x00\x01\x02\nbinary\r\n")
        lines, done = r.cmd(f"APPEND {name} ~{{{len(msg)}+}}\r\n".encode() .decode() +
                            msg.decode("latin-1"))
        self.assertIn("OK [APPENDUID", done)
        lines, _ = r.cmd(f"STATUS {name} (MESSAGES SIZE)")
        self.assertIn("MESSAGES 1", lines[0])

    def test_capabilities(self):
        c = self.stack.imap_connect()
        self.addCleanup(self._logout, c)
        for cap in ("UIDPLUS", "MOVE", "MULTIAPPEND", f"APPENDLIMIT={LIMIT}"):
            self.assertIn(cap, c.capabilities)


class TestRefusals(ImapMessagesCase):
    def test_read_only(self):
        name = self.box(2, "(\\Deleted)")
        dst = self.box(0)
        r = self.raw()
        _, done = r.cmd(f"EXAMINE {name}")
        self.assertIn("READ-ONLY", done)
        for cmd in ("STORE 1 +FLAGS (\\Seen)", "UID STORE 1:* FLAGS ()", "EXPUNGE",
                    "UID EXPUNGE 1:*", f"MOVE 1 {dst}", f"UID MOVE 1:* {dst}"):
            lines, done = r.cmd(cmd)
            self.assertRegex(done, r"^r\d+ NO ", cmd)
            self.assertEqual(lines, [], cmd)
        lines, done = r.cmd(f"COPY 1:2 {dst}")  # copying from it is fine
        self.assertIn("OK [COPYUID", done)
        lines, _ = r.cmd(f"STATUS {name} (MESSAGES)")
        self.assertIn("MESSAGES 2", lines[0])

    def test_wrong_state(self):
        r = Raw(self.stack.imap_port)
        self.addCleanup(r.close)
        msg = message()
        _, done = r.cmd(f"APPEND INBOX {{{len(msg)}+}}\r\n{msg.decode()}")
        self.assertRegex(done, r"^r\d+ BAD ")
        r.login(self.user, self.password)
        for cmd in ("STORE 1 +FLAGS (\\Seen)", "COPY 1 INBOX", "MOVE 1 INBOX", "EXPUNGE",
                    "UID EXPUNGE 1"):
            _, done = r.cmd(cmd)
            self.assertRegex(done, r"^r\d+ BAD ", cmd)

    def bad(self, r, cmds):
        """Each command gets BAD (fewer than imap.errors_max per session)."""
        for cmd in cmds:
            lines, done = r.cmd(cmd)
            self.assertRegex(done, r"^r\d+ BAD ", cmd)

    def test_bad_arguments(self):
        name, r = self.selected(2)
        self.bad(r, ("STORE", "STORE 1", "STORE 1 +FLAGS", "STORE 1 BADITEM (\\Seen)",
                     "STORE 1 +FLAGS (\\Recent)", "STORE 1 +FLAGS (\\Unknown)",
                     "STORE 3 +FLAGS (\\Seen)", "STORE 0 +FLAGS (\\Seen)",
                     "STORE 1 +FLAGS (bad]kw)", "STORE 1 (UNCHANGEDSINCE x) FLAGS ()",
                     "STORE 1 +FLAGS (\\Seen) extra", "COPY 1", "COPY x INBOX",
                     "COPY 1 INBOX extra", "MOVE 5 INBOX", "EXPUNGE 1", "UID EXPUNGE",
                     "UID EXPUNGE x"))
        self.assertEqual(self.flags(r), {1: "", 2: ""})

    def test_bad_append(self):
        name, r = self.selected(1)
        msg = message()
        self.bad(r, ("APPEND", "APPEND INBOX", "APPEND INBOX (\\Seen)",
                     'APPEND INBOX "bad date" {1+}\r\nx', "APPEND INBOX (\\Recent) {1+}\r\nx",
                     'APPEND INBOX "31-Feb-2020 10:00:00 +0000" {1+}\r\nx',
                     "APPEND INBOX {1+}\r\nx foo", "APPEND INBOX (\\Seen) (\\Seen) {1+}\r\nx"))
        lines, done = r.cmd("APPEND INBOX {0+}\r\n")
        self.assertRegex(done, r"^r\d+ NO ")
        lines, done = r.cmd(f"APPEND {name} (\\Seen) {{{len(msg)}+}}\r\n{msg.decode()}")
        self.assertIn("OK", done)  # the session is fine after all that
        # IMAP4rev1: what arrives during the session is \Recent
        self.assertEqual(self.flags(r), {1: "", 2: "\\Seen \\Recent"})


if __name__ == "__main__":
    unittest.main()
