#!/usr/bin/env python3
"""seca_tier.py: the SECA tier. Walks SECA v1.7's conformance scenarios against one sovd and
validates every answer it receives against SECA's own OpenAPI documents.

Standard library plus Debian's python3-yaml and python3-jsonschema. SECA's documents are read
from ../shared/seca/openapi (relative to the project root; SOV_SECA_SPEC overrides); without
them the tier fails. Every answer is checked: its status is one the document lists for that
path and method (two README rules aside: 412 for any rejection of a write, 404 for a path of
another tenant, both then validated against the Error schema), its body against the
response's schema ($ref followed into ./schemas/*.yaml), and Content-Type application/json.

The environment (seca_test.c sets it): SECA_BASE (sovd's URL), SECA_REGION, SECA_ZONES
("a,b"), SECA_TENANT_A/_B (tenant names), SECA_TOKEN_A/_B (admins), SECA_MEMBER_TOKEN_A,
SECA_READER_TOKEN_A, SECA_SUBJECT_A (a user of A: a role assignment's subject).

One line per check ("ok - ..." or "FAIL - ..."); the last line is exactly
"N passed, M failed"; the exit status is 0 only when M is 0.
"""
import http.client as httpclient
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.environ.get("SOV_SECA_SPEC") or os.path.join(ROOT, "..", "shared", "seca", "openapi")
WAIT_S = float(os.environ.get("SECA_WAIT_S", "30"))

passed = 0
failed = 0


def say(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + name, flush=True)
    else:
        failed += 1
        d = (" : " + detail) if detail else ""
        if len(d) > 600:
            d = d[:600] + "..."
        print("FAIL - " + name + d.replace("\n", " "), flush=True)
    return ok


class Abort(Exception):
    """A scenario cannot go on (its failure is already counted)."""


def must(ok, name, detail=""):
    if not say(ok, name, detail):
        raise Abort(name)


def finish():
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(0 if failed == 0 else 1)


try:
    import yaml
    import jsonschema
except ImportError as e:
    say(False, "python3-yaml and python3-jsonschema are installed", str(e))
    finish()

if not os.path.isdir(SPEC):
    say(False, "SECA's OpenAPI documents are at " + SPEC, "no such folder")
    finish()

ENV = {k: os.environ.get(k, "") for k in (
    "SECA_BASE", "SECA_REGION", "SECA_ZONES", "SECA_TENANT_A", "SECA_TOKEN_A",
    "SECA_MEMBER_TOKEN_A", "SECA_READER_TOKEN_A", "SECA_SUBJECT_A", "SECA_TENANT_B",
    "SECA_TOKEN_B")}
for k, v in ENV.items():
    if not v:
        say(False, "the environment names " + k, "unset")
        finish()
BASE = ENV["SECA_BASE"].rstrip("/")
REGION = ENV["SECA_REGION"]
ZONES = ENV["SECA_ZONES"].split(",")
TA, TB = ENV["SECA_TENANT_A"], ENV["SECA_TENANT_B"]
TOKA, TOKB = ENV["SECA_TOKEN_A"], ENV["SECA_TOKEN_B"]

# ---- SECA's documents ----------------------------------------------------------------------

warnings.filterwarnings("ignore", category=DeprecationWarning)
_docs = {}


def load_url(url):
    path = urllib.parse.urlparse(url).path
    if path not in _docs:
        with open(path) as f:
            _docs[path] = yaml.safe_load(f)
    return _docs[path]


def doc_url(name):
    return "file://" + os.path.abspath(os.path.join(SPEC, name))


def resolver_at(url):
    return jsonschema.RefResolver(base_uri=url, referrer=load_url(url),
                                  handlers={"file": load_url})


class Op:
    def __init__(self, doc, url, path, method, op):
        self.doc, self.url, self.path, self.method, self.op = doc, url, path, method, op
        rx = re.escape(path)
        rx = re.sub(r"\\\{[a-z]+\\\}", "[^/]+", rx)
        self.rx = re.compile("^" + rx + "$")


OPS = []


def load_ops():
    for name in sorted(os.listdir(SPEC)):
        if not name.endswith(".yaml") or not (name.startswith("foundation.") or
                                             name == "extensions.wellknown.v1.yaml"):
            continue
        url = doc_url(name)
        d = load_url(url)
        for p, ops in d.get("paths", {}).items():
            for m, o in ops.items():
                if m in ("get", "put", "post", "delete", "patch"):
                    OPS.append(Op(name, url, p, m.upper(), o))


try:
    load_ops()
except Exception as e:  # a broken document: the tier cannot judge anything
    say(False, "SECA's documents load", repr(e))
    finish()
if not OPS:
    say(False, "SECA's documents name operations", "none found in " + SPEC)
    finish()


def find_op(method, path):
    """The document and operation for a request path: /providers/seca.<p>/v1/... in
    foundation.<p>.v1.yaml, /.wellknown/secapi in extensions.wellknown.v1.yaml."""
    path = path.split("?")[0]
    m = re.match(r"^/providers/seca\.([a-z-]+)(/.*)$", path)
    if m:
        doc, sub = "foundation.%s.v1.yaml" % m.group(1), m.group(2)
    elif path == "/.wellknown/secapi":
        doc, sub = "extensions.wellknown.v1.yaml", path
    else:
        return None
    for o in OPS:
        if o.doc == doc and o.method == method and o.rx.match(sub):
            return o
    return None


ERROR_SCHEMA = {"$ref": doc_url("schemas/errors.yaml") + "#/components/schemas/Error"}


def validate(schema, url, body):
    v = jsonschema.Draft4Validator(schema, resolver=resolver_at(url))
    errs = sorted(v.iter_errors(body), key=lambda e: list(e.path))
    if errs:
        e = errs[0]
        return "%s at /%s" % (e.message[:300], "/".join(str(x) for x in e.path))
    return None


class Resp:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        self.ctype = headers.get("Content-Type", "") if headers else ""
        self.json = None
        if raw:
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.json = None

    def text(self):
        return self.raw.decode("utf-8", "replace") if self.raw else ""


def http(method, path, token, body=None, headers=None, raw=None):
    """One request over http.client: a server that answers before it has read a large body
    (and closes) still has its answer read."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    if data is not None:
        h["Content-Type"] = "application/json"
        h["Content-Length"] = str(len(data))
    h.update(headers or {})
    u = urllib.parse.urlparse(BASE)
    conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data is not None:
            try:
                conn.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
        r = conn.getresponse()
        return Resp(r.status, r.headers, r.read())
    except Exception as e:  # transport failure: status 0
        return Resp(0, {}, repr(e).encode())
    finally:
        conn.close()


def call(method, path, token=None, body=None, headers=None, raw=None, what=None):
    """A request; its answer validated against SECA's documents (one check)."""
    r = http(method, path, token if token is not None else TOKA, body, headers, raw)
    check_answer(method, path, r, what)
    return r


