"""Shared helpers of the REST integration tests (test_api_*.py).

- ApiCase: a unittest.TestCase base class that starts one Api (private Redis
  and ownmail-api) per class, logs in as the bootstrap admin (cls.token) and
  stops it again; api.close() fails the class when the api crashed or a
  sanitizer reported.
- JWT forging (HS256/HS512/none with hmac+hashlib+base64), for the attacks.
- Quick creation of domains, users and admins, problem assertions, the
  workers' snapshot and the coverage report printed at the end of a module.
"""
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oaschema  # noqa: E402

PROBLEM_CT = "application/problem+json"
API = "/api/v1"
RECOVERY_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$")
APP_PASSWORD_RE = re.compile(r"^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$")
DROP = object()  # a claim value meaning "leave this claim out"

_counter = itertools.count(1)


def unique(prefix="t"):
    """A name no other test of this process uses: lower case, digits, '-'."""
    return f"{prefix}{os.getpid() % 10000}n{next(_counter)}"


def unique_domain(prefix="d"):
    return f"{unique(prefix)}.example"


def q(s):
    """Percent-encodes one path segment (UTF-8); '*' stays as is."""
    return urllib.parse.quote(s, safe="*")


# ------------------------------------------------------------------------------- JWT

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def jwt_payload(token):
    return jwt_parts(token)[1]


def jwt_key(api):
    """The api's HS256 key, <data_dir>/keys/jwt.key (raw bytes)."""
    with open(os.path.join(api.data_dir, "keys", "jwt.key"), "rb") as f:
        return f.read()


def jwt_encode(header, payload, key, alg=None):
    """Signs header.payload; alg (default header["alg"]) is HS256, HS512 or none."""
    alg = alg or header.get("alg")
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signing = f"{h}.{p}".encode()
    if alg == "HS256":
        sig = hmac.new(key, signing, hashlib.sha256).digest()
    elif alg == "HS512":
        sig = hmac.new(key, signing, hashlib.sha512).digest()
    elif alg == "none":
        sig = b""
    else:
        raise ValueError(alg)
    return f"{h}.{p}.{b64url(sig)}"


def forge(api, base_token, key=None, header=None, **claims):
    """A token with the claims of base_token changed by claims (DROP removes
    one), signed HS256 with the api's own key unless key/header say otherwise."""
    payload = dict(jwt_payload(base_token))
    for k, v in claims.items():
        if v is DROP:
            payload.pop(k, None)
        else:
            payload[k] = v
    header = header or {"alg": "HS256", "typ": "JWT"}
    return jwt_encode(header, payload, jwt_key(api) if key is None else key)


# ------------------------------------------------------------------------------- base class

