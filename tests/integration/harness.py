"""Starts a private Redis and the real ownmail-api on free loopback ports and
talks to it over HTTP. Each test module gets its own data directory, so test
files are independent and can run in parallel.

Environment (set by tests/CMakeLists.txt):
  OWNMAIL_BIN_DIR     directory holding ownmail-api and the test tools
  OWNMAIL_SOURCE_DIR  the source tree (openapi.yaml, web/)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oaschema  # noqa: E402

BIN_DIR = os.environ.get("OWNMAIL_BIN_DIR", "build/bin")
SOURCE_DIR = os.environ.get(
    "OWNMAIL_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
START_TIMEOUT = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=START_TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self):
        return self.headers.get("Content-Type", "")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Redis:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self):
        """Kills Redis (losing everything in it) and starts it again empty."""
        self.stop()
        self.start()

    def command(self, *args):
        """A minimal RESP client, enough for tests to look at Redis."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            f = s.makefile("rb")
            return _resp_read(f)


def _resp_read(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")


class Api:
    """The api process with its own data directory and configuration."""

    def __init__(self, extra_config=None):
        self.workdir = tempfile.mkdtemp(prefix="ownmail-it-")
        self.data_dir = os.path.join(self.workdir, "data")
        self.redis = Redis(self.workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = os.path.join(self.workdir, "ownmail.conf")
        self.log_path = os.path.join(self.workdir, "api.log")
        self.proc = None
        config = {
            "data_dir": self.data_dir,
            "web_dir": os.path.join(SOURCE_DIR, "web"),
            "hostname": "mail.test.example",
            "api.listen": f"127.0.0.1:{self.port}",
            "redis.host": "127.0.0.1",
            "redis.port": str(self.redis.port),
            # The cheapest Argon2id parameters: tests check behaviour, not cost.
            "kdf.user_opslimit": "1",
            "kdf.user_memlimit": "8K",
            "kdf.admin_opslimit": "1",
            "kdf.admin_memlimit": "8K",
            "throttle.account_max": "5",
            "throttle.ip_max": "1000",
            "throttle.window": "60s",
        }
        config.update(extra_config or {})
        with open(self.config_path, "w") as f:
            for k, v in config.items():
                f.write(f"{k} = {v}\n")
        self.admin_user = None
        self.admin_password = None

    @property
    def binary(self):
        return os.path.join(BIN_DIR, "ownmail-api")

    def start(self):
        if self.redis.proc is None:
            self.redis.start()
        creds = os.path.join(self.workdir, "admin.credentials")
        if self.admin_user is None:
            subprocess.run([self.binary, "--config", self.config_path, "bootstrap-admin", creds],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(creds) as f:
                self.admin_user, self.admin_password = f.read().strip().split(":", 1)
            assert os.stat(creds).st_mode & 0o777 == 0o600
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--config", self.config_path, "run"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self, expect_clean=True):
        """Stops the api with SIGTERM; a sanitizer report or a crash fails."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        if expect_clean and rc != 0:
            with open(self.log_path, "rb") as f:
                tail = f.read()[-4000:].decode(errors="replace")
            raise AssertionError(f"ownmail-api exited with {rc}:\n{tail}")

    def close(self):
        try:
            self.stop()
        finally:
            self.redis.stop()
            if os.environ.get("OWNMAIL_KEEP_TEST_DIRS") is None:
                shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- HTTP -----------------------------------------------------------

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                validate=True, source=None):
        """Sends a request; the response is checked against openapi.yaml unless
        validate is False (for endpoints outside the public contract)."""
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        # Non-ASCII path segments (U-label domains) travel percent-encoded.
        path = urllib.parse.quote(path, safe="/?=&%*:@+,;!$'()~")
        if source is not None:
            return self._request_from(source, method, path, data, hdrs, validate)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                resp = Response(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            resp = Response(e.code, dict(e.headers), e.read())
        if validate:
            oaschema.validate(method, urllib.parse.unquote(path.split("?")[0]), resp.status,
                              resp.content_type, resp.body, headers=resp.headers)
        return resp

    def _request_from(self, source, method, path, data, hdrs, validate):
        """The same over a socket bound to another loopback address (so a
        test can be a different client IP)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                          source_address=(source, 0))
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        resp = Response(r.status, dict(r.getheaders()), r.read())
        conn.close()
        if validate:
            oaschema.validate(method, path.split("?")[0], resp.status,
                              resp.content_type, resp.body, headers=resp.headers)
        return resp

    def login(self, username=None, password=None):
        r = self.request("POST", "/api/v1/auth/token",
                         {"username": username or self.admin_user,
                          "password": password or self.admin_password})
        assert r.status == 200, r
        return r.json["access_token"]

    def worker_secret(self):
        with open(os.path.join(self.data_dir, "keys", "worker.secret"), "rb") as f:
            return f.read().hex()
