"""Real IMAP clients from Debian against ownmail-imap over real sockets:
mbsync (isync) syncs both ways and a third run transfers nothing,
offlineimap3 pulls a mailbox, curl reads, searches, lists and appends over
imap:// and imaps://, and neomutt under tmux shows INBOX's subjects, opens
a message and deletes one.
Their configurations are templates in imap_clients/. A test skips only when
its client's binary is missing (setup.sh installs them all)."""
import email
import os
import pty
import re
import select
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_imap_bad import PASSWORD, ImapCase  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_TIMEOUT = 60  # seconds one client run may take
TLS_HOST = "127.0.0.1"  # the name in ClientCase's certificate

ATTACHMENT = os.urandom(3000)
ATTACHED_HEADERS = ("MIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"b0undary\"\r\n")


def attached_body():
    import base64
    b64 = base64.encodebytes(ATTACHMENT).decode().replace("\n", "\r\n")
    return ("--b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "See the attachment.\r\n"
            "--b0undary\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\n"
            "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--b0undary--\r\n")


def need(binary):
    path = shutil.which(binary)
    if path is None:
        raise unittest.SkipTest(f"{binary} is not installed (setup.sh's APT_TEST has it)")
    return path


def render(template, path, **values):
    with open(os.path.join(HERE, "imap_clients", template)) as f:
        text = string.Template(f.read()).substitute(values)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def lf(raw):
    """raw with LF line ends and without mbsync's X-TUID header (its
    tracking ID, added to every message it copies)."""
    return re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", raw.replace(b"\r\n", b"\n"), count=1)


def subject_of(raw):
    return str(email.message_from_bytes(raw)["Subject"])


