"""IRONSCALES AppAPI for mock_providers.py, as ../shared/providers/ironscales.md
documents it (sections 2-4 and the fixtures of section 7):

  POST /appapi/get-token/                     {"key", "scopes"} -> {"jwt"}
  GET  /appapi/company/{C}                    (the seed's Ping)
  GET  /appapi/incident/{C}/open/             {"incident_ids": [...]}
  GET  /appapi/incident/{C}/details/{id}      404 for an unknown id
  POST /appapi/incident/{C}/classify/{id}     {"classification",
                                               "prev_classification",
                                               "classifying_user_email"}
  GET  /appapi/mitigation/{C}/impersonation/details/?period=0..6
  GET  /appapi/mitigation/{C}/incidents/details/?period=0..6[&page=N]
  POST /appapi/mitigation/{C}/details/        {"incidents", "period", "page"}

Every call but the token exchange needs "Authorization: Bearer <jwt>" (or
"JWT <jwt>", both prefixes are used by working clients): 401 otherwise.
Each exchange issues a new JWT; a token with "jwt_uses" in the fixture gets
JWTs that answer that many calls, then 401 (the real lifetime is not
published). Scopes as the token's set allows (partner or company, 403
otherwise); reads need a view scope, classify a classify scope. Another
company id than the token's: 404. Throttle: "calls_per_minute" (120) calls
per company in any 60 s, then 429 with Retry-After (the seconds until the
oldest call leaves the window) and the documented "Expected available in N
seconds." body; the token exchange counts. A classification sticks (a
later details call shows it) until /__mock/reset, which also forgets JWTs
and the throttle window. Faults: status5xx, ratelimit(_retry_after),
quota (429), badkey (403 for the exchange, 401 otherwise), and the
generic ones."""
import collections
import math
import re
import secrets
import time

from mock_providers import Call, Provider

# the API's aliases of a classification (§3.3)
CLASSIFICATIONS = {"report": "Report", "unclassified": "Report", "attack": "Attack",
                   "phishing": "Attack", "malicious": "Attack", "safe": "False Positive",
                   "fp": "False Positive", "false positive": "False Positive",
                   "spam": "Spam", "close phishing": "Close Phishing"}
WINDOW_S = 60


