"""The change feed end to end: the real api, a real Redis, and
ownmail-dirfollow (lib/directory's follower) as the worker.

A follower must converge to exactly what the api's snapshot holds (same seq,
same digest, both computed by directory_digest) through 1,000 REST changes,
a Redis restart that loses the stream, a follower killed with SIGKILL and
replaced, a gap in the stream (entries trimmed while the follower was
stopped), and an api that is down when the follower starts.
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DIRFOLLOW = os.path.join(harness.BIN_DIR, "ownmail-dirfollow")
CHANGES = 1000
REDIS_RESTART_AT = 300
FOLLOWER_KILL_AT = 600
GAP_AT = 800
CONVERGE_TIMEOUT = 60
STREAM = "ownmail:feed"


def q(s):
    return urllib.parse.quote(s, safe="*")


class Follower:
    """One ownmail-dirfollow follow process with its own status and log files."""

    def __init__(self, api, workdir, name):
        self.status_path = os.path.join(workdir, f"{name}.status")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [DIRFOLLOW, "follow", "--api", f"127.0.0.1:{api.port}",
             "--redis", f"127.0.0.1:{api.redis.port}",
             "--secret-file", os.path.join(api.data_dir, "keys", "worker.secret"),
             "--status-file", self.status_path],
            stdout=self.log, stderr=subprocess.STDOUT)

    def status(self):
        """(seq, digest) from the status file, or None before the first write."""
        try:
            with open(self.status_path) as f:
                fields = dict(line.split(" ", 1) for line in f.read().splitlines())
            return int(fields["seq"]), fields["digest"].strip()
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self):
        """SIGTERM; returns the exit status (a sanitizer report makes it non-zero)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.log.close()
        return rc


def api_digest(api, secret_file=None):
    """(seq, digest) of the api's snapshot, by ownmail-dirfollow digest."""
    secret_file = secret_file or os.path.join(api.data_dir, "keys", "worker.secret")
    out = subprocess.run([DIRFOLLOW, "digest", "--api", f"127.0.0.1:{api.port}",
                          "--secret-file", secret_file],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"ownmail-dirfollow digest failed: {out.stderr}")
    words = out.stdout.split()
    assert len(words) == 4 and words[0] == "seq" and words[2] == "digest", out.stdout
    return int(words[1]), words[3]


def wait_converged(test, api, follower, timeout=CONVERGE_TIMEOUT):
    """Waits until the follower's status equals the api's snapshot."""
    deadline = time.time() + timeout
    want = got = None
    while time.time() < deadline:
        test.assertIsNone(follower.proc.poll(), "follower died:\n" + follower.log_text()[-3000:])
        want = api_digest(api)
        got = follower.status()
        if got == want:
            return want
        time.sleep(0.25)
    test.fail(f"follower did not converge in {timeout}s: follower {got}, api {want}\n"
              + follower.log_text()[-3000:])


class Workload:
    """Deterministic REST changes (domains, aliases, a few users and DKIM
    keys); each call counts as one change and must succeed."""

    def __init__(self, test, api, token):
        self.test = test
        self.api = api
        self.token = token
        self.rnd = random.Random(20261125)
        self.domains = []
        self.aliases = {}  # address -> (domain, local)
        self.users = 0
        self.n = 0

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        r = self.api.request(method, "/api/v1" + path, body, token=self.token, validate=False)
        if r.status == 401:  # the token expired during a long run
            self.token = self.api.login()
            r = self.api.request(method, "/api/v1" + path, body, token=self.token, validate=False)
        self.test.assertIn(r.status, expect, f"{method} {path} {body}: {r}")
        self.n += 1
        return r

    def create_domain(self):
        name = f"d{self.n}.feed.test"
        self.call("POST", "/domains", {"name": name, "description": f"domain {self.n}"})
        self.domains.append(name)

    def create_alias(self):
        dom = self.rnd.choice(self.domains)
        local = "*" if self.rnd.random() < 0.05 else f"a{self.n}"
        if f"{local}@{dom}" in self.aliases:
            local = f"a{self.n}"
        targets = [f"t{self.n}-{k}@remote.example" for k in range(self.rnd.randint(1, 3))]
        self.call("POST", f"/domains/{q(dom)}/aliases", {"local": local, "targets": targets})
        self.aliases[f"{local}@{dom}"] = (dom, local)

    def patch_alias(self):
        dom, local = self.aliases[self.rnd.choice(sorted(self.aliases))]
        body = ({"targets": [f"p{self.n}@remote.example"]} if self.rnd.random() < 0.6
                else {"enabled": self.rnd.random() < 0.5})
        self.call("PATCH", f"/domains/{q(dom)}/aliases/{q(local)}", body)

    def delete_alias(self):
        addr = self.rnd.choice(sorted(self.aliases))
        dom, local = self.aliases.pop(addr)
        self.call("DELETE", f"/domains/{q(dom)}/aliases/{q(local)}")

    def patch_domain(self):
        dom = self.rnd.choice(self.domains)
        body = ({"description": f"changed {self.n}"} if self.rnd.random() < 0.7
                else {"enabled": self.rnd.random() < 0.7})
        self.call("PATCH", f"/domains/{q(dom)}", body)

    def delete_domain(self):
        dom = self.domains.pop(self.rnd.randrange(len(self.domains)))
        self.call("DELETE", f"/domains/{q(dom)}?force=true")
        for addr in [a for a, (d, _) in self.aliases.items() if d == dom]:
            del self.aliases[addr]

    def create_user(self):
        dom = self.rnd.choice(self.domains)
        self.users += 1
        self.call("POST", f"/domains/{q(dom)}/users",
                  {"local": f"u{self.users}", "password": "correct horse battery staple"})

    def create_dkim(self):
        dom = self.rnd.choice(self.domains)
        self.call("POST", f"/domains/{q(dom)}/dkim-keys",
                  {"algorithm": "ed25519", "selector": f"k{self.n}"})

    def step(self):
        r = self.rnd.random()
        if len(self.domains) < 3 or r < 0.10:
            self.create_domain()
        elif r < 0.12:
            self.create_user()
        elif r < 0.14:
            self.create_dkim()
        elif r < 0.50 or not self.aliases:
            self.create_alias()
        elif r < 0.70:
            self.patch_alias()
        elif r < 0.84:
            self.delete_alias()
        elif r < 0.96 or len(self.domains) <= 3:
            self.patch_domain()
        else:
            self.delete_domain()

    def run_until(self, n):
        while self.n < n:
            self.step()