def maildir(folder):
    """{subject: (path, raw bytes)} of the messages of a maildir folder."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(folder, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read()
            out[subject_of(raw)] = (os.path.join(d, name), raw)
    return out


def maildir_flags(path):
    name = os.path.basename(path)
    return set(name.split(":2,", 1)[1]) if ":2," in name else set()


def server_messages(c, mailbox="INBOX"):
    """{subject: (uid, flags, raw)} of a mailbox, over imaplib, without
    setting \\Seen."""
    typ, _ = c.select(mailbox, readonly=True)
    assert typ == "OK", mailbox
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    out = {}
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue
        meta = item[0] + (data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes)
                          else b"")
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split())
        out[subject_of(item[1])] = (uid, flags, item[1])
    c.close()
    return out


class ClientCase(ImapCase):
    users = ("mona", "otto", "curt", "nell")
    binaries = ()  # the clients a class runs: it skips when one is missing

    @classmethod
    def setUpClass(cls):
        for binary in cls.binaries:
            need(binary)
        # A certificate for the address the clients connect to, so that they
        # verify it as users' clients do (the harness's names another host).
        cls.tls_dir = tempfile.mkdtemp(prefix="ownmail-imapcli-tls-")
        cls.cert, key = os.path.join(cls.tls_dir, "cert.pem"), os.path.join(cls.tls_dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN={TLS_HOST}", "-addext",
                        f"subjectAltName=IP:{TLS_HOST},DNS:localhost",
                        "-keyout", key, "-out", cls.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.imap_config = {"tls.cert": cls.cert, "tls.key": key}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tls_dir, True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ownmail-imapcli-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        # No client reads the tester's own configuration or writes into it.
        self.env = {"HOME": self.dir, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LANG": "C.UTF-8", "TERM": "xterm"}

    def deliver(self, local, subjects, extra=None):
        """Delivers one message per subject, then waits until they are
        spooled; extra maps a subject to (headers, body)."""
        before = len(self.stack.spool_files(self.addr(local)))
        for s in subjects:
            headers, body = (extra or {}).get(s, ("", f"Body of {s}.\r\n"))
            self.stack.deliver(self.addr(local), subject=s, extra_headers=headers, body=body)
        self.wait_spool(local, before + len(subjects))

    def run_client(self, args, check=True):
        out = subprocess.run(args, env=self.env, cwd=self.dir, capture_output=True,
                             timeout=CLIENT_TIMEOUT)
        text = (out.stdout + out.stderr).decode(errors="replace")
        if check and out.returncode != 0:
            self.fail(f"{args[0]} exited with {out.returncode}:\n{text[-6000:]}\n"
                      f"--- ownmail-imap log:\n{self.stack.imap.log_tail()}")
        return out

    def assertServerAlive(self):
        self.assertIsNone(self.stack.imap.proc.poll(), self.stack.imap.log_tail())


class TestMbsync(ClientCase):
    binaries = ("mbsync",)
    SUBJECTS = ["mb-one", "mb-two", "mb-three", "mb-four", "mb-five"]

    def mbsync(self, rc, extra=()):
        return self.run_client([need("mbsync"), "-c", rc, *extra, "-a"])

    def test_two_way_sync(self):
        local = os.path.join(self.dir, "Mail")
        os.mkdir(local)
        rc = render("mbsyncrc.in", os.path.join(self.dir, "mbsyncrc"),
                    port=self.stack.imaps_port, user=self.addr("mona"), password=PASSWORD,
                    cert=self.cert, maildir=local)
        self.deliver("mona", self.SUBJECTS,
                     {"mb-three": (ATTACHED_HEADERS, attached_body())})
        c = self.imap("mona")
        c.create("Archive")
        far = server_messages(c)
        self.assertEqual(sorted(far), sorted(self.SUBJECTS))

        # 1: pulls all five, octet for octet (a maildir has LF line ends)
        self.mbsync(rc)
        near = maildir(os.path.join(local, "INBOX"))
        self.assertEqual(sorted(near), sorted(self.SUBJECTS))
        for s in self.SUBJECTS:
            self.assertEqual(lf(near[s][1]), lf(far[s][2]), s)
        self.assertIn(lf(attached_body().encode()), lf(near["mb-three"][1]))
        self.assertTrue(os.path.isdir(os.path.join(local, "Archive")))  # Create Both

        # 2: local changes go up, server changes come down, at once
        path = near["mb-one"][0]
        base = os.path.basename(path).split(":2,")[0]
        os.rename(path, os.path.join(local, "INBOX", "cur",
                                     base + ":2," + "".join(sorted(maildir_flags(path) | {"S"}))))
        os.remove(near["mb-two"][0])
        new_local = (b"From: Mona <mona@example.org>\nTo: someone@example.org\n"
                     b"Subject: mb-local\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
                     b"Message-ID: <mb-local@example.org>\n\nWritten offline.\n")
        with open(os.path.join(local, "INBOX", "cur", f"{int(time.time())}.{os.getpid()}_1.h:2,"),
                  "wb") as f:
            f.write(new_local)
        c.select("INBOX")
        c.uid("STORE", str(far["mb-four"][0]), "+FLAGS", r"(\Flagged)")
        c.close()
        self.deliver("mona", ["mb-six"])
        self.mbsync(rc)
        far2 = server_messages(c)
        self.assertEqual(sorted(far2), sorted(["mb-one", "mb-three", "mb-four", "mb-five",
                                               "mb-six", "mb-local"]))  # mb-two expunged
        self.assertIn(r"\Seen", far2["mb-one"][1])
        self.assertNotIn(r"\Seen", far2["mb-five"][1])
        self.assertEqual(lf(far2["mb-local"][2]), new_local)  # APPEND landed
        self.assertGreater(far2["mb-local"][0], far["mb-five"][0])
        near2 = maildir(os.path.join(local, "INBOX"))
        self.assertEqual(sorted(near2), sorted(far2))
        self.assertIn("F", maildir_flags(near2["mb-four"][0]))
        self.assertEqual(lf(near2["mb-six"][1]), lf(far2["mb-six"][2]))
        self.assertRegex(os.path.basename(near2["mb-local"][0]), r",U=\d+")  # got its UID

        # 3: nothing to do, checked three ways: the IMAP traffic mbsync
        # logs with -Dn (no APPEND, STORE, EXPUNGE, COPY, MOVE, no message
        # body fetched); its progress counters, which it prints on a
        # terminal only ("F: +0/0 *0/0 #0/0  N: +0/0 *0/0 #0/0": messages
        # copied, flag updates, trashed, done/planned, far and near), from a
        # run under a pty; and both sides' state (file names, UIDs, flags)
        # unchanged.
        out = self.mbsync(rc, ["-Dn"])
        self.assert_no_transfer_traffic((out.stdout + out.stderr).decode(errors="replace"))
        self.assert_zero_counters(self.mbsync_on_tty(rc))
        self.assertEqual({s: p for s, (p, _) in maildir(os.path.join(local, "INBOX")).items()},
                         {s: p for s, (p, _) in near2.items()})
        self.assertEqual({s: m[:2] for s, m in server_messages(c).items()},
                         {s: m[:2] for s, m in far2.items()})
        self.assertServerAlive()

    def mbsync_on_tty(self, rc):
        """mbsync's terminal output of a run under a pseudo-terminal."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: never returns into the test
            try:
                os.chdir(self.dir)
                os.execve(need("mbsync"), ["mbsync", "-c", rc, "-a"], self.env)
            finally:
                os._exit(127)
        out, deadline = b"", time.time() + CLIENT_TIMEOUT
        try:
            while time.time() < deadline:
                if not select.select([fd], [], [], 1)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(fd)
            if time.time() >= deadline:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        text = out.decode(errors="replace")
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, text)
        return text

    def assert_zero_counters(self, text):
        counters = re.findall(r"F: \+(\d+)/(\d+) +\*(\d+)/(\d+) +#(\d+)/(\d+) +"
                              r"N: \+(\d+)/(\d+) +\*(\d+)/(\d+) +#(\d+)/(\d+)", text)
        self.assertTrue(counters, text)
        self.assertEqual(set(counters), {("0",) * 12}, text)

    def assert_no_transfer_traffic(self, text):
        sent = [ln for ln in text.splitlines() if re.match(r"^>+ \d+ ", ln)]
        self.assertTrue(sent, text[-4000:])  # the -Dn trace is there
        for ln in sent:
            self.assertNotRegex(ln, r"^>+ \d+ (UID )?(APPEND|STORE|EXPUNGE|COPY|MOVE)\b", ln)
            self.assertNotRegex(ln, r"BODY(\.PEEK)?\[\]|RFC822\b(?!\.)", ln)