def check_answer(method, path, r, what=None):
    name = "%s %s -> %d: %s" % (method, path.split("?")[0], r.status, what or "answer")
    problems = []
    if r.status == 0:
        say(False, name + " is valid", "transport failure: " + r.text())
        return
    ct = r.ctype.split(";")[0].strip().lower()
    if ct != "application/json":
        problems.append("Content-Type %r, not application/json" % r.ctype)
    o = find_op(method, path)
    if o is None:
        problems.append("no operation of SECA's documents matches")
    else:
        resp = o.op["responses"].get(str(r.status))
        url = o.url
        if resp is None:
            # README rule 6 (every rejection is 412: a bad body, a bad limit) and the issue's
            # isolation (another tenant's path answers 404) reach operations whose document
            # omits them.
            tenant_path = "/tenants/" in path
            if r.status == 412 or \
               (r.status == 404 and tenant_path):
                if r.json is None:
                    problems.append("body is not JSON: %r" % r.text()[:200])
                else:
                    err = validate(ERROR_SCHEMA, url, r.json)
                    if err:
                        problems.append("Error schema: " + err)
            else:
                problems.append("status %d is not listed for %s %s in %s" %
                                (r.status, method, o.path, o.doc))
        else:
            if "$ref" in resp:
                rurl, resp = resolver_at(url).resolve(resp["$ref"])
                url = rurl
            content = (resp.get("content") or {}).get("application/json")
            if content is None:
                if r.raw and r.raw.strip():
                    # The documents give DELETE's and the actions' 202 no body; a body there
                    # must at least be the resource, valid as GET's 200 of its path says.
                    problems += resource_body(method, path, r)
            elif r.json is None:
                problems.append("body is not JSON: %r" % r.text()[:200])
            else:
                err = validate(content.get("schema", {}), url, r.json)
                if err:
                    problems.append("schema: " + err)
    say(not problems, name + " is valid", "; ".join(problems) + " (body %s)" % r.text()[:300])


def resource_body(method, path, r):
    base = re.sub(r"/(start|stop|restart)$", "", path.split("?")[0])
    o = find_op("GET", base)
    resp = o and o.op["responses"].get("200")
    content = resp and (resp.get("content") or {}).get("application/json")
    if r.status != 202 or not content:
        return ["a body where the document defines none: %r" % r.text()[:200]]
    if r.json is None:
        return ["body is not JSON: %r" % r.text()[:200]]
    err = validate(content.get("schema", {}), o.url, r.json)
    return ["202's body is not the resource (GET's 200 schema): " + err] if err else []


# ---- resources --------------------------------------------------------------------------

def P(provider, *parts, tenant=None):
    return "/providers/seca.%s/v1/tenants/%s/" % (provider, tenant or TA) + "/".join(parts)


class T:
    """A SECA resource type."""

    def __init__(self, provider, plural, kind, scope, regional=True):
        self.provider, self.plural, self.kind, self.scope = provider, plural, kind, scope
        self.regional = regional


TYPES = {
    "workspace": T("workspace", "workspaces", "workspace", "tenant"),
    "role": T("authorization", "roles", "role", "tenant", regional=False),
    "role-assignment": T("authorization", "role-assignments", "role-assignment", "tenant",
                         regional=False),
    "image": T("storage", "images", "image", "tenant"),
    "block-storage": T("storage", "block-storages", "block-storage", "workspace"),
    "instance": T("compute", "instances", "instance", "workspace"),
    "network": T("network", "networks", "network", "workspace"),
    "internet-gateway": T("network", "internet-gateways", "internet-gateway", "workspace"),
    "route-table": T("network", "route-tables", "routing-table", "network"),
    "subnet": T("network", "subnets", "subnet", "network"),
    "security-group": T("network", "security-groups", "security-group", "workspace"),
    "security-group-rule": T("network", "security-group-rules", "security-group-rule",
                             "workspace"),
    "public-ip": T("network", "public-ips", "public-ip", "workspace"),
    "nic": T("network", "nics", "nic", "workspace"),
}


class R:
    """One resource: its type, name and where it lives."""

    def __init__(self, typ, name, ws=None, net=None, tenant=None):
        self.t = TYPES[typ]
        self.typ, self.name, self.ws, self.net = typ, name, ws, net
        self.tenant = tenant or TA

    def coll(self):
        t = self.t
        if t.scope == "tenant":
            return P(t.provider, t.plural, tenant=self.tenant)
        if t.scope == "workspace":
            return P(t.provider, "workspaces", self.ws, t.plural, tenant=self.tenant)
        return P(t.provider, "workspaces", self.ws, "networks", self.net, t.plural,
                 tenant=self.tenant)

    def path(self):
        return self.coll() + "/" + self.name

    def label(self):
        return "%s %s" % (self.typ, self.name)

    def resource(self):
        if self.t.scope == "network":
            return "networks/%s/%s/%s" % (self.net, self.t.plural, self.name)
        return "%s/%s" % (self.t.plural, self.name)

    def ref(self):
        s = "seca.%s/v1/tenants/%s" % (self.t.provider, self.tenant)
        if self.t.scope in ("workspace", "network"):
            s += "/workspaces/" + self.ws
        if self.t.scope == "network":
            s += "/networks/" + self.net
        return s + "/%s/%s" % (self.t.plural, self.name)


def states(j):
    try:
        return [c["state"] for c in j["status"]["conditions"]]
    except (KeyError, TypeError):
        return None


def state(j):
    try:
        return j["status"]["state"]
    except (KeyError, TypeError):
        return None


def check_metadata(r, j, verb, what):
    """README items 1-2: verb, provider, resource, ref, apiVersion, kind, tenant, region,
    workspace exact."""
    md = (j or {}).get("metadata") or {}
    want = {"name": r.name, "verb": verb, "provider": "seca.%s/v1" % r.t.provider,
            "resource": r.resource(), "ref": r.ref(), "apiVersion": "v1", "kind": r.t.kind,
            "tenant": r.tenant}
    if r.t.regional:
        want["region"] = REGION
    if r.t.scope in ("workspace", "network"):
        want["workspace"] = r.ws
    if r.t.scope == "network":
        want["network"] = r.net
    bad = {k: (md.get(k), v) for k, v in want.items() if md.get(k) != v}
    say(not bad, "%s: metadata of %s is exact" % (what, r.label()),
        "got/wanted " + json.dumps(bad))


def envelope(spec, labels=None, annotations=None, extensions=None):
    b = {"labels": labels if labels is not None else {"env": "conformance"},
         "spec": spec}
    if annotations is not None:
        b["annotations"] = annotations
    if extensions is not None:
        b["extensions"] = extensions
    return b


def get(r, token=None, what="GET"):
    return call("GET", r.path(), token, what=what)


def wait_active(r, what):
    """GET until status.state is active (WAIT_S at most); the last body."""
    until = time.time() + WAIT_S
    last = None
    while True:
        g = http("GET", r.path(), TOKA)
        last = g
        if g.status == 200 and state(g.json) in ("active", "error"):
            break
        if time.time() > until:
            break
        time.sleep(0.2)
    check_answer("GET", r.path(), last, what + ": waited")
    must(last.status == 200 and state(last.json) == "active",
         "%s: %s becomes active" % (what, r.label()),
         "status %d state %s: %s" % (last.status, state(last.json), last.text()[:300]))
    return last.json