def stream_last_seq(api):
    rep = api.redis.command("XREVRANGE", STREAM, "+", "-", "COUNT", "1")
    return int(rep[0][0].split("-")[0]) if rep else 0


def wait_published(test, api, seq, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if stream_last_seq(api) >= seq:
            return
        time.sleep(0.1)
    test.fail(f"the relay did not publish seq {seq} in {timeout}s")


class FeedConvergence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(DIRFOLLOW, os.X_OK):
            raise AssertionError(f"{DIRFOLLOW} is not built")
        cls.api = harness.Api()
        cls.api.start()
        cls.workdir = tempfile.mkdtemp(prefix="ownmail-feed-", dir=cls.api.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def test_converges_through_restarts_kills_and_gaps(self):
        api = self.api
        work = Workload(self, api, api.login())
        f1 = Follower(api, self.workdir, "follower1")
        try:
            wait_converged(self, api, f1)

            work.run_until(REDIS_RESTART_AT)
            api.redis.restart()  # the stream is gone; the follower must re-snapshot
            work.run_until(FOLLOWER_KILL_AT)
            wait_converged(self, api, f1)
            log1 = f1.log_text()
            self.assertIn("redis connection lost", log1)
            self.assertGreaterEqual(log1.count("snapshot loaded"), 2, log1[-3000:])
        finally:
            f1.kill()

        f2 = Follower(api, self.workdir, "follower2")
        try:
            work.run_until(GAP_AT)
            wait_converged(self, api, f2)

            # A gap: entries published while the follower is stopped are
            # trimmed away before it reads them.
            f2.proc.send_signal(signal.SIGSTOP)
            try:
                work.run_until(GAP_AT + 1)
                time.sleep(1.0)  # any XREAD it had pending is answered by now
                work.run_until(GAP_AT + 21)
                wait_published(self, api, api_digest(api)[0])
                api.redis.command("XTRIM", STREAM, "MAXLEN", "0")
                work.run_until(GAP_AT + 26)
                wait_published(self, api, api_digest(api)[0])
            finally:
                f2.proc.send_signal(signal.SIGCONT)
            wait_converged(self, api, f2)
            self.assertIn("gap in the feed", f2.log_text())

            work.run_until(CHANGES)
            seq, _ = wait_converged(self, api, f2)
            self.assertGreaterEqual(seq, CHANGES)
        finally:
            rc = f2.stop()
        log2 = f2.log_text()
        self.assertEqual(rc, 0, log2[-3000:])
        self.assertNotIn("Sanitizer", log2)

    def test_digest_refuses_a_wrong_secret(self):
        bad = os.path.join(self.workdir, "wrong.secret")
        with open(bad, "wb") as f:
            f.write(os.urandom(32))
        out = subprocess.run([DIRFOLLOW, "digest", "--api", f"127.0.0.1:{self.api.port}",
                              "--secret-file", bad], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out)
        self.assertIn("401", out.stderr)


class FeedApiDownAtStart(unittest.TestCase):
    """A follower started while the api is down retries until it is back."""

    def setUp(self):
        if not os.access(DIRFOLLOW, os.X_OK):
            raise AssertionError(f"{DIRFOLLOW} is not built")
        self.api = harness.Api()
        self.api.start()
        self.workdir = tempfile.mkdtemp(prefix="ownmail-feed-", dir=self.api.workdir)

    def tearDown(self):
        self.api.close()

    def test_retries_until_the_api_is_up(self):
        api = self.api
        work = Workload(self, api, api.login())
        work.run_until(20)
        api.stop()
        f = Follower(api, self.workdir, "early")
        try:
            time.sleep(2.0)
            self.assertIsNone(f.status())
            self.assertIn("snapshot failed", f.log_text())
            api.start()
            wait_converged(self, api, f)
            work.token = api.login()
            work.run_until(40)
            wait_converged(self, api, f)
        finally:
            rc = f.stop()
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