class TestOfflineimap(ClientCase):
    binaries = ("offlineimap",)
    SUBJECTS = ["off-one", "off-two", "off-three"]

    def test_sync_pulls_the_mailbox(self):
        self.deliver("otto", self.SUBJECTS,
                     {"off-two": (ATTACHED_HEADERS, attached_body())})
        c = self.imap("otto")
        uid = server_messages(c)["off-one"][0]
        c.select("INBOX")
        c.uid("STORE", str(uid), "+FLAGS", r"(\Seen \Flagged)")
        c.close()
        far = server_messages(c)
        rc = render("offlineimaprc.in", os.path.join(self.dir, "offlineimaprc"),
                    dir=self.dir, port=self.stack.imaps_port, user=self.addr("otto"),
                    password=PASSWORD, cert=self.cert)
        out = self.run_client([need("offlineimap"), "-c", rc, "-o", "-u", "basic"])
        text = (out.stdout + out.stderr).decode(errors="replace")
        self.assertNotRegex(text, r"(?i)\bERROR\b", text[-4000:])
        near = maildir(os.path.join(self.dir, "mail", "INBOX"))
        self.assertEqual(sorted(near), sorted(self.SUBJECTS), text[-4000:])
        for s in self.SUBJECTS:
            self.assertEqual(lf(near[s][1]), lf(far[s][2]), s)
        self.assertIn(lf(attached_body().encode()), lf(near["off-two"][1]))
        self.assertEqual(maildir_flags(near["off-one"][0]), {"S", "F"})
        self.assertEqual(maildir_flags(near["off-three"][0]), set())
        # a second run finds nothing new and keeps the files
        self.run_client([need("offlineimap"), "-c", rc, "-o", "-u", "basic"])
        self.assertEqual({s: p for s, (p, _) in
                          maildir(os.path.join(self.dir, "mail", "INBOX")).items()},
                         {s: p for s, (p, _) in near.items()})
        self.assertServerAlive()


