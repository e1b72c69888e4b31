"""ownmail-imap over real sockets: the greeting and CAPABILITY, NOOP,
LOGOUT, LOGIN and AUTHENTICATE PLAIN (SASL-IR and continuation), STARTTLS
and implicit TLS, LOGINDISABLED without TLS, failed logins, throttling,
ENABLE, ID, metrics; SELECT / EXAMINE (CONDSTORE, QRESYNC), UNSELECT,
CLOSE; FETCH and UID FETCH of every attribute against multipart messages
delivered through SMTP, octet for octet; \\Seen; CHANGEDSINCE and VANISHED;
what other sessions see (IDLE, NOOP, SELECT after a delivery).
Clients: Python's imaplib, and test_imap_bad.ImapRaw for exact responses."""
import base64
import imaplib
import os
import re
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailharness  # noqa: E402
from test_imap_bad import PASSWORD, ImapCase, caps, fetches, imap_metrics, parse  # noqa: E402

ATTACHMENT = bytes(range(256)) * 3
PART1 = "Hello, caf\u00e9 text part.".encode()
B64 = base64.encodebytes(ATTACHMENT).replace(b"\n", b"\r\n")[:-2]  # its CRLF is the boundary's
INNER_HEADER = (b"From: Inner Sender <inner@example.org>\r\nTo: someone@example.org\r\n"
                b"Subject: inner subject\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
                b"Message-ID: <inner@example.org>\r\n")
INNER = INNER_HEADER + b"\r\nInner body line."
MIXED_HEADERS = ("Cc: Carol <carol@outside.test>, dave@outside.test\r\n"
                 "Reply-To: replies@outside.test\r\nIn-Reply-To: <parent@outside.test>\r\n"
                 "X-Dup: one\r\nX-Dup: two\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
                 "Date: Tue, 2 Jan 2024 11:12:13 +0100\r\n")
PART1_MIME = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
MIXED_BODY = (b"This is a multi-part message in MIME format.\r\n--XYZ\r\n" + PART1_MIME + PART1 +
              b"\r\n--XYZ\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
              b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" + B64 +
              b"\r\n--XYZ\r\nContent-Type: message/rfc822\r\n\r\n" + INNER + b"\r\n--XYZ--\r\n")
PLAIN_BODY = b"plain body\r\nsecond line\r\n"
QP_HEADERS = ("Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n")
QP_BODY = b"caf=C3=A9 soft=\r\n break\r\n"
ANY = object()  # matches anything in expect()


