"""Check real ownmail-api responses against the REST contract in /openapi.yaml.

Used by the integration tests (run with Debian's /usr/bin/python3: python3-yaml and
python3-jsonschema 4.10, standard library otherwise):

    import oaschema
    oaschema.validate("GET", "/api/v1/domains/example.com", resp.status,
                      resp.headers.get("Content-Type"), body, headers=resp.headers)
    ...
    print(oaschema.report_uncovered())

validate() finds the operation by matching the concrete path against the path templates (a path
parameter matches exactly one non-empty segment; segments are compared percent-decoded), picks the
response documented for the status (exact code, then "4XX"-style range, then "default"), checks the
Content-Type against the documented media types and validates JSON bodies with a Draft 2020-12
validator that resolves "#/components/..." references inside the whole spec. Any mismatch raises
AssertionError with a message naming the operation, the status and what is wrong.

Choices beyond the contract itself:
- A 405 for a method the path does not document is accepted when the body is a
  /problems/method-not-allowed problem (and, when headers are given, Allow lists exactly the
  documented methods, HEAD and OPTIONS tolerated). OpenAPI cannot document undefined methods.
- validate_problem() checks a problem response for a path that is not in the spec (e.g. the 404 of
  an unknown route).
- When headers are passed, headers the response documents as required (Location on 201,
  Retry-After on 429) must be present and match their schema.
- JSON bodies must be UTF-8 and must not repeat an object key or use NaN/Infinity.
- Coverage: set OWNMAIL_OA_COVERAGE=<file> to share coverage between test processes; every newly
  seen (method, template, status) is appended to it as a JSON line and covered() reads it back.
"""

import json
import os
import re
import threading
import urllib.parse
from datetime import datetime

import jsonschema
import yaml
from jsonschema import Draft202012Validator, FormatChecker, RefResolver

__all__ = [
    "validate",
    "validate_problem",
    "find_operation",
    "covered",
    "reset_coverage",
    "uncovered_operations",
    "uncovered_responses",
    "report_uncovered",
    "spec",
]

SPEC_PATH = os.environ.get("OWNMAIL_OPENAPI") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "openapi.yaml"))
COVERAGE_ENV = "OWNMAIL_OA_COVERAGE"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_SHOWN_ERRORS = 5
MAX_SHOWN_BODY = 600

_lock = threading.RLock()
_state = {"spec": None, "routes": None, "validators": {}, "seen": set()}


# ------------------------------------------------------------------------------------------ loading

class _SpecLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type: dates stay strings, as in JSON."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load():
    with _lock:
        if _state["spec"] is None:
            with open(SPEC_PATH, "rb") as f:
                doc = yaml.load(f, Loader=_SpecLoader)  # noqa: S506 (SafeLoader subclass)
            if not isinstance(doc, dict) or "paths" not in doc:
                raise AssertionError(f"{SPEC_PATH}: not an OpenAPI document")
            _state["spec"] = doc
            _state["routes"] = _build_routes(doc)
        return _state["spec"]


def spec():
    """The parsed openapi.yaml (loaded once)."""
    return _load()


def _build_routes(doc):
    routes = []
    for template, item in doc["paths"].items():
        segs = template.split("/")[1:]
        pattern = [None if re.fullmatch(r"\{[^{}/]+\}", s) else s for s in segs]
        routes.append((template, pattern, item))
    # Most specific first: a literal segment beats a parameter at the first position they differ
    # (OpenAPI 3.1, Paths Object: concrete paths match before templated ones).
    routes.sort(key=lambda r: tuple(0 if s is not None else 1 for s in r[1]))
    return routes


def _resolve(obj):
    """Follow a local $ref (possibly chained) to the object it names."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise AssertionError(f"openapi.yaml: only local $refs are supported, got {ref!r}")
        node = _load()
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise AssertionError(f"openapi.yaml: unresolvable $ref {ref!r}")
            node = node[part]
        obj = node
        seen += 1
        if seen > 32:
            raise AssertionError(f"openapi.yaml: $ref loop at {ref!r}")
    return obj


# ------------------------------------------------------------------------------------------ schemas

_format_checker = FormatChecker(())

_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")


@_format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value):
    """RFC 3339 section 5.6 date-time (jsonschema 4.10 needs an extra package for this)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    text = value.upper().replace("Z", "+00:00")
    text = re.sub(r"\.[0-9]+", "", text)
    datetime.fromisoformat(text)  # rejects 2026-02-30, 25:00, ...
    return True