def wait_gone(r, what):
    until = time.time() + WAIT_S
    while True:
        g = http("GET", r.path(), TOKA)
        if g.status == 404 or time.time() > until:
            break
        time.sleep(0.2)
    check_answer("GET", r.path(), g, what + ": after delete")
    say(g.status == 404, "%s: GET %s answers 404 after its DELETE" % (what, r.label()),
        "status %d %s" % (g.status, g.text()[:200]))


def create(r, spec, what, labels=None, annotations=None, extensions=None):
    """PUT a new resource (201, state pending/creating/active, metadata exact, envelope
    echoed), wait until active, check the condition history [active, creating, pending]."""
    labels = labels if labels is not None else {"env": "conformance"}
    body = envelope(spec, labels, annotations, extensions)
    p = call("PUT", r.path(), body=body, what=what + ": create")
    must(p.status == 201, "%s: PUT %s answers 201" % (what, r.label()),
         "status %d %s" % (p.status, p.text()[:300]))
    say(state(p.json) in ("pending", "creating", "active"),
        "%s: a create's PUT answers pending, creating or active" % what, str(state(p.json)))
    check_metadata(r, p.json, "PUT", what)
    for k, v in (("labels", labels), ("annotations", annotations),
                 ("extensions", extensions)):
        if v is not None:
            say(p.json.get(k) == v, "%s: %s of %s echoed exactly" % (what, k, r.label()),
                "got %s" % json.dumps(p.json.get(k)))
    j = wait_active(r, what)
    check_metadata(r, j, "GET", what)
    say(states(j) == ["active", "creating", "pending"],
        "%s: conditions of %s after create are [active, creating, pending]" % (what, r.label()),
        str(states(j)))
    return j


def delete(r, what):
    d = call("DELETE", r.path(), what=what + ": delete")
    say(d.status == 202, "%s: DELETE %s answers 202" % (what, r.label()),
        "status %d %s" % (d.status, d.text()[:200]))
    return d.status == 202


def stable(j):
    """A body as it must stay unchanged: an error's request id and the list's own metadata
    (its verb) aside."""
    if isinstance(j, dict):
        j = dict(j)
        if "type" in j and "status" in j:
            j.pop("meta", None)
        if "items" in j:
            return json.dumps(sorted(json.dumps(i, sort_keys=True) for i in j["items"] or []))
    return json.dumps(j, sort_keys=True)


def snapshot(r):
    """What a reader sees of r and its collection (to prove nothing changed)."""
    return snapshot_of(r.path(), r.coll())


def snapshot_of(path, coll):
    g = http("GET", path, TOKA)
    lst = http("GET", coll, TOKA)
    return (g.status, stable(g.json), lst.status, stable(lst.json))


def lifecycle_update(r, spec, what):
    """Update with a label change: 200, active or updating; resourceVersion +1; conditions
    [active, updating, active, creating, pending]; a stale if-unmodified-since: 412 changing
    nothing."""
    g = http("GET", r.path(), TOKA)
    v0 = ((g.json or {}).get("metadata") or {}).get("resourceVersion")
    body = envelope(spec, {"env": "conformance", "tier": "updated"})
    headers = {"if-unmodified-since": str(v0)} if isinstance(v0, int) else None
    p = call("PUT", r.path(), body=body, headers=headers, what=what + ": update")
    must(p.status == 200, "%s: update PUT of %s answers 200" % (what, r.label()),
         "status %d %s" % (p.status, p.text()[:300]))
    say(state(p.json) in ("active", "updating"),
        "%s: an update's PUT answers active or updating" % what, str(state(p.json)))
    say((p.json or {}).get("labels") == body["labels"],
        "%s: the updated labels are echoed" % what, json.dumps((p.json or {}).get("labels")))
    j = wait_active(r, what + " (update)")
    v1 = (j.get("metadata") or {}).get("resourceVersion")
    say(isinstance(v0, int) and v1 == v0 + 1,
        "%s: resourceVersion of %s goes %s -> %s (+1)" % (what, r.label(), v0, v1))
    say(states(j) == ["active", "updating", "active", "creating", "pending"],
        "%s: conditions of %s after update are [active, updating, active, creating, pending]"
        % (what, r.label()), str(states(j)))
    before = snapshot(r)
    body2 = envelope(spec, {"env": "conformance", "tier": "stale"})
    s = call("PUT", r.path(), body=body2, headers={"if-unmodified-since": str(v0)},
             what=what + ": stale update")
    say(s.status == 412, "%s: a stale if-unmodified-since on %s answers 412" % (what, r.label()),
        "status %d" % s.status)
    say(snapshot(r) == before, "%s: the stale update of %s changed nothing" % (what, r.label()))


def list_walk(coll, query, what, token=None):
    """Follow a list through skipToken to its end: the names in order."""
    names, pages, tok = [], 0, None
    while True:
        q = query + (("&skipToken=" + urllib.parse.quote(tok)) if tok else "")
        lr = call("GET", coll + "?" + q, token, what=what + ": list page")
        if lr.status != 200 or not isinstance(lr.json, dict):
            say(False, "%s: list page of %s answers 200" % (what, coll), "status %d" % lr.status)
            return None
        pages += 1
        for it in lr.json.get("items") or []:
            names.append(((it or {}).get("metadata") or {}).get("name"))
        tok = (lr.json.get("metadata") or {}).get("skipToken")
        if not tok or pages > 200:
            break
    return names, pages


def lifecycle_list(r, what, expect_names):
    """labels=env=conformance and limit=1 through skipToken to the end: every expected name,
    one per page."""
    out = list_walk(r.coll(), "labels=env%3Dconformance&limit=1", what)
    if out is None:
        return
    names, pages = out
    say(set(expect_names) <= set(names) and len(names) == len(set(names)),
        "%s: list of %s with labels and limit=1 followed to the end names %s" %
        (what, r.t.plural, sorted(expect_names)), "got %s" % names)
    say(pages >= len(names), "%s: limit=1 gives one item a page" % what,
        "%d items in %d pages" % (len(names), pages))


# ---- scenarios -------------------------------------------------------------------------

def scenario(name, fn, *args):
    print("# scenario " + name, flush=True)
    try:
        fn(*args)
    except Abort as e:
        say(False, "scenario %s went to its end" % name, "stopped at: %s" % e)
    except Exception as e:  # a bug in the tier itself is a failure, never a pass
        say(False, "scenario %s went to its end" % name, repr(e))


