"""ownmail-imap mailbox commands over real sockets: CREATE (with USE, RFC
6154), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST with LIST-EXTENDED (RFC
5258), SPECIAL-USE and LIST-STATUS (RFC 5819), LSUB, STATUS (SIZE, DELETED,
HIGHESTMODSEQ, RECENT, APPENDLIMIT), NAMESPACE, GETQUOTA, GETQUOTAROOT and
SETQUOTA; names in modified UTF-7 and in UTF-8 (UTF8=ACCEPT, IMAP4rev2); bad
input, the wrong state, and what a second session sees. Client: Python's
imaplib, and its socket for the command forms imaplib does not know."""
import imaplib
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import mailharness  # noqa: E402

PASSWORD = "mailbox-password-1"
DEFAULTS = ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]
SPECIAL = {"Archive": "\\Archive", "Drafts": "\\Drafts", "Junk": "\\Junk", "Sent": "\\Sent",
           "Trash": "\\Trash"}
LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")


class Reply:
    def __init__(self, status, code, text, untagged):
        self.status, self.code, self.text, self.untagged = status, code, text, untagged

    def __repr__(self):
        lines = b"".join(self.untagged).decode(errors="replace")
        return f"{lines}{self.status} [{self.code}] {self.text}"

    def lines(self, kind):
        """The untagged responses of one kind ("LIST", "STATUS", ...)."""
        prefix = b"* " + kind.encode() + b" "
        return [u for u in self.untagged if u.startswith(prefix)]


def parse_astring(b, i):
    """An astring of a response at b[i:]: (bytes, index after it)."""
    if b[i:i + 1] == b'"':
        out = bytearray()
        i += 1
        while b[i:i + 1] != b'"':
            if b[i:i + 1] == b"\\":
                i += 1
            out += b[i:i + 1]
            i += 1
        return bytes(out), i + 1
    m = re.match(rb"\{(\d+)\}\r\n", b[i:])
    if m:
        start = i + m.end()
        return b[start:start + int(m.group(1))], start + int(m.group(1))
    j = i
    while j < len(b) and b[j:j + 1] not in (b" ", b"\r", b"\n", b")"):
        j += 1
    return b[i:j], j


def parse_list(line):
    """* LIST (attrs) "/" name [ext] -> (name, set of attributes, ext)."""
    m = re.match(rb'\* (?:LIST|LSUB) \(([^)]*)\) ("/"|NIL) ', line)
    assert m, line
    name, j = parse_astring(line, m.end())
    return name.decode(), set(m.group(1).decode().split()), line[j:].strip().decode()


def parse_status(line):
    """* STATUS name (K V ...) -> (name, {K: int})."""
    assert line.startswith(b"* STATUS "), line
    name, j = parse_astring(line, len(b"* STATUS "))
    items = line[j:].strip().decode().strip("()").split()
    return name.decode(), {items[k]: int(items[k + 1]) for k in range(0, len(items), 2)}


class Session:
    """One IMAP connection: imaplib for what it knows, cmd() for the rest
    (the command goes to imaplib's socket, the reply is read line by line)."""

    def __init__(self, stack, address=None, password=PASSWORD):
        self.imap = stack.imap_connect()
        if address is not None:
            self.imap.login(address, password)

    def cmd(self, command):
        tag = self.imap._new_tag()
        data = command if isinstance(command, bytes) else command.encode()
        self.imap.send(tag + b" " + data + b"\r\n")
        untagged = []
        while True:
            line = self.imap.readline()
            if not line:
                raise ConnectionError("closed")
            while LITERAL_RE.search(line):
                n = int(LITERAL_RE.search(line).group(1))
                line += self.imap.read(n) + self.imap.readline()
            if line.startswith(tag + b" "):
                m = re.match(rb"\S+ (OK|NO|BAD) (?:\[([^\]]*)\] )?(.*)\r\n", line)
                assert m, line
                return Reply(m.group(1).decode(), (m.group(2) or b"").decode(),
                             m.group(3).decode(errors="replace"), untagged)
            if line.startswith(b"* BYE"):
                untagged.append(line)
                return Reply("BYE", "", line.decode(errors="replace"), untagged)
            untagged.append(line)

    def ok(self, command):
        r = self.cmd(command)
        assert r.status == "OK", r
        return r

    def listing(self, command='LIST "" "*"'):
        """{name: (attributes, extended data)} of a LIST or LSUB."""
        r = self.ok(command)
        out = {}
        for line in r.untagged:
            if line.startswith(b"* LIST ") or line.startswith(b"* LSUB "):
                name, attrs, ext = parse_list(line)
                assert name not in out, f"{name} listed twice: {r}"
                out[name] = (attrs, ext)
        return out

    def status(self, name, items="MESSAGES"):
        r = self.ok(f"STATUS {name} ({items})")
        lines = r.lines("STATUS")
        assert len(lines) == 1, r
        return parse_status(lines[0])[1]

    def close(self):
        try:
            self.imap.logout()
        except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
            pass


