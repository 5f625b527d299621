"""Cyber X-Ray (Roksit) for the mock server (mock_providers.py), as
../shared/providers/cyber-xray.md section 7 constructs it (the real API
is unverified):

  GET /api/query/<host>      header ApiKey: K
    malicious  200 {"domain", "verdict": "malicious", "category": "Phishing", "score": 97}
    suspicious 200 {... "suspicious" ... 60}   clean 200 {... "clean" ... 3}
    unknown    404 {"message": "Domain not found"}
    hosts with "processing" or "pending" in them, or the table's
    "processing": 202 {"domain", "status": "processing"}
    alternative shapes by name from the fixture's bodies (alt_categories,
    alt_nested, no_verdict), for the tolerant mapper.
  401 {"message": "Invalid API key"} without or with a wrong key; faults as
  every provider (ratelimit: 429 Retry-After).
Keys: "test-cyberxray-key" unless --config gives "keys": {"cyberxray": [...]}.
"""
import re
import sys
from urllib.parse import unquote

if "mock_providers" in sys.modules:
    mp = sys.modules["mock_providers"]
elif all(hasattr(sys.modules.get("__main__"), n) for n in ("Provider", "Reply", "render")):
    mp = sys.modules["__main__"]        # mock_providers.py run as a script
else:
    import mock_providers as mp         # noqa: E402

ROUTE = re.compile(r"/api/query/([^/]+)")


class CyberXRay(mp.Provider):
    name = "cyberxray"

    def __init__(self, app):
        app.config["keys"].setdefault(self.name, ["test-cyberxray-key"])
        super().__init__(app)

    def claims(self, path):
        return path.startswith("/api/query/")

    def route(self, req):
        match = ROUTE.fullmatch(req.path)
        if req.method != "GET" or not match:
            return mp.Call(lambda: self.error("no_route"))
        host = unquote(match.group(1)).lower().rstrip(".")
        return mp.Call(lambda: self.report(host), [host])

    def report(self, host):
        known = self.state.override(self.name, host) or self.table.get(host)
        if known is None and ("processing" in host or "pending" in host):
            known = "processing"
        name = known or self.lookup(host)
        if name in self.fx.get("bodies", {}):
            return self.body(name)
        verdict = "clean" if name == "unscanned" else name
        if verdict not in self.fx["verdicts"]:
            return self.error("not_found")
        values = dict(self.fx["verdicts"][verdict], indicator=host)
        return self.json(200, mp.render(self.fx["templates"]["domain"], values))

    def fault_reply(self, fault):
        if fault.mode == "ratelimit":
            return self.error("ratelimit", headers=[("Retry-After", "60")])
        return super().fault_reply(fault)

    def check_auth(self, req):
        return self.check_header_key(req, "ApiKey")

    def secret_values(self, req):
        return self.header_key_secrets(req, "ApiKey")