class TestSession(ImapCase):
    users = ("uma", "victim")

    def test_greeting_and_capability(self):
        r = self.raw()
        self.assertRegex(r.greeting, rb"^\* OK \[CAPABILITY ")
        before = caps(r.greeting)
        for cap in ("IMAP4rev1", "IMAP4rev2", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+",
                    "ENABLE", "ID", "UNSELECT", "IDLE"):
            self.assertIn(cap, before)
        self.assertNotIn("LOGINDISABLED", before)
        untagged, _ = r.cmd("CAPABILITY")
        self.assertEqual(caps(untagged[0]), before)
        # after login: no STARTTLS, no AUTH= (RFC 9051 6.2.3); said in the OK
        _, done = r.cmd(f'LOGIN "{self.addr("uma")}" "{PASSWORD}"')
        after = caps(done)
        self.assertNotIn("STARTTLS", after)
        self.assertFalse([c for c in after if c.startswith("AUTH=")])
        untagged, _ = r.cmd("CAPABILITY")
        self.assertEqual(caps(untagged[0]), after)

    def test_capability_lists_the_working_extensions(self):
        """ENABLE accepts CONDSTORE and QRESYNC, FETCH does BINARY and they
        are tested here: a client only uses what CAPABILITY lists."""
        listed = caps(self.raw().greeting)
        for cap in ("CONDSTORE", "QRESYNC", "BINARY"):
            self.assertIn(cap, listed)

    def test_noop_and_logout(self):
        c = self.imap()
        self.assertEqual(c.noop()[0], "OK")
        r = self.raw()
        r.send(b"n1 NOOP\r\nn2 LOGOUT\r\n")
        self.assertEqual(r.response(), b"n1 OK NOOP completed")
        self.assertRegex(r.response(), rb"^\* BYE ")
        self.assertRegex(r.response(), rb"^n2 OK ")
        self.assertTrue(r.closed())

    def test_login(self):
        c = self.imap()
        self.assertEqual(c.login(self.addr("uma"), PASSWORD)[0], "OK")
        self.assertEqual(c.state, "AUTH")
        self.assertEqual(c.select("INBOX")[0], "OK")
        # as literals, and with the account name in another case
        r = self.raw()
        user = self.addr("uma").upper().encode()
        r.send(b"l1 LOGIN {%d+}\r\n%s {%d}\r\n" % (len(user), user, len(PASSWORD)))
        self.assertTrue(r.response().startswith(b"+"))
        r.send(PASSWORD.encode() + b"\r\n")
        _, done = r.until("l1")
        self.assertStatus(done, "OK", "CAPABILITY")

    def test_wrong_password_and_unknown_user(self):
        r = self.raw()
        _, wrong = r.cmd(f'LOGIN "{self.addr("uma")}" "not-the-password"')
        self.assertStatus(wrong, "NO", "AUTHENTICATIONFAILED")
        _, unknown = r.cmd(f'LOGIN "nobody@{self.dom}" "{PASSWORD}"')
        self.assertStatus(unknown, "NO", "AUTHENTICATIONFAILED")
        self.assertEqual(wrong.split(b" ", 1)[1], unknown.split(b" ", 1)[1])  # no enumeration
        self.cmd_status(r, 'LOGIN "" ""', "NO", "AUTHENTICATIONFAILED")
        r.login(self.addr("uma"), PASSWORD)  # the same session may still log in
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap().login(self.addr("uma"), "wrong-again")

    def test_authenticate_plain(self):
        user = self.addr("uma").encode()
        ir = base64.b64encode(b"\0" + user + b"\0" + PASSWORD.encode())
        r = self.raw()  # SASL-IR (RFC 4959)
        self.cmd_status(r, b"AUTHENTICATE PLAIN " + ir, "OK", "CAPABILITY")
        r = self.raw()  # with a continuation
        r.send(b"a1 AUTHENTICATE PLAIN\r\n")
        self.assertRegex(r.response(), rb"^\+ ?$")
        r.send(ir + b"\r\n")
        _, done = r.until("a1")
        self.assertStatus(done, "OK")
        r.ok("SELECT INBOX")
        c = self.imap()  # imaplib's way: a continuation
        typ, _ = c.authenticate("PLAIN", lambda _: b"\0" + user + b"\0" + PASSWORD.encode())
        self.assertEqual(typ, "OK")
        r = self.raw()
        r.send(b"a1 AUTHENTICATE PLAIN\r\n")
        r.response()
        r.send(b"*\r\n")  # the client cancels (RFC 9051 6.2.2)
        _, done = r.until("a1")
        self.assertStatus(done, "BAD")
        _, done = r.cmd(b"AUTHENTICATE PLAIN " + base64.b64encode(
            b"\0" + user + b"\0wrong-password"))
        self.assertStatus(done, "NO", "AUTHENTICATIONFAILED")
        # authorization identity of another user: refused
        _, done = r.cmd(b"AUTHENTICATE PLAIN " + base64.b64encode(
            b"victim@" + self.dom.encode() + b"\0" + user + b"\0" + PASSWORD.encode()))
        self.assertStatus(done, "NO")
        self.cmd_status(r, "AUTHENTICATE CRAM-MD5", "NO")
        self.cmd_status(r, b"AUTHENTICATE plain " + ir, "OK")  # mechanism names ignore case

    def test_enable(self):
        r = self.raw("uma")
        self.assertEqual(r.ok("ENABLE CONDSTORE"), [b"* ENABLED CONDSTORE"])
        # only what is newly enabled
        self.assertEqual(r.ok("ENABLE CONDSTORE X-UNKNOWN"), [b"* ENABLED"])
        untagged = r.ok("ENABLE QRESYNC IMAP4rev2 UTF8=ACCEPT")
        self.assertEqual(sorted(untagged[0].split()[2:]),
                         [b"IMAP4rev2", b"QRESYNC", b"UTF8=ACCEPT"])
        # IMAP4rev2 on: SELECT has no RECENT and sends LIST (RFC 9051 6.3.2)
        untagged = r.ok("SELECT INBOX")
        self.assertFalse([u for u in untagged if u.endswith(b" RECENT")])
        self.assertIn(b'* LIST () "/" INBOX', untagged)

    def test_id(self):
        r = self.raw()
        untagged, done = r.cmd('ID ("name" "tester" "version" "1.0")')
        self.assertStatus(done, "OK")
        values, _ = parse(untagged[0], 5)
        self.assertEqual(values[0][0:2], [b"name", b"ownmail"])
        untagged, done = r.cmd("ID NIL")
        self.assertStatus(done, "OK")
        self.assertTrue(untagged[0].startswith(b"* ID ("))

    def test_implicit_tls(self):
        r = self.raw(tls=True)
        self.assertNotIn("STARTTLS", caps(r.greeting))
        self.assertIn("AUTH=PLAIN", caps(r.greeting))
        c = self.imap(tls=True)
        self.assertEqual(c.login(self.addr("uma"), PASSWORD)[0], "OK")
        self.assertEqual(c.select("INBOX")[0], "OK")

    def test_starttls(self):
        c = self.imap()
        typ, _ = c.starttls(ssl_context=mailharness.client_tls())
        self.assertEqual(typ, "OK")
        typ, data = c.capability()
        self.assertNotIn(b"STARTTLS", data[0].split())
        self.assertEqual(c.login(self.addr("uma"), PASSWORD)[0], "OK")
        r = self.raw()  # twice: refused
        r.send(b"s1 STARTTLS\r\n")
        self.assertRegex(r.response(), rb"^s1 OK ")
        r.starttls()
        self.cmd_status(r, "STARTTLS", "BAD")
        r.ok("NOOP")

    def test_starttls_drops_injected_plaintext(self):
        """Commands sent in clear text behind STARTTLS must not run inside
        the TLS session (RFC 9051 6.2.1; the CVE-2011-0411 class)."""
        r = self.raw()
        r.send(f'x1 STARTTLS\r\nx2 LOGIN "{self.addr("uma")}" "{PASSWORD}"\r\n'.encode())
        self.assertRegex(r.response(), rb"^x1 OK ")
        r.starttls()
        r.send(b"x3 NOOP\r\n")
        self.assertEqual(r.response(), b"x3 OK NOOP completed")
        self.cmd_status(r, "SELECT INBOX", "BAD")  # not logged in: x2 was dropped

    def test_throttle(self):
        """throttle.account_max (5 in 15 minutes): then even the right
        password is refused for a while."""
        r = self.raw()
        results = []
        for _ in range(6):
            _, done = r.cmd(f'LOGIN "{self.addr("victim")}" "wrong-password"')
            results.append(done)
        self.assertStatus(results[0], "NO", "AUTHENTICATIONFAILED")
        self.assertStatus(results[-1], "NO", "UNAVAILABLE")
        r = self.raw()
        self.cmd_status(r, f'LOGIN "{self.addr("victim")}" "{PASSWORD}"', "NO", "UNAVAILABLE")
        r.login(self.addr("uma"), PASSWORD)  # other accounts are not affected

    def test_metrics(self):
        before = imap_metrics(self.stack)
        for name in ("imap_logins_total", "imap_logins_failed_total", "imap_commands_total",
                     "imap_bad_commands_total", "imap_sessions_idle", "imap_stores_open"):
            self.assertIn(name, before)
        r = self.raw("uma")
        r.cmd("BOGUS")
        r.cmd(f'LOGIN "{self.addr("uma")}" "x"')  # BAD: already logged in
        self.raw().cmd(f'LOGIN "{self.addr("uma")}" "wrong-password"')
        after = imap_metrics(self.stack)
        self.assertGreaterEqual(after["imap_logins_total"], before["imap_logins_total"] + 1)
        self.assertGreaterEqual(after["imap_logins_failed_total"],
                                before["imap_logins_failed_total"] + 1)
        self.assertGreaterEqual(after["imap_bad_commands_total"],
                                before["imap_bad_commands_total"] + 2)
        self.assertGreaterEqual(after["imap_stores_open"], 1)


    def test_compress(self):
        """COMPRESS=DEFLATE (RFC 4978): raw deflate both ways after the OK."""
        r = self.raw("uma")
        r.ok("COMPRESS DEFLATE")
        comp, dec = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
        r.sock.sendall(comp.compress(b"z1 COMPRESS DEFLATE\r\nz2 SELECT INBOX\r\n"
                                     b"z3 LOGOUT\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
        out = b""
        while b"z3 OK" not in out:
            data = r.sock.recv(65536)
            self.assertTrue(data, out)
            out += dec.decompress(data)
        self.assertIn(b"z1 NO [COMPRESSIONACTIVE]", out)
        self.assertIn(b"z2 OK [READ-WRITE]", out)


class TestTlsRequired(ImapCase):
    imap_config = {"imap.plaintext_loopback": "false"}
    users = ("tia",)

    def test_plain_port_refuses_credentials(self):
        r = self.raw()
        listed = caps(r.greeting)
        self.assertIn("STARTTLS", listed)
        self.assertIn("LOGINDISABLED", listed)
        self.assertNotIn("AUTH=PLAIN", listed)
        self.cmd_status(r, f'LOGIN "{self.addr("tia")}" "{PASSWORD}"', "NO", "PRIVACYREQUIRED")
        _, done = r.cmd(b"AUTHENTICATE PLAIN " + base64.b64encode(
            b"\0" + self.addr("tia").encode() + b"\0" + PASSWORD.encode()))
        self.assertStatus(done, "NO", "PRIVACYREQUIRED")
        c = self.imap()
        with self.assertRaises(imaplib.IMAP4.error):
            c.login(self.addr("tia"), PASSWORD)

    def test_starttls_then_login(self):
        c = self.imap()
        self.assertEqual(c.starttls(ssl_context=mailharness.client_tls())[0], "OK")
        _, data = c.capability()
        listed = data[0].decode().split()
        self.assertIn("AUTH=PLAIN", listed)
        self.assertNotIn("LOGINDISABLED", listed)
        self.assertNotIn("STARTTLS", listed)
        self.assertEqual(c.login(self.addr("tia"), PASSWORD)[0], "OK")
        self.assertEqual(c.select("INBOX")[0], "OK")

    def test_implicit_tls(self):
        c = self.imap(tls=True)
        self.assertEqual(c.login(self.addr("tia"), PASSWORD)[0], "OK")


def by_subject(r):
    """{subject: (msn, uid)} of the mailbox selected in r."""
    untagged, _ = r.cmd("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])")
    out = {}
    for msn, items in fetches(untagged).items():
        subject = items["BODY[HEADER.FIELDS (SUBJECT)]"].split(b":", 1)[1].strip().decode()
        out[subject] = (msn, int(items["UID"]))
    return out


def deliver_all(test_cls, local, specs):
    """Delivers (subject, extra headers, body bytes) to local."""
    for subject, extra, body in specs:
        test_cls.stack.deliver(f"{local}@{test_cls.dom}", subject=subject, extra_headers=extra,
                               body=body.decode("utf-8"))


class FetchCase(ImapCase):
    users = ("fiona", "sam", "cora", "quinn", "carl")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        deliver_all(cls, "fiona", [("mixed", MIXED_HEADERS, MIXED_BODY),
                                   ("plain", "", PLAIN_BODY), ("qp", QP_HEADERS, QP_BODY),
                                   ("xenc", "Content-Transfer-Encoding: x-unknown\r\n", b"?\r\n")])
        for local in ("sam", "cora", "quinn", "carl"):
            deliver_all(cls, local, [(f"m{i}", "", b"text %d\r\n" % i) for i in range(1, 6)])

    def fetch1(self, r, msn, atts, uid=False):
        untagged, done = r.cmd(f"{'UID ' if uid else ''}FETCH {msn} {atts}")
        self.assertStatus(done, "OK")
        got = fetches(untagged)
        self.assertEqual(len(got), 1, untagged)
        return list(got.values())[0]

    def expect(self, got, want):
        """Compares parsed data, ANY matching anything."""
        if want is ANY:
            return
        if isinstance(want, list):
            self.assertIsInstance(got, list, got)
            self.assertEqual(len(got), len(want), f"{got} != {want}")
            for g, w in zip(got, want):
                self.expect(g, w)
        else:
            self.assertEqual(got, want)


class TestSelect(FetchCase):
    def test_select_and_examine(self):
        r = self.raw("fiona")
        untagged, done = r.cmd("SELECT INBOX")
        self.assertStatus(done, "OK", "READ-WRITE")
        text = b"\n".join(untagged)
        self.assertIn(b"* 4 EXISTS", untagged)
        self.assertIn(b"* 0 RECENT", untagged)  # IMAP4rev1 until ENABLE IMAP4rev2
        self.assertIn(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)", untagged)
        self.assertRegex(text, rb"\* OK \[PERMANENTFLAGS \([^)]*\\\*\)\]")
        self.assertRegex(text, rb"\* OK \[UIDVALIDITY [1-9]\d*\]")
        self.assertIn(b"* OK [UIDNEXT 5]", text)
        self.assertRegex(text, rb"\* OK \[HIGHESTMODSEQ [1-9]\d*\]")
        self.assertIn(b"* OK [UNSEEN 1]", text)
        untagged, done = r.cmd("EXAMINE INBOX")
        self.assertStatus(done, "OK", "READ-ONLY")
        self.assertIn(b"* OK [PERMANENTFLAGS ()]", b"\n".join(untagged))
        c = self.imap("fiona")  # imaplib
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"4"]))
        self.cmd_status(r, "SELECT no-such-box", "NO", "NONEXISTENT")
        self.cmd_status(r, "FETCH 1 FLAGS", "BAD")  # nothing selected now
        r.ok("SELECT inbox")  # INBOX in any case
        self.assertEqual(len(fetches(r.ok("FETCH 1:* UID"))), 4)

    def test_reselect_says_closed(self):
        """RFC 9051 6.3.2 / 7.1: a SELECT while a mailbox is selected
        closes it with "* OK [CLOSED]" first (IMAP4rev2 enabled)."""
        r = self.raw("fiona")
        r.ok("ENABLE IMAP4rev2")
        r.ok("SELECT INBOX")
        untagged = r.ok("EXAMINE INBOX")
        self.assertRegex(untagged[0], rb"^\* OK \[CLOSED\]")

    def test_unselect_and_close(self):
        r = self.raw("carl", select="INBOX")
        r.ok("UNSELECT")
        self.cmd_status(r, "FETCH 1 FLAGS", "BAD")
        # CLOSE in a read-only mailbox expunges nothing
        r.ok("SELECT INBOX")
        r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        r.ok("EXAMINE INBOX")
        r.ok("CLOSE")
        untagged = r.ok("SELECT INBOX")
        self.assertIn(b"* 5 EXISTS", untagged)
        # CLOSE in a read-write one expunges \Deleted silently (RFC 9051 6.4.1)
        untagged = r.ok("CLOSE")
        self.assertEqual(untagged, [])
        untagged = r.ok("SELECT INBOX")
        self.assertIn(b"* 4 EXISTS", untagged)
        self.cmd_status(r, "FETCH 1 FLAGS", "OK")

    def test_select_condstore_and_qresync(self):
        r = self.raw("quinn")
        untagged = r.ok("SELECT INBOX (CONDSTORE)")
        text = b"\n".join(untagged)
        uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
        modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
        items = self.fetch1(r, 1, "(MODSEQ)")
        self.assertLessEqual(int(items["MODSEQ"][0]), modseq)
        # RFC 7162 3.2.5: ENABLE QRESYNC first
        self.cmd_status(r, f"SELECT INBOX (QRESYNC ({uidvalidity} {modseq}))", "BAD")
        r, peer = self.raw("quinn"), self.raw("quinn")
        for x in (r, peer):
            x.ok("ENABLE QRESYNC")
            x.ok("SELECT INBOX")
        subjects = by_subject(r)
        msn2, uid2 = subjects["m2"]
        r.ok(f"STORE {msn2} +FLAGS.SILENT (\\Deleted)")
        r.ok(f"UID EXPUNGE {uid2}")
        msn3, uid3 = by_subject(r)["m3"]
        r.ok(f"FETCH {msn3} BODY[TEXT]")  # \Seen on m3
        # another QRESYNC session: VANISHED, not EXPUNGE; FETCH with MODSEQ
        untagged = peer.ok("NOOP")
        self.assertIn(b"* VANISHED %d" % uid2, untagged)
        self.assertFalse([u for u in untagged if u.endswith(b" EXPUNGE")])
        items = fetches(untagged)[msn3]
        self.assertEqual((int(items["UID"]), items["FLAGS"]), (uid3, ["\\Seen"]))
        self.assertIn("MODSEQ", items)
        known = ",".join(str(u) for _, u in subjects.values() if u != uid2)
        # VANISHED since the old MODSEQ, and the flag change (RFC 7162 3.2.6)
        untagged = r.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
        self.assertIn(b"* VANISHED (EARLIER) %d" % uid2, untagged)
        changed = fetches(untagged)
        self.assertEqual([int(i["UID"]) for i in changed.values()], [uid3])
        self.assertIn("MODSEQ", list(changed.values())[0])
        r.ok("UNSELECT")
        # SELECT with QRESYNC: VANISHED (EARLIER) and the changes (3.2.5)
        untagged = r.ok(f"SELECT INBOX (QRESYNC ({uidvalidity} {modseq}))")
        self.assertIn(b"* VANISHED (EARLIER) %d" % uid2, untagged)
        self.assertEqual([int(i["UID"]) for i in fetches(untagged).values()], [uid3])
        # known UIDs that exclude the expunged one: no VANISHED
        untagged = r.ok(f"SELECT INBOX (QRESYNC ({uidvalidity} {modseq} {known}))")
        self.assertFalse([u for u in untagged if u.startswith(b"* VANISHED")])
        # another UIDVALIDITY: the client's cache is useless, nothing is said
        untagged = r.ok(f"SELECT INBOX (QRESYNC ({uidvalidity + 1} {modseq}))")
        self.assertFalse([u for u in untagged if u.startswith(b"* VANISHED")])
        self.assertEqual(fetches(untagged), {})