class MailboxCase(unittest.TestCase):
    USERS = ["alice", "lister", "stat", "intl", "quota", "inbox", "two", "many", "rev2", "sel"]

    @classmethod
    def setUpClass(cls):
        cls.stack = mailharness.MailStack(imap=True)
        cls.stack.start()
        cls.dom = helpers.unique_domain("mbx")
        cls.stack.domain(cls.dom)
        for local in cls.USERS:
            cls.stack.user(cls.dom, local, PASSWORD, quota=10 << 20 if local == "quota" else None)
        time.sleep(1.0)  # the change feed reaches the workers

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def setUp(self):
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            s.close()

    def addr(self, local):
        return f"{local}@{self.dom}"

    def session(self, local=None):
        s = Session(self.stack, None if local is None else self.addr(local))
        self.sessions.append(s)
        return s

    def deliver(self, local, n):
        for i in range(n):
            self.stack.deliver(self.addr(local), subject=f"message {i}")

    # ---- the defaults, CAPABILITY, NAMESPACE, wrong state -----------------------

    def test_capabilities(self):
        s = self.session("alice")
        caps = s.ok("CAPABILITY").lines("CAPABILITY")[0].decode().split()
        for cap in ["NAMESPACE", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE",
                    "CREATE-SPECIAL-USE", "STATUS=SIZE", "QUOTA", "QUOTA=RES-STORAGE"]:
            self.assertIn(cap, caps)

    def test_default_mailboxes(self):
        s = self.session("lister")
        typ, data = s.imap.list()
        self.assertEqual(typ, "OK")
        listed = s.listing()
        self.assertEqual(sorted(listed), DEFAULTS)
        for name, (attrs, ext) in listed.items():
            self.assertIn("\\HasNoChildren", attrs)
            self.assertNotIn("\\Subscribed", attrs)  # IMAP4rev1 without SUBSCRIBED
            self.assertEqual(ext, "")
            if name in SPECIAL:
                self.assertIn(SPECIAL[name], attrs)
        self.assertEqual(sorted(s.listing('LIST "" "%"')), DEFAULTS)
        # INBOX is case-insensitive in patterns too
        self.assertEqual(list(s.listing('LIST "" "inBox"')), ["INBOX"])
        # the delimiter line
        r = s.ok('LIST "" ""')
        self.assertEqual(r.untagged, [b'* LIST (\\Noselect) "/" ""\r\n'])
        r = s.ok('LSUB "" ""')
        self.assertEqual(r.untagged, [b'* LSUB (\\Noselect) "/" ""\r\n'])

    def test_namespace(self):
        s = self.session("alice")
        r = s.ok("NAMESPACE")
        self.assertEqual(r.untagged, [b'* NAMESPACE (("" "/")) NIL NIL\r\n'])
        typ, data = s.imap.namespace()
        self.assertEqual(typ, "OK")
        self.assertEqual(s.cmd("NAMESPACE x").status, "BAD")

    def test_wrong_state(self):
        s = self.session()
        for command in ['LIST "" "*"', 'LSUB "" "*"', "CREATE x", "DELETE x", "RENAME x y",
                        "SUBSCRIBE x", "UNSUBSCRIBE x", "STATUS INBOX (MESSAGES)", "NAMESPACE",
                        'GETQUOTA ""', "GETQUOTAROOT INBOX", 'SETQUOTA "" (STORAGE 1)']:
            r = s.cmd(command)
            self.assertEqual(r.status, "BAD", (command, r))
            self.assertEqual(r.code, "CLIENTBUG", (command, r))

    def assert_bad(self, commands):
        """Each command gets BAD; a fresh session every 10 (a session ends
        after imap.errors_max BADs)."""
        for i, command in enumerate(commands):
            if i % 10 == 0:
                s = self.session("alice")
            r = s.cmd(command)
            self.assertEqual(r.status, "BAD", (command, r))
            s.ok("NOOP")  # the session goes on

    def test_bad_syntax(self):
        self.assert_bad(["CREATE", "CREATE a b", "CREATE a (USE)", "CREATE a (FOO (bar))",
                        "CREATE a (USE \\Sent)", "CREATE a (USE (Sent))", "DELETE", "DELETE a b",
                        "RENAME a", "RENAME a b c", "SUBSCRIBE", "UNSUBSCRIBE", "LIST",
                        'LIST ""', 'LIST "" * x', 'LIST "" * RETURN', 'LIST "" * RETURN x',
                        'LIST "" ()', "LIST () \"\"", 'LSUB "" ("a" "b")', "LSUB () \"\" *",
                        "STATUS INBOX", "STATUS INBOX ()", "STATUS INBOX (BOGUS)",
                        "STATUS INBOX MESSAGES", "STATUS (MESSAGES)", "GETQUOTA",
                        "GETQUOTAROOT", "CREATE (a)", 'LIST "" "&Jjo"', "CREATE &Jjo",
                        "CREATE &AGE-", 'CREATE "tab\tx"',
                        # too many patterns, a pattern too long
                        'LIST "" (' + " ".join(f"p{i}" for i in range(33)) + ")",
                        'LIST "' + "a" * 600 + '" "' + "b" * 600 + '"',
                        'LIST "" (' + " ".join(["c" * 400] * 3) + ")"])

    # ---- CREATE / DELETE ---------------------------------------------------------

    def test_create(self):
        s = self.session("alice")
        typ, data = s.imap.create("Projects/2024/Q1")
        self.assertEqual(typ, "OK", data)
        listed = s.listing('LIST "" "Projects*"')
        self.assertEqual(sorted(listed), ["Projects", "Projects/2024", "Projects/2024/Q1"])
        self.assertIn("\\HasChildren", listed["Projects"][0])
        self.assertIn("\\HasNoChildren", listed["Projects/2024/Q1"][0])
        self.assertNotIn("\\Noselect", listed["Projects"][0])  # superiors are real mailboxes
        # exists already: NO [ALREADYEXISTS]; INBOX in any case
        for name in ["Projects", "Projects/2024/Q1", "INBOX", "inbox", "Sent"]:
            r = s.cmd(f"CREATE {name}")
            self.assertEqual((r.status, r.code), ("NO", "ALREADYEXISTS"), (name, r))
        # a trailing delimiter is dropped (RFC 9051 6.3.4)
        s.ok("CREATE Parent/")
        self.assertEqual(list(s.listing('LIST "" "Parent*"')), ["Parent"])
        # names the store refuses: NO [CANNOT]
        for name in ['"a//b"', '"/lead"', '"a*b"', '"a%b"', '""', '"/"', '"a//"']:
            r = s.cmd(f"CREATE {name}")
            self.assertEqual(r.status, "NO", (name, r))
            self.assertEqual(r.code, "CANNOT", (name, r))
        # a literal name, a quoted name with a space, an INBOX inferior
        s.ok(b"CREATE {9+}\r\nLit Name1")
        s.ok('CREATE "With Space"')
        s.ok("CREATE inbox/Sub")
        listed = s.listing()
        for name in ["Lit Name1", "With Space", "INBOX/Sub"]:
            self.assertIn(name, listed)
        self.assertIn("\\HasChildren", listed["INBOX"][0])

    def test_create_special_use(self):
        s = self.session("alice")
        s.ok("CREATE MySent (USE (\\Sent))")
        s.ok("CREATE Both (USE (\\Drafts \\Archive))")
        s.ok("CREATE Plain (USE ())")
        listed = s.listing()
        self.assertIn("\\Sent", listed["MySent"][0])
        self.assertTrue({"\\Drafts", "\\Archive"} <= listed["Both"][0])
        self.assertFalse({"\\Sent", "\\Drafts", "\\Archive", "\\Junk", "\\Trash"}
                         & listed["Plain"][0])
        for use in ["\\All", "\\Flagged", "\\Bogus"]:
            r = s.cmd(f"CREATE Odd (USE ({use}))")
            self.assertEqual((r.status, r.code), ("NO", "USEATTR"), r)
        self.assertNotIn("Odd", s.listing())
        # SPECIAL-USE selection: only mailboxes with a special use
        special = s.listing('LIST (SPECIAL-USE) "" "*"')
        self.assertEqual(sorted(special), sorted(list(SPECIAL) + ["MySent", "Both"]))
        special = s.listing('LIST "" "*" RETURN (SPECIAL-USE)')
        self.assertIn("\\Sent", special["Sent"][0])
        # deleting gives the use up with the mailbox
        s.ok("DELETE MySent")
        s.ok("CREATE MySent")
        self.assertNotIn("\\Sent", s.listing('LIST "" MySent')["MySent"][0])

    def test_delete(self):
        s = self.session("alice")
        s.ok("CREATE Old/Child")
        # nonexistent, INBOX
        r = s.cmd("DELETE Nowhere")
        self.assertEqual((r.status, r.code), ("NO", "NONEXISTENT"), r)
        for name in ["INBOX", "Inbox"]:
            r = s.cmd(f"DELETE {name}")
            self.assertEqual(r.status, "NO", r)
        # RFC 9051 6.3.5: a mailbox with inferiors stays as \Noselect
        s.ok("DELETE Old")
        listed = s.listing('LIST "" "Old*"')
        self.assertTrue({"\\Noselect", "\\HasChildren"} <= listed["Old"][0], listed)
        self.assertEqual(s.cmd("SELECT Old").status, "NO")
        r = s.cmd("STATUS Old (MESSAGES)")
        self.assertEqual(r.status, "NO", r)
        # ... and cannot be deleted again while it has inferiors
        r = s.cmd("DELETE Old")
        self.assertEqual((r.status, r.code), ("NO", "HASCHILDREN"), r)
        s.ok("DELETE Old/Child")
        self.assertEqual(list(s.listing('LIST "" "Old*"')), ["Old"])
        s.ok("DELETE Old")
        self.assertEqual(s.listing('LIST "" "Old*"'), {})
        # CREATE of a \Noselect name makes it a mailbox again
        s.ok("CREATE Again/Child")
        s.ok("DELETE Again")
        s.ok("CREATE Again")
        self.assertNotIn("\\Noselect", s.listing('LIST "" Again')["Again"][0])
        typ, _ = s.imap.delete("Again/Child")
        self.assertEqual(typ, "OK")

    def test_delete_selected(self):
        s = self.session("sel")
        s.ok("CREATE Doomed")
        s.ok("SELECT Doomed")
        r = s.ok("DELETE Doomed")
        self.assertIn(b"* OK [CLOSED]", b"".join(r.untagged))
        # back in the authenticated state
        r = s.cmd("FETCH 1 FLAGS")
        self.assertEqual(r.status, "BAD", r)
        r = s.cmd("CLOSE")
        self.assertEqual(r.status, "BAD", r)
        s.ok("SELECT INBOX")
        # deleting another mailbox keeps the selection
        s.ok("CREATE Other")
        r = s.ok("DELETE Other")
        self.assertNotIn(b"CLOSED", b"".join(r.untagged))
        s.ok("NOOP")
        s.ok("UNSELECT")

    # ---- RENAME ------------------------------------------------------------------

    def test_rename(self):
        s = self.session("alice")
        s.ok("CREATE Trip/Photos")
        s.ok("SUBSCRIBE Trip/Photos")
        typ, data = s.imap.rename("Trip", "Travel")
        self.assertEqual(typ, "OK", data)
        listed = s.listing('LIST "" "*"')
        self.assertNotIn("Trip", listed)
        self.assertIn("Travel", listed)
        self.assertIn("Travel/Photos", listed)  # inferiors follow
        self.assertIn("Travel/Photos", s.listing('LSUB "" "Travel*"'))  # and subscriptions
        # missing superiors of the new name are created
        s.ok("RENAME Travel New/Deep/Travel")
        listed = s.listing('LIST "" "New*"')
        self.assertEqual(sorted(listed), ["New", "New/Deep", "New/Deep/Travel",
                                          "New/Deep/Travel/Photos"])
        # errors
        s.ok("CREATE Taken")
        for src, dst, code in [("Nowhere", "Else", "NONEXISTENT"), ("Taken", "Sent", "ALREADYEXISTS"),
                               ("Taken", "Taken", "ALREADYEXISTS"), ("Taken", "INBOX", "ALREADYEXISTS"),
                               ("Taken", "inbox", "ALREADYEXISTS"),
                               ("Taken", '"bad//name"', "CANNOT"),
                               ("New", "New/Deep/Travel/Inside", "CANNOT")]:
            r = s.cmd(f"RENAME {src} {dst}")
            self.assertEqual((r.status, r.code), ("NO", code), (src, dst, r))
        # an inferior landing on an existing name refuses the whole rename
        s.ok("CREATE Src/X")
        s.ok("CREATE Dst/X")
        s.ok("DELETE Dst/X")
        s.ok("CREATE Dst2/X")
        r = s.cmd("RENAME Src Dst2")
        self.assertEqual((r.status, r.code), ("NO", "ALREADYEXISTS"), r)
        self.assertIn("Src/X", s.listing('LIST "" "Src*"'))

    def test_rename_inbox(self):
        s0 = self.session("inbox")  # makes the store; the messages are drained at the next login
        s0.close()
        self.deliver("inbox", 2)
        s = self.session("inbox")
        s.ok("CREATE INBOX/Keep")
        uidvalidity = s.status("INBOX", "UIDVALIDITY")["UIDVALIDITY"]
        self.assertEqual(s.status("INBOX")["MESSAGES"], 2)
        s.ok("RENAME INBOX Saved")
        # RFC 9051 6.3.6: the messages move, INBOX stays (empty, new UIDVALIDITY),
        # its inferiors are not renamed
        saved = s.status("Saved", "MESSAGES UIDVALIDITY")
        self.assertEqual(saved, {"MESSAGES": 2, "UIDVALIDITY": uidvalidity})
        inbox = s.status("INBOX", "MESSAGES UIDVALIDITY")
        self.assertEqual(inbox["MESSAGES"], 0)
        self.assertNotEqual(inbox["UIDVALIDITY"], uidvalidity)
        listed = s.listing()
        self.assertIn("INBOX/Keep", listed)
        self.assertIn("Saved", listed)
        self.assertNotIn("Saved/Keep", listed)

    def test_rename_selected(self):
        s = self.session("sel")
        s.ok("CREATE Moving")
        s.ok("SELECT Moving")
        s.ok("RENAME Moving Moved")
        s.ok("NOOP")  # still selected: the view follows the mailbox
        s.ok("UID FETCH 1:* FLAGS")
        s.ok("UNSELECT")
        s.ok("DELETE Moved")

    # ---- SUBSCRIBE / UNSUBSCRIBE / LSUB ------------------------------------------

    def test_subscribe_lsub(self):
        s = self.session("alice")
        s.ok("CREATE Fruit/Apple")
        s.ok("CREATE Fruit/Banana")
        typ, data = s.imap.subscribe("Fruit/Apple")
        self.assertEqual(typ, "OK", data)
        s.ok("SUBSCRIBE Ghost/Town")  # a name without a mailbox may be subscribed
        lsub = s.listing('LSUB "" "*"')
        for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Fruit/Apple",
                     "Ghost/Town"]:
            self.assertIn(name, lsub)
            self.assertEqual(lsub[name][0], set())
        self.assertNotIn("Fruit", lsub)
        self.assertNotIn("Fruit/Banana", lsub)
        # RFC 3501 6.3.9: "%" shows an unsubscribed level with subscribed inferiors as \Noselect
        lsub = s.listing('LSUB "" "%"')
        self.assertEqual(lsub["Fruit"][0], {"\\Noselect"})
        self.assertEqual(lsub["Ghost"][0], {"\\Noselect"})
        self.assertIn("INBOX", lsub)
        self.assertNotIn("Fruit/Apple", lsub)
        self.assertEqual(list(s.listing('LSUB "Fruit/" "%"')), ["Fruit/Apple"])
        typ, data = s.imap.lsub('""', "Fruit/*")
        self.assertEqual(typ, "OK")
        # unsubscribing: also a name that is not subscribed (not an error)
        typ, data = s.imap.unsubscribe("Fruit/Apple")
        self.assertEqual(typ, "OK", data)
        s.ok("UNSUBSCRIBE Fruit/Apple")
        s.ok("UNSUBSCRIBE Never/Subscribed")
        self.assertNotIn("Fruit", s.listing('LSUB "" "%"'))
        r = s.cmd('SUBSCRIBE "a//b"')
        self.assertEqual((r.status, r.code), ("NO", "CANNOT"), r)
        s.ok("UNSUBSCRIBE Ghost/Town")

    # ---- LIST-EXTENDED -------------------------------------------------------------

    def lister_tree(self, s):
        """The RFC 5258 section 5 example tree, give or take."""
        if "Fruit" in s.listing('LIST "" "Fruit"'):
            return
        for name in ["Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable/Broccoli",
                     "Vegetable/Corn"]:
            s.ok(f"CREATE {name}")
        for name in ["Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"]:
            s.ok(f"SUBSCRIBE {name}")

    def test_list_subscribed(self):
        s = self.session("lister")
        self.lister_tree(s)
        sub = s.listing('LIST (SUBSCRIBED) "" "*"')
        self.assertEqual(sorted(sub), sorted(DEFAULTS + ["Fruit/Banana", "Fruit/Peach",
                                                         "Vegetable", "Vegetable/Broccoli"]))
        for name, (attrs, _) in sub.items():
            self.assertIn("\\Subscribed", attrs)
        # a subscribed name without a mailbox (RFC 5258 3.4)
        self.assertIn("\\NonExistent", sub["Fruit/Peach"][0])
        self.assertNotIn("\\NonExistent", sub["Fruit/Banana"][0])
        # RETURN (SUBSCRIBED) on a plain LIST: every mailbox, the attribute where it applies
        ret = s.listing('LIST "" "*" RETURN (SUBSCRIBED)')
        self.assertNotIn("Fruit/Peach", ret)
        self.assertIn("\\Subscribed", ret["Vegetable"][0])
        self.assertNotIn("\\Subscribed", ret["Vegetable/Corn"][0])
        self.assertNotIn("\\Subscribed", ret["Tofu"][0])
        # REMOTE changes nothing here
        self.assertEqual(s.listing('LIST (REMOTE) "" "*"'), s.listing('LIST "" "*"'))
        self.assertEqual(s.listing('LIST () "" "*"'), s.listing('LIST "" "*"'))

    def test_list_recursivematch(self):
        s = self.session("lister")
        self.lister_tree(s)
        rec = s.listing('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)')
        # Fruit: not subscribed, has subscribed inferiors that "%" does not show
        self.assertEqual(rec["Fruit"], ({"\\HasChildren"}, '("CHILDINFO" ("SUBSCRIBED"))'))
        # Vegetable: subscribed itself, and has a subscribed inferior
        self.assertEqual(rec["Vegetable"],
                         ({"\\HasChildren", "\\Subscribed"}, '("CHILDINFO" ("SUBSCRIBED"))'))
        self.assertNotIn("Tofu", rec)
        self.assertEqual(rec["INBOX"][1], "")
        # with "*" the inferiors are listed themselves: Fruit is not
        rec = s.listing('LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"')
        self.assertNotIn("Fruit", rec)
        self.assertIn("Fruit/Peach", rec)
        # RECURSIVEMATCH alone, or with REMOTE only, and unknown options: BAD
        for command in ['LIST (RECURSIVEMATCH) "" "*"', 'LIST (REMOTE RECURSIVEMATCH) "" "*"',
                        'LIST (BOGUS) "" "*"', 'LIST "" "*" RETURN (BOGUS)',
                        'LIST "" "*" RETURN (STATUS)', 'LIST "" "*" RETURN (STATUS ())',
                        'LIST ("SUBSCRIBED") "" "*"']:
            r = s.cmd(command)
            self.assertEqual(r.status, "BAD", (command, r))
        # a parent that is only a subscription's superior: \NonExistent
        s.ok("SUBSCRIBE Nuts/Pecan")
        rec = s.listing('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
        self.assertEqual(rec["Nuts"], ({"\\NonExistent", "\\HasNoChildren"},
                                       '("CHILDINFO" ("SUBSCRIBED"))'))
        s.ok("UNSUBSCRIBE Nuts/Pecan")

    def test_list_patterns_and_reference(self):
        s = self.session("lister")
        self.lister_tree(s)
        multi = s.listing('LIST "" ("INBOX" "Tofu" "Fruit/%" "Fruit/%")')
        self.assertEqual(sorted(multi), ["Fruit/Apple", "Fruit/Banana", "INBOX", "Tofu"])
        multi = s.listing('LIST (SUBSCRIBED) "" ("Fruit/*" "Vegetable")')
        self.assertEqual(sorted(multi), ["Fruit/Banana", "Fruit/Peach", "Vegetable"])
        # the reference is joined to the pattern
        self.assertEqual(sorted(s.listing('LIST "Fruit/" "%"')), ["Fruit/Apple", "Fruit/Banana"])
        self.assertEqual(sorted(s.listing('LIST "Fruit/" "/%"')), ["Fruit/Apple", "Fruit/Banana"])
        self.assertEqual(sorted(s.listing('LIST "Fruit" "/A*"')), ["Fruit/Apple"])
        self.assertEqual(sorted(s.listing('LIST Fruit/ *')), ["Fruit/Apple", "Fruit/Banana"])
        # "%" stops at the delimiter, "*" does not
        self.assertEqual(sorted(s.listing('LIST "" "Vegetable%"')), ["Vegetable"])
        self.assertEqual(sorted(s.listing('LIST "" "Vegetable*"')),
                         ["Vegetable", "Vegetable/Broccoli", "Vegetable/Corn"])
        # (INBOX matches case-insensitively: "o" finds it)
        self.assertEqual(sorted(s.listing('LIST "" "*o*"')),
                         sorted(n for n in s.listing() if "o" in n or n == "INBOX"))
        # nothing matches: OK with no line
        self.assertEqual(s.listing('LIST "" "Nothing*"'), {})
        # an empty pattern with others: the delimiter line once
        r = s.ok('LIST "" ("" "Tofu")')
        self.assertEqual(r.untagged[0], b'* LIST (\\Noselect) "/" ""\r\n')
        self.assertEqual(len(r.untagged), 2)

    def test_list_status(self):
        s0 = self.session("stat")
        s0.close()
        self.deliver("stat", 3)
        s = self.session("stat")
        s.ok("CREATE Box/Inner")
        s.ok("DELETE Box")  # \Noselect: no STATUS for it
        r = s.ok('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN SIZE))')
        lines = r.untagged
        names = [parse_list(x)[0] for x in lines if x.startswith(b"* LIST ")]
        self.assertEqual(sorted(names), sorted(DEFAULTS + ["Box", "Box/Inner"]))
        statuses = {}
        for i, line in enumerate(lines):
            if line.startswith(b"* STATUS "):
                name, values = parse_status(line)
                # RFC 5819: each STATUS follows the LIST line of its mailbox
                self.assertEqual(parse_list(lines[i - 1])[0], name)
                statuses[name] = values
        self.assertNotIn("Box", statuses)
        self.assertEqual(sorted(statuses), sorted(DEFAULTS + ["Box/Inner"]))
        self.assertEqual(statuses["INBOX"]["MESSAGES"], 3)
        self.assertEqual(statuses["INBOX"]["UNSEEN"], 3)
        self.assertEqual(statuses["Sent"], {"MESSAGES": 0, "UNSEEN": 0, "SIZE": 0})
        # the same values as STATUS
        items = "MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ"
        one = s.status("INBOX", items)
        r = s.ok(f'LIST "" INBOX RETURN (STATUS ({items}))')
        self.assertEqual(parse_status(r.lines("STATUS")[0])[1], one)
        # with the other return options
        r = s.ok('LIST (SUBSCRIBED) "" "Sent" RETURN (CHILDREN STATUS (MESSAGES) SPECIAL-USE)')
        self.assertEqual(len(r.lines("STATUS")), 1)

    # ---- STATUS --------------------------------------------------------------------

    def test_status(self):
        s0 = self.session("stat")
        s0.close()
        s = self.session("stat")
        before = s.status("INBOX", "MESSAGES")["MESSAGES"]
        s.close()
        self.deliver("stat", 2)
        s = self.session("stat")
        items = ("MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT "
                 "APPENDLIMIT")
        st = s.status("INBOX", items)
        self.assertEqual(list(st), items.split())  # in the order asked
        self.assertEqual(st["MESSAGES"], before + 2)
        self.assertEqual(st["UNSEEN"], st["MESSAGES"])
        self.assertEqual(st["DELETED"], 0)
        self.assertEqual(st["UIDNEXT"], st["MESSAGES"] + 1)
        self.assertGreater(st["UIDVALIDITY"], 0)
        self.assertGreater(st["HIGHESTMODSEQ"], 0)
        self.assertEqual(st["RECENT"], 0)
        self.assertEqual(st["APPENDLIMIT"], 1 << 20)
        # SIZE is the sum of RFC822.SIZE
        s.imap.select("INBOX", readonly=True)
        typ, data = s.imap.fetch("1:*", "(RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        sizes = [int(re.search(rb"RFC822\.SIZE (\d+)", d).group(1)) for d in data]
        self.assertEqual(st["SIZE"], sum(sizes))
        # STATUS of the selected mailbox is allowed (RFC 9051 6.3.11)
        self.assertEqual(s.status("INBOX", "MESSAGES")["MESSAGES"], st["MESSAGES"])
        typ, data = s.imap.status("INBOX", "(MESSAGES UNSEEN)")
        self.assertEqual(typ, "OK", data)
        # errors
        r = s.cmd("STATUS Nowhere (MESSAGES)")
        self.assertEqual((r.status, r.code), ("NO", "NONEXISTENT"), r)
        r = s.cmd("STATUS INBOX (MESSAGES BOGUS)")
        self.assertEqual(r.status, "BAD", r)
        # an empty mailbox
        self.assertEqual(s.status("Trash", "MESSAGES UNSEEN SIZE UIDNEXT"),
                         {"MESSAGES": 0, "UNSEEN": 0, "SIZE": 0, "UIDNEXT": 1})

    def test_status_recent(self):
        s0 = self.session("stat")
        s0.close()
        a = self.session("stat")
        a.ok("SELECT INBOX")
        self.assertEqual(a.status("INBOX", "RECENT")["RECENT"], 0)
        messages = a.status("INBOX", "MESSAGES")["MESSAGES"]
        self.deliver("stat", 1)
        b = self.session("stat")  # its login drains the spool into the store
        # IMAP4rev1: the new message is recent for the session that has INBOX selected
        st = a.status("INBOX", "MESSAGES RECENT")
        self.assertEqual(st, {"MESSAGES": messages + 1, "RECENT": 1})
        # ... and for no other session
        self.assertEqual(b.status("INBOX", "RECENT")["RECENT"], 0)

    # ---- quota -----------------------------------------------------------------------

    def test_quota(self):
        s = self.session("quota")
        r = s.ok("GETQUOTAROOT INBOX")
        roots = r.lines("QUOTAROOT")
        self.assertEqual(len(roots), 1, r)
        quotas = r.lines("QUOTA")
        if roots[0] == b'* QUOTAROOT INBOX ""\r\n':
            # one root "", STORAGE in KiB
            self.assertEqual(len(quotas), 1, r)
            m = re.match(rb'\* QUOTA "" \(STORAGE (\d+) (\d+)\)\r\n', quotas[0])
            self.assertTrue(m, r)
            self.assertEqual(int(m.group(2)), 10 << 10)
            r2 = s.ok('GETQUOTA ""')
            self.assertEqual(r2.lines("QUOTA"), quotas)
        else:
            # the store has no limit: no quota root
            self.assertEqual(roots[0], b"* QUOTAROOT INBOX\r\n")
            self.assertEqual(quotas, [])
            r2 = s.cmd('GETQUOTA ""')
            self.assertEqual((r2.status, r2.code), ("NO", "NONEXISTENT"), r2)
        typ, data = s.imap.getquotaroot("Sent")
        self.assertEqual(typ, "OK", data)
        r = s.cmd("GETQUOTAROOT Nowhere")
        self.assertEqual((r.status, r.code), ("NO", "NONEXISTENT"), r)
        r = s.cmd("GETQUOTA other")
        self.assertEqual((r.status, r.code), ("NO", "NONEXISTENT"), r)
        r = s.cmd('SETQUOTA "" (STORAGE 1)')
        self.assertEqual((r.status, r.code), ("NO", "NOPERM"), r)

    # ---- names outside ASCII ----------------------------------------------------------

    def test_mutf7_names(self):
        s = self.session("intl")
        # "Entwürfe" and "日本語" in modified UTF-7 (RFC 3501 5.1.3)
        s.ok("CREATE Entw&APw-rfe")
        s.ok('CREATE "&ZeVnLIqe-/Sub &- Co"')
        listed = s.listing()
        self.assertIn("Entw&APw-rfe", listed)
        self.assertIn("&ZeVnLIqe-", listed)
        self.assertIn("&ZeVnLIqe-/Sub &- Co", listed)
        self.assertIn("\\HasChildren", listed["&ZeVnLIqe-"][0])
        self.assertEqual(list(s.listing('LIST "" "Entw&APw-*"')), ["Entw&APw-rfe"])
        self.assertEqual(list(s.listing('LIST "&ZeVnLIqe-/" "%"')), ["&ZeVnLIqe-/Sub &- Co"])
        st = s.status("Entw&APw-rfe", "MESSAGES")
        self.assertEqual(st, {"MESSAGES": 0})
        r = s.ok("STATUS Entw&APw-rfe (MESSAGES)")
        self.assertEqual(parse_status(r.lines("STATUS")[0])[0], "Entw&APw-rfe")
        # 8-bit octets and broken mUTF-7 are refused without UTF-8
        for name in ['"Entwürfe"'.encode(), b"&AGE-", b"&Jjo", b"&AOk-&AOk-"]:
            r = s.cmd(b"CREATE " + name)
            self.assertEqual(r.status, "BAD", (name, r))
        # another session with UTF8=ACCEPT sees the names in UTF-8
        u = self.session("intl")
        u.ok("ENABLE UTF8=ACCEPT")
        listed = u.listing()
        self.assertIn("Entwürfe", listed)
        self.assertIn("日本語/Sub & Co", listed)
        u.ok('CREATE "Café"'.encode())
        u.ok('RENAME "Café" "Bistro/Café"'.encode())
        st = u.ok('STATUS "Bistro/Café" (MESSAGES)'.encode()).lines("STATUS")[0]
        self.assertEqual(parse_status(st)[0], "Bistro/Café")
        # "&" is only "&" in UTF-8: a name the rev1 session writes "&-"
        u.ok(b'CREATE "R&D"')
        self.assertIn("R&-D", s.listing())
        self.assertIn("Bistro/Caf&AOk-", s.listing())
        # the mUTF-7 spelling is no escape in UTF-8 mode: it is a literal name
        u.ok(b"SUBSCRIBE Entw&APw-rfe")
        self.assertIn("Entw&-APw-rfe", s.listing('LSUB "" "*"'))
        u.ok(b'UNSUBSCRIBE "Entw&APw-rfe"')
        # invalid UTF-8 is refused
        r = u.cmd(b'CREATE "bad\xff\xfe"')
        self.assertEqual(r.status, "BAD", r)
        # a literal holding UTF-8
        name = "Ελληνικά".encode()
        u.ok(b"CREATE {%d+}\r\n%s" % (len(name), name))
        self.assertIn("Ελληνικά", u.listing('LIST "" "Ελλ*"'.encode()))
        self.assertIn("&A5UDuwO7A7cDvQO5A7oDrA-", s.listing())

    def test_rev2(self):
        s = self.session("rev2")
        s.ok("CREATE &ANw-ber/Kind")  # "Über/Kind" in mUTF-7
        s.ok("ENABLE IMAP4rev2")
        listed = s.listing()
        # IMAP4rev2: UTF-8 names, \Subscribed and the CHILDREN attributes always
        self.assertIn("Über", listed)
        self.assertIn("\\HasChildren", listed["Über"][0])
        self.assertIn("\\HasNoChildren", listed["Über/Kind"][0])
        self.assertIn("\\Subscribed", listed["INBOX"][0])
        self.assertIn("\\Sent", listed["Sent"][0])
        self.assertNotIn("\\Subscribed", listed["Über"][0])
        # LIST (SUBSCRIBED) replaces LSUB; LSUB still answers
        self.assertEqual(sorted(s.listing('LIST (SUBSCRIBED) "" "*"')), DEFAULTS)
        self.assertEqual(sorted(s.listing('LSUB "" "*"')), DEFAULTS)
        s.ok('STATUS "Über" (MESSAGES)'.encode())
        st = s.status("INBOX", "MESSAGES RECENT")
        self.assertEqual(st["RECENT"], 0)
        s.ok('DELETE "Über/Kind"'.encode())
        s.ok('DELETE "Über"'.encode())

    # ---- a second session ---------------------------------------------------------------

    def test_second_session(self):
        a = self.session("two")
        b = self.session("two")
        a.ok("CREATE Shared/Box")
        self.assertIn("Shared/Box", b.listing())
        a.ok("SUBSCRIBE Shared/Box")
        self.assertIn("Shared/Box", b.listing('LSUB "" "*"'))
        self.assertIn("\\Subscribed", b.listing('LIST (SUBSCRIBED) "" "Shared/Box"')["Shared/Box"][0])
        # b has a mailbox selected that a renames: b goes on
        b.ok("SELECT Shared/Box")
        a.ok("RENAME Shared Common")
        b.ok("NOOP")
        self.assertIn("Common/Box", b.listing())
        self.assertEqual(b.status("Common/Box", "MESSAGES"), {"MESSAGES": 0})
        # a deletes it: b's next command ends the session (the mailbox is gone)
        a.ok("DELETE Common/Box")
        r = b.cmd("NOOP")
        self.assertEqual(r.status, "BYE", r)
        self.assertEqual(a.listing('LIST "" "Common*"')["Common"][0], {"\\HasNoChildren"})
        # a third session sees the same
        c = self.session("two")
        self.assertNotIn("Common/Box", c.listing())
        r = c.cmd("STATUS Common/Box (MESSAGES)")
        self.assertEqual((r.status, r.code), ("NO", "NONEXISTENT"), r)

    # ---- many mailboxes: LIST streams ---------------------------------------------------

    def test_many_mailboxes(self):
        s = self.session("many")
        n = 1200
        names = [f"Box{i:04d}-" + "x" * 200 for i in range(n)]
        # pipelined CREATEs
        tags = []
        out = b""
        for name in names:
            tag = s.imap._new_tag()
            tags.append(tag)
            out += tag + b" CREATE " + name.encode() + b"\r\n"
        s.imap.send(out)
        done = 0
        while done < n:
            line = s.imap.readline()
            self.assertTrue(line, "connection closed")
            if not line.startswith(b"*"):
                self.assertIn(b" OK ", line)
                done += 1
        r = s.ok('LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT))')
        listed = [parse_list(x)[0] for x in r.lines("LIST")]
        self.assertEqual(len(listed), n + len(DEFAULTS))
        self.assertEqual(sorted(listed), sorted(names + DEFAULTS))
        self.assertEqual(len(r.lines("STATUS")), n + len(DEFAULTS))
        self.assertGreater(sum(len(x) for x in r.untagged), 256 * 1024)
        s.ok("NOOP")


if __name__ == "__main__":
    unittest.main(verbosity=2)
