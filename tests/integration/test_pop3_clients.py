"""Real POP3 clients from Debian against ownmail-pop3 over real sockets,
retrieving messages delivered through SMTP: fetchmail (implicit TLS with
keep and UIDL tracking, a second run fetching nothing; STLS on the plain
port, deleting), getmail6 (implicit TLS into a Maildir, its oldmail file
making a second run fetch nothing) and mpop (implicit TLS, AUTH PLAIN, into
a maildir; keep, then nothing new, then delete).
Each message arrives octet for octet (LF line ends in the local copies,
less the trace headers a client adds). Their configurations are templates
in pop3_clients/. A test skips only when its client's binary is missing
(setup.sh installs them all)."""
import email
import os
import pwd
import re
import shutil
import string
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3case import PASSWORD, Pop3Case, imap_inbox  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_TIMEOUT = 60  # seconds one client run may take
TLS_HOST = "127.0.0.1"  # the name in ClientCase's certificate

ATTACHMENT = os.urandom(3000)
ATTACHED_HEADERS = ("MIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"b0undary\"\r\n")
DOTTED_BODY = ".a line with a dot\r\n..two\r\n.\r\nthe end\r\n"


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
    with open(os.path.join(HERE, "pop3_clients", template)) as f:
        text = string.Template(f.read()).substitute(values)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


TRACE = re.compile(rb"^(Received|Return-Path|Delivered-To|X-Fetchmail-[^:]*|Status|X-Status):"
                   rb"[^\n]*\n(?:[ \t][^\n]*\n)*", re.I)


def lf(raw):
    """raw with LF line ends."""
    return raw.replace(b"\r\n", b"\n")


def untraced(raw):
    """raw with LF line ends, less the trace header fields a client put on
    top of the message."""
    raw = lf(raw)
    while True:
        m = TRACE.match(raw)
        if not m:
            return raw
        raw = raw[m.end():]


def subject_of(raw):
    return str(email.message_from_bytes(raw)["Subject"])