class IronScales(Provider):
    name = "ironscales"
    ROOT = "/appapi/"

    def __init__(self, app):
        super().__init__(app)
        self.routes = [
            ("POST", re.compile(r"get-token/?"), self.get_token),
            ("GET", re.compile(r"company/(\d+)/?"), self.company),
            ("GET", re.compile(r"incident/(\d+)/open/?"), self.open_ids),
            ("GET", re.compile(r"incident/(\d+)/details/(\d+)/?"), self.details),
            ("POST", re.compile(r"incident/(\d+)/classify/(\d+)/?"), self.classify),
            ("GET", re.compile(r"mitigation/(\d+)/impersonation/details/?"),
             self.impersonation),
            ("GET", re.compile(r"mitigation/(\d+)/incidents/details/?"), self.mitigations),
            ("POST", re.compile(r"mitigation/(\d+)/details/?"), self.mailbox),
        ]

    def valid_name(self, name):
        return name in self.fx["bodies"]

    # --- per-run state, forgotten by /__mock/reset ----------------------
    def run_state(self):
        """JWTs, throttle windows and classifications; kept in the shared
        state's per-run table so that a reset clears them with the rest."""
        return self.state.analyses.setdefault(
            ("ironscales",), {"jwts": {}, "calls": {}, "classes": {}})

    # --- auth and throttle (before any route) ---------------------------
    def claims(self, path):
        return path.startswith(self.ROOT)

    def token_of(self, req):
        doc = req.json_body()
        key = doc.get("key") if isinstance(doc, dict) else None
        return key if isinstance(key, str) else None

    def throttle(self, company):
        """None, or the 429 when the company has used its calls."""
        limit = self.fx["calls_per_minute"]
        now = time.monotonic()
        with self.state.lock:
            calls = self.run_state()["calls"].setdefault(company, collections.deque())
            while calls and calls[0] <= now - WINDOW_S:
                calls.popleft()
            if len(calls) >= limit:
                wait = max(1, math.ceil(calls[0] + WINDOW_S - now))
            else:
                calls.append(now)
                return None
        return self.error("ratelimit", headers=[("Retry-After", str(wait))], seconds=wait)

    def check_auth(self, req):
        if req.path.rstrip("/") == self.ROOT + "get-token":
            spec = self.fx["tokens"].get(self.token_of(req) or "")
            return self.throttle(spec["company_id"]) if spec else None
        scheme, _, jwt = req.headers.get("Authorization", "").partition(" ")
        with self.state.lock:
            grant = self.run_state()["jwts"].get(jwt) if scheme in ("Bearer", "JWT") else None
            if grant is not None and grant["uses"] is not None:
                if grant["uses"] <= 0:
                    grant = None
                else:
                    grant["uses"] -= 1
        if grant is None:
            return self.error("missing_key")
        req.grant = grant
        return self.throttle(grant["company_id"])

    def wrong_key(self, req):
        if req.path.rstrip("/") == self.ROOT + "get-token":
            return self.error("wrong_key")
        return self.error("missing_key")

    def fault_reply(self, fault):
        if fault.mode in ("ratelimit", "ratelimit_retry_after"):
            seconds = fault.retry_after
            if seconds is None:
                seconds = max(1, math.ceil(fault.ms / 1000.0)) if fault.ms else 1
            headers = [("Retry-After", str(seconds))] if fault.mode.endswith("after") else []
            return self.error("ratelimit", headers=headers, seconds=seconds)
        return super().fault_reply(fault)

    def secret_values(self, req):
        with self.state.lock:
            jwts = list(self.run_state()["jwts"])
        return list(self.fx["tokens"]) + jwts

    # --- routes ---------------------------------------------------------
    def route(self, req):
        rel = req.path[len(self.ROOT):]
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(rel)
            if match and method == req.method:
                return Call(lambda h=handler, m=match: h(req, *m.groups()),
                            [m for m in match.groups()[1:]])
        return Call(lambda: self.error("no_route"))

    def get_token(self, req):
        doc = req.json_body()
        if not isinstance(doc, dict) or "scopes" not in doc:
            return self.error("no_scopes")
        spec = self.fx["tokens"].get(self.token_of(req) or "")
        if spec is None:
            return self.error("wrong_key")
        scopes = doc["scopes"]
        allowed = self.fx["scopes"][spec["scopes"]]
        if not isinstance(scopes, list) or not scopes or any(s not in allowed for s in scopes):
            return self.error("scopes_refused")
        jwt = "eyJhbGciOiJIUzI1NiJ9.%s.%s" % (secrets.token_urlsafe(12), secrets.token_urlsafe(16))
        with self.state.lock:
            self.run_state()["jwts"][jwt] = {"company_id": spec["company_id"], "scopes": scopes,
                                             "uses": spec.get("jwt_uses")}
        return self.json(200, {"jwt": jwt})

    def allowed(self, req, company, need):
        """None, or the error for another company or a missing scope."""
        if int(company) != req.grant["company_id"]:
            return self.error("not_found")
        if not any(s in self.fx[need] for s in req.grant["scopes"]):
            return self.error("forbidden")
        return None

    def company(self, req, company):
        return self.allowed(req, company, "view_scopes") or self.body("company")

    def open_ids(self, req, company):
        return (self.allowed(req, company, "view_scopes")
                or self.json(200, {"incident_ids": self.fx["open_incidents"]}))

    def incident(self, incident_id):
        name = self.fx["incidents"].get(incident_id)
        if name is None:
            return None
        body = dict(self.fx["bodies"][name]["body"])
        with self.state.lock:
            body["classification"] = self.run_state()["classes"].get(
                incident_id, body["classification"])
        return body

    def details(self, req, company, incident_id):
        denied = self.allowed(req, company, "view_scopes")
        if denied:
            return denied
        body = self.incident(incident_id)
        return self.json(200, body) if body else self.error("not_found")

    def classify(self, req, company, incident_id):
        denied = self.allowed(req, company, "classify_scopes")
        if denied:
            return denied
        doc = req.json_body()
        if not isinstance(doc, dict):
            doc = {}
        for field in ("classification", "prev_classification", "classifying_user_email"):
            if not isinstance(doc.get(field), str) or not doc[field]:
                return self.error("missing_field", field=field)
        for field in ("classification", "prev_classification"):
            if doc[field].lower() not in CLASSIFICATIONS:
                return self.error("bad_choice", field=field, value=doc[field])
        if doc["classifying_user_email"] not in self.fx["users"]:
            return self.error("unknown_user", user=doc["classifying_user_email"])
        if self.incident(incident_id) is None:
            return self.error("not_found")
        with self.state.lock:
            self.run_state()["classes"][incident_id] = CLASSIFICATIONS[
                doc["classification"].lower()]
        return self.body("classified")

    def period_of(self, value, default=None):
        """The period 0..6 (an integer or its string), or None."""
        if value is None:
            value = default
        if isinstance(value, bool):
            return None
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            period = int(value)
            return period if 0 <= period <= 6 else None
        return None

    def period_body(self, kind, period):
        name, _, limit = self.fx["periods"][kind][str(period)].partition("+")
        body = dict(self.fx["bodies"][name]["body"])
        if limit:
            body["messages"] = [self.fx["limit_message"]]
        return self.json(200, body)

    def impersonation(self, req, company):
        denied = self.allowed(req, company, "view_scopes")
        if denied:
            return denied
        values = req.params("period")
        if not values:
            return self.error("missing_field", field="period")
        period = self.period_of(values[0])
        if period is None:
            return self.error("bad_choice", field="period", value=values[0])
        return self.period_body("impersonation", period)

    def mitigations(self, req, company):
        denied = self.allowed(req, company, "view_scopes")
        if denied:
            return denied
        values = req.params("period")
        period = self.period_of(values[0] if values else None, "6")
        if period is None:
            return self.error("bad_choice", field="period", value=values[0])
        return self.period_body("mitigations", period)

    def mailbox(self, req, company):
        denied = self.allowed(req, company, "view_scopes")
        if denied:
            return denied
        doc = req.json_body()
        if not isinstance(doc, dict) or not isinstance(doc.get("incidents"), list):
            return self.error("missing_field", field="incidents")
        if self.period_of(doc.get("period"), "6") is None:
            return self.error("bad_choice", field="period", value=str(doc.get("period")))
        page = doc.get("page", 1)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            return self.error("bad_choice", field="page", value=str(page))
        items = []
        for incident_id in doc["incidents"]:
            items += self.fx["mailbox_mitigations"].get(str(incident_id), [])
        size = self.fx["page_size"]
        total = math.ceil(len(items) / size)
        return self.json(200, {"page": page, "total_pages": total,
                               "mitigations": items[(page - 1) * size:page * size],
                               "messages": []})
