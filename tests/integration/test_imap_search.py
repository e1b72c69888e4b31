"""ownmail-imap over real sockets: SEARCH and UID SEARCH (every key group:
flags, dates, sizes, header fields, full text, sets, OR / NOT / nesting,
NEW / OLD / RECENT, OLDER / YOUNGER, MODSEQ), ESEARCH (RETURN and
IMAP4rev2), SEARCHRES (SAVE and "$"), SORT and UID SORT by every criterion
with REVERSE, THREAD ORDEREDSUBJECT and REFERENCES, what a search does with
other sessions' changes, and bad input.
Clients: Python's imaplib and a raw socket client for exact responses."""
import imaplib
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

CAPS = ("ESEARCH", "SEARCHRES", "SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT",
        "THREAD=REFERENCES")


class Raw:
    """A line-level IMAP client: every untagged line of a command, exactly."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()
        self.n = 0

    def line(self):
        data = self.f.readline()
        if not data:
            raise ConnectionError("closed")
        return data.decode("utf-8", errors="replace").rstrip("\r\n")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def read_until(self, tag):
        lines = []
        while True:
            ln = self.line()
            if ln.startswith(tag + " "):
                return lines, ln
            lines.append(ln)

    def cmd(self, text):
        """Sends one command (str or bytes, literals as {n+}): (untagged, tagged)."""
        self.n += 1
        t = f"s{self.n}"
        head = f"{t} ".encode()
        self.send(head + (text if isinstance(text, bytes) else text.encode()) + b"\r\n")
        return self.read_until(t)

    def ok(self, text):
        lines, done = self.cmd(text)
        if " OK " not in done:
            raise AssertionError(f"{text!r}: {done}")
        return lines

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def lit(s):
    """s as a non-synchronizing literal (RFC 7888)."""
    data = s.encode() if isinstance(s, str) else s
    return b"{%d+}\r\n" % len(data) + data


def numbers(lines, word="SEARCH"):
    """The numbers of the untagged SEARCH (or SORT) line, without (MODSEQ n)."""
    found = [ln for ln in lines if ln == f"* {word}" or ln.startswith(f"* {word} ")]
    assert len(found) == 1, lines
    text = re.sub(r" \(MODSEQ \d+\)$", "", found[0])
    return [int(x) for x in text.split()[2:]]


# The main mailbox. A first message is appended and expunged, so that UID =
# message number + 1 and the tests see which of the two a response uses.
# sort: the SORT keys of RFC 5256 / RFC 5957 as the server should compute them.
MSGS = [
    dict(hdr="From: Alice Smith <alice@example.org>\r\nTo: bob@example.org\r\n"
             "Cc: carol@example.org\r\nSubject: Quarterly report\r\n"
             "Date: Sun, 01 Jan 2023 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n",
         body="The quarterly numbers look great.\r\n", flags="(\\Seen)",
         internal="02-Jan-2023 12:00:00 +0000",
         sort=dict(FROM="alice", TO="bob", CC="carol", SUBJECT="quarterly report",
                   DATE=1, ARRIVAL=1, DISPLAYFROM="Alice Smith",
                   DISPLAYTO="bob@example.org")),
    dict(hdr="From: bob@example.org\r\nTo: Alice Smith <alice@example.org>\r\n"
             "Cc: dave@example.org\r\nSubject: Re: Quarterly report\r\n"
             "Date: Tue, 03 Jan 2023 10:00:00 +0000\r\nMessage-ID: <m2@example.org>\r\n"
             "In-Reply-To: <m1@example.org>\r\nReferences: <m1@example.org>\r\n",
         body="Thanks, noted.\r\n", flags="(\\Answered \\Flagged $Important)",
         internal="04-Jan-2023 12:00:00 +0000",
         sort=dict(FROM="bob", TO="alice", CC="dave", SUBJECT="quarterly report",
                   DATE=3, ARRIVAL=4, DISPLAYFROM="bob@example.org",
                   DISPLAYTO="Alice Smith")),
    dict(hdr="From: Zed <zed@example.net>\r\nTo: alice@example.org\r\n"
             "Bcc: secret@example.com\r\nSubject: Lunch plans\r\nX-Priority: 1\r\n"
             "Date: Fri, 10 Feb 2023 10:00:00 +0000\r\nMessage-ID: <m3@example.net>\r\n",
         body="Shall we get pizza?\r\n" + "filler line of the lunch message\r\n" * 150,
         flags="()", internal="10-Feb-2023 12:00:00 +0000",
         sort=dict(FROM="zed", TO="alice", CC="", SUBJECT="lunch plans", DATE=41,
                   ARRIVAL=41, DISPLAYFROM="Zed", DISPLAYTO="alice@example.org")),
    dict(hdr="From: carol@example.org\r\nTo: bob@example.org\r\n"
             "Subject: Re: Re: Quarterly report\r\n"
             "Date: Thu, 05 Jan 2023 10:00:00 +0000\r\nMessage-ID: <m4@example.org>\r\n"
             "In-Reply-To: <m2@example.org>\r\n"
             "References: <m1@example.org> <m2@example.org>\r\n",
         body="Agreed with both of you.\r\n", flags="(\\Deleted)",
         internal="06-Jan-2023 12:00:00 +0000",
         sort=dict(FROM="carol", TO="bob", CC="", SUBJECT="quarterly report", DATE=5,
                   ARRIVAL=6, DISPLAYFROM="carol@example.org",
                   DISPLAYTO="bob@example.org")),
    dict(hdr="From: =?UTF-8?Q?=C3=89mile?= <emile@example.fr>\r\n"
             "To: =?UTF-8?Q?Zo=C3=A9?= <zoe@example.fr>\r\nSubject: =?UTF-8?Q?Caf=C3=A9?=\r\n"
             "Date: Sat, 31 Dec 2022 10:00:00 +0000\r\nMessage-ID: <m5@example.fr>\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n",
         body="Une cr\u00e8me br\u00fbl\u00e9e ?\r\n", flags="(\\Draft)",
         internal="01-Mar-2023 12:00:00 +0000",
         sort=dict(FROM="emile", TO="zoe", CC="", SUBJECT="caf\u00e9", DATE=0,
                   ARRIVAL=60, DISPLAYFROM="\u00c9mile", DISPLAYTO="Zo\u00e9")),
]
for _m in MSGS:
    _m["raw"] = (_m["hdr"] + "\r\n" + _m["body"]).encode()
    _m["sort"]["SIZE"] = len(_m["raw"])


def casemap(s):
    """i;ascii-casemap (RFC 4790 9.2): ASCII letters fold, octets compare."""
    return s.encode().upper() if isinstance(s, str) else s


def expected_sort(criteria):
    """Message numbers sorted by criteria [(key, reverse)], ties in number order."""
    order = list(range(1, len(MSGS) + 1))
    for key, reverse in reversed(criteria):
        order = sorted(order, key=lambda n: casemap(MSGS[n - 1]["sort"][key]), reverse=reverse)
    return order


def append_cmd(box, flags, internal, raw):
    date = f' "{internal}"' if internal else ""
    return f"APPEND {box} {flags}{date} ".encode() + lit(raw)


class ImapSearchCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True)
        cls.stack.start()
        cls.dom = helpers.unique_domain("se")
        cls.stack.domain(cls.dom)
        cls.user = f"sam@{cls.dom}"
        cls.password = "sam-password-1"
        cls.stack.user(cls.dom, "sam", cls.password)
        time.sleep(1.0)  # the change feed reaches the workers
        cls.box = "Search"
        r = Raw(cls.stack.imap_port)
        try:
            r.ok(f'LOGIN "{cls.user}" "{cls.password}"')
            r.ok(f"CREATE {cls.box}")
            r.ok(append_cmd(cls.box, "(\\Deleted)", None, b"Subject: gone\r\n\r\nx\r\n"))
            r.ok(f"SELECT {cls.box}")
            r.ok("EXPUNGE")
            r.ok("CLOSE")
            for m in MSGS:
                r.ok(append_cmd(cls.box, m["flags"], m["internal"], m["raw"]))
            r.ok("LOGOUT")
        finally:
            r.close()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def raw(self, select=None, rev2=False, examine=True):
        r = Raw(self.stack.imap_port)
        self.addCleanup(r.close)
        r.ok(f'LOGIN "{self.user}" "{self.password}"')
        if rev2:
            lines = r.ok("ENABLE IMAP4rev2")
            self.assertIn("* ENABLED IMAP4rev2", lines)
        if select:
            r.ok(f"{'EXAMINE' if examine else 'SELECT'} {select}")
        return r

    def main(self, rev2=False):
        return self.raw(self.box, rev2)

    def new_box(self, n, flags="()"):
        """A new mailbox holding n short messages: its name."""
        name = helpers.unique("sb")
        r = self.raw()
        r.ok(f"CREATE {name}")
        for i in range(n):
            r.ok(append_cmd(name, flags, None,
                            f"Subject: m{i + 1}\r\nMessage-ID: <{helpers.unique('x')}@t>\r\n"
                            f"\r\nbody {i + 1}\r\n".encode()))
        return name

    def search(self, r, text, word="SEARCH"):
        lines, done = r.cmd(text)
        self.assertIn(" OK ", done, f"{text}: {done}")
        return numbers(lines, word)

    def check(self, r, cases, prefix="SEARCH "):
        for keys, want in cases:
            with self.subTest(keys=keys):
                text = prefix.encode() + (keys if isinstance(keys, bytes) else keys.encode())
                self.assertEqual(self.search(r, text), want)


class TestKeys(ImapSearchCase):
    def test_capabilities(self):
        c = self.stack.imap_login(self.user, self.password)
        try:
            for cap in CAPS:
                self.assertIn(cap, c.capabilities)
        finally:
            c.logout()

    def test_flags(self):
        self.check(self.main(), [
            ("ALL", [1, 2, 3, 4, 5]),
            ("SEEN", [1]), ("UNSEEN", [2, 3, 4, 5]),
            ("ANSWERED", [2]), ("UNANSWERED", [1, 3, 4, 5]),
            ("FLAGGED", [2]), ("UNFLAGGED", [1, 3, 4, 5]),
            ("DELETED", [4]), ("UNDELETED", [1, 2, 3, 5]),
            ("DRAFT", [5]), ("UNDRAFT", [1, 2, 3, 4]),
            ("KEYWORD $Important", [2]), ("keyword $important", [2]),
            ("UNKEYWORD $Important", [1, 3, 4, 5]),
            ("KEYWORD $Nothing", []),
        ])

    def test_dates(self):
        self.check(self.main(), [
            ("BEFORE 4-Jan-2023", [1]), ("BEFORE 1-Jan-2023", []),
            ("ON 6-Jan-2023", [4]), ("ON 5-Jan-2023", []),
            ("SINCE 10-Feb-2023", [3, 5]), ("SINCE 1-Jan-2030", []),
            ("SENTBEFORE 1-Jan-2023", [5]), ("SENTON 3-Jan-2023", [2]),
            ("SENTSINCE 5-Jan-2023", [3, 4]),
            ('SINCE "4-Jan-2023" BEFORE 7-Jan-2023', [2, 4]),
            ("OLDER 3600", [1, 2, 3, 4, 5]), ("YOUNGER 3600", []),
        ])

    def test_sizes(self):
        sizes = [m["sort"]["SIZE"] for m in MSGS]
        big = sizes[2]
        self.assertGreater(big, 3000)
        self.assertTrue(all(s < 1000 for i, s in enumerate(sizes) if i != 2))
        self.check(self.main(), [
            ("LARGER 3000", [3]), ("SMALLER 1000", [1, 2, 4, 5]),
            (f"LARGER {big}", []), (f"LARGER {big - 1}", [3]),
            (f"SMALLER {big}", [1, 2, 4, 5]), (f"SMALLER {sizes[0]}",
                                               [i + 1 for i, s in enumerate(sizes)
                                                if s < sizes[0]]),
        ])

    def test_header_fields(self):
        self.check(self.main(), [
            ("FROM alice", [1]), ('FROM "Alice Smith"', [1]), ("FROM ALICE", [1]),
            ("TO alice", [2, 3]), ("CC carol", [1]), ("CC dave", [2]),
            ("SUBJECT quarterly", [1, 2, 4]), ('SUBJECT "re: quarterly"', [2, 4]),
            ("HEADER X-Priority 1", [3]), ('HEADER X-Priority ""', [3]),
            ('HEADER x-priority "2"', []),
            ('HEADER Message-ID ""', [1, 2, 3, 4, 5]),
            ("HEADER References m1@example.org", [2, 4]),
            ("BCC secret", [3]), ("BCC nobody", []),
            (b"CHARSET UTF-8 FROM " + lit("\u00c9mile"), [5]),
            (b"CHARSET UTF-8 SUBJECT " + lit("caf\u00e9"), [5]),
            (b"CHARSET UTF-8 TO " + lit("Zo\u00e9"), [5]),
            ("CHARSET US-ASCII FROM zed", [3]),
        ])

    def test_full_text(self):
        self.check(self.main(), [
            ("BODY pizza", [3]), ("TEXT pizza", [3]), ("BODY numbers", [1]),
            ('BODY "look great"', [1]), ("TEXT Zed", [3]), ("BODY creme", [5]),
            (b"CHARSET UTF-8 BODY " + lit("cr\u00e8me"), [5]),
            ("NOT BODY pizza", [1, 2, 4, 5]), ("BODY agreed", [4]),
            ("BODY nonexistentword", []),
        ])

    def test_sets(self):
        r = self.main()
        self.check(r, [
            ("2,4", [2, 4]), ("3:*", [3, 4, 5]), ("*", [5]), ("1:2,5", [1, 2, 5]),
            ("UID 3:4", [2, 3]), ("UID 1", []), ("UID 100:*", [5]), ("UID *", [5]),
            ("2:4 UID 4:6", [3, 4]),
        ])
        self.check(r, [
            ("1", [2]), ("UID 3:4", [3, 4]), ("UID *", [6]), ("UID 1", []),
            ("ALL", [2, 3, 4, 5, 6]), ("4:*", [5, 6]),
        ], prefix="UID SEARCH ")

    def test_boolean(self):
        self.check(self.main(), [
            ("OR SEEN FLAGGED", [1, 2]), ("NOT SEEN", [2, 3, 4, 5]), ("NOT NOT SEEN", [1]),
            ("(SUBJECT quarterly NOT DELETED)", [1, 2]), ("SUBJECT quarterly UNDELETED", [1, 2]),
            ("OR (FROM bob) (FROM carol)", [2, 4]), ("NOT (OR SEEN DELETED)", [2, 3, 5]),
            ("OR OR SEEN DRAFT DELETED", [1, 4, 5]), ("OR SEEN OR DRAFT DELETED", [1, 4, 5]),
            ("((SEEN))", [1]), ("SEEN SEEN", [1]), ("SEEN UNSEEN", []),
            ("OR (SUBJECT lunch LARGER 100) (DRAFT NOT OLDER 1)", [3]),
            ("NOT (OR 2:3 OR 4 5)", [1]),
        ])

    def test_imaplib(self):
        c = self.stack.imap_login(self.user, self.password)
        try:
            c.select(self.box, readonly=True)
            typ, data = c.search(None, "UNSEEN", "NOT", "DELETED")
            self.assertEqual(typ, "OK")
            self.assertEqual(data, [b"2 3 5"])
            typ, data = c.uid("SEARCH", "FLAGGED")
            self.assertEqual(data, [b"3"])
            typ, data = c.search("UTF-8", "SUBJECT", "quarterly")
            self.assertEqual(data, [b"1 2 4"])
            typ, data = c.sort("(REVERSE ARRIVAL)", "UTF-8", "ALL")
            self.assertEqual(data, [b"5 3 4 2 1"])
            typ, data = c.thread("REFERENCES", "UTF-8", "ALL")
            self.assertEqual(data, [b"(5)(1 2 4)(3)"])
        finally:
            c.logout()


class TestRecentModseq(ImapSearchCase):
    def test_new_old_recent(self):
        name = self.new_box(2)
        a = self.raw(name, examine=False)
        self.check(a, [("RECENT", []), ("NEW", []), ("OLD", [1, 2])])
        b = self.raw()
        b.ok(append_cmd(name, "()", None, b"Subject: late\r\n\r\nlate\r\n"))
        b.ok(append_cmd(name, "(\\Seen)", None, b"Subject: later\r\n\r\nlater\r\n"))
        lines = a.ok("NOOP")
        self.assertIn("* 4 EXISTS", lines)
        self.check(a, [("RECENT", [3, 4]), ("NEW", [3]), ("OLD", [1, 2]),
                       ("NOT RECENT", [1, 2]), ("YOUNGER 3600", [1, 2, 3, 4])])
        # IMAP4rev2 has no \Recent: RECENT matches nothing, OLD everything
        c = self.raw(name, rev2=True)
        lines = c.ok("SEARCH RECENT")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{c.n}")'])
        lines = c.ok("SEARCH OLD")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{c.n}") ALL 1:4'])

    def test_modseq(self):
        name = self.new_box(3)
        r = self.raw(name, examine=False)
        lines = r.ok("FETCH 1:3 (MODSEQ)")
        ms = {int(ln.split()[1]): int(re.search(r"MODSEQ \((\d+)\)", ln).group(1))
              for ln in lines}
        lines = r.ok("SEARCH MODSEQ 1")
        self.assertEqual(lines, [f"* SEARCH 1 2 3 (MODSEQ {max(ms.values())})"])
        r.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
        new = int(re.search(r"MODSEQ \((\d+)\)", r.ok("FETCH 2 (MODSEQ)")[0]).group(1))
        self.assertGreater(new, max(ms.values()))
        lines = r.ok(f"SEARCH MODSEQ {max(ms.values()) + 1}")
        self.assertEqual(lines, [f"* SEARCH 2 (MODSEQ {new})"])
        lines = r.ok(f'UID SEARCH MODSEQ "/flags/\\\\seen" all {new}')
        self.assertRegex(lines[0], rf"^\* SEARCH \d+ \(MODSEQ {new}\)$")
        lines = r.ok("SEARCH MODSEQ 99999999")
        self.assertEqual(lines, ["* SEARCH"])  # empty: no MODSEQ (RFC 7162 3.1.5)
        lines = r.ok("SEARCH NOT MODSEQ 99999999 SUBJECT m3")
        self.assertEqual(lines, [f"* SEARCH 3 (MODSEQ {ms[3]})"])
        # RFC 4731 3.2: ESEARCH MODSEQ of MIN / MAX alone, else of all
        lines = r.ok("SEARCH RETURN (MIN) MODSEQ 1")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") MIN 1 MODSEQ {ms[1]}'])
        lines = r.ok("SEARCH RETURN (MIN MAX) MODSEQ 1")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") MIN 1 MAX 3 '
                                 f'MODSEQ {max(ms[1], ms[3])}'])
        lines = r.ok("SEARCH RETURN (MAX) MODSEQ 1 NOT 2")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") MAX 3 MODSEQ {ms[3]}'])
        lines = r.ok("SEARCH RETURN (COUNT) MODSEQ 1")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") COUNT 3 MODSEQ {new}'])
        lines = r.ok("SEARCH RETURN (COUNT) MODSEQ 99999999")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") COUNT 0'])
        lines = r.ok("SORT (REVERSE SUBJECT) UTF-8 MODSEQ 1")
        self.assertEqual(lines, [f"* SORT 3 2 1 (MODSEQ {new})"])

    def test_modseq_enables_condstore(self):
        name = self.new_box(1)
        r = self.raw(name, examine=False)
        r.ok("SEARCH MODSEQ 1")
        lines = r.ok("STORE 1 +FLAGS (\\Flagged)")
        self.assertRegex(lines[0], r"MODSEQ \(\d+\)")  # RFC 7162 3.1: CONDSTORE is on


class TestEsearch(ImapSearchCase):
    def test_return_options(self):
        r = self.main()
        cases = [
            ("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN", " MIN 2 MAX 5 COUNT 4 ALL 2:5"),
            ("SEARCH RETURN () UNDELETED", " ALL 1:3,5"),
            ("SEARCH RETURN (ALL) FLAGGED", " ALL 2"),
            ("SEARCH RETURN (MAX) ALL", " MAX 5"),
            ("SEARCH RETURN (min) SUBJECT quarterly", " MIN 1"),
            ("SEARCH RETURN (COUNT) FROM nobody", " COUNT 0"),
            ("SEARCH RETURN (MIN MAX ALL) FROM nobody", ""),
            ("UID SEARCH RETURN (ALL) UNDELETED", " UID ALL 2:4,6"),
            ("UID SEARCH RETURN (MIN MAX COUNT) ALL", " UID MIN 2 MAX 6 COUNT 5"),
            ("UID SEARCH RETURN (COUNT) UID 1", " UID COUNT 0"),
        ]
        for cmd, data in cases:
            with self.subTest(cmd=cmd):
                lines = r.ok(cmd)
                self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}"){data}'])

    def test_rev2_always_esearch(self):
        r = self.main(rev2=True)
        lines = r.ok("SEARCH UNSEEN")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") ALL 2:5'])
        lines = r.ok("UID SEARCH ALL")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") UID ALL 2:6'])
        lines = r.ok("SEARCH FROM nobody")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}")'])
        lines = r.ok("SEARCH RETURN (COUNT) SEEN")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") COUNT 1'])
        # SORT and THREAD keep their own responses
        self.assertEqual(numbers(r.ok("SORT (SIZE) UTF-8 SEEN"), "SORT"), [1])


class TestSaved(ImapSearchCase):
    def saved(self, r):
        return self.search(r, "SEARCH $")

    def test_save_and_use(self):
        r = self.main()
        self.assertEqual(r.ok("SEARCH RETURN (SAVE) FLAGGED"), [])  # SAVE alone: no ESEARCH
        lines = r.ok("FETCH $ (UID)")
        self.assertEqual(lines, ["* 2 FETCH (UID 3)"])
        self.assertEqual(self.saved(r), [2])
        self.assertEqual(self.search(r, "UID SEARCH UID $"), [3])
        self.assertEqual(self.search(r, "SEARCH $ SEEN"), [])
        self.assertEqual(self.search(r, "SEARCH OR $ DRAFT"), [2, 5])
        self.assertEqual(self.search(r, "SEARCH NOT $"), [1, 3, 4, 5])
        lines = r.ok("SEARCH RETURN (SAVE MIN) SUBJECT quarterly")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") MIN 1'])
        self.assertEqual(self.saved(r), [1])  # RFC 5182 2.4: MIN alone saves MIN
        r.ok("SEARCH RETURN (SAVE MIN MAX) SUBJECT quarterly")
        self.assertEqual(self.saved(r), [1, 4])
        r.ok("SEARCH RETURN (SAVE COUNT MIN) SUBJECT quarterly")
        self.assertEqual(self.saved(r), [1, 2, 4])
        # "$" in the search that replaces it is the old value
        r.ok("UID SEARCH RETURN (SAVE) UID $ UNSEEN")
        self.assertEqual(self.saved(r), [2, 4])
        self.assertEqual(self.search(r, "SORT (REVERSE DATE) UTF-8 $", "SORT"), [4, 2])
        self.assertEqual(r.ok("THREAD REFERENCES UTF-8 $"), ["* THREAD (2 4)"])
        self.assertEqual(self.search(r, "SEARCH 1:* $"), [2, 4])

    def test_failed_save_empties(self):
        r = self.main()
        for bad, resp in [("SEARCH RETURN (SAVE) 99", "BAD"), ("SEARCH RETURN (SAVE) FOO", "BAD"),
                          ("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL", "NO")]:
            with self.subTest(cmd=bad):
                r.ok("SEARCH RETURN (SAVE) ALL")
                self.assertEqual(self.saved(r), [1, 2, 3, 4, 5])
                lines, done = r.cmd(bad)
                self.assertIn(f" {resp} ", done)
                self.assertEqual(self.saved(r), [])
        # a search without SAVE leaves it alone
        r.ok("SEARCH RETURN (SAVE) SEEN")
        r.cmd("SEARCH FOO")
        self.assertEqual(self.saved(r), [1])

    def test_saved_many_ranges(self):
        """A "$" of more disjoint UIDs than the store binds in one query."""
        name = helpers.unique("many")
        r = self.raw()
        r.ok(f"CREATE {name}")
        n, batch = 600, 200  # IMAP_LITERALS_MAX literals in one command
        for first in range(0, n, batch):
            parts = [f"APPEND {name}".encode()]  # MULTIAPPEND: one transaction
            for i in range(first, first + batch):
                flags = "(\\Seen)" if i % 2 == 0 else "()"
                raw = f"Subject: n{i + 1}\r\n\r\nbody\r\n".encode()
                parts.append(f" {flags} ".encode() + lit(raw))
            r.ok(b"".join(parts))
        r.ok(f"SELECT {name}")
        r.ok("SEARCH RETURN (SAVE) SEEN")
        odd = list(range(1, n + 1, 2))
        self.assertEqual(self.search(r, "SEARCH $"), odd)
        self.assertEqual(self.search(r, "SEARCH $ UNDELETED SUBJECT n1"),
                         [m for m in odd if str(m).startswith("1")])
        lines = r.ok("UID SEARCH RETURN (COUNT ALL) UID $")
        self.assertEqual(lines, [f'* ESEARCH (TAG "s{r.n}") UID COUNT {n // 2} ALL '
                                 + ",".join(str(u) for u in odd)])
        self.assertEqual(r.ok("SORT (REVERSE SUBJECT) UTF-8 $ 50:60"),
                         ["* SORT 59 57 55 53 51"])
        # inside OR "$" goes to the store, which refuses that many ranges
        lines, done = r.cmd("SEARCH OR $ DELETED")
        self.assertIn("NO [LIMIT]", done)


class TestSort(ImapSearchCase):
    KEYS = ("ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM",
            "DISPLAYTO")

    def test_every_criterion(self):
        r = self.main()
        for key in self.KEYS:
            for reverse in (False, True):
                crit = f"{'REVERSE ' if reverse else ''}{key}"
                with self.subTest(criterion=crit):
                    want = expected_sort([(key, reverse)])
                    self.assertEqual(self.search(r, f"SORT ({crit}) UTF-8 ALL", "SORT"), want)
                    self.assertEqual(self.search(r, f"UID SORT ({crit}) US-ASCII ALL", "SORT"),
                                     [n + 1 for n in want])

    def test_several_criteria_and_filter(self):
        r = self.main()
        cases = [
            ("(SUBJECT REVERSE DATE)", "ALL", [("SUBJECT", False), ("DATE", True)]),
            ("(TO CC)", "ALL", [("TO", False), ("CC", False)]),
            ("(REVERSE TO REVERSE CC)", "ALL", [("TO", True), ("CC", True)]),
            ("(REVERSE SUBJECT DISPLAYFROM)", "ALL", [("SUBJECT", True), ("DISPLAYFROM", False)]),
        ]
        for crit, keys, model in cases:
            with self.subTest(criteria=crit):
                self.assertEqual(self.search(r, f"SORT {crit} UTF-8 {keys}", "SORT"),
                                 expected_sort(model))
        want = [n for n in expected_sort([("DATE", False)]) if n != 4]
        self.assertEqual(self.search(r, "SORT (DATE) UTF-8 UNDELETED", "SORT"), want)
        self.assertEqual(self.search(r, "SORT (DATE) UTF-8 FROM nobody", "SORT"), [])
        self.assertEqual(r.ok("SORT (DATE) UTF-8 FROM nobody"), ["* SORT"])
        self.assertEqual(self.search(r, "UID SORT (REVERSE SIZE) UTF-8 2:3", "SORT"),
                         [n + 1 for n in expected_sort([("SIZE", True)]) if n in (2, 3)])


class TestThread(ImapSearchCase):
    def test_algorithms(self):
        r = self.main()
        cases = [
            ("THREAD ORDEREDSUBJECT UTF-8 ALL", "(5)(1 (2)(4))(3)"),
            ("THREAD REFERENCES UTF-8 ALL", "(5)(1 2 4)(3)"),
            ("UID THREAD REFERENCES UTF-8 ALL", "(6)(2 3 5)(4)"),
            ("UID THREAD ORDEREDSUBJECT US-ASCII ALL", "(6)(2 (3)(5))(4)"),
            ("THREAD REFERENCES UTF-8 NOT FROM bob", "(5)(1 4)(3)"),
            ("THREAD ORDEREDSUBJECT UTF-8 SUBJECT quarterly NOT 1", "(2 4)"),
            ("thread references utf-8 4:5", "(5)(4)"),
        ]
        for cmd, want in cases:
            with self.subTest(cmd=cmd):
                self.assertEqual(r.ok(cmd), [f"* THREAD {want}"])
        self.assertEqual(r.ok("THREAD REFERENCES UTF-8 FROM nobody"), ["* THREAD"])


class TestSessions(ImapSearchCase):
    def test_search_holds_expunges(self):
        name = self.new_box(3)
        a = self.raw(name, examine=False)
        b = self.raw(name, examine=False)
        b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        lines = a.ok("SEARCH ALL")  # RFC 9051 7.5.1: no EXPUNGE during SEARCH
        self.assertEqual(lines[0], "* SEARCH 1 3")
        self.assertFalse(any("EXPUNGE" in ln for ln in lines), lines)
        lines = a.ok("SORT (ARRIVAL) UTF-8 ALL")
        self.assertFalse(any("EXPUNGE" in ln for ln in lines), lines)
        lines = a.ok("UID SEARCH ALL")
        self.assertIn("* 2 EXPUNGE", lines)
        self.assertEqual(numbers(lines), [1, 3])
        # a message the session has not been told of yet is not in the result
        b.ok(append_cmd(name, "()", None, b"Subject: new\r\n\r\nnew\r\n"))
        lines = a.ok("SEARCH ALL")
        self.assertEqual(lines[:2], ["* SEARCH 1 2", "* 3 EXISTS"])
        self.assertEqual(numbers(a.ok("SEARCH ALL")), [1, 2, 3])


class TestBadInput(ImapSearchCase):
    def test_states(self):
        r = Raw(self.stack.imap_port)
        self.addCleanup(r.close)
        for cmd in ("SEARCH ALL", "SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"):
            _, done = r.cmd(cmd)
            self.assertIn(" BAD ", done)
        r.ok(f'LOGIN "{self.user}" "{self.password}"')
        for cmd in ("SEARCH ALL", "UID SEARCH ALL", "SORT (DATE) UTF-8 ALL",
                    "UID THREAD REFERENCES UTF-8 ALL"):
            _, done = r.cmd(cmd)
            self.assertIn(" BAD ", done)
        c = self.stack.imap_login(self.user, self.password)
        try:
            with self.assertRaises(imaplib.IMAP4.error):
                c.search(None, "ALL")  # imaplib refuses it itself outside SELECTED
        finally:
            c.logout()

    def test_bad_arguments(self):
        cases = [
            ("SEARCH", "BAD"), ("SEARCH FOO", "BAD"), ("SEARCH 99", "BAD"), ("SEARCH 0", "BAD"),
            ("SEARCH 1:x", "BAD"), ("SEARCH UID 0", "BAD"), ("SEARCH SINCE 32-Jan-2023", "BAD"),
            ("SEARCH LARGER abc", "BAD"), ("SEARCH OR SEEN", "BAD"), ("SEARCH NOT", "BAD"),
            ("SEARCH RETURN (FOO) ALL", "BAD"), ("SEARCH RETURN ALL", "BAD"),
            ("SEARCH CHARSET KOI8-R ALL", "NO [BADCHARSET (UTF-8 US-ASCII)]"),
            (b"SEARCH CHARSET US-ASCII SUBJECT " + lit("caf\u00e9"), "BAD"),
            ("SEARCH HEADER", "BAD"), ("SEARCH KEYWORD", "BAD"),
        ]
        self.bad(cases)

    def test_bad_sort_thread(self):
        cases = [
            ("SORT", "BAD"), ("SORT (DATE)", "BAD"), ("SORT (DATE) UTF-8", "BAD"),
            ("SORT DATE UTF-8 ALL", "BAD"), ("SORT () UTF-8 ALL", "BAD"),
            ("SORT (FOO) UTF-8 ALL", "BAD"), ("SORT (REVERSE) UTF-8 ALL", "BAD"),
            ("SORT (DATE REVERSE) UTF-8 ALL", "BAD"), ("SORT (MODSEQ) UTF-8 ALL", "BAD"),
            ("SORT (" + " ".join(["DATE"] * 17) + ") UTF-8 ALL", "BAD [LIMIT]"),
            ("SORT (DATE) KOI8-R ALL", "NO [BADCHARSET (UTF-8 US-ASCII)]"),
            ("SORT (DATE) UTF-8 FOO", "BAD"),
            ("THREAD", "BAD"), ("THREAD FOO UTF-8 ALL", "BAD"), ("THREAD REFERENCES", "BAD"),
            ("THREAD REFERENCES UTF-8", "BAD"), ("THREAD (REFERENCES) UTF-8 ALL", "BAD"),
            ("THREAD REFERENCES KOI8-R ALL", "NO [BADCHARSET (UTF-8 US-ASCII)]"),
            ("THREAD ORDEREDSUBJECT UTF-8 99", "BAD"),
        ]
        self.bad(cases)

    def bad(self, cases):
        r = self.main()
        for cmd, resp in cases:
            with self.subTest(cmd=cmd):
                lines, done = r.cmd(cmd)
                self.assertIn(f" {resp} ", done)
                self.assertEqual(lines, [])
        self.assertEqual(self.search(r, "SEARCH SEEN"), [1])  # the session goes on


if __name__ == "__main__":
    unittest.main()