class TestFetch(FetchCase):
    def setUp(self):
        self.r = self.raw("fiona", select="INBOX")
        self.msgs = by_subject(self.r)

    def peek(self, subject, atts, uid=False):
        msn, u = self.msgs[subject]
        return self.fetch1(self.r, u if uid else msn, atts, uid)

    def whole(self, subject):
        return self.peek(subject, "BODY.PEEK[]")["BODY[]"]

    def test_cheap_attributes(self):
        untagged = self.r.ok("FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE MODSEQ)")
        got = fetches(untagged)
        self.assertEqual(sorted(got), [1, 2, 3, 4])
        for msn, items in got.items():
            self.assertEqual(items["FLAGS"], [])
            self.assertRegex(items["INTERNALDATE"],
                             rb"^[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
            self.assertRegex(items["MODSEQ"][0], r"^[1-9]\d*$")
        for subject, (msn, uid) in self.msgs.items():
            self.assertEqual(int(got[msn]["UID"]), uid)
            self.assertEqual(int(got[msn]["RFC822.SIZE"]), len(self.whole(subject)))

    def test_body_whole_and_header_text(self):
        raw = self.whole("mixed")
        self.assertTrue(raw.endswith(b"\r\n\r\n" + MIXED_BODY), raw[-200:])
        header = raw[:raw.index(b"\r\n\r\n") + 4]
        items = self.peek("mixed", "(BODY.PEEK[HEADER] BODY.PEEK[TEXT] RFC822.HEADER)")
        self.assertEqual(items["BODY[HEADER]"], header)
        self.assertEqual(items["BODY[TEXT]"], MIXED_BODY)
        self.assertEqual(items["RFC822.HEADER"], header)
        self.assertIn(b"Subject: mixed\r\n", header)

    def test_header_fields(self):
        items = self.peek("mixed", "(BODY.PEEK[HEADER.FIELDS (Subject x-dup)] "
                          "BODY.PEEK[HEADER.FIELDS (X-None)])")
        self.assertEqual(items["BODY[HEADER.FIELDS (SUBJECT X-DUP)]"],
                         b"Subject: mixed\r\nX-Dup: one\r\nX-Dup: two\r\n\r\n")
        self.assertEqual(items["BODY[HEADER.FIELDS (X-NONE)]"], b"\r\n")
        items = self.peek("mixed", "BODY.PEEK[HEADER.FIELDS.NOT (Received Message-ID Content-Type "
                          "MIME-Version X-Dup Date To Cc Reply-To In-Reply-To)]")
        value = [v for k, v in items.items() if k.startswith("BODY[HEADER.FIELDS.NOT")][0]
        self.assertEqual(value, b"From: a@outside.test\r\nSubject: mixed\r\n\r\n")

    def test_parts(self):
        items = self.peek("mixed", "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2] BODY.PEEK[3] "
                          "BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BODY.PEEK[3.1] "
                          "BODY.PEEK[3.HEADER.FIELDS (Subject)] BODY.PEEK[3.MIME])")
        self.assertEqual(items["BODY[1]"], PART1)
        self.assertEqual(items["BODY[1.MIME]"], PART1_MIME)
        self.assertEqual(items["BODY[2]"], B64)
        self.assertEqual(items["BODY[3]"], INNER)
        self.assertEqual(items["BODY[3.HEADER]"], INNER_HEADER + b"\r\n")
        self.assertEqual(items["BODY[3.TEXT]"], b"Inner body line.")
        self.assertEqual(items["BODY[3.1]"], b"Inner body line.")
        self.assertEqual(items["BODY[3.HEADER.FIELDS (SUBJECT)]"],
                         b"Subject: inner subject\r\n\r\n")
        self.assertEqual(items["BODY[3.MIME]"], b"Content-Type: message/rfc822\r\n\r\n")
        items = self.peek("mixed", "BODY.PEEK[9]")  # no such part
        self.assertIn(items["BODY[9]"], (None, b""))
        items = self.peek("plain", "BODY.PEEK[1]")  # a single part is part 1
        self.assertEqual(items["BODY[1]"], PLAIN_BODY)

    def test_partial(self):
        raw = self.whole("mixed")
        items = self.peek("mixed", "(BODY.PEEK[]<0.10> BODY.PEEK[TEXT]<5.20> "
                          "BODY.PEEK[2]<10.30> BODY.PEEK[1]<1000.10>)")
        self.assertEqual(items["BODY[]<0>"], raw[:10])
        self.assertEqual(items["BODY[TEXT]<5>"], MIXED_BODY[5:25])
        self.assertEqual(items["BODY[2]<10>"], B64[10:40])
        self.assertEqual(items["BODY[1]<1000>"], b"")
        items = self.peek("mixed", f"BODY.PEEK[]<{len(raw) - 5}.100>")
        self.assertEqual(items[f"BODY[]<{len(raw) - 5}>"], raw[-5:])

    def test_binary(self):
        items = self.peek("mixed", "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1] BINARY.SIZE[1])")
        self.assertEqual(items["BINARY[2]"], ATTACHMENT)
        self.assertEqual(int(items["BINARY.SIZE[2]"]), len(ATTACHMENT))
        self.assertEqual(items["BINARY[1]"], PART1)
        self.assertEqual(int(items["BINARY.SIZE[1]"]), len(PART1))
        # NUL octets travel as literal8 (RFC 3516 4.2)
        msn, _ = self.msgs["mixed"]
        self.r.send(b"b1 FETCH %d BINARY.PEEK[2]<0.10>\r\n" % msn)
        resp = self.r.response()
        self.assertRegex(resp, rb"BINARY\[2\](<0>)? ~\{10\}\r\n")
        self.assertTrue(resp.endswith(ATTACHMENT[:10] + b")"))
        self.r.until("b1")
        items = self.peek("qp", "(BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[1])")
        self.assertEqual(items["BINARY[1]"], "caf\u00e9 soft break\r\n".encode())
        self.assertEqual(int(items["BINARY.SIZE[1]"]), len("caf\u00e9 soft break\r\n".encode()))
        self.assertEqual(items["BODY[1]"], QP_BODY)

    def test_binary_unknown_encoding(self):
        """RFC 3516 4.3: NO [UNKNOWN-CTE], and no half-written FETCH."""
        msn, _ = self.msgs["xenc"]
        self.r.send(b"u1 FETCH %d BINARY.PEEK[1]\r\n" % msn)
        first = self.r.response()  # the tagged NO, nothing before it
        self.assertRegex(first, rb"^u1 NO \[UNKNOWN-CTE\]")
        self.r.ok("NOOP")
        self.assertEqual(self.peek("xenc", "BODY.PEEK[1]")["BODY[1]"], b"?\r\n")

    def test_rfc822_items(self):
        raw = self.whole("plain")
        items = self.peek("plain", "(RFC822.SIZE RFC822.HEADER)")
        self.assertEqual(int(items["RFC822.SIZE"]), len(raw))
        self.assertEqual(items["RFC822.HEADER"], raw[:raw.index(b"\r\n\r\n") + 4])
        self.r.ok("EXAMINE INBOX")  # RFC822 and RFC822.TEXT set \Seen: read-only here
        items = self.peek("plain", "(RFC822 RFC822.TEXT)")
        self.assertEqual(items["RFC822"], raw)
        self.assertEqual(items["RFC822.TEXT"], PLAIN_BODY)
        self.assertNotIn("FLAGS", items)

    def test_envelope(self):
        env = self.peek("mixed", "ENVELOPE")["ENVELOPE"]
        msgid = re.search(rb"Message-ID: (<[^>]+>)", self.whole("mixed")).group(1)
        a = [None, None, b"a", b"outside.test"]
        self.expect(env, [b"Tue, 2 Jan 2024 11:12:13 +0100", b"mixed", [a], [a],
                          [[None, None, b"replies", b"outside.test"]],
                          [[None, None, b"fiona", self.dom.encode()]],
                          [[b"Carol", None, b"carol", b"outside.test"],
                           [None, None, b"dave", b"outside.test"]],
                          None, b"<parent@outside.test>", msgid])
        env = self.peek("plain", "ENVELOPE")["ENVELOPE"]
        self.assertIsNone(env[0])  # no Date: NIL
        self.assertEqual(env[1], b"plain")

    def test_body_and_bodystructure(self):
        items = self.peek("mixed", "(BODY BODYSTRUCTURE)")
        inner_env = [b"Mon, 1 Jan 2024 10:00:00 +0000", b"inner subject",
                     [[b"Inner Sender", None, b"inner", b"example.org"]],
                     [[b"Inner Sender", None, b"inner", b"example.org"]],
                     [[b"Inner Sender", None, b"inner", b"example.org"]],
                     [[None, None, b"someone", b"example.org"]], None, None, None,
                     b"<inner@example.org>"]
        text = [b"text", b"plain", [b"charset", b"utf-8"], None, None, b"8bit", str(len(PART1)),
                ANY]
        app = [b"application", b"octet-stream", [b"name", b"data.bin"], None, None, b"base64",
               str(len(B64))]
        inner_text = [b"text", b"plain", [b"charset", b"us-ascii"], None, None, b"7bit", "16", ANY]
        msg = [b"message", b"rfc822", None, None, None, b"7bit", str(len(INNER)), inner_env,
               inner_text, ANY]
        self.expect(items["BODY"], [text, app, msg, b"mixed"])
        nil4 = [None, None, None, None]
        self.expect(items["BODYSTRUCTURE"],
                    [text + nil4, app + [None, [b"attachment", [b"filename", b"data.bin"]],
                                         None, None],
                     msg[:8] + [inner_text + nil4, ANY] + nil4,
                     b"mixed", [b"boundary", b"XYZ"], None, None, None])
        items = self.peek("qp", "BODYSTRUCTURE")
        self.expect(items["BODYSTRUCTURE"], [b"text", b"plain", [b"charset", b"utf-8"], None, None,
                                             b"quoted-printable", str(len(QP_BODY)), "2"] + nil4)

    def test_macros(self):
        base = ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        for macro, want in (("FAST", base), ("ALL", base + ["ENVELOPE"]),
                            ("FULL", base + ["ENVELOPE", "BODY"])):
            self.assertEqual(sorted(self.peek("plain", macro)), sorted(want), macro)

    def test_uid_fetch(self):
        msn, uid = self.msgs["plain"]
        items = self.peek("plain", "FLAGS", uid=True)  # UID is always there
        self.assertEqual(int(items["UID"]), uid)
        untagged = self.r.ok("UID FETCH 1:* FLAGS")
        self.assertEqual(len(fetches(untagged)), 4)
        untagged = self.r.ok(f"UID FETCH {uid},{uid + 1000} BODY.PEEK[HEADER.FIELDS (Subject)]")
        self.assertEqual(list(fetches(untagged)), [msn])
        _, done = self.r.cmd("FETCH 5 FLAGS")  # over EXISTS: BAD (RFC 9051 9)
        self.assertStatus(done, "BAD")
        c = self.imap("fiona")  # imaplib agrees
        c.select("INBOX", readonly=True)
        self.assertIn(b"UID %d" % uid, c.uid("FETCH", str(uid), "(RFC822.SIZE)")[1][0])


class TestSeenAndModseq(FetchCase):
    def test_seen(self):
        r = self.raw("sam", select="INBOX")
        msgs = by_subject(r)
        m1 = msgs["m1"][0]
        other = self.raw("sam", select="INBOX")
        # BODY.PEEK and RFC822.HEADER leave \Seen alone
        self.assertNotIn("FLAGS", self.fetch1(r, m1, "(BODY.PEEK[] RFC822.HEADER)"))
        self.assertEqual(self.fetch1(r, m1, "FLAGS")["FLAGS"], [])
        r.ok("EXAMINE INBOX")  # in EXAMINE, BODY[] leaves it alone too
        self.fetch1(r, m1, "BODY[]")
        self.assertEqual(self.fetch1(r, m1, "FLAGS")["FLAGS"], [])
        r.ok("SELECT INBOX")
        # BODY[] sets it and says so in the same response (RFC 9051 6.4.5)
        items = self.fetch1(r, m1, "BODY[TEXT]")
        self.assertEqual(items["FLAGS"], ["\\Seen"])
        self.assertEqual(items["BODY[TEXT]"], b"text 1\r\n")
        items = self.fetch1(r, msgs["m2"][0], "RFC822.TEXT")
        self.assertEqual(items["FLAGS"], ["\\Seen"])
        items = self.fetch1(r, msgs["m3"][0], "BINARY[1]")
        self.assertEqual(items["FLAGS"], ["\\Seen"])
        # once seen, nothing new to say
        self.assertNotIn("FLAGS", self.fetch1(r, m1, "BODY[TEXT]"))
        # the other session hears of it at its next command (RFC 9051 7.5.1)
        untagged = other.ok("NOOP")
        seen = {msn: items["FLAGS"] for msn, items in fetches(untagged).items()}
        self.assertEqual(seen, {msgs[s][0]: ["\\Seen"] for s in ("m1", "m2", "m3")})

    def test_condstore_fetch(self):
        r = self.raw("cora")
        r.ok("ENABLE QRESYNC")
        untagged = r.ok("SELECT INBOX")
        top = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"\n".join(untagged)).group(1))
        msgs = by_subject(r)
        got = fetches(r.ok("FETCH 1:* (UID MODSEQ)"))
        self.assertTrue(all(int(i["MODSEQ"][0]) <= top for i in got.values()))
        self.assertEqual(fetches(r.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {top})")), {})
        msn, uid = msgs["m4"]
        # RFC 7162 3.2.4: with CONDSTORE on, the FETCH that reports an
        # implicit \Seen carries UID and MODSEQ
        items = self.fetch1(r, msn, "BODY[TEXT]")
        self.assertEqual(items.get("FLAGS"), ["\\Seen"])
        self.assertEqual(int(items.get("UID", 0)), uid)
        self.assertIn("MODSEQ", items)
        got = fetches(r.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {top})"))
        self.assertEqual(list(got), [msn])
        self.assertGreater(int(got[msn]["MODSEQ"][0]), top)  # MODSEQ though not asked
        got = fetches(r.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {top})"))
        self.assertEqual(list(got), [msn])
        _, done = r.cmd(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {top} VANISHED)")
        self.assertStatus(done, "BAD")  # VANISHED needs UID FETCH (RFC 7162 3.2.6)


class TestLive(ImapCase):
    """What a session sees of what happens elsewhere."""
    users = ("ivy", "nora", "selma", "fred", "eve", "bea")
    BIG = "".join("%05d %s\r\n" % (i, "y" * 70) for i in range(4000))  # 312 KB

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        deliver_all(cls, "eve", [(f"e{i}", "", b"text\r\n") for i in range(1, 4)])
        deliver_all(cls, "bea", [(f"b{i}", "", cls.BIG.encode()) for i in range(1, 4)])

    def test_no_expunge_during_fetch(self):
        """RFC 9051 7.5.1: no EXPUNGE while answering FETCH; the next NOOP
        tells."""
        a = self.raw("eve", select="INBOX")
        b = self.raw("eve", select="INBOX")
        msn, uid = by_subject(a)["e2"]
        a.ok(f"STORE {msn} +FLAGS.SILENT (\\Deleted)")
        self.assertIn(b"* %d EXPUNGE" % msn, a.ok("EXPUNGE"))
        untagged = b.ok("FETCH 1:* (FLAGS)")
        self.assertFalse([u for u in untagged if u.endswith(b"EXPUNGE")], untagged)
        self.assertIn(b"* %d EXPUNGE" % msn, b.ok("NOOP"))
        self.assertEqual(len(fetches(b.ok("FETCH 1:* UID"))), 2)

    def test_big_fetch_with_a_slow_reader(self):
        """Output over IMAPD_CHUNK streams in steps, waiting for the client."""
        r = self.raw("bea", select="INBOX")
        r.send(b"f1 FETCH 1:* (BODY.PEEK[])\r\n")
        time.sleep(1.0)  # read nothing for a while
        untagged, done = r.until("f1")
        self.assertStatus(done, "OK")
        got = fetches(untagged)
        self.assertEqual(sorted(got), [1, 2, 3])
        for items in got.values():
            self.assertTrue(items["BODY[]"].endswith(b"\r\n\r\n" + self.BIG.encode()))

    def untagged(self, r, skip=(b"RECENT",)):
        """The next untagged response but RECENT (IMAP4rev1 sends both)."""
        while True:
            resp = r.response()
            if not any(resp.endswith(b" " + k) for k in skip):
                return resp

    def test_idle_sees_delivery(self):
        r = self.raw("ivy", select="INBOX")
        self.stack.deliver(self.addr("ivy"), subject="before")
        self.wait_spool("ivy")
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.response().startswith(b"+"))
        r.sock.settimeout(5)
        self.assertEqual(self.untagged(r), b"* 1 EXISTS")  # what came before IDLE
        t0 = time.monotonic()
        self.stack.deliver(self.addr("ivy"), subject="during")
        exists = self.untagged(r)  # within 5 s: a functional bound, not a speed test
        delay = time.monotonic() - t0
        print(f"\nIDLE: EXISTS {delay * 1000:.0f} ms after the delivery started",
              file=sys.stderr)
        self.assertEqual(exists, b"* 2 EXISTS")
        r.send(b"DONE\r\n")
        _, done = r.until("i1")
        self.assertEqual(done, b"i1 OK IDLE terminated")
        self.assertEqual(len(fetches(r.ok("FETCH 1:* UID"))), 2)

    def test_idle_details(self):
        r = self.raw("fred")  # in the authenticated state too
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.response().startswith(b"+"))
        r.send(b"done\r\n")
        self.assertEqual(r.response(), b"i1 OK IDLE terminated")
        r.send(b"i2 IDLE\r\nDONE\r\ni3 NOOP\r\n")  # pipelined
        self.assertTrue(r.response().startswith(b"+"))
        self.assertEqual(r.until("i2")[1], b"i2 OK IDLE terminated")
        self.assertEqual(r.until("i3")[1], b"i3 OK NOOP completed")
        r.send(b"i4 IDLE\r\ni5 NOOP\r\n")  # not DONE: BAD, IDLE ends
        self.assertTrue(r.response().startswith(b"+"))
        self.assertRegex(r.until("i4")[1], rb"^i4 BAD ")
        r.ok("SELECT INBOX")
        before = imap_metrics(self.stack)["imap_sessions_idle"]
        r.send(b"i6 IDLE\r\n")
        r.response()
        self.assertEqual(imap_metrics(self.stack)["imap_sessions_idle"], before + 1)
        r.send(b"DONE\r\n")
        r.until("i6")
        self.assertEqual(imap_metrics(self.stack)["imap_sessions_idle"], before)

    def test_idle_sees_flag_change_of_another_session(self):
        self.stack.deliver(self.addr("fred"), subject="flagme")
        self.wait_spool("fred")
        a = self.raw("fred", select="INBOX")
        b = self.raw("fred", select="INBOX")
        b.send(b"i1 IDLE\r\n")
        while not b.response().startswith(b"+"):
            pass
        a.ok("FETCH 1 BODY[]")
        b.sock.settimeout(5)
        resp = self.untagged(b, skip=(b"EXISTS", b"RECENT"))
        self.assertEqual(fetches([resp])[1]["FLAGS"], ["\\Seen"])
        b.send(b"DONE\r\n")
        b.until("i1")

    def test_noop_sees_delivery_when_another_session_idles(self):
        watcher = self.raw("nora", select="INBOX")
        idler = self.raw("nora", select="INBOX")
        idler.send(b"i1 IDLE\r\n")
        self.assertTrue(idler.response().startswith(b"+"))
        self.stack.deliver(self.addr("nora"), subject="one")
        idler.sock.settimeout(5)
        self.assertEqual(self.untagged(idler), b"* 1 EXISTS")
        untagged = watcher.ok("NOOP")
        self.assertIn(b"* 1 EXISTS", untagged)
        idler.send(b"DONE\r\n")
        idler.until("i1")

    def test_noop_sees_delivery(self):
        """Nobody in IDLE: NOOP is the poll for new mail (RFC 9051 6.1.2)."""
        r = self.raw("selma", select="INBOX")
        count = len(fetches(r.ok("UID FETCH 1:* UID")))
        self.stack.deliver(self.addr("selma"), subject="polled")
        self.wait_spool("selma", 1)
        deadline = time.time() + 3
        untagged = []
        while time.time() < deadline:
            untagged = r.ok("NOOP")
            if untagged:
                break
            time.sleep(0.2)
        self.assertIn(b"* %d EXISTS" % (count + 1), untagged)

    def test_select_sees_delivery(self):
        r = self.raw("selma")  # logged in before the delivery
        count = len(fetches(self.raw("selma", select="INBOX").ok("UID FETCH 1:* UID")))
        self.stack.deliver(self.addr("selma"), subject="selected")
        self.wait_spool("selma", 1)
        time.sleep(0.3)
        untagged = r.ok("SELECT INBOX")
        self.assertIn(b"* %d EXISTS" % (count + 1), untagged)


if __name__ == "__main__":
    unittest.main(verbosity=2)