def provider_scenarios():
    # /.wellknown/secapi
    w = call("GET", "/.wellknown/secapi", token="", what="wellknown")
    say(w.status == 200, "wellknown answers 200", "status %d" % w.status)
    # ProviderLifeCycle: regions list zones and the provider URLs
    rl = call("GET", "/providers/seca.region/v1/regions", what="regions")
    must(rl.status == 200, "regions list answers 200", "status %d" % rl.status)
    items = (rl.json or {}).get("items") or []
    mine = [i for i in items if (i.get("metadata") or {}).get("name") == REGION]
    must(len(mine) == 1, "the regions list names " + REGION, json.dumps(items)[:300])
    rg = call("GET", "/providers/seca.region/v1/regions/" + REGION, what="region")
    spec = (rg.json or {}).get("spec") or {}
    say(sorted(spec.get("availableZones") or []) == sorted(ZONES),
        "region %s lists zones %s" % (REGION, ZONES), str(spec.get("availableZones")))
    provs = {p.get("name"): p.get("url") for p in spec.get("providers") or []}
    for p in ("seca.workspace", "seca.compute", "seca.storage", "seca.network"):
        url = provs.get(p) or ""
        say(url.rstrip("/").endswith("/providers/%s" % p) or
            url.rstrip("/").endswith("/providers/%s/v1" % p),
            "region lists provider %s with its URL" % p, str(provs))
    say(rg.status == 200 and (rg.json or {}).get("metadata", {}).get("verb") == "GET",
        "region's metadata.verb is GET")
    nr = call("GET", "/providers/seca.region/v1/regions/nowhere-9", what="missing region")
    say(nr.status == 404, "a missing region answers 404", "status %d" % nr.status)
    # ProviderQueries: each provider's skus answer at least one
    for p in ("compute", "storage", "network"):
        s = call("GET", P(p, "skus"), what="skus")
        n = len((s.json or {}).get("items") or [])
        say(s.status == 200 and n >= 1, "seca.%s skus answer at least one SKU" % p,
            "status %d, %d items" % (s.status, n))
        if n:
            first = s.json["items"][0]["metadata"]["name"]
            g = call("GET", P(p, "skus", first), what="sku")
            say(g.status == 200, "seca.%s sku %s answers 200" % (p, first))
            SKUS[p] = first
        m = call("GET", P(p, "skus", "no-such-sku"), what="missing sku")
        say(m.status == 404, "seca.%s: a missing sku answers 404" % p, "status %d" % m.status)


SKUS = {}


def sku_ref(p):
    return {"resource": "skus/" + SKUS.get(p, "none")}


# The FoundationProviders chain, in workspace WS: made once, used by the LifeCycle,
# Constraints, Error, isolation and bad-input scenarios, deleted at the end.
WS = "fp"
NET = "fp-net"
CHAIN = []          # (R, spec) in creation order
CIDR = "10.40.0.0/16"
SUBNET_CIDR = "10.40.1.0/24"


def specs():
    ws = WS
    return [
        (R("role", "fp-role"), {"permissions": [{"provider": "seca.compute/v1",
                                                 "resources": ["instances/*"],
                                                 "verb": ["get", "list"]}]}),
        (R("role-assignment", "fp-assign"), {"subs": [ENV["SECA_SUBJECT_A"]],
                                             "roles": ["fp-role"],
                                             "scopes": [{"tenants": [TA]}]}),
        (R("workspace", ws), {}),
        (R("block-storage", "fp-src", ws), {"skuRef": sku_ref("storage"), "sizeGB": 1}),
        (R("image", "fp-image"), {"blockStorageRef": {"resource": "block-storages/fp-src",
                                                      "workspace": ws},
                                  "cpuArchitecture": "amd64"}),
        (R("block-storage", "fp-boot", ws), {"skuRef": sku_ref("storage"), "sizeGB": 1,
                                             "sourceImageRef": {"resource": "images/fp-image"}}),
        (R("network", NET, ws), {"cidr": {"ipv4": CIDR}, "skuRef": sku_ref("network")}),
        (R("internet-gateway", "fp-igw", ws), {"egressOnly": False}),
        (R("route-table", "fp-rt", ws, NET),
         {"routes": [{"destinationCidrBlock": "0.0.0.0/0",
                      "targetRef": {"resource": "internet-gateways/fp-igw"}}]}),
        (R("subnet", "fp-subnet", ws, NET),
         {"cidr": {"ipv4": SUBNET_CIDR}, "zone": ZONES[0],
          "routeTableRef": {"resource": "networks/%s/route-tables/fp-rt" % NET}}),
        (R("security-group", "fp-sg", ws),
         {"rules": [{"direction": "ingress", "protocol": "tcp",
                     "ports": {"from": 22, "to": 22}}]}),
        (R("security-group-rule", "fp-sgr", ws), {"direction": "egress"}),
        (R("public-ip", "fp-pip", ws), {"version": "IPv4"}),
        (R("nic", "fp-nic", ws),
         {"addresses": ["10.40.1.10"],
          "subnetRef": {"resource": "networks/%s/subnets/fp-subnet" % NET},
          "securityGroupRefs": [{"resource": "security-groups/fp-sg"}],
          "publicIpRefs": [{"resource": "public-ips/fp-pip"}]}),
        (R("instance", "fp-vm", ws),
         {"skuRef": sku_ref("compute"), "zone": ZONES[0],
          "bootVolume": {"deviceRef": {"resource": "block-storages/fp-boot"}},
          "primaryNicRef": {"resource": "nics/fp-nic"}}),
    ]


def foundation_create():
    """The chain in order; the authorization provider's role and assignment are global and
    nothing in the workspace needs them: their failure is counted and the chain goes on."""
    for r, spec in specs():
        try:
            create(r, spec, "FoundationProviders", annotations={"tier": "seca"},
                   extensions={"x-tier": "seca"})
        except Abort as e:
            if r.typ in ("role", "role-assignment"):
                say(False, "FoundationProviders: %s made" % r.label(), str(e))
                continue
            raise
        CHAIN.append((r, spec))


def lifecycles():
    """Per type: the update, stale and list half of its LifeCycle on the chain's resource."""
    for r, spec in CHAIN:
        scenario("LifeCycle %s" % r.typ, lifecycle_one, r, spec)


def lifecycle_one(r, spec):
    what = "LifeCycle " + r.typ
    lifecycle_update(r, spec, what)
    expect = [r.name]
    if r.typ == "workspace":
        expect = [WS]
    lifecycle_list(r, what, expect)