def _validator(schema):
    key = json.dumps(schema, sort_keys=True)
    with _lock:
        v = _state["validators"].get(key)
        if v is None:
            resolver = RefResolver(base_uri="", referrer=_load())
            v = Draft202012Validator(schema, resolver=resolver, format_checker=_format_checker)
            _state["validators"][key] = v
        return v


def _schema_name(schema):
    if isinstance(schema, dict) and "$ref" in schema:
        return schema["$ref"]
    return "inline schema"


def _json_path(path):
    out = "$"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _branch_errors(error):
    """For a failed oneOf/anyOf, the errors of the branch the instance most likely meant.

    A branch whose `type` member matched (the discriminator of DnsRecord) wins; otherwise the
    branch with the fewest errors.
    """
    branches = {}
    for e in error.context:
        branches.setdefault(e.relative_schema_path[0], []).append(e)

    def score(errs):
        discriminator_failed = any(list(e.relative_path) == ["type"] for e in errs)
        return (discriminator_failed, len(errs))

    return min(branches.values(), key=score)


def _explain(error, depth=0):
    if error.validator in ("oneOf", "anyOf") and error.context and depth < 4:
        lines = []
        for e in _branch_errors(error):
            lines += _explain(e, depth + 1)
        return lines
    return [f"  at {_json_path(error.absolute_path)}: {error.message}"]


def _check_schema(instance, schema, where, what="body"):
    v = _validator(schema)
    errors = list(v.iter_errors(instance))
    if not errors:
        return
    errors.sort(key=lambda e: (len(e.path), list(map(str, e.path))))
    best = jsonschema.exceptions.best_match(errors)
    lines = _explain(best)
    for e in errors:
        if e is not best:
            lines += _explain(e)
    total = len(lines)
    lines = lines[:MAX_SHOWN_ERRORS]
    if total > len(lines):
        lines.append(f"  ... {total - len(lines)} more")
    shown = json.dumps(instance, ensure_ascii=False)
    if len(shown) > MAX_SHOWN_BODY:
        shown = shown[:MAX_SHOWN_BODY] + "..."
    raise AssertionError(f"{where}: {what} does not match {_schema_name(schema)}:\n"
                         + "\n".join(lines) + f"\n  {what}: {shown}")


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs):
    obj = {}
    for k, val in pairs:
        if k in obj:
            raise ValueError(f"duplicate object key {k!r}")
        obj[k] = val
    return obj


def _parse_json(body, where):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"{where}: JSON body is not UTF-8: {e}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except ValueError as e:
        raise AssertionError(f"{where}: body is not valid JSON ({e}): {text[:MAX_SHOWN_BODY]!r}") \
            from None


# ------------------------------------------------------------------------------------------ matching

def _split_path(path):
    parts = urllib.parse.urlsplit(path)
    raw = parts.path
    if not raw.startswith("/"):
        raise AssertionError(f"{path!r}: not an absolute path")
    return [urllib.parse.unquote(s, errors="replace") for s in raw.split("/")[1:]]


def _match(path):
    segs = _split_path(path)
    _load()
    for template, pattern, item in _state["routes"]:
        if len(pattern) != len(segs):
            continue
        if all((p is None and s != "") or p == s for p, s in zip(pattern, segs)):
            return template, item
    return None, None


def find_operation(method, path):
    """(template, operation dict) for a concrete method and path; AssertionError if absent."""
    template, item = _match(path)
    if template is None:
        raise AssertionError(f"{method.upper()} {path}: path not in spec")
    op = item.get(method.lower())
    if op is None:
        raise AssertionError(f"{method.upper()} {path}: method not in spec for {template} "
                             f"(documented: {', '.join(_methods(item)) or 'none'})")
    return template, op


def _methods(item):
    return [m.upper() for m in HTTP_METHODS if m in item]


def _media_type(content_type):
    return content_type.split(";", 1)[0].strip().lower()


