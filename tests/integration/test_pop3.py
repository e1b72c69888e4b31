"""ownmail-pop3 over real sockets (Python's poplib, and Pop3Raw for exact
octets): the greeting and CAPA before and after login, USER/PASS (spaces in
a password), AUTH PLAIN (RFC 5034: initial response, continuation, "*", a
response longer than a command line), STLS (and plaintext injected behind
it) and implicit TLS; STAT, LIST, RETR (dot-stuffing octet for octet, across
the server's read pieces), TOP, UIDL (the UIDVALIDITY and UIDs IMAP
reports, stable across sessions), DELE, RSET, NOOP, QUIT and the UPDATE
state (removed at QUIT only, exactly the marked messages, over POP3 and
IMAP; a dropped connection removes nothing; pop3.dele = trash moves to
Trash); pipelining; the snapshot (a delivery during a session shows in the
next one; IMAP expunging meanwhile); the maildrop lock ([IN-USE], across
processes too, released when a session drops or a process dies); bad input
(wrong state, unknown commands, bad numbers, long lines, NUL), wrong
passwords ([AUTH]), throttling and Redis down ([SYS/TEMP]),
pop3.errors_max; metrics. test_pop3_more.py has Trash mode, TLS required,
the limits and timeouts, and the processes.
"""
import base64
import os
import poplib
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailharness  # noqa: E402
from pop3case import (DOTTED_BODY, LONG_PASSWORD, PASSWORD, SPACED_PASSWORD, Pop3Case,
                      imap_inbox, stuff, subject_of, top_of, unstuff, capa)  # noqa: E402