def paging():
    """Three security groups with env=conformance, one without: limit=1 walks three pages;
    a labels filter that matches nothing gives none."""
    what = "Paging"
    made = []
    for n, lab in (("pg-a", "conformance"), ("pg-b", "conformance"), ("pg-c", "conformance"),
                   ("pg-x", "other")):
        r = R("security-group", n, WS)
        p = call("PUT", r.path(), body=envelope({}, {"env": lab}), what=what)
        must(p.status == 201, "%s: PUT %s answers 201" % (what, r.label()), "status %d" % p.status)
        made.append(r)
    coll = made[0].coll()
    out = list_walk(coll, "labels=env%3Dconformance&limit=1", what)
    if out:
        names, pages = out
        got = [n for n in names if n.startswith("pg-")]
        say(got == ["pg-a", "pg-b", "pg-c"], "%s: labels=env=conformance&limit=1 walks pg-a, "
            "pg-b, pg-c in order through skipToken" % what, str(names))
        say(pages == len(names), "%s: one item per page" % what, "%d pages" % pages)
    out = list_walk(coll, "labels=env%3Dnowhere", what)
    say(out is not None and out[0] == [], "%s: a labels filter matching nothing lists nothing"
        % what, str(out))
    out = list_walk(coll, "labels=env!%3Dconformance", what)
    say(out is not None and "pg-x" in out[0] and "pg-a" not in out[0],
        "%s: labels=env!=conformance lists pg-x only of these" % what, str(out))
    for bad in ("limit=0", "limit=abc", "limit=10001", "skipToken=%21%21%21%21%21%21",
                "labels=%3D%3D%3D"):
        b = call("GET", coll + "?" + bad, what="%s bad query %s" % (what, bad))
        say(b.status in (400, 412), "%s: list with %s is refused" % (what, bad),
            "status %d" % b.status)
    for r in made:
        delete(r, what)
    for r in made:
        wait_gone(r, what)


def foundation_delete():
    for r, spec in reversed(CHAIN):
        if delete(r, "FoundationProviders"):
            wait_gone(r, "FoundationProviders")


# ---- the README's walk-through -----------------------------------------------------------

# README.md's SECA section walks the FoundationProviders chain with curl. Its PUT bodies must
# be the chain's specs above (names, the tenant, the subject, the zone and the SKUs apart),
# in the same order, so that what the README shows is what this tier proves works.
README_PLURALS = {"roles": "role", "role-assignments": "role-assignment",
                  "workspaces": "workspace", "block-storages": "block-storage",
                  "images": "image", "networks": "network",
                  "internet-gateways": "internet-gateway", "route-tables": "route-table",
                  "subnets": "subnet", "security-groups": "security-group",
                  "public-ips": "public-ip", "nics": "nic", "instances": "instance"}


def readme_puts():
    """The README's SECA curl block as [(type, name, spec)], first PUT of each path only
    (a PUT naming if-unmodified-since is an update, not part of the chain)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## SECA.*?^```sh\n(.*?)^```", text, re.S | re.M)
    must(m is not None, "README.md has a SECA section with a sh block")
    out, seen = [], set()
    for put in re.finditer(r"-XPUT \$S/(\S+)(.*?)-d '([^']*)'", m.group(1), re.S):
        path, between, body = put.groups()
        if "if-unmodified-since" in between or path in seen:
            continue
        seen.add(path)
        parts = path.split("/")
        try:
            doc = json.loads(body)
        except ValueError as e:
            say(False, "README: the body of PUT %s is JSON" % path, str(e))
            continue
        out.append((README_PLURALS.get(parts[-2], parts[-2]), parts[-1], doc.get("spec")))
    return out


def readme_norm(v, names):
    if isinstance(v, dict):
        return {k: readme_norm(x, names) for k, x in v.items()}
    if isinstance(v, list):
        return [readme_norm(x, names) for x in v]
    if isinstance(v, str):
        if v.startswith("skus/"):
            return "skus/*"
        return "/".join(names.get(s, s) for s in v.split("/"))
    return v


def readme_walk():
    chain = [(r, spec) for r, spec in specs() if r.typ != "security-group-rule"]
    got = readme_puts()
    say([typ for typ, _, _ in got] == [r.typ for r, _ in chain],
        "README: the SECA walk-through PUTs the FoundationProviders chain in order",
        "README %s, tier %s" % ([x[0] for x in got], [r.typ for r, _ in chain]))
    names = {TA: "acme", ENV["SECA_SUBJECT_A"]: "alice@acme.eu", ZONES[0]: "a"}
    for (r, _), (_, name, _) in zip(chain, got):
        names[r.name] = name
    for (r, spec), (typ, name, rspec) in zip(chain, got):
        want = readme_norm(spec, names)
        say(readme_norm(rspec, {}) == want,
            "README: the spec PUT for %s %s is the tier's" % (typ, name),
            "README %s, tier %s" % (json.dumps(readme_norm(rspec, {}), sort_keys=True),
                                    json.dumps(want, sort_keys=True)))


# ---- instance power --------------------------------------------------------------------

def power():
    what = "InstancePower"
    vm = [r for r, s in CHAIN if r.typ == "instance"]
    must(vm, what + ": the chain has its instance")
    r = vm[0]
    hist = states(get(r).json) or []

    def action(a, want_status, label):
        nonlocal hist
        x = call("POST", r.path() + "/" + a, what="%s %s" % (what, a))
        say(x.status == want_status, "%s: %s %s answers %d" % (what, a, label, want_status),
            "status %d %s" % (x.status, x.text()[:200]))
        if want_status == 202 and x.status == 202:
            j = wait_active(r, what + " " + a)
            h = states(j) or []
            say(h[:2] == ["active", "updating"] and h[2:] == hist[:len(h) - 2],
                "%s: %s adds [active, updating]" % (what, a), "before %s after %s" % (hist, h))
            hist = h
        return x

    action("start", 412, "on a running instance")
    action("stop", 202, "")
    # a stopped instance is still active in SECA's sense; a second stop is a conflict
    action("stop", 412, "on a stopped instance")
    action("start", 202, "")
    action("restart", 202, "")
    nx = call("POST", R("instance", "no-such-vm", WS).path() + "/start", what=what)
    say(nx.status == 404, "%s: start of a missing instance answers 404" % what,
        "status %d" % nx.status)


# ---- constraints and errors ------------------------------------------------------------

def refused(method, path, body, what, pointer=None, token=None, raw=None, status=412):
    x = call(method, path, token, body=body, raw=raw, what=what)
    if method == "PUT" and x.status == 201:
        # made where it should have been refused: not left behind for the next scenarios
        http("DELETE", path, TOKA)
    ok = x.status == status
    if ok and pointer and isinstance(x.json, dict):
        ptrs = [s.get("pointer") for s in x.json.get("sources") or []]
        ok = any(p and (p == pointer or p.startswith(pointer)) for p in ptrs)
        say(ok, "%s: answers %d naming %s" % (what, status, pointer),
            "sources %s: %s" % (ptrs, x.text()[:200]))
        return x
    say(ok, "%s: answers %d" % (what, status), "status %d %s" % (x.status, x.text()[:300]))
    return x


def spec_of(typ):
    for r, s in CHAIN:
        if r.typ == typ:
            return r, s
    raise Abort("the chain has no %s" % typ)


def constraints():
    """Per type: name over 128, bad pattern, label value over 63, annotation over 1024 ->
    412 naming the member; nothing made. Then each type's own."""
    for r, spec in CHAIN:
        what = "ConstraintsValidation " + r.typ
        long = R(r.typ, "n" * 129, r.ws, r.net)
        refused("PUT", long.path(), envelope(spec), what + " name over 128")
        badn = R(r.typ, "Bad_Name", r.ws, r.net)
        refused("PUT", badn.path(), envelope(spec), what + " name with a bad pattern")
        fresh = R(r.typ, "cv-" + r.name, r.ws, r.net)
        refused("PUT", fresh.path(), envelope(spec, {"env": "x" * 64}),
                what + " label value over 63", "/labels")
        refused("PUT", fresh.path(), envelope(spec, annotations={"a": "x" * 1025}),
                what + " annotation over 1024", "/annotations")
        g = http("GET", fresh.path(), TOKA)
        say(g.status == 404, what + ": nothing was made", "status %d" % g.status)
    # the types' own
    r, s = spec_of("instance")
    fresh = R("instance", "cv-own", WS)
    for mut, ptr, label in (
            (lambda s: s.update(userData="x" * 65537), "/spec/userData", "userData over 65536"),
            (lambda s: s.update(sshKeys=["ssh-ed25519 AAAA%d" % i for i in range(33)]),
             "/spec/sshKeys", "more than 32 sshKeys"),
            (lambda s: s.update(zone=""), "/spec/zone", "empty zone")):
        s2 = json.loads(json.dumps(s))
        mut(s2)
        refused("PUT", fresh.path(), envelope(s2), "ConstraintsValidation instance " + label, ptr)
    r, s = spec_of("subnet")
    s2 = json.loads(json.dumps(s))
    s2["cidr"] = {"ipv4": "192.168.77.0/24"}
    refused("PUT", R("subnet", "cv-outside", WS, NET).path(), envelope(s2),
            "ConstraintsValidation subnet outside its network", "/spec/cidr")
    r, s = spec_of("block-storage")
    s2 = dict(s, sizeGB=0)
    refused("PUT", R("block-storage", "cv-zero", WS).path(), envelope(s2),
            "ConstraintsValidation block-storage sizeGB 0", "/spec/sizeGB")
    r, s = spec_of("network")
    refused("PUT", R("network", "cv-public", WS).path(),
            envelope(dict(s, cidr={"ipv4": "8.8.0.0/16"})),
            "ConstraintsValidation network outside RFC 1918", "/spec/cidr")
    r, s = spec_of("security-group-rule")
    refused("PUT", R("security-group-rule", "cv-dir", WS).path(),
            envelope({"direction": "sideways"}),
            "ConstraintsValidation security-group-rule bad direction", "/spec/direction")
    refused("PUT", R("public-ip", "cv-ver", WS).path(), envelope({"version": "IPv5"}),
            "ConstraintsValidation public-ip bad version", "/spec/version")