def _pick_media(content, content_type, where):
    declared = list(content.keys())
    if not content_type:
        raise AssertionError(f"{where}: response has no Content-Type; documented: {declared}")
    mt = _media_type(content_type)
    for key in declared:
        k = key.lower()
        if k == mt or k == "*/*" or (k.endswith("/*") and mt.startswith(k[:-1])):
            return key, content[key]
    raise AssertionError(f"{where}: Content-Type {content_type!r} is not documented; "
                         f"documented: {declared}")


def _is_json(mt):
    return mt == "application/json" or mt.endswith("+json")


def _pick_response(responses, status):
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in responses:
            return key, _resolve(responses[key])
    return None, None


# ------------------------------------------------------------------------------------------ checks

def _header_map(headers):
    if headers is None:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(k).lower(): str(v) for k, v in items}


def _check_headers(declared, headers, where):
    if headers is None or not declared:
        return
    for name, h in declared.items():
        if name.lower() == "content-type":
            continue  # OpenAPI 3.1: a Content-Type header definition is ignored
        h = _resolve(h)
        value = headers.get(name.lower())
        if value is None:
            if h.get("required"):
                raise AssertionError(f"{where}: required header {name} is missing")
            continue
        schema = h.get("schema")
        if not schema:
            continue
        target = _resolve(schema)
        instance = value
        if target.get("type") == "integer":
            if not re.fullmatch(r"-?[0-9]+", value.strip()):
                raise AssertionError(f"{where}: header {name}: {value!r} is not an integer")
            instance = int(value)
        _check_schema(instance, schema, where, what=f"header {name}")