def files(folder):
    """{path: raw bytes} of the regular files in folder and, for a maildir,
    its new/ and cur/."""
    out = {}
    for sub in ("", "new", "cur"):
        d = os.path.join(folder, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    out[path] = f.read()
    return out


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return path


class ClientCase(Pop3Case):
    users = ("fred", "fiona", "gina", "mona")
    binaries = ()  # the clients a class runs: it skips when one is missing

    @classmethod
    def setUpClass(cls):
        for binary in cls.binaries:
            need(binary)
        # A certificate for the address the clients connect to, so that they
        # verify it as users' clients do (the harness's names another host).
        cls.tls_dir = tempfile.mkdtemp(prefix="ownmail-pop3cli-tls-")
        cls.cert, key = os.path.join(cls.tls_dir, "cert.pem"), os.path.join(cls.tls_dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN={TLS_HOST}", "-addext",
                        f"subjectAltName=IP:{TLS_HOST},DNS:localhost",
                        "-keyout", key, "-out", cls.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.pop3_config = {"tls.cert": cls.cert, "tls.key": key}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tls_dir, True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ownmail-pop3cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        # No client reads the tester's own configuration or writes into it.
        self.env = {"HOME": self.dir, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LANG": "C.UTF-8", "USER": "root", "LOGNAME": "root"}

    def deliver_set(self, local, subjects):
        """Delivers one message per subject (one with an attachment, one
        with dotted lines); the server's copies as {subject: raw}."""
        self.deliver(local, subjects,
                     body={subjects[0]: attached_body(), subjects[-1]: DOTTED_BODY},
                     extra={subjects[0]: ATTACHED_HEADERS})
        return self.server(local)

    def server(self, local):
        """INBOX over IMAP as {subject: raw}."""
        _, msgs = imap_inbox(self.imap(local))
        return {subject_of(m[3]): m[3] for m in msgs}

    def uidls(self, local):
        """The UIDL values of the messages in INBOX: "<uidvalidity>.<uid>"."""
        uidvalidity, msgs = imap_inbox(self.imap(local))
        return {f"{uidvalidity}.{m[0]}" for m in msgs}

    def assertTracked(self, path, uidls):
        """The client's state file names every one of uidls."""
        with open(path, errors="replace") as f:
            text = f.read()
        for u in uidls:
            self.assertRegex(text, rf"(?<![\d.]){re.escape(u)}(?![\d.])", text)

    def run_client(self, args, ok=(0,)):
        out = subprocess.run(args, env=self.env, cwd=self.dir, capture_output=True,
                             timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL)
        text = (out.stdout + out.stderr).decode(errors="replace")
        if out.returncode not in ok:
            self.fail(f"{args[0]} exited with {out.returncode}:\n{text[-6000:]}\n"
                      f"--- ownmail-pop3 log:\n{self.stack.pop3.log_tail()}")
        return text

    def assertSame(self, got, far):
        """got ({path: raw}) holds exactly the messages of far ({subject:
        raw}), octet for octet but for line ends and the client's trace
        header fields."""
        by_subject = {subject_of(raw): raw for raw in got.values()}
        self.assertEqual(len(by_subject), len(got), list(got))
        self.assertEqual(sorted(by_subject), sorted(far))
        for s, raw in far.items():
            # the server's copy, after nothing but trace fields (the
            # server's own Received is the copy's first line)
            mine = lf(by_subject[s])
            self.assertTrue(mine.endswith(lf(raw)), f"{s}:\n{mine[:3000]!r}")
            self.assertEqual(untraced(mine[:len(mine) - len(lf(raw))]), b"", s)

    def assertServerAlive(self):
        self.assertIsNone(self.stack.pop3.proc.poll(), self.stack.pop3.log_tail())


class TestFetchmail(ClientCase):
    binaries = ("fetchmail",)

    def fetchmail(self, rc, ok=(0,)):
        # -N: in the foreground; -i: its UIDL list in the test's directory;
        # exit 0 = mail retrieved, 1 = no mail
        return self.run_client([need("fetchmail"), "-f", rc, "-i",
                                os.path.join(self.dir, "fetchids"), "-N", "-v",
                                "--pidfile", os.path.join(self.dir, "fetchmail.pid")], ok=ok)

    def rc(self, local, port, tls, keep, out):
        os.mkdir(out)
        mda = os.path.join(self.dir, "mda.sh")
        with open(mda, "w") as f:
            f.write('#!/bin/sh\nexec cat > "$(mktemp "$1/msg.XXXXXX")"\n')
        os.chmod(mda, 0o755)
        return render("fetchmailrc.in", os.path.join(self.dir, "fetchmailrc"), port=port,
                      user=self.addr(local), password=PASSWORD, cert=self.cert, tls=tls,
                      keep=keep, mda=f"{mda} {out}")

    def test_implicit_tls_keep_and_uidl(self):
        far = self.deliver_set("fred", ["fm-one", "fm-two", "fm-three"])
        out = os.path.join(self.dir, "out")
        rc = self.rc("fred", self.stack.pop3s_port, "ssl", "keep", out)
        text = self.fetchmail(rc)
        got = files(out)
        self.assertSame(got, far)
        self.assertIn("3 messages", text)
        self.assertTracked(os.path.join(self.dir, "fetchids"), self.uidls("fred"))
        # keep: all still there; the second run fetches nothing
        self.assertEqual(self.server("fred"), far)
        text = self.fetchmail(rc, ok=(1,))
        self.assertEqual(files(out), got, text)
        # a new one: only that one comes
        self.deliver("fred", ["fm-four"])
        far = self.server("fred")
        self.fetchmail(rc)
        now = files(out)
        self.assertEqual(len(now), 4)
        self.assertSame({p: raw for p, raw in now.items() if p not in got},
                        {"fm-four": far["fm-four"]})
        self.assertServerAlive()

    def test_stls_deletes(self):
        far = self.deliver_set("fiona", ["fs-one", "fs-two"])
        out = os.path.join(self.dir, "out")
        rc = self.rc("fiona", self.stack.pop3_port, "sslproto tls1.2+", "no keep", out)
        text = self.fetchmail(rc)
        self.assertRegex(text, r"(?i)STLS")
        self.assertSame(files(out), far)
        self.assertEqual(self.server("fiona"), {})  # deleted at QUIT
        self.fetchmail(rc, ok=(1,))
        self.assertEqual(len(files(out)), 2)
        self.assertServerAlive()


class TestGetmail(ClientCase):
    binaries = ("getmail",)

    def test_maildir_and_oldmail(self):
        far = self.deliver_set("gina", ["gm-one", "gm-two", "gm-three"])
        maildir = make_maildir(os.path.join(self.dir, "Maildir"))
        # getmail refuses to write a maildir as root: as root, it delivers
        # as nobody, into a maildir of nobody's
        deliver_as = pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            deliver_as = nobody.pw_name
            os.chmod(self.dir, 0o755)
            for sub in ("", "cur", "new", "tmp"):
                os.chown(os.path.join(maildir, sub), nobody.pw_uid, nobody.pw_gid)
        rc = render("getmailrc.in", os.path.join(self.dir, "getmailrc"),
                    port=self.stack.pop3s_port, user=self.addr("gina"), password=PASSWORD,
                    cert=self.cert, maildir=maildir, deliver_as=deliver_as)
        args = [need("getmail"), "--getmaildir", self.dir, "--rcfile", rc]
        text = self.run_client(args)
        got = files(os.path.join(maildir, "new"))
        self.assertSame(got, far)
        self.assertRegex(text, r"3 messages \(\d+ bytes\) retrieved")
        oldmail = [f for f in os.listdir(self.dir) if f.startswith("oldmail-")]
        self.assertEqual(len(oldmail), 1, os.listdir(self.dir))
        self.assertTracked(os.path.join(self.dir, oldmail[0]), self.uidls("gina"))
        # delete = false: still there; oldmail: nothing new the second time
        self.assertEqual(self.server("gina"), far)
        text = self.run_client(args)
        self.assertRegex(text, r"0 messages \(0 bytes\) retrieved")
        self.assertEqual(files(os.path.join(maildir, "new")), got)
        self.assertServerAlive()


class TestMpop(ClientCase):
    binaries = ("mpop",)

    def test_keep_then_nothing_new_then_delete(self):
        far = self.deliver_set("mona", ["mp-one", "mp-two", "mp-three"])
        maildir = make_maildir(os.path.join(self.dir, "Maildir"))
        rc = render("mpoprc.in", os.path.join(self.dir, "mpoprc"), port=self.stack.pop3s_port,
                    user=self.addr("mona"), password=PASSWORD, cert=self.cert, maildir=maildir,
                    uidls=os.path.join(self.dir, "uidls"))
        mpop = [need("mpop"), "-C", rc]
        self.run_client(mpop + ["--keep=on", "-a"])
        got = files(os.path.join(maildir, "new"))
        self.assertSame(got, far)
        self.assertEqual(self.server("mona"), far)
        self.assertTracked(os.path.join(self.dir, "uidls"), self.uidls("mona"))
        # nothing new: nothing retrieved
        text = self.run_client(mpop + ["--keep=on", "-a"])
        self.assertEqual(files(os.path.join(maildir, "new")), got, text)
        # a new message; without keep it comes and everything retrieved goes
        self.deliver("mona", ["mp-four"])
        four = self.server("mona")["mp-four"]
        self.run_client(mpop + ["--keep=off", "-a"])
        now = files(os.path.join(maildir, "new"))
        self.assertSame({p: raw for p, raw in now.items() if p not in got}, {"mp-four": four})
        self.assertEqual(self.server("mona"), {})
        # the server is empty now: a run finds nothing
        self.run_client(mpop + ["-a"])
        self.assertEqual(len(files(os.path.join(maildir, "new"))), 4)
        self.assertServerAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