class ApiCase(unittest.TestCase):
    """One api per class. Subclasses may set extra_config."""

    extra_config = None
    api = None
    token = None

    @classmethod
    def setUpClass(cls):
        cls.api = harness.Api(extra_config=cls.extra_config)
        try:
            cls.api.start()
            cls.token = cls.api.login()
        except BaseException:
            cls.api.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    # ---- requests

    def req(self, method, path, body=None, token="admin", **kw):
        """api.request under /api/v1 (a path starting with '/api', '/internal'
        or '/' + a root name is taken as is); token "admin" = the bootstrap
        admin's JWT, None = no Authorization."""
        if token == "admin":
            token = self.token
        if not path.startswith(("/api/", "/internal/", "/healthz", "/readyz", "/metrics",
                                "/problems/")):
            path = API + path
        validate = kw.pop("validate", True)
        r = self.api.request(method, path, body=body, token=token, validate=False, **kw)
        if validate:
            # Unlike api.request, pass the headers: Location (201), Retry-After (429) and
            # Allow (405) are part of the contract too.
            oaschema.validate(method, path.split("?")[0], r.status, r.content_type, r.body,
                              headers=r.headers)
        return r

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.req(method, path, body, **kw)
        self.assertEqual(r.status, status, f"{method} {path}: {r}")
        return r.json

    # ---- problems

    def assert_problem(self, r, status, slug):
        """A problem+json response with this status and type."""
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.content_type.startswith(PROBLEM_CT), f"Content-Type {r.content_type!r}")
        body = json.loads(r.body)
        self.assertEqual(body.get("type"), f"/problems/{slug}", body)
        self.assertEqual(body.get("status"), status, body)
        self.assertIsInstance(body.get("title"), str)
        self.assertTrue(body["title"])
        return body

    def assert_invalid(self, r, *fields):
        """422 validation-failed naming each of fields in errors[]."""
        body = self.assert_problem(r, 422, "validation-failed")
        named = [e.get("field") for e in body.get("errors", [])]
        for f in fields:
            self.assertIn(f, named, body)
        return body

    # ---- quick fixtures

    def mk_domain(self, name=None, token="admin", **fields):
        name = name or unique_domain()
        body = dict(fields, name=name)
        return self.ok("POST", "/domains", body, status=201, token=token)["name"]

    def mk_user(self, domain, local=None, password=None, token="admin", **fields):
        """Creates a user; returns (user object, password, recovery key)."""
        local = local or unique("u")
        body = dict(fields, local=local)
        if password is not None:
            body["password"] = password
        out = self.ok("POST", f"/domains/{q(domain)}/users", body, status=201, token=token)
        return out["user"], out.get("password", password), out["recovery_key"]

    def mk_admin(self, username=None, password=None, role="domain", domains=(), login=True):
        """Creates an admin; returns (username, password, token or None)."""
        username = username or unique("adm")
        password = password or f"pw-{unique()}-long-enough"
        body = {"username": username, "password": password, "role": role}
        if domains:
            body["domains"] = list(domains)
        self.ok("POST", "/admins", body, status=201)
        token = self.api.login(username, password) if login else None
        return username, password, token

    def mk_apikey(self, token="admin", name=None, **fields):
        return self.ok("POST", "/api-keys", dict(fields, name=name or unique("key")), status=201,
                       token=token)

    def snapshot(self):
        r = self.api.request("GET", "/internal/v1/directory", token=self.api.worker_secret(),
                             validate=False)
        self.assertEqual(r.status, 200, r)
        return r.json

    def list_all(self, path, limit=100, token="admin"):
        """Every item of a paginated list."""
        items, cursor = [], None
        for _ in range(10000):
            p = f"{path}?limit={limit}" + (f"&cursor={q(cursor)}" if cursor else "")
            page = self.ok("GET", p, token=token)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        self.fail(f"{path}: pagination does not end")


def parallel(fn, n):
    """Runs fn(i) for i in range(n) on n threads at once; returns the results in order
    (an exception in a thread is re-raised here)."""
    import threading
    results, errors = [None] * n, []
    start = threading.Barrier(n)

    def run(i):
        try:
            start.wait()
            results[i] = fn(i)
        except BaseException as e:  # noqa: B902 - handed to the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def fake_store(api, store_id):
    """Puts files where a user's store and spool live; returns their paths."""
    stores = os.path.join(api.data_dir, "stores")
    spool = os.path.join(api.data_dir, "spool", store_id)
    os.makedirs(stores, exist_ok=True)
    os.makedirs(spool, exist_ok=True)
    paths = [os.path.join(stores, store_id + sfx) for sfx in (".db", ".db-wal", ".db-shm")]
    paths.append(os.path.join(spool, "1700000000.msg"))
    for p in paths:
        with open(p, "wb") as f:
            f.write(b"ciphertext")
    return paths + [spool]


def print_coverage():
    """tearDownModule of every test_api_*.py: the spec operations never exercised."""
    sys.stdout.write("\n" + oaschema.report_uncovered() + "\n")
    sys.stdout.flush()


def now():
    return int(time.time())