def _check_body(content, content_type, body, status, where):
    if not content:
        if body:
            raise AssertionError(f"{where}: response has a {len(body)}-byte body but the spec "
                                 f"documents none")
        return
    key, media = _pick_media(content, content_type, where)
    where = f"{where} ({key})"
    schema = media.get("schema")
    mt = _media_type(content_type)
    if _is_json(mt):
        instance = _parse_json(body, where)
        if mt == "application/problem+json" and isinstance(instance, dict) \
                and instance.get("status") != status:
            raise AssertionError(f"{where}: problem status {instance.get('status')!r} differs from "
                                 f"the HTTP status {status}")
        if schema is not None:
            _check_schema(instance, schema, where)
    elif mt.startswith("text/"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AssertionError(f"{where}: text body is not UTF-8: {e}") from None
        if schema is not None:
            _check_schema(text, schema, where)


def _bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def _problem_schema(type_slug, status):
    return {"allOf": [{"$ref": "#/components/schemas/Problem"},
                      {"properties": {"type": {"const": type_slug}, "status": {"const": status}}}]}


def validate_problem(status, content_type, body_bytes, expected_type=None):
    """Check a problem+json response of a route the spec does not describe (unknown path)."""
    status = int(status)
    where = f"problem {status}"
    body = _bytes(body_bytes)
    if not content_type or _media_type(content_type) != "application/problem+json":
        raise AssertionError(f"{where}: Content-Type {content_type!r} is not "
                             f"application/problem+json")
    instance = _parse_json(body, where)
    schema = {"$ref": "#/components/schemas/Problem"}
    if expected_type is not None:
        schema = _problem_schema(expected_type, status)
    _check_schema(instance, schema, where)
    if instance.get("status") != status:
        raise AssertionError(f"{where}: problem status {instance.get('status')!r} differs from "
                             f"the HTTP status {status}")
    return instance


def _check_405(item, template, method, content_type, body, headers):
    where = f"{method} {template} -> 405"
    if not content_type or _media_type(content_type) != "application/problem+json":
        raise AssertionError(f"{where}: Content-Type {content_type!r} is not "
                             f"application/problem+json")
    instance = _parse_json(body, where)
    _check_schema(instance, _problem_schema("/problems/method-not-allowed", 405), where)
    if headers is None:
        return
    allow = headers.get("allow")
    if allow is None:
        raise AssertionError(f"{where}: 405 without an Allow header (RFC 9110 section 15.5.6)")
    got = {m.strip().upper() for m in allow.split(",") if m.strip()}
    want = set(_methods(item))
    if not want <= got or got - want - {"HEAD", "OPTIONS"}:
        raise AssertionError(f"{where}: Allow {allow!r} does not match the documented methods "
                             f"{sorted(want)}")


def validate(method, path, status, content_type, body_bytes, headers=None):
    """Check one real response against openapi.yaml; raise AssertionError on any mismatch.

    method: "GET", ...; path: concrete request path ("/api/v1/domains/b%C3%BCcher.example"), a
    query string or a full URL is accepted; status: int; content_type: the response's Content-Type
    or None; body_bytes: the raw body (bytes or str); headers: optional mapping or (name, value)
    pairs of response headers, which enables the documented-header checks.
    Returns the parsed JSON body (or the text, or None).
    """
    method = method.upper()
    status = int(status)
    body = _bytes(body_bytes)
    hdrs = _header_map(headers)
    template, item = _match(path)
    if template is None:
        raise AssertionError(f"{method} {path} -> {status}: path not in spec")
    op = item.get(method.lower())
    if op is None:
        if status == 405:
            _check_405(item, template, method, content_type, body, hdrs)
            return None
        raise AssertionError(f"{method} {path} -> {status}: method not in spec for {template} "
                             f"(documented: {', '.join(_methods(item)) or 'none'})")
    opname = op.get("operationId", "?")
    where = f"{method} {template} [{opname}] -> {status}"
    key, response = _pick_response(op.get("responses", {}), status)
    if response is None:
        documented = ", ".join(sorted(op.get("responses", {})))
        raise AssertionError(f"{where}: status not documented for this operation "
                             f"(documented: {documented})")
    _record(method, template, status)
    _check_headers(response.get("headers"), hdrs, where)
    _check_body(response.get("content"), content_type, body, status, where)
    if not body:
        return None
    mt = _media_type(content_type or "")
    if _is_json(mt):
        return json.loads(body)
    return body.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------------------------ coverage

def _record(method, template, status):
    entry = (method, template, status)
    with _lock:
        if entry in _state["seen"]:
            return
        _state["seen"].add(entry)
        path = os.environ.get(COVERAGE_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(list(entry)) + "\n")


def covered():
    """Set of (METHOD, path template, status) seen by validate() (plus OWNMAIL_OA_COVERAGE)."""
    with _lock:
        seen = set(_state["seen"])
    path = os.environ.get(COVERAGE_ENV)
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    m, t, s = json.loads(line)
                    seen.add((m, t, int(s)))
    return seen


def reset_coverage():
    """Forget coverage seen in this process (the OWNMAIL_OA_COVERAGE file is left alone)."""
    with _lock:
        _state["seen"].clear()


def _operations():
    doc = _load()
    for template, item in doc["paths"].items():
        for m in HTTP_METHODS:
            if m in item:
                yield m.upper(), template, item[m]


def uncovered_operations():
    """[(METHOD, template, operationId)] of operations validate() never saw."""
    seen = {(m, t) for m, t, _ in covered()}
    return [(m, t, op.get("operationId", "?")) for m, t, op in _operations() if (m, t) not in seen]


def _status_matches(key, status):
    key = str(key)
    if key == "default":
        return True
    if key.upper().endswith("XX"):
        return str(status)[0] == key[0]
    return key == str(status)


def uncovered_responses():
    """[(METHOD, template, documented status key)] never seen, for every operation."""
    seen = covered()
    out = []
    for m, t, op in _operations():
        statuses = [s for sm, st, s in seen if sm == m and st == t]
        for key in op.get("responses", {}):
            if not any(_status_matches(key, s) for s in statuses):
                out.append((m, t, str(key)))
    return out


def report_uncovered(responses=False):
    """Printable report of the operations (and with responses=True, statuses) never exercised."""
    ops = uncovered_operations()
    total = sum(1 for _ in _operations())
    lines = [f"openapi coverage: {total - len(ops)}/{total} operations exercised"]
    lines += [f"  never exercised: {m} {t} ({oid})" for m, t, oid in ops]
    if responses:
        resp = uncovered_responses()
        lines.append(f"  documented responses never seen: {len(resp)}")
        lines += [f"    {m} {t} -> {s}" for m, t, s in resp]
    return "\n".join(lines)