def errors():
    """References to what does not exist -> 412; GET of a missing name -> 404."""
    # Each case is a valid spec but for the one reference: its own boot disk (the chain's is
    # attached), a subnet range and a NIC address nothing uses.
    disk = R("block-storage", "er-disk", WS)
    made = call("PUT", disk.path(), body=envelope({"skuRef": sku_ref("storage"), "sizeGB": 1}),
                what="Error's spare disk").status == 201
    # A client uses a block storage once it is active (on a loaded machine its creation
    # takes a moment, and the instance cases below must meet their own fault first).
    if made:
        wait_active(disk, "Error's spare disk")
    def own_disk(s):
        s["bootVolume"] = {"deviceRef": {"resource": "block-storages/er-disk"}}
        s.pop("primaryNicRef", None)

    fresh_values = {
        "instance": own_disk,
        "subnet": lambda s: s.update(cidr={"ipv4": "10.40.2.0/24"}),
        "nic": lambda s: s.update(addresses=["10.40.1.77"], publicIpRefs=[]),
    }

    def bad(typ, name, mut, label, ptr):
        r, s = spec_of(typ)
        s2 = json.loads(json.dumps(s))
        if typ in fresh_values:
            fresh_values[typ](s2)
        mut(s2)
        fresh = R(typ, name, r.ws, r.net)
        refused("PUT", fresh.path(), envelope(s2), "Error %s %s" % (typ, label), ptr)
        g = http("GET", fresh.path(), TOKA)
        say(g.status == 404, "Error %s %s: nothing was made" % (typ, label),
            "status %d" % g.status)

    bad("instance", "er-sku", lambda s: s.update(skuRef={"resource": "skus/no-such-sku"}),
        "missing sku", "/spec/skuRef")
    bad("instance", "er-boot", lambda s: s.update(
        bootVolume={"deviceRef": {"resource": "block-storages/no-such-disk"}}),
        "missing boot volume", "/spec/bootVolume")
    bad("instance", "er-zone", lambda s: s.update(zone="zz"), "missing zone", "/spec/zone")
    bad("block-storage", "er-sku", lambda s: s.update(skuRef={"resource": "skus/no-such"}),
        "missing sku", "/spec/skuRef")
    bad("network", "er-sku", lambda s: s.update(skuRef={"resource": "skus/no-such"}),
        "missing sku", "/spec/skuRef")
    bad("subnet", "er-rt", lambda s: s.update(
        routeTableRef={"resource": "networks/%s/route-tables/no-such-rt" % NET}),
        "missing route table", "/spec/routeTableRef")
    bad("subnet", "er-zone", lambda s: s.update(zone="zz"), "missing zone", "/spec/zone")
    bad("nic", "er-subnet", lambda s: s.update(
        subnetRef={"resource": "networks/%s/subnets/no-such-subnet" % NET}),
        "missing subnet", "/spec/subnetRef")
    bad("image", "er-src", lambda s: s.update(
        blockStorageRef={"resource": "block-storages/no-such", "workspace": WS}),
        "missing block storage", "/spec/blockStorageRef")
    bad("role-assignment", "er-role", lambda s: s.update(roles=["no-such-role"]),
        "missing role", "/spec/roles")
    bad("role-assignment", "er-sub", lambda s: s.update(subs=["nobody@nowhere.example"]),
        "missing subject", "/spec/subs")
    bad("role-assignment", "er-region", lambda s: s.update(scopes=[{"regions": ["nowhere-9"]}]),
        "missing region", "/spec/scopes")
    # a workspace that does not exist: the network under it
    r, s = spec_of("network")
    x = call("PUT", R("network", "er-ws", "no-such-ws").path(), body=envelope(s),
             what="Error network in a missing workspace")
    say(x.status in (404, 412), "Error: a PUT into a missing workspace is refused (404 or 412)",
        "status %d" % x.status)
    for typ in TYPES:
        g = call("GET", R(typ, "no-such-" + typ, WS, NET).path(), what="Error missing")
        say(g.status == 404, "Error %s: GET of a missing name answers 404" % typ,
            "status %d" % g.status)
    if made:
        delete(disk, "Error")
        wait_gone(disk, "Error")


# ---- isolation and bad input over every route ------------------------------------------