class TestCurl(ClientCase):
    binaries = ("curl",)

    def curl(self, url, *args, tls=False, starttls=False):
        """curl's output; tls: on the implicit-TLS port, starttls: STARTTLS
        on the plain one."""
        port = self.stack.imaps_port if tls else self.stack.imap_port
        base = f"imaps://{TLS_HOST}:{port}" if tls else f"imap://{TLS_HOST}:{port}"
        extra = ["--cacert", self.cert] if tls or starttls else []
        extra += ["--ssl-reqd"] if starttls else []
        return self.run_client([need("curl"), "-sS", "--max-time", str(CLIENT_TIMEOUT),
                                "--user", f"{self.addr('curt')}:{PASSWORD}", *extra, *args,
                                "--url", base + url]).stdout

    def test_read_search_list_append(self):
        self.deliver("curt", ["curl-one", "curl-two"],
                     {"curl-two": (ATTACHED_HEADERS, attached_body())})
        c = self.imap("curt")
        c.create("Projects")
        far = server_messages(c)
        uid1, uid2 = far["curl-one"][0], far["curl-two"][0]

        # read: the exact octets; curl's "UID FETCH n BODY[]" sets \Seen
        self.assertEqual(self.curl(f"/INBOX;UID={uid2}"), far["curl-two"][2])
        self.assertEqual(self.curl(f"/INBOX;UID={uid1}", tls=True), far["curl-one"][2])
        self.assertIn(r"\Seen", server_messages(c)["curl-two"][1])

        # a custom command over TLS, and a search in the URL
        out = self.curl("/INBOX", "-X", "UID SEARCH ALL", tls=True).decode()
        m = re.search(r"^\* SEARCH((?: \d+)*)\r?$", out, re.M)
        self.assertTrue(m, out)
        self.assertEqual(sorted(map(int, m.group(1).split())), sorted([uid1, uid2]))
        out = self.curl("/INBOX?SUBJECT%20curl-two").decode()
        m = re.search(r"^\* SEARCH((?: \d+)*)\r?$", out, re.M)
        self.assertTrue(m, out)
        self.assertEqual(m.group(1).split(), ["2"], out)  # a sequence number

        # list the folders
        out = self.curl("/", starttls=True).decode()
        names = re.findall(r'^\* LIST \([^)]*\) (?:"."|NIL) "?([^"\r\n]+)"?\r?$', out, re.M)
        self.assertIn("INBOX", names, out)
        self.assertIn("Projects", names, out)

        # append, then find it over imaplib, octet for octet
        msg = (b"From: Curt <curt@example.org>\r\nTo: someone@example.org\r\n"
               b"Subject: curl-appended\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\n"
               b"Message-ID: <curl-appended@example.org>\r\n\r\nUploaded by curl.\r\n")
        path = os.path.join(self.dir, "upload.eml")
        with open(path, "wb") as f:
            f.write(msg)
        self.curl("/Projects", "-T", path)
        self.curl("/INBOX", "--upload-file", path, tls=True)
        for box in ("Projects", "INBOX"):
            _, flags, raw = server_messages(c, box)["curl-appended"]
            self.assertEqual(raw, msg, box)
            self.assertEqual(flags, {r"\Seen"}, box)  # curl appends with (\Seen)
        self.assertServerAlive()

    def test_wrong_password_fails_cleanly(self):
        out = subprocess.run([need("curl"), "-sS", "--max-time", "30", "--user",
                              f"{self.addr('curt')}:wrong", "--url",
                              f"imap://127.0.0.1:{self.stack.imap_port}/INBOX"],
                             env=self.env, capture_output=True, timeout=CLIENT_TIMEOUT)
        self.assertEqual(out.returncode, 67, out.stderr)  # CURLE_LOGIN_DENIED
        self.assertServerAlive()


class TestNeomutt(ClientCase):
    binaries = ("neomutt", "tmux")
    SUBJECTS = ["mutt-alpha", "mutt-bravo", "mutt-charlie"]

    def tmux(self, *args, check=True):
        return self.run_client([need("tmux"), "-S", self.sock, *args], check=check)

    def wait_pane(self, done, timeout=20):
        """The screen once done(screen text) holds; fails after timeout."""
        pane, deadline = "", time.time() + timeout
        while time.time() < deadline:
            pane = self.tmux("capture-pane", "-p", "-t", "t", check=False).stdout.decode(
                errors="replace")
            if done(pane):
                return pane
            time.sleep(0.2)
        self.fail(f"neomutt's screen:\n{pane}\n--- ownmail-imap log:\n"
                  f"{self.stack.imap.log_tail()}")

    def test_index_open_and_delete(self):
        self.deliver("nell", self.SUBJECTS)
        rc = render("muttrc.in", os.path.join(self.dir, "muttrc"),
                    user=self.addr("nell"), user_url=self.addr("nell").replace("@", "%40"),
                    password=PASSWORD, port=self.stack.imaps_port, cert=self.cert)
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50",
                  f"{need('neomutt')} -n -F {rc}")
        self.addCleanup(self.tmux, "kill-server", check=False)
        pane = self.wait_pane(lambda p: all(x in p for x in self.SUBJECTS))
        self.assertIn("INBOX", pane)
        # open one (a search moves the cursor to it), then delete it and
        # sync the mailbox ("$", then yes to the purge question)
        self.tmux("send-keys", "-t", "t", "/", "mutt-bravo", "Enter")
        time.sleep(0.5)
        self.tmux("send-keys", "-t", "t", "Enter")
        self.wait_pane(lambda p: "Body of mutt-bravo." in p)
        self.tmux("send-keys", "-t", "t", "q")
        self.wait_pane(lambda p: all(x in p for x in self.SUBJECTS))
        self.tmux("send-keys", "-t", "t", "d", "$")
        self.wait_pane(lambda p: "Purge" in p)
        self.tmux("send-keys", "-t", "t", "y")
        self.wait_pane(lambda p: "mutt-bravo" not in p)
        c = self.imap("nell")
        deadline = time.time() + 10
        while "mutt-bravo" in server_messages(c) and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(sorted(server_messages(c)), ["mutt-alpha", "mutt-charlie"])
        self.assertServerAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
