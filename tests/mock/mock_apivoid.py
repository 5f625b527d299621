"""APIVoid for the mock server (mock_providers.py), as
../shared/providers/apivoid.md describes it.

  v1 (endpoint.apivoid.com)  GET|POST /{iprep|domainbl|urlrep|emailverify|screenshot}
                             /v1/pay-as-you-go/?{ip|host|url|email}=V&key=K
                             and ?stats&key=K (any endpoint): the account
                             Every answer is HTTP 200 -- a refused key is
                             {"error": "API key is not valid"}, no credits
                             {"error": "You have 0 credits remained"} --
                             except faults (429, 5xx with an HTML body).
  v2 (api.apivoid.com)       POST /v2/{ip-reputation|domain-reputation|url-reputation|
                             email-verify|screenshot} {"ip"|"host"|"url"|"email": V}
                             header X-API-Key; 401 bad key, 402 no credits,
                             400 bad input or a body that is no JSON object.

Answers come from fixtures/apivoid.json (v1) and apivoid-v2.json (v2):
templates[KIND] filled from verdicts[KIND][VERDICT]; "unknown" is the
document's empty report. Verdicts by the usual conventions (indicator
tables, then "malicious"/"suspicious"/"unknown" in the text, the IP
ranges); e-mail addresses also by domain: mailinator.com and the other
DISPOSABLE domains are malicious (disposable). Fault modes as for every
provider; "quota" is the out-of-credits answer of each generation.
Keys: "test-apivoid-key" unless --config gives "keys": {"apivoid": [...]}.
"""
import json
import os
import re
import sys
import threading

if "mock_providers" in sys.modules:
    mp = sys.modules["mock_providers"]
elif all(hasattr(sys.modules.get("__main__"), n) for n in ("Provider", "Reply", "render")):
    mp = sys.modules["__main__"]        # mock_providers.py run as a script
else:
    import mock_providers as mp         # noqa: E402

DISPOSABLE = ("mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com")
V1_KIND = {"iprep": ("ip", "ip"), "domainbl": ("domain", "host"), "urlrep": ("url", "url"),
           "emailverify": ("email", "email"), "screenshot": ("screenshot", "url")}
V2_KIND = {"ip-reputation": ("ip", "ip"), "domain-reputation": ("domain", "host"),
           "url-reputation": ("url", "url"), "email-verify": ("email", "email"),
           "screenshot": ("screenshot", "url")}
V1_ROUTE = re.compile(r"/(iprep|domainbl|urlrep|emailverify|screenshot)/v1/pay-as-you-go/?")
V2_ROUTE = re.compile(r"/v2/(ip-reputation|domain-reputation|url-reputation|email-verify|screenshot)")


class APIVoid(mp.Provider):
    name = "apivoid"

    def __init__(self, app):
        app.config["keys"].setdefault(self.name, ["test-apivoid-key"])
        super().__init__(app)
        with open(self.fixture_path("apivoid-v2"), encoding="utf-8") as f:
            self.fx2 = json.load(f)
        self.local = threading.local()      # the generation of this thread's request

    def fixture_path(self, name):
        return os.path.join(self.app.config["fixtures_dir"], name + ".json")

    @property
    def v2(self):
        return getattr(self.local, "v2", False)

    def fixtures(self):
        return self.fx2 if self.v2 else self.fx

    def claims(self, path):
        return bool(V1_ROUTE.fullmatch(path) or V2_ROUTE.fullmatch(path))

    def error(self, name, headers=(), **values):
        spec = self.fixtures()["errors"][name]
        body = spec["body"]
        if isinstance(body, str):       # an HTML error page
            return mp.Reply(spec["status"], body.encode(), headers, "text/html")
        return self.json(spec["status"], mp.render(body, values), headers)

    def verdict_for(self, kind, value):
        if kind == "email":
            domain = value.rpartition("@")[2].lower()
            name = self.state.override(self.name, self.normalize(value)) or \
                self.table.get(self.normalize(value))
            if name:
                return name
            if domain in DISPOSABLE:
                return "malicious"
            return mp.convention_verdict(value.lower())
        return self.lookup(value)

    def report(self, kind, value):
        fx = self.fixtures()
        name = self.verdict_for(kind, value)
        if name in fx.get("bodies", {}):
            return self.json(fx["bodies"][name]["status"], fx["bodies"][name]["body"])
        if kind == "screenshot":
            return self.json(200, fx["templates"]["screenshot"])
        verdict = "clean" if name == "unscanned" else name
        if verdict not in fx["verdicts"][kind]:
            return self.json(200, fx["bodies"]["not_found"]["body"])
        values = dict(fx["verdicts"][kind][verdict], indicator=value)
        if kind == "email":
            values.update(username=value.partition("@")[0], domain=value.rpartition("@")[2])
        return self.json(200, mp.render(fx["templates"][kind], values))

    def route(self, req):
        match = V2_ROUTE.fullmatch(req.path)
        self.local.v2 = bool(match)
        if match:
            kind, field = V2_KIND[match.group(1)]
            doc = req.json_body()
            if req.method != "POST" or not isinstance(doc, dict) or \
                    not isinstance(doc.get(field), str):
                return mp.Call(lambda: self.error("invalid_body"))
            value = doc[field]
            return mp.Call(lambda: self.answer(kind, value), [value])
        match = V1_ROUTE.fullmatch(req.path)
        kind, field = V1_KIND[match.group(1)]
        if req.params("stats") or any(k == "stats" for k, _ in req.query):
            return mp.Call(lambda: self.json(200, self.fx["bodies"]["stats"]["body"]))
        values = req.params(field)
        if not values:
            return mp.Call(lambda: self.error("invalid_host"))
        return mp.Call(lambda: self.answer(kind, values[0]), [values[0]])

    def answer(self, kind, value):
        if kind == "ip" and mp.parse_ip(value) is None:
            return self.error("invalid_host" if self.v2 else "invalid_ip")
        if kind == "domain" and (".." in value or "/" in value or not value):
            return self.error("invalid_host")
        return self.report(kind, value)

    def fault_reply(self, fault):
        if fault.mode in ("quota", "ratelimit"):
            return self.error(fault.mode)
        return super().fault_reply(fault)

    def wrong_key(self, req):
        self.local.v2 = bool(V2_ROUTE.fullmatch(req.path))
        return self.error("wrong_key")

    def check_auth(self, req):
        keys = self.app.config["keys"][self.name]
        if self.v2:
            key = req.headers.get("X-API-Key")
            if not key:
                return self.error("missing_key")
        else:
            given = req.params("key")
            key = given[0] if given else None
        return None if key in keys else self.error("wrong_key")

    def secret_values(self, req):
        return [req.headers.get("X-API-Key")] + req.params("key") + \
            list(self.app.config["keys"][self.name])