def routes_with_names():
    """Every SECA route of the documents, with A's real names put in."""
    names = {"tenant": TA, "workspace": WS, "network": NET}
    by_plural = {r.t.plural: r for r, s in CHAIN}
    out = []
    for o in OPS:
        if o.doc == "extensions.wellknown.v1.yaml":
            continue
        prov = o.doc.split(".")[1]
        segs = o.path.split("/")
        path = o.path
        plural = None
        for i, sg in enumerate(segs):
            if sg == "{name}":
                plural = segs[i - 1]
        name = None
        if plural == "skus":
            name = SKUS.get(prov, "none")
        elif plural == "regions":
            name = REGION
        elif plural == "workspaces":
            name = WS
        elif plural in by_plural:
            name = by_plural[plural].name
        else:
            name = "x"
        p = path.replace("{tenant}", names["tenant"]).replace("{workspace}", WS) \
            .replace("{network}", NET).replace("{name}", name or "x")
        out.append((o.method, "/providers/seca.%s%s" % (prov, p), plural, o))
    return out


def isolation():
    """Tenant B's token on every one of A's tenant paths: 404 with no data of A."""
    secrets = [TA, WS, NET] + [r.name for r, s in CHAIN]
    for method, path, plural, o in routes_with_names():
        if "/tenants/" not in path:
            continue
        body = None
        if method == "PUT":
            body = envelope({})
            for r, s in CHAIN:
                if r.t.plural == plural:
                    body = envelope(s)
        before = snapshot_path(path) if method != "GET" else None
        x = call(method, path, token=TOKB, body=body, what="Isolation (B on A's path)")
        # The path's own segments may be echoed (instance, detail), as for a tenant that
        # does not exist; any other name of A, a list item or a resource is a leak.
        leak = [s for s in secrets if s in x.text() and s not in path]
        j = x.json if isinstance(x.json, dict) else {}
        leak += [k for k in ("items", "spec", "metadata", "labels") if k in j]
        if isinstance(j.get("status"), dict):
            leak.append("status")
        say(x.status == 404 and not leak,
            "Isolation: B's token on %s %s answers 404 with no data of A" % (method, path),
            "status %d leak %s %s" % (x.status, leak, x.text()[:200]))
        # ... and the answer is the one a tenant that does not exist gets, names aside.
        ghost = "no-such-tenant-zz"
        y = http(method, path.replace("/tenants/%s/" % TA, "/tenants/%s/" % ghost,
                                      1).replace("/tenants/%s" % TA, "/tenants/%s" % ghost),
                 TOKB, body)
        same = (x.status, stable(x.json).replace(TA, "T")) == \
            (y.status, stable(y.json).replace(ghost, "T"))
        say(same, "Isolation: B's %s on %s reads as on a tenant that does not exist"
            % (method, path), "%d %s vs %d %s" % (x.status, x.text()[:200], y.status,
                                                  y.text()[:200]))
        if before is not None:
            after = snapshot_path(path)
            say(after == before, "Isolation: B's %s on %s changed nothing" % (method, path),
                "before %s after %s" % (before, after))


def snapshot_path(path):
    base = re.sub(r"/(start|stop|restart)$", "", path)
    return snapshot_of(base, base.rsplit("/", 1)[0])


BAD_BODIES = [
    ("malformed JSON", None, b'{"labels": {"env": '),
    ("a JSON array", None, b'[1, 2, 3]'),
    ("labels of the wrong type", {"labels": "env=x", "spec": {}}, None),
    ("spec of the wrong type", {"labels": {}, "spec": "x"}, None),
    ("an unknown member", {"labels": {}, "spec": {}, "bogus": 1}, None),
    ("an unknown spec member", {"labels": {}, "spec": {"bogus": 1}}, None),
    ("a huge body", None, b'{"labels": {}, "annotations": {"a": "' + b"x" * (2 << 20) + b'"}}'),
    ("SQL metacharacters in labels", {"labels": {"env": "x'); DROP TABLE users;--"},
                                      "spec": {"bogus'--": 1}}, None),
    ("a label of a non-string value", {"labels": {"env": 1}, "spec": {}}, None),
    ("SQL metacharacters in a member name", {"labels": {}, "x'); DROP TABLE users;--": 1},
     None),
]
# Cases whose only fault is in spec: an action (start, stop, restart) takes no spec.
SPEC_ONLY = ("an unknown spec member", "SQL metacharacters in labels",
             "another tenant's references")


def bad_input():
    """Every SECA write route (PUT, POST action): a set of bad bodies -> 412 with a SECA error
    body, and nothing changed (GET and list before and after)."""
    for method, path, plural, o in routes_with_names():
        if method not in ("PUT", "POST") or "/tenants/" not in path:
            continue
        base = re.sub(r"/(start|stop|restart)$", "", path)
        spec = {}
        for r, s in CHAIN:
            if r.t.plural == plural:
                spec = s
        before = snapshot_path(base)
        cases = list(BAD_BODIES)
        # another tenant's references in a valid envelope
        if spec:
            s2 = json.loads(json.dumps(spec))
            for k, v in list(s2.items()):
                if k.endswith("Ref") and isinstance(v, dict):
                    s2[k] = dict(v, tenant=TB)
            if s2 != spec:
                cases.append(("another tenant's references", envelope(s2), None))
        if method == "PUT":
            sqln = re.sub(r"/[^/]+$", "/x'%3B%20DROP%20TABLE%20tenants%3B--", base)
            x = call("PUT", sqln, body=envelope(spec), what="BadInput SQL in the name")
            say(x.status in (412, 404) and error_body(x),
                "BadInput: %s with SQL metacharacters in its name is refused with a SECA error"
                % sqln, "status %d %s" % (x.status, x.text()[:200]))
        for label, body, raw in cases:
            if method == "POST" and label in SPEC_ONLY:
                continue
            x = call(method, path, body=body, raw=raw, what="BadInput " + label)
            say(x.status == 412 and error_body(x),
                "BadInput: %s %s with %s answers 412 with a SECA error" % (method, path, label),
                "status %d %s" % (x.status, x.text()[:200]))
        after = snapshot_path(base)
        say(after == before, "BadInput: nothing of %s changed" % base,
            "before %s after %s" % (before, after))


def error_body(x):
    if not isinstance(x.json, dict):
        return False
    return validate(ERROR_SCHEMA, doc_url("schemas/errors.yaml"), x.json) is None and \
        str(x.json.get("type", "")).startswith("http://secapi.cloud/errors/")


# ---- usage scenarios -------------------------------------------------------------------

def multi_workspace_isolation():
    """Two workspaces of A: a network of one is not seen from the other; the same name may
    live in both; deleting one leaves the other."""
    what = "MultiWorkspaceIsolation"
    w1, w2 = R("workspace", "mwi-one"), R("workspace", "mwi-two")
    create(w1, {}, what)
    create(w2, {}, what)
    n1 = R("network", "shared-name", "mwi-one")
    n2 = R("network", "shared-name", "mwi-two")
    spec = {"cidr": {"ipv4": "10.50.0.0/16"}, "skuRef": sku_ref("network")}
    create(n1, spec, what)
    lst = call("GET", n2.coll(), what=what)
    say(lst.status == 200 and not (lst.json or {}).get("items"),
        "%s: workspace mwi-two lists none of mwi-one's networks" % what, lst.text()[:200])
    g = call("GET", n2.path(), what=what)
    say(g.status == 404, "%s: mwi-one's network is 404 in mwi-two" % what)
    create(n2, dict(spec, cidr={"ipv4": "10.51.0.0/16"}), what)
    g1 = get(n1).json or {}
    say((g1.get("spec") or {}).get("cidr") == {"ipv4": "10.50.0.0/16"},
        "%s: the same name in two workspaces keeps each its own spec" % what)
    for n in (n1, n2):
        delete(n, what)
    for n in (n1, n2):
        wait_gone(n, what)
    for w in (w1, w2):
        delete(w, what)
    for w in (w1, w2):
        wait_gone(w, what)


