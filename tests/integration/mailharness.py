"""The mail stack for integration tests: a private Redis, the real
ownmail-api and the real ownmail-smtp (and, when asked, ownmail-imap and
ownmail-pop3) on free loopback ports, a throw-away
self-signed certificate, and helpers to create hosted domains and users
through the REST API and to read a user's mailbox (tests/tools/mbox.c).
"""
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

API = "/api/v1"


def make_cert(directory, cn="mail.test.example"):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return cert, key


def client_tls():
    """TLS for test clients: the certificate is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class WorkerProc:
    """One worker process (ownmail-smtp, ownmail-imap...) with its log."""

    def __init__(self, program, config_path, log_path, port):
        self.program, self.config_path, self.log_path, self.port = (
            program, config_path, log_path, port)
        self.proc = None
        self.log = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(harness.BIN_DIR, self.program), "--config", self.config_path],
            stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_port(self.port)

    def stop(self, sig=signal.SIGTERM, expect_clean=True):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        if expect_clean and rc != 0:
            raise AssertionError(f"{self.program} exited with {rc}:\n{self.log_tail()}")
        return rc

    def log_tail(self, n=4000):
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")


class MailStack:
    def __init__(self, smtp_config=None, smtp_user="", imap=False, imap_config=None, pop3=False,
                 pop3_config=None):
        self.tls_dir = tempfile.mkdtemp(prefix="ownmail-tls-")
        self.cert, self.key = make_cert(self.tls_dir)
        self.mx_port = harness.free_port()
        self.sub_port = harness.free_port()
        self.subs_port = harness.free_port()
        self.metrics_port = harness.free_port()
        config = {
            "tls.cert": self.cert,
            "tls.key": self.key,
            "smtp.listen": f"127.0.0.1:{self.mx_port}",
            "smtp.submission_listen": f"127.0.0.1:{self.sub_port}",
            "smtp.submissions_listen": f"127.0.0.1:{self.subs_port}",
            "smtp.metrics_listen": f"127.0.0.1:{self.metrics_port}",
            "smtp.user": smtp_user,
            "smtp.message_max": "1M",
            # No outside DNS in tests: nothing answers here, so outside
            # deliveries stay queued (test_smtp_outbound.py sets its own).
            "queue.dns": "127.0.0.1:9",
        }
        config.update(smtp_config or {})
        self.imap_port = self.imaps_port = self.imap_metrics_port = None
        if imap:
            self.imap_port = harness.free_port()
            self.imaps_port = harness.free_port()
            self.imap_metrics_port = harness.free_port()
            config.update({
                "imap.listen": f"127.0.0.1:{self.imap_port}",
                "imap.tls_listen": f"127.0.0.1:{self.imaps_port}",
                "imap.metrics_listen": f"127.0.0.1:{self.imap_metrics_port}",
                "imap.user": "",
                "imap.plaintext_loopback": "true",
                "imap.message_max": "1M",
            })
            config.update(imap_config or {})
        self.pop3_port = self.pop3s_port = self.pop3_metrics_port = None
        if pop3:
            self.pop3_port = harness.free_port()
            self.pop3s_port = harness.free_port()
            self.pop3_metrics_port = harness.free_port()
            config.update({
                "pop3.listen": f"127.0.0.1:{self.pop3_port}",
                "pop3.tls_listen": f"127.0.0.1:{self.pop3s_port}",
                "pop3.metrics_listen": f"127.0.0.1:{self.pop3_metrics_port}",
                "pop3.user": "",
                "pop3.plaintext_loopback": "true",
            })
            config.update(pop3_config or {})
        self.api = harness.Api(extra_config=config)
        self.smtp = WorkerProc("ownmail-smtp", self.api.config_path,
                               os.path.join(self.api.workdir, "smtp.log"), self.mx_port)
        self.imap = (WorkerProc("ownmail-imap", self.api.config_path,
                                os.path.join(self.api.workdir, "imap.log"), self.imap_port)
                     if imap else None)
        self.pop3 = (WorkerProc("ownmail-pop3", self.api.config_path,
                                os.path.join(self.api.workdir, "pop3.log"), self.pop3_port)
                     if pop3 else None)
        self.token = None

    @property
    def data_dir(self):
        return self.api.data_dir

    def start(self):
        self.api.start()
        self.token = self.api.login()
        self.start_smtp()
        if self.imap is not None:
            self.imap.start()
        if self.pop3 is not None:
            self.pop3.start()

    # The SMTP worker under its old names (the SMTP tests use them).
    @property
    def smtp_proc(self):
        return self.smtp.proc

    def start_smtp(self):
        self.smtp.start()

    def stop_smtp(self, sig=signal.SIGTERM, expect_clean=True):
        return self.smtp.stop(sig, expect_clean)

    def smtp_log_tail(self, n=4000):
        return self.smtp.log_tail(n)

    def close(self):
        try:
            if self.pop3 is not None:
                self.pop3.stop()
        finally:
            self._close_imap()

    def _close_imap(self):
        try:
            if self.imap is not None:
                self.imap.stop()
        finally:
            try:
                self.stop_smtp()
            finally:
                self.api.close()

    # ---- IMAP ------------------------------------------------------------

    def imap_connect(self, tls=False):
        """An imaplib client on the plain port (loopback plaintext allowed)
        or, with tls, on the implicit-TLS port."""
        import imaplib
        if tls:
            return imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=client_tls(),
                                     timeout=30)
        return imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)

    def imap_login(self, address, password, tls=False):
        c = self.imap_connect(tls)
        c.login(address, password)
        return c

    # ---- POP3 ------------------------------------------------------------

    def pop3_connect(self, tls=False):
        """A poplib client on the plain port (loopback plaintext allowed)
        or, with tls, on the implicit-TLS port."""
        import poplib
        if tls:
            return poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_tls(), timeout=30)
        return poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)

    def deliver(self, rcpt, subject="hello", body="Hello there.\r\n", sender="a@outside.test",
                extra_headers=""):
        """One message through the MX port (smtplib), acknowledged = spooled."""
        import smtplib
        msg = (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{os.urandom(8).hex()}@outside.test>\r\n{extra_headers}\r\n{body}")
        with smtplib.SMTP("127.0.0.1", self.mx_port, timeout=30) as s:
            s.sendmail(sender, [rcpt], msg.encode())

    # ---- directory -------------------------------------------------------

    def domain(self, name):
        r = self.api.request("POST", f"{API}/domains", {"name": name}, token=self.token)
        assert r.status == 201, r
        return r.json

    def user(self, domain, local, password, quota=None):
        body = {"local": local, "password": password}
        if quota is not None:
            body["quota_bytes"] = quota
        r = self.api.request("POST", f"{API}/domains/{domain}/users", body, token=self.token)
        assert r.status == 201, r
        return r.json

    def alias(self, domain, local, targets):
        r = self.api.request("POST", f"{API}/domains/{domain}/aliases",
                             {"local": local, "targets": targets}, token=self.token)
        assert r.status == 201, r
        return r.json

    def entity(self, address):
        """The user as workers see it (the internal snapshot)."""
        r = self.api.request("GET", "/internal/v1/directory", validate=False,
                             headers={"Authorization": f"Bearer {self.api.worker_secret()}"})
        assert r.status == 200, r
        for u in r.json["users"]:
            if u["address"] == address:
                return u
        raise KeyError(address)

    def mailbox(self, address, password):
        """Drains the user's spool into the store and returns INBOX as a list
        of (uid, raw bytes)."""
        import base64
        inp = json.dumps({"password": password, "entity": self.entity(address)})
        out = subprocess.run([os.path.join(harness.BIN_DIR, "ownmail-mbox"), self.data_dir],
                             input=inp.encode(), capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr.decode()
        data = json.loads(out.stdout)
        return [(m["uid"], base64.b64decode(m["raw"])) for m in data["messages"]]

    def spool_files(self, address):
        d = os.path.join(self.data_dir, "spool", self.entity(address)["store_id"])
        if not os.path.isdir(d):
            return []
        return sorted(f for f in os.listdir(d) if f.endswith(".msg"))

    def metrics(self, port=None):
        """The counters of a worker's /metrics (the SMTP worker's unless
        port names another, e.g. stack.pop3_metrics_port)."""
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{port or self.metrics_port}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values


class Dnsmasq:
    """dnsmasq on a free loopback port serving only the given records, in
    the foreground (stopped by stop())."""

    def __init__(self, workdir, args):
        import shutil
        import time
        from queue_smtpstub import free_port
        from test_queue_delivery import dns_ready
        self.port = free_port()
        binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        self.log = open(os.path.join(workdir, "dnsmasq.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--keep-in-foreground", "--no-resolv", "--no-hosts", f"--port={self.port}",
             "--listen-address=127.0.0.1", "--bind-interfaces", "--log-facility=-",
             "--local=/test/", f"--pid-file={workdir}/dnsmasq.pid"] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if dns_ready(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("dnsmasq did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