class TestSession(Pop3Case):
    users = ("ada", "flo", "ben", "bob", "cid", "sam", "lou", "dot", "eve", "fay", "gus", "hal", "ivy", "jon", "kim",
             "lea", "max", "ned", "oli", "pia", "quin", "victim", "other", "rue", "uli", "meg", "gil")
    passwords = {"sam": SPACED_PASSWORD, "lou": LONG_PASSWORD}

    def test_greeting_and_quit(self):
        r = self.raw()
        self.assertRegex(r.greeting, rb"^\+OK ")
        self.assertRegex(r.cmd("QUIT"), rb"^\+OK")
        self.assertTrue(r.closed())

    def test_capa(self):
        r = self.raw()
        status, data = r.multi("CAPA")
        self.assertStatus(status, "+OK")
        before = capa(data)
        for name in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
            self.assertIn(name, before, before)
        self.assertEqual(before["SASL"], ["PLAIN"])
        self.assertEqual(before["EXPIRE"], ["NEVER"])
        self.assertEqual(before["IMPLEMENTATION"][:1], ["ownmail"])
        r.login(self.addr("ada"), PASSWORD)
        status, data = r.multi("CAPA")
        after = capa(data)
        for name in ("USER", "SASL", "STLS"):
            self.assertNotIn(name, after, after)
        for name in ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "EXPIRE", "IMPLEMENTATION"):
            self.assertIn(name, after, after)
        self.assertEqual(after["EXPIRE"], ["NEVER"])
        # poplib reads the same
        c = self.pop()
        self.assertIn("STLS", c.capa())

    def test_user_pass_and_empty_maildrop(self):
        c = self.pop()
        self.assertTrue(c.user(self.addr("ada")).startswith(b"+OK"))
        self.assertTrue(c.pass_(PASSWORD).startswith(b"+OK"))
        self.assertEqual(c.stat(), (0, 0))
        resp, lines, _ = c.list()
        self.assertEqual(lines, [])
        self.assertEqual(c.uidl()[1], [])
        self.assertTrue(c.noop().startswith(b"+OK"))
        self.assertTrue(c.quit().startswith(b"+OK"))
        # the account name in another case
        r = self.raw()
        r.login(self.addr("ada").upper(), PASSWORD)
        self.assertEqual(self.stat(r), (0, 0))

    def test_wrong_password_and_unknown_user(self):
        r = self.raw()
        # USER does not tell which accounts exist
        known = r.cmd(f"USER {self.addr('ben')}")
        self.assertStatus(known, "+OK")
        wrong = r.cmd("PASS not-the-password")
        self.assertStatus(wrong, "-ERR", "AUTH")
        unknown = r.cmd(f"USER nobody@{self.dom}")
        self.assertEqual(unknown, known.replace(self.addr("ben").encode(),
                                                f"nobody@{self.dom}".encode()))
        self.assertEqual(r.cmd(f"PASS {PASSWORD}"), wrong)
        # back in the AUTHORIZATION state: the same session may log in
        r.login(self.addr("ben"), PASSWORD)
        self.assertEqual(self.stat(r), (0, 0))
        with self.assertRaises(poplib.error_proto):
            c = self.pop()
            c.user(self.addr("ben"))
            c.pass_("wrong-again")

    def test_auth_plain(self):
        user = self.addr("cid").encode()
        ir = base64.b64encode(b"\0" + user + b"\0" + PASSWORD.encode())
        r = self.raw()  # initial response
        self.assertStatus(r.cmd(b"AUTH PLAIN " + ir), "+OK")
        self.assertEqual(self.stat(r), (0, 0))
        r.cmd("QUIT")
        r = self.raw()  # AUTH alone lists the mechanisms (as RFC 1734 servers do)
        self.assertEqual(r.multi("AUTH"), (b"+OK", b"PLAIN\r\n"))
        r = self.raw()  # continuation
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertStatus(r.cmd(ir), "+OK")
        r.cmd("QUIT")
        r = self.raw()  # "*" cancels; the session goes on
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertStatus(r.cmd("*"), "-ERR")
        self.assertErr(r, b"AUTH PLAIN " + base64.b64encode(b"\0" + user + b"\0wrong"), "AUTH")
        self.assertErr(r, "AUTH PLAIN =")  # empty: no credentials at all
        self.assertErr(r, "AUTH PLAIN !!!not-base64!!!")
        self.assertErr(r, "AUTH CRAM-MD5")
        self.assertErr(r, b"AUTH PLAIN " + base64.b64encode(
            b"victim@" + self.dom.encode() + b"\0" + user + b"\0" + PASSWORD.encode()))
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertStatus(r.cmd("!!"), "-ERR")  # not base64 in the continuation
        self.assertStatus(r.cmd(b"auth plain " + ir), "+OK")  # names ignore case
        self.assertEqual(self.stat(r), (0, 0))

    def test_implicit_tls(self):
        r = self.raw(tls=True)
        self.assertRegex(r.greeting, rb"^\+OK ")
        _, data = r.multi("CAPA")
        listed = capa(data)
        self.assertNotIn("STLS", listed)
        self.assertIn("USER", listed)
        self.assertEqual(listed["SASL"], ["PLAIN"])
        self.assertErr(r, "STLS")
        c = self.pop(tls=True)
        c.user(self.addr("dot"))
        self.assertTrue(c.pass_(PASSWORD).startswith(b"+OK"))
        self.assertEqual(c.stat(), (0, 0))

    def test_stls(self):
        c = self.pop()
        self.assertTrue(c.stls(mailharness.client_tls()).startswith(b"+OK"))
        caps = c.capa()
        self.assertNotIn("STLS", caps)
        self.assertIn("USER", caps)
        c.user(self.addr("eve"))
        self.assertTrue(c.pass_(PASSWORD).startswith(b"+OK"))
        self.assertEqual(c.stat(), (0, 0))
        c.quit()
        r = self.raw()  # twice: refused
        r.ok("STLS")
        r.starttls()
        self.assertErr(r, "STLS")
        r.login(self.addr("eve"), PASSWORD)
        self.assertErr(r, "STLS")  # and not after login either
        r2 = self.raw("fay")
        self.assertErr(r2, "STLS")

    def test_stls_drops_injected_plaintext(self):
        """Commands sent in clear text behind STLS must not run inside the
        TLS session (RFC 2595 3.1; the CVE-2011-0411 class)."""
        r = self.raw()
        r.send(f"STLS\r\nUSER {self.addr('fay')}\r\nPASS {PASSWORD}\r\n".encode())
        self.assertStatus(r.line(), "+OK")
        r.starttls()
        self.assertStatus(r.cmd("STAT"), "-ERR")  # not logged in: dropped
        self.assertStatus(r.cmd(f"PASS {PASSWORD}"), "-ERR")  # no USER either
        r.login(self.addr("fay"), PASSWORD)

    def test_pipelining(self):
        self.deliver("gus", ["pipe-1", "pipe-2"])
        r = self.raw()
        r.send(f"USER {self.addr('gus')}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST\r\nUIDL 2\r\n"
               "RETR 1\r\nBOGUS\r\nNOOP\r\nQUIT\r\n".encode())
        self.assertStatus(r.line(), "+OK")
        self.assertStatus(r.line(), "+OK")
        self.assertRegex(r.line(), rb"^\+OK 2 \d+$")
        self.assertStatus(r.line(), "+OK")
        self.assertEqual(len(r.data().split(b"\r\n")), 3)
        self.assertRegex(r.line(), rb"^\+OK 2 \S+$")
        self.assertStatus(r.line(), "+OK")
        self.assertIn(b"Subject: pipe-1\r\n", r.data())
        self.assertStatus(r.line(), "-ERR")
        self.assertStatus(r.line(), "+OK")
        self.assertStatus(r.line(), "+OK")
        self.assertTrue(r.closed())
        # AUTH PLAIN and its continuation line in one packet with the rest
        ir = base64.b64encode(b"\0" + self.addr("gus").encode() + b"\0" + PASSWORD.encode())
        r = self.raw()
        r.send(b"AUTH PLAIN\r\n" + ir + b"\r\nSTAT\r\nQUIT\r\n")
        self.assertRegex(r.line(), rb"^\+ ?$")
        self.assertStatus(r.line(), "+OK")
        self.assertRegex(r.line(), rb"^\+OK 2 \d+$")
        self.assertStatus(r.line(), "+OK")
        self.assertTrue(r.closed())

    def test_pipelining_flood(self):
        """Thousands of commands in a stream, sent while the answers are
        read: every one answered, in order."""
        self.deliver("gil", ["flood-1"])
        r = self.raw("gil")
        n = 600
        stream = b"".join(b"RETR 1\r\nNOOP\r\nLIST 1\r\nUIDL\r\n" for _ in range(n))
        sender = threading.Thread(target=r.send, args=(stream,))
        sender.start()
        try:
            first = None
            for i in range(n):
                status, data = r.line(), r.data()
                self.assertStatus(status, "+OK")
                first = first or data
                self.assertEqual(data, first, i)
                self.assertEqual(r.line(), b"+OK")
                self.assertRegex(r.line(), rb"^\+OK 1 \d+$")
                self.assertStatus(r.line(), "+OK")
                self.assertRegex(r.data(), rb"^1 \S+\r\n$")
        finally:
            sender.join(30)
        self.assertIn(b"Subject: flood-1\r\n", first)
        r.ok("QUIT")

    def test_pass_with_spaces(self):
        """RFC 1939 7: the spaces of a password are part of it."""
        r = self.raw()
        r.login(self.addr("sam"), SPACED_PASSWORD)
        self.assertEqual(self.stat(r), (0, 0))
        r.ok("QUIT")
        r = self.raw()
        r.ok(f"USER {self.addr('sam')}")
        self.assertStatus(r.cmd("PASS " + SPACED_PASSWORD.split()[0]), "-ERR", "AUTH")

    def test_auth_plain_long_password(self):
        """A response longer than a command line goes in the continuation
        (RFC 5034 4), up to the SASL line limit."""
        ir = base64.b64encode(b"\0" + self.addr("lou").encode() + b"\0" + LONG_PASSWORD.encode())
        self.assertGreater(len(ir), 300)
        r = self.raw()
        self.assertEqual(r.cmd(b"AUTH PLAIN " + ir), b"-ERR line too long")
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertStatus(r.cmd(ir), "+OK")
        self.assertEqual(self.stat(r), (0, 0))
        r.ok("QUIT")
        r = self.raw()  # past the SASL line limit: refused, the session goes on
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertEqual(r.cmd(b"A" * 10000), b"-ERR line too long")
        self.assertStatus(r.cmd("STAT"), "-ERR")
        self.assertRegex(r.cmd("AUTH PLAIN"), rb"^\+ ?$")
        self.assertStatus(r.cmd(ir), "+OK")

    # ---- the commands against IMAP's view -----------------------------------

    def test_stat_list_retr_uidl_against_imap(self):
        subjects = ["m-one", "m-two", "m-three", "m-dots"]
        self.deliver("hal", subjects, body={"m-dots": DOTTED_BODY,
                                           "m-two": "Gr\u00fc\u00dfe, caf\u00e9.\r\n"},
                     extra={"m-two": "Content-Type: text/plain; charset=utf-8\r\n"})
        uidvalidity, far = imap_inbox(self.imap("hal"))
        self.assertEqual([subject_of(m[3]) for m in far], subjects)
        r = self.raw("hal")
        self.assertEqual(self.stat(r), (4, sum(m[1] for m in far)))
        sizes = self.listing(r)
        # the size is the stored message's (CRLF, before dot-stuffing),
        # which is IMAP's RFC822.SIZE
        self.assertEqual(sizes, {i + 1: str(m[1]) for i, m in enumerate(far)})
        for i, m in enumerate(far):
            self.assertEqual(r.cmd(f"LIST {i + 1}"), b"+OK %d %d" % (i + 1, m[1]))
            status, data = r.multi(f"RETR {i + 1}")
            self.assertRegex(status, rb"^\+OK")
            self.assertEqual(data, stuff(m[3]), m[3])  # octet for octet
            self.assertEqual(unstuff(data), m[3])
            self.assertEqual(len(unstuff(data)), m[1])
        # the dotted message: every line that starts with "." got one more
        dotted = r.multi("RETR 4")[1]
        for ln in (b"..leading dot\r\n", b"...two dots\r\n", b"\r\n..\r\nafter a lone dot\r\n",
                   b"\r\n.. dot space\r\n", b"\r\n....\r\nnot.a.dot.line\r\n..\r\n"):
            self.assertIn(ln, dotted)
        self.assertTrue(dotted.endswith(b"\r\n..\r\n"), dotted[-40:])
        # UIDL: "<uidvalidity>.<uid>" of IMAP, in UID order
        want = {i + 1: f"{uidvalidity}.{m[0]}" for i, m in enumerate(far)}
        self.assertEqual(self.listing(r, "UIDL"), want)
        for n, uid in want.items():
            self.assertEqual(r.cmd(f"UIDL {n}"), f"+OK {n} {uid}".encode())
        self.assertStatus(r.cmd("QUIT"), "+OK")
        # stable across sessions; RETR left the messages where they were
        c = self.pop("hal")
        self.assertEqual({int(x.split()[0]): x.split()[1].decode() for x in c.uidl()[1]}, want)
        self.assertEqual(c.stat(), (4, sum(m[1] for m in far)))
        resp, lines, octets = c.retr(4)  # poplib unstuffs
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", far[3][3])
        c.quit()
        self.assertEqual([m[0] for m in imap_inbox(self.imap("hal"))[1]], [m[0] for m in far])

    def test_top(self):
        body = "".join(f"line {i}\r\n" for i in range(1, 8)) + ".dotted body line\r\n"
        self.deliver("ivy", ["top-1"], body={"top-1": body})
        _, far = imap_inbox(self.imap("ivy"))
        raw = far[0][3]
        r = self.raw("ivy")
        for n, want in ((0, top_of(raw, 0)), (3, top_of(raw, 3)), (99999, raw),
                        (8, raw), (7, top_of(raw, 7))):
            status, data = r.multi(f"TOP 1 {n}")
            self.assertStatus(status, "+OK")
            self.assertEqual(data, stuff(want), n)
        self.assertTrue(r.multi("TOP 1 0")[1].endswith(b"\r\n\r\n"))
        self.assertEqual(r.multi("TOP 1 99999999999999999999")[1], stuff(raw))  # past 2^32
        # keywords in any case (RFC 1939 3)
        self.assertEqual(r.multi("top 1 3")[1], stuff(top_of(raw, 3)))
        self.assertEqual(r.multi("Retr 1")[1], stuff(raw))
        self.assertRegex(r.cmd("stat"), rb"^\+OK 1 \d+$")
        self.assertEqual(r.cmd("uidl 1"), r.cmd("UIDL 1"))
        self.assertIn(b"\r\n..dotted body line\r\n", r.multi("TOP 1 8")[1])
        r.ok("QUIT")
        c = self.pop("ivy")
        resp, lines, _ = c.top(1, 3)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", top_of(raw, 3))

    def test_large_message(self):
        """A message of about 700 KB with dotted lines all through it: the
        whole of it, in order, stuffed across the server's buffers."""
        lines = []
        for i in range(9000):
            lines.append(("." if i % 7 == 0 else "") + f"line {i:05d} " + "x" * (i % 120))
        body = "\r\n".join(lines) + "\r\n"
        self.deliver("jon", ["big"], body={"big": body})
        _, far = imap_inbox(self.imap("jon"))
        raw = far[0][3]
        self.assertGreater(len(raw), 600000)
        r = self.raw("jon")
        self.assertEqual(r.cmd("LIST 1"), b"+OK 1 %d" % len(raw))
        status, data = r.multi("RETR 1")
        self.assertStatus(status, "+OK")
        self.assertEqual(data, stuff(raw))
        self.assertEqual(r.multi("TOP 1 5")[1], stuff(top_of(raw, 5)))
        r.ok("NOOP")

    def test_dot_lines_across_chunks(self):
        """810 KB of ".\\r\\n" lines: the server reads a message in pieces
        of 256 KiB, and with a period of 3 octets its three piece boundaries
        fall before a ".", between it and the CR, and between CR and LF."""
        self.deliver("jon", ["dots"], body={"dots": ".\r\n" * 270000})
        _, far = imap_inbox(self.imap("jon"))
        raw = [m[3] for m in far if subject_of(m[3]) == "dots"][0]
        n = [i + 1 for i, m in enumerate(far) if subject_of(m[3]) == "dots"][0]
        r = self.raw("jon")
        status, data = r.multi(f"RETR {n}")
        self.assertEqual(len(data), len(stuff(raw)))
        self.assertEqual(data, stuff(raw))
        for lines in (0, 87000, 174763, 262000, 269999, 270000, 270001):
            self.assertEqual(r.multi(f"TOP {n} {lines}")[1], stuff(top_of(raw, lines)), lines)
        r.ok("NOOP")

    def test_snapshot(self):
        """A message delivered during a session is not seen until the next."""
        self.deliver("kim", ["snap-1", "snap-2"])
        r = self.raw("kim")
        before = self.stat(r)
        uidls = self.listing(r, "UIDL")
        self.assertEqual(before[0], 2)
        self.deliver("kim", ["snap-3"])
        r.ok("NOOP")
        self.assertEqual(self.stat(r), before)
        self.assertEqual(self.listing(r, "UIDL"), uidls)
        self.assertEqual(sorted(self.listing(r)), [1, 2])
        self.assertErr(r, "RETR 3")
        self.assertErr(r, "LIST 3")
        self.assertErr(r, "UIDL 3")
        r.ok("QUIT")
        r = self.raw("kim")
        self.assertEqual(self.stat(r)[0], 3)
        now = self.listing(r, "UIDL")
        self.assertEqual({n: now[n] for n in (1, 2)}, uidls)
        self.assertIn(b"Subject: snap-3\r\n", r.multi("RETR 3")[1])

    # ---- DELE, RSET and the UPDATE state ------------------------------------

    def test_dele_then_quit_removes(self):
        self.deliver("lea", ["del-1", "del-2", "del-3", "del-4"])
        uidvalidity, far = imap_inbox(self.imap("lea"))
        r = self.raw("lea")
        total = self.stat(r)[1]
        uidls = self.listing(r, "UIDL")
        r.ok("DELE 2")
        r.ok("DELE 4")
        # marked: counted out by STAT and LIST, refused by the others
        self.assertEqual(self.stat(r), (2, total - far[1][1] - far[3][1]))
        self.assertEqual(sorted(self.listing(r)), [1, 3])
        self.assertEqual(sorted(self.listing(r, "UIDL")), [1, 3])
        for text in ("RETR 2", "TOP 2 0", "LIST 2", "UIDL 2", "DELE 2"):
            line = self.assertErr(r, text)
            self.assertIn(b"deleted", line, text)
        self.assertIn(b"Subject: del-3\r\n", r.multi("RETR 3")[1])  # the others are as before
        # nothing is removed before QUIT
        _, still = imap_inbox(self.imap("lea"))
        self.assertEqual([m[0] for m in still], [m[0] for m in far])
        self.assertEqual(still[1][2] & {r"\Deleted"}, set())
        self.assertStatus(r.cmd("QUIT"), "+OK")
        self.assertTrue(r.closed())
        # a new session: renumbered, the same UIDLs for the rest
        r = self.raw("lea")
        self.assertEqual(self.listing(r, "UIDL"), {1: uidls[1], 2: uidls[3]})
        self.assertIn(b"Subject: del-3\r\n", r.multi("RETR 2")[1])
        r.cmd("QUIT")
        # IMAP: gone (expunged, not only flagged), nothing in Trash
        _, after = imap_inbox(self.imap("lea"))
        self.assertEqual([subject_of(m[3]) for m in after], ["del-1", "del-3"])
        self.assertEqual([m[0] for m in after], [far[0][0], far[2][0]])
        _, trash = imap_inbox(self.imap("lea"), "Trash")
        self.assertEqual(trash, [])

    def test_imap_changes_during_a_session(self):
        """IMAP expunges a message of the snapshot and flags another \\Deleted
        without expunging: RETR says so, and QUIT removes exactly what this
        session marked."""
        self.deliver("rue", ["imp-1", "imp-2", "imp-3", "imp-4"])
        _, far = imap_inbox(self.imap("rue"))
        r = self.raw("rue")
        c = self.imap("rue")
        c.select("INBOX")
        c.uid("STORE", str(far[0][0]), "+FLAGS", r"(\Deleted)")
        self.assertEqual(c.uid("EXPUNGE", str(far[0][0]))[0], "OK")
        c.uid("STORE", str(far[2][0]), "+FLAGS", r"(\Deleted)")
        self.assertStatus(r.cmd("RETR 1"), "-ERR")
        self.assertStatus(r.cmd("TOP 1 0"), "-ERR")
        self.assertIn(b"Subject: imp-3\r\n", r.multi("RETR 3")[1])
        r.ok("DELE 1")
        r.ok("DELE 2")
        self.assertStatus(r.cmd("QUIT"), "+OK")
        _, after = imap_inbox(self.imap("rue"))
        self.assertEqual([(subject_of(m[3]), m[2] & {r"\Deleted"}) for m in after],
                         [("imp-3", {r"\Deleted"}), ("imp-4", set())])

    def test_flags_set_over_imap_keep_the_uidl(self):
        """A message flagged over IMAP is listed with the same UIDL (flags are
        not part of it), and one deleted over POP3 is gone for IMAP too."""
        self.deliver("flo", ["fl-1", "fl-2", "fl-3"])
        uidvalidity, far = imap_inbox(self.imap("flo"))
        r = self.raw("flo")
        before = self.listing(r, "UIDL")
        r.cmd("QUIT")
        c = self.imap("flo")
        c.select("INBOX")
        c.uid("STORE", f"{far[0][0]}:{far[2][0]}", "+FLAGS", r"(\Flagged \Seen $Label1)")
        c.logout()
        r = self.raw("flo")
        self.assertEqual(self.listing(r, "UIDL"), before)
        self.assertEqual(before, {i + 1: f"{uidvalidity}.{m[0]}" for i, m in enumerate(far)})
        r.ok("DELE 2")
        self.assertStatus(r.cmd("QUIT"), "+OK")
        _, after = imap_inbox(self.imap("flo"))
        self.assertEqual([m[0] for m in after], [far[0][0], far[2][0]])
        self.assertTrue(all({r"\Flagged", r"\Seen"} <= m[2] for m in after))

    def test_dele_then_drop_removes_nothing(self):
        self.deliver("max", ["drop-1", "drop-2"])
        r = self.raw("max")
        r.ok("DELE 1")
        r.ok("DELE 2")
        self.assertEqual(self.stat(r), (0, 0))
        r.close()  # no QUIT
        r = self.raw("max")
        self.assertEqual(self.stat(r)[0], 2)
        r.ok("DELE 1")
        r.send(b"STAT\r\nQU")  # dropped in the middle of QUIT
        self.assertStatus(r.line(), "+OK")
        r.close()
        r = self.raw("max")
        self.assertEqual(self.stat(r)[0], 2)
        r.close()
        _, far = imap_inbox(self.imap("max"))
        self.assertEqual([subject_of(m[3]) for m in far], ["drop-1", "drop-2"])

    def test_drops_at_every_step(self):
        """The client goes away during the login job, in the middle of a
        RETR, and right after QUIT: the maildrop is free again each time,
        and a QUIT either removed its message or did not, whole."""
        body = "".join(f"line {i:06d} " + "z" * 70 + "\r\n" for i in range(8000))
        self.deliver("uli", ["big-1", "small-2", "small-3"], body={"big-1": body})
        for _ in range(3):
            r = self.raw()
            r.send(f"USER {self.addr('uli')}\r\nPASS {PASSWORD}\r\n".encode())
            r.close()
            r = self.raw("uli")
            r.send(b"RETR 1\r\n")
            r.f.read(1000)
            r.close()
        r = self.raw("uli")
        self.assertEqual(self.stat(r)[0], 3)
        r.send(b"DELE 3\r\nQUIT\r\n")
        r.close()
        r = self.raw("uli")
        count = self.stat(r)[0]
        self.assertIn(count, (2, 3))
        r.close()
        _, far = imap_inbox(self.imap("uli"))
        self.assertEqual([subject_of(m[3]) for m in far], ["big-1", "small-2", "small-3"][:count])
        self.assertAlive()

    def test_rset(self):
        self.deliver("ned", ["rset-1", "rset-2", "rset-3"])
        c = self.pop("ned")
        count, size = c.stat()
        c.dele(1)
        c.dele(3)
        self.assertEqual(c.stat()[0], 1)
        self.assertTrue(c.rset().startswith(b"+OK"))
        self.assertEqual(c.stat(), (count, size))
        self.assertIn(b"Subject: rset-1", b"\n".join(c.retr(1)[1]))
        c.dele(2)
        c.rset()
        c.quit()
        c = self.pop("ned")
        self.assertEqual(c.stat(), (count, size))

    # ---- the maildrop lock ---------------------------------------------------

    def test_in_use(self):
        self.deliver("oli", ["lock-1"])
        first = self.raw("oli")
        second = self.raw()
        second.ok(f"USER {self.addr('oli')}")
        self.assertEqual(second.cmd(f"PASS {PASSWORD}"), b"-ERR [IN-USE] maildrop already locked")
        b64 = base64.b64encode(b"\0" + self.addr("oli").encode() + b"\0" + PASSWORD.encode())
        self.assertStatus(second.cmd(b"AUTH PLAIN " + b64), "-ERR", "IN-USE")
        third = self.raw(tls=True)
        third.ok(f"USER {self.addr('oli')}")
        self.assertStatus(third.cmd(f"PASS {PASSWORD}"), "-ERR", "IN-USE")
        # a wrong password is told so, not that the maildrop is in use
        second.ok(f"USER {self.addr('oli')}")
        self.assertStatus(second.cmd("PASS wrong-password"), "-ERR", "AUTH")
        # the first session is not disturbed; other users are not locked
        self.assertEqual(self.stat(first)[0], 1)
        self.raw("pia")
        first.ok("DELE 1")
        self.assertStatus(first.cmd("QUIT"), "+OK")
        # the same second session gets in now, and sees the deletion
        second.ok(f"USER {self.addr('oli')}")
        self.assertStatus(second.cmd(f"PASS {PASSWORD}"), "+OK")
        self.assertEqual(self.stat(second), (0, 0))

    # ---- bad input -----------------------------------------------------------

    def test_wrong_state(self):
        r = self.raw()
        for text in ("STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "RSET", "TOP 1 0", "UIDL"):
            self.assertErr(r, text)
        r = self.raw()
        self.assertErr(r, f"PASS {PASSWORD}")  # no USER
        self.assertErr(r, "APOP someone 0123456789abcdef0123456789abcdef")
        r.ok(f"USER {self.addr('quin')}")
        self.assertErr(r, "STAT")  # between USER and PASS: USER is forgotten
        self.assertErr(r, f"PASS {PASSWORD}")
        r.login(self.addr("quin"), PASSWORD)
        for text in (f"USER {self.addr('quin')}", f"PASS {PASSWORD}", "AUTH PLAIN", "STLS",
                     "APOP x y"):
            self.assertErr(r, text)
        self.assertEqual(self.stat(r), (0, 0))
        self.assertAlive()

    def test_unknown_commands(self):
        r = self.raw()
        for text in ("FOO", "XYZZY 1 2 3", "", " ", "RETRX 1", "LAST"):
            self.assertErr(r, text)
        self.assertStatus(r.multi("CAPA")[0], "+OK")
        r.login(self.addr("quin"), PASSWORD)
        self.assertErr(r, "FETCH 1")
        self.assertErr(r, "\x01\x02\xff")
        r.ok("NOOP")

    def test_bad_numbers(self):
        self.deliver("bob", ["num-1", "num-2"])
        texts = ["RETR 0", "RETR -1", "RETR 99999", "RETR abc", "RETR", "RETR 1x",
                 "RETR 99999999999999999999999", "LIST 0", "LIST 3", "LIST -1", "DELE 0",
                 "DELE 3", "UIDL 0", "UIDL x", "TOP 1", "TOP 1 -1", "TOP 1 x", "TOP 0 1",
                 "TOP 3 0", "TOP", "DELE"]
        r = None
        for i, text in enumerate(texts):
            if i % 7 == 0:  # well under pop3.errors_max (10) per session
                if r is not None:
                    r.close()
                r = self.raw("bob")
            self.assertErr(r, text)
        self.assertEqual(self.stat(r)[0], 2)  # and nothing was marked
        r.close()
        self.assertAlive()

    def test_long_lines(self):
        r = self.raw("pia")
        # 255 octets with CRLF: a line; 256: too long (RFC 2449 4)
        ok = r.cmd("NOOP " + "x" * 248)
        self.assertEqual(len(b"NOOP " + b"x" * 248 + b"\r\n"), 255)
        self.assertNotIn(b"too long", ok)
        self.assertEqual(r.cmd("NOOP " + "x" * 249), b"-ERR line too long")
        r.ok("NOOP")
        # a huge one: one answer, the rest discarded, the session goes on
        r.send(b"RETR " + b"9" * 100000 + b"\r\n")
        self.assertEqual(r.line(), b"-ERR line too long")
        r.ok("NOOP")
        # one that arrives in pieces, then a good command in the same packet
        r.send(b"LIST " + b"1" * 200)
        time.sleep(0.2)
        r.send(b"2" * 200)
        time.sleep(0.2)
        r.send(b"3\r\nSTAT\r\n")
        self.assertEqual(r.line(), b"-ERR line too long")
        self.assertRegex(r.line(), rb"^\+OK 0 0$")
        r.ok("QUIT")
        # before login as well
        r = self.raw()
        self.assertEqual(r.cmd("USER " + "a" * 300), b"-ERR line too long")
        r.login(self.addr("pia"), PASSWORD)
        self.assertAlive()

    def test_nul_and_garbage(self):
        r = self.raw("pia")
        self.assertErr(r, b"NO\0OP")
        self.assertErr(r, b"STAT\0")
        self.assertErr(r, bytes(range(1, 32)).replace(b"\r", b"").replace(b"\n", b""))
        r.ok("NOOP")
        self.assertAlive()

    def test_errors_max(self):
        """pop3.errors_max (10) bad commands end the session."""
        r = self.raw()
        for _ in range(9):
            self.assertErr(r, "BOGUS")
        self.assertStatus(r.multi("CAPA")[0], "+OK")
        r.send(b"BOGUS\r\n")
        self.assertStatus(r.line(), "-ERR")
        self.assertTrue(r.closed())
        # logged in as well
        r = self.raw("pia")
        for _ in range(9):
            self.assertErr(r, "RETR 1")  # an empty maildrop
        r.ok("NOOP")
        r.send(b"RETR 1\r\n")
        self.assertStatus(r.line(), "-ERR")
        self.assertTrue(r.closed())
        self.raw("pia").ok("NOOP")  # the lock went with it

    def test_throttle(self):
        """throttle.account_max (5 in the window): then even the right
        password is refused, with [SYS/TEMP]."""
        results = []
        for i in range(6):
            r = self.raw()
            r.ok(f"USER {self.addr('victim')}")
            results.append(r.cmd("PASS wrong-password"))
        for line in results[:5]:
            self.assertStatus(line, "-ERR", "AUTH")
        self.assertStatus(results[5], "-ERR", "SYS/TEMP")
        r = self.raw()
        r.ok(f"USER {self.addr('victim')}")
        self.assertStatus(r.cmd(f"PASS {PASSWORD}"), "-ERR", "SYS/TEMP")
        b64 = base64.b64encode(b"\0" + self.addr("victim").encode() + b"\0" + PASSWORD.encode())
        self.assertStatus(r.cmd(b"AUTH PLAIN " + b64), "-ERR", "SYS/TEMP")
        self.raw("other").ok("NOOP")  # other accounts are not affected

    def test_metrics(self):
        self.deliver("meg", ["metric-1", "metric-2"])
        before = self.stack.metrics(self.stack.pop3_metrics_port)
        for name in ("connections_total", "connections_open", "pop3_logins_total",
                     "pop3_logins_failed_total", "pop3_commands_total", "pop3_bad_commands_total",
                     "pop3_messages_retrieved_total", "pop3_messages_deleted_total",
                     "pop3_maildrops_open"):
            self.assertIn(name, before, sorted(before))
        r = self.raw("meg")
        r.cmd("BOGUS")
        r.ok("NOOP")
        r.multi("RETR 1")
        r.multi("TOP 2 0")
        r.ok("DELE 1")
        w = self.raw()
        w.ok(f"USER {self.addr('meg')}")
        w.cmd("PASS wrong-password")
        during = self.stack.metrics(self.stack.pop3_metrics_port)
        self.assertGreaterEqual(during["pop3_maildrops_open"], 1)
        self.assertGreaterEqual(during["connections_total"], before["connections_total"] + 2)
        self.assertGreaterEqual(during["pop3_logins_total"], before["pop3_logins_total"] + 1)
        self.assertGreaterEqual(during["pop3_logins_failed_total"],
                                before["pop3_logins_failed_total"] + 1)
        self.assertGreaterEqual(during["pop3_commands_total"], before["pop3_commands_total"] + 8)
        self.assertGreaterEqual(during["pop3_bad_commands_total"],
                                before["pop3_bad_commands_total"] + 1)
        self.assertGreaterEqual(during["pop3_messages_retrieved_total"],
                                before["pop3_messages_retrieved_total"] + 2)
        r.ok("QUIT")
        after = self.stack.metrics(self.stack.pop3_metrics_port)
        self.assertGreaterEqual(after["pop3_messages_deleted_total"],
                                before["pop3_messages_deleted_total"] + 1)
        self.assertLessEqual(after["pop3_maildrops_open"], during["pop3_maildrops_open"] - 1)


# ------------------------------------------------------------- configurations


if __name__ == "__main__":
    unittest.main(verbosity=2)