def ha_multi_zone():
    """Two instances in two zones, each boots from its own block storage."""
    what = "HaMultiZone"
    made = []
    try:
        for i, z in enumerate(ZONES[:2]):
            d = R("block-storage", "ha-disk-%d" % i, WS)
            create(d, {"skuRef": sku_ref("storage"), "sizeGB": 1,
                       "sourceImageRef": {"resource": "images/fp-image"}}, what)
            made.append(d)
            vm = R("instance", "ha-vm-%d" % i, WS)
            j = create(vm, {"skuRef": sku_ref("compute"), "zone": z,
                            "bootVolume": {"deviceRef": {"resource": "block-storages/"
                                                         + d.name}}}, what)
            made.append(vm)
            say((j.get("spec") or {}).get("zone") == z,
                "%s: ha-vm-%d is in zone %s" % (what, i, z), str(j.get("spec")))
    finally:
        for r in reversed(made):
            if delete(r, what):
                wait_gone(r, what)


def private_secure_workspace():
    """An egress-only gateway, a restrictive security group, a private NIC (no public IP)."""
    what = "PrivateSecureWorkspace"
    ws = "psw"
    made = []
    try:
        seq = [
            (R("workspace", ws), {}),
            (R("network", "psw-net", ws), {"cidr": {"ipv4": "10.60.0.0/16"},
                                           "skuRef": sku_ref("network")}),
            (R("internet-gateway", "psw-egress", ws), {"egressOnly": True}),
            (R("route-table", "psw-rt", ws, "psw-net"),
             {"routes": [{"destinationCidrBlock": "0.0.0.0/0",
                          "targetRef": {"resource": "internet-gateways/psw-egress"}}]}),
            (R("subnet", "psw-subnet", ws, "psw-net"),
             {"cidr": {"ipv4": "10.60.1.0/24"}, "zone": ZONES[0],
              "routeTableRef": {"resource": "networks/psw-net/route-tables/psw-rt"}}),
            (R("security-group", "psw-sg", ws),
             {"rules": [{"direction": "ingress", "protocol": "tcp",
                         "ports": {"from": 443, "to": 443}, "version": "IPv4"}]}),
            (R("nic", "psw-nic", ws),
             {"addresses": ["10.60.1.20"],
              "subnetRef": {"resource": "networks/psw-net/subnets/psw-subnet"},
              "securityGroupRefs": [{"resource": "security-groups/psw-sg"}]}),
        ]
        for r, s in seq:
            j = create(r, s, what)
            made.append(r)
            if r.typ == "internet-gateway":
                say((j.get("spec") or {}).get("egressOnly") is True,
                    "%s: the gateway is egress-only" % what, str(j.get("spec")))
            if r.typ == "nic":
                say(not (j.get("spec") or {}).get("publicIpRefs"),
                    "%s: the NIC has no public IP" % what, str(j.get("spec")))
            if r.typ == "security-group":
                rules = (j.get("spec") or {}).get("rules") or []
                say(len(rules) == 1 and rules[0].get("direction") == "ingress",
                    "%s: the security group keeps its one rule" % what, str(rules))
    finally:
        for r in reversed(made):
            if delete(r, what):
                wait_gone(r, what)


def builtin_roles():
    what = "Roles"
    lst = call("GET", P("authorization", "roles"), what=what)
    names = [((i or {}).get("metadata") or {}).get("name")
             for i in (lst.json or {}).get("items") or []]
    builtin = [n for n in names if n and n.startswith("seca.")]
    say(builtin, "%s: built-in seca.* roles are listed" % what, str(names))
    if builtin:
        r = R("role", builtin[0])
        g = get(r).json or {}
        x = call("PUT", r.path(), body=envelope(g.get("spec") or {}), what=what)
        say(x.status == 412, "%s: a built-in role cannot be changed (412)" % what,
            "status %d" % x.status)
        d = call("DELETE", r.path(), what=what)
        say(d.status == 412, "%s: a built-in role cannot be deleted (412)" % what,
            "status %d" % d.status)


def residency_check():
    what = "Residency"
    for r, s in CHAIN:
        if r.typ in ("instance", "block-storage", "network"):
            j = get(r).json or {}
            say(isinstance((j.get("status") or {}).get("residency"), dict),
                "%s: %s carries status.residency" % (what, r.label()),
                str((j.get("status") or {}).get("residency")))


def roles_and_auth():
    what = "Auth"
    x = call("GET", P("workspace", "workspaces"), token="", what=what)
    say(x.status == 401, "%s: no token answers 401" % what, "status %d" % x.status)
    x = call("GET", P("workspace", "workspaces"), token="not-a-token", what=what)
    say(x.status == 401, "%s: a bad token answers 401" % what, "status %d" % x.status)
    rd = ENV["SECA_READER_TOKEN_A"]
    x = call("PUT", P("workspace", "workspaces", "reader-ws"), token=rd, body=envelope({}),
             what=what)
    say(x.status == 403, "%s: a reader's PUT answers 403" % what, "status %d" % x.status)
    x = call("GET", P("workspace", "workspaces", tenant="no-such-tenant"), what=what)
    say(x.status == 404, "%s: an unknown tenant answers 404" % what, "status %d" % x.status)


def main():
    print("# SECA tier against %s, documents %s" % (BASE, os.path.abspath(SPEC)), flush=True)
    scenario("README", readme_walk)
    scenario("ProviderLifeCycle/ProviderQueries", provider_scenarios)
    scenario("Auth", roles_and_auth)
    scenario("FoundationProviders (create)", foundation_create)
    if len(CHAIN) < len(specs()):
        say(False, "the FoundationProviders chain exists for the scenarios that need it",
            "%d of %d made" % (len(CHAIN), len(specs())))
    lifecycles()
    scenario("Paging", paging)
    scenario("InstancePower", power)
    scenario("Residency", residency_check)
    scenario("ConstraintsValidation", constraints)
    scenario("Error", errors)
    scenario("Isolation", isolation)
    scenario("BadInput", bad_input)
    scenario("HaMultiZone", ha_multi_zone)
    scenario("Roles", builtin_roles)
    scenario("MultiWorkspaceIsolation", multi_workspace_isolation)
    scenario("PrivateSecureWorkspace", private_secure_workspace)
    scenario("FoundationProviders (delete)", foundation_delete)
    finish()


if __name__ == "__main__":
    main()
