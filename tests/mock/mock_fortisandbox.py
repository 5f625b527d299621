"""Fortinet FortiSandbox JSON-RPC for mock_providers.py, as
../shared/providers/fortisandbox.md describes it (sections 2-5, fixtures of 7):

  POST /jsonrpc  {"method", "params": [{"url": RESOURCE, ...}], "session", "id", "ver"}
    exec /sys/login/user      {"user","passwd"} or {"data":[{"user","passwd"}]}
                              -> top-level "session"; WRONG_CREDENTIAL otherwise
    get  /sys/login/token     {"token"}
    exec /sys/logout, get /sys/status
    get  /scan/result/file    {"ctype","checksum"} -> record, 3 DATA_NOT_EXIST
    get  /scan/result/urlrating {"address":[...]} -> one element per address
                              (not rated: only {"url"})
    set  /alert/ondemand/submit-file {"type":"file"|"url","file","filename"
                              (both base64)} -> {"sid"}
    get  /scan/result/get-jobs-of-submission {"sid"} -> no jids at the first
                              call, then all of them
    get  /scan/result/job     {"jid"} -> 29 DATA_IN_QUEUE_OR_PROGRESS, then
                              the rating

Every answer is HTTP 200, errors in result.status (INVALID_SESSION for a
missing, unknown, logged-out or expired session; USER_HAS_NO_PERMISSION
for the "noperm" user; TIME_OUT for an indicator mapped to "time_out"),
except the faults (5xx with an HTML page; "ratelimit"/"quota": 503, the
appliance documents no rate limit). "badkey": WRONG_CREDENTIAL for a
login, INVALID_SESSION otherwise. Any "ver"/"version" is accepted and
"id" echoed. Users, tokens, verdicts and job behaviours (a job that never
finishes, a session that expires mid-poll, a failed analysis) are in
fixtures/fortisandbox.json. The request log names the resource
("/jsonrpc /alert/ondemand/submit-file") and the indicator (the hash,
the URL, or for an upload the SHA-256 of the decoded bytes); passwords,
tokens and sessions are never logged (they are in the body only).
Sessions, submissions and jobs are forgotten by /__mock/reset.
"""
import base64
import binascii
import hashlib
import itertools
import secrets

from mock_providers import Call, Provider, render

RESOURCES = ("/sys/login/user", "/sys/login/token", "/sys/logout", "/sys/status",
             "/scan/result/file", "/scan/result/urlrating", "/alert/ondemand/submit-file",
             "/scan/result/get-jobs-of-submission", "/scan/result/job")
_ids = itertools.count(7048126795285831956)


class FortiSandbox(Provider):
    name = "fortisandbox"

    def valid_name(self, name):
        return super().valid_name(name) or name in self.fx["behaviours"]

    def claims(self, path):
        return path == "/jsonrpc"

    def run_state(self):
        """Sessions, submissions and jobs, cleared by /__mock/reset."""
        return self.state.analyses.setdefault(
            ("fortisandbox",), {"sessions": {}, "submissions": {}, "jobs": {}})

    # --- the envelope ------------------------------------------------------
    @staticmethod
    def call_of(req):
        doc = req.json_body()
        params = doc.get("params") if isinstance(doc, dict) else None
        if not isinstance(params, list) or not params or not isinstance(params[0], dict):
            return None, None
        return doc, params[0]

    def reply(self, doc, name, **values):
        spec = self.fx["bodies"][name]
        body = render(spec["body"], values)
        if isinstance(doc, dict) and "id" in doc:
            body["id"] = doc["id"]
        return self.json(spec["status"], body)

    def logged_target(self, req):
        _, params = self.call_of(req)
        resource = params.get("url") if params else None
        return "/jsonrpc " + (resource if resource in RESOURCES else "?")

    def check_auth(self, req):
        return None     # in the body: route() checks the session per call

    def wrong_key(self, req):
        doc, params = self.call_of(req)
        resource = (params or {}).get("url", "")
        if resource.startswith("/sys/login/"):
            return self.reply(doc, "login_failed")
        return self.reply(doc, "invalid_session", resource=resource)

    # --- routes ------------------------------------------------------------
    def route(self, req):
        doc, params = self.call_of(req)
        if doc is None or req.method != "POST":
            return Call(lambda: self.error("bad_request"))
        resource = params.get("url")
        if resource == "/sys/login/user":
            return Call(lambda: self.login(doc, params))
        if resource == "/sys/login/token":
            return Call(lambda: self.token_login(doc, params))
        handlers = {"/sys/logout": self.logout, "/sys/status": self.status,
                    "/scan/result/file": self.file_rating,
                    "/scan/result/urlrating": self.url_rating,
                    "/alert/ondemand/submit-file": self.submit,
                    "/scan/result/get-jobs-of-submission": self.jobs_of,
                    "/scan/result/job": self.job}
        handler = handlers.get(resource)
        if handler is None:
            return Call(lambda: self.reply(doc, "unknown_code", resource=str(resource)))
        return Call(lambda: self.with_session(doc, params, resource, handler),
                    self.indicators_of(resource, params))

    def indicators_of(self, resource, params):
        if resource == "/scan/result/file":
            return [str(params.get("checksum", "")).lower()]
        if resource == "/scan/result/urlrating":
            return [a for a in params.get("address") or [] if isinstance(a, str)]
        if resource == "/alert/ondemand/submit-file":
            return [self.submitted_indicator(params)]
        return [params.get("sid") or params.get("jid")]

    def with_session(self, doc, params, resource, handler):
        with self.state.lock:
            user = self.run_state()["sessions"].get(doc.get("session") or "")
        if user is None:
            return self.reply(doc, "invalid_session", resource=resource)
        if self.fx["users"].get(user, {}).get("no_permission"):
            return self.reply(doc, "no_permission", resource=resource)
        return handler(doc, params)

    # --- login -------------------------------------------------------------
    def new_session(self, doc, user, body):
        session = secrets.token_hex(16)
        with self.state.lock:
            self.run_state()["sessions"][session] = user
        return self.reply(doc, body, session=session)

    def login(self, doc, params):
        if isinstance(params.get("data"), list) and params["data"] and \
                isinstance(params["data"][0], dict):
            form, cred = "data", params["data"][0]
        else:
            form, cred = "user", params
        user = cred.get("user")
        spec = self.fx["users"].get(user) if isinstance(user, str) else None
        if spec is None or cred.get("passwd") != spec["password"] or form not in spec["forms"]:
            return self.reply(doc, "login_failed")
        return self.new_session(doc, user, "login_ok")

    def token_login(self, doc, params):
        if params.get("token") not in self.fx["tokens"]:
            return self.reply(doc, "login_failed")
        return self.new_session(doc, "token", "token_login_ok")

    def logout(self, doc, params):
        with self.state.lock:
            self.run_state()["sessions"].pop(doc.get("session"), None)
        return self.reply(doc, "logout_ok")

    def status(self, doc, params):
        return self.reply(doc, "sys_status")

    # --- ratings -----------------------------------------------------------
    @staticmethod
    def known(name):
        """The verdict of a mapped name when the appliance has rated it."""
        return name if name in ("malicious", "suspicious", "clean", "unscanned") else None

    def file_rating(self, doc, params):
        checksum = str(params.get("checksum", "")).lower()
        if params.get("ctype") not in ("md5", "sha1", "sha256"):
            return self.reply(doc, "unknown_code", resource="/scan/result/file")
        with self.state.lock:
            analysed = self.state.files.get(("fortisandbox", checksum))
        name = analysed or self.lookup(checksum)
        if name in self.fx["bodies"]:
            return self.reply(doc, name, resource="/scan/result/file")
        if self.known(name):
            return self.reply(doc, self.fx["file_bodies"][name])
        return self.reply(doc, "data_not_exist")

    def url_rating(self, doc, params):
        addresses = [a for a in params.get("address") or [] if isinstance(a, str)]
        data = []
        for address in addresses:
            with self.state.lock:
                analysed = self.state.files.get(("fortisandbox", address))
            name = analysed or self.lookup(address)
            if name in self.fx["bodies"]:
                return self.reply(doc, name, resource="/scan/result/urlrating")
            if self.known(name):
                rating = self.fx["url_ratings"][name]
                data += render(self.fx["bodies"]["url_rated"]["body"]["result"]["data"],
                               {"url": address, "rating": rating})
            else:
                data.append({"url": address})
        body = render(self.fx["bodies"]["url_unrated"]["body"], {"url": ""})
        body["result"]["data"] = data
        body["id"] = doc.get("id", 1)
        return self.json(200, body)

    # --- submissions and jobs ------------------------------------------------
    @staticmethod
    def decoded(params, field):
        try:
            return base64.b64decode(str(params.get(field, "")), validate=True)
        except (binascii.Error, ValueError):
            return None

    def submitted_indicator(self, params):
        data = self.decoded(params, "file")
        if data is None:
            return None
        if params.get("type") == "url":
            return data.decode("utf-8", "replace").strip().splitlines()[0] if data.strip() else None
        return hashlib.sha256(data).hexdigest()

    def submit(self, doc, params):
        indicator = self.submitted_indicator(params)
        if params.get("type") not in ("file", "url") or indicator is None or \
                self.decoded(params, "filename") is None:
            return self.reply(doc, "unknown_code", resource="/alert/ondemand/submit-file")
        name = self.lookup(indicator)
        behaviour = self.fx["behaviours"].get(name) or \
            {"job": "job_" + (name if name in ("malicious", "suspicious", "clean") else "clean"),
             "polls": 1}
        sid, jid = str(next(_ids)), str(next(_ids))
        with self.state.lock:
            self.run_state()["submissions"][sid] = {"jids": [jid], "asked": 0}
            self.run_state()["jobs"][jid] = {"sid": sid, "indicator": indicator,
                                             "behaviour": behaviour, "polls": 0}
        return self.reply(doc, "submit_ok", sid=sid)

    def jobs_of(self, doc, params):
        with self.state.lock:
            sub = self.run_state()["submissions"].get(str(params.get("sid")))
            if sub is not None:
                sub["asked"] += 1
        if sub is None:
            return self.reply(doc, "unknown_code", resource="/scan/result/get-jobs-of-submission")
        if sub["asked"] == 1:           # jobs appear gradually (§3.5)
            return self.reply(doc, "jobs_partial")
        return self.reply(doc, "jobs_complete", jid=sub["jids"][0])

    def job(self, doc, params):
        jid = str(params.get("jid"))
        with self.state.lock:
            job = self.run_state()["jobs"].get(jid)
            if job is None:
                expire = False
            else:
                behaviour = job["behaviour"]
                expire = behaviour.get("expire_session") and not job.get("expired")
                if expire:      # the session expires mid-poll: every one of them
                    job["expired"] = True
                    self.run_state()["sessions"].clear()
                else:
                    job["polls"] += 1
        if job is None:
            return self.reply(doc, "data_not_exist")
        if expire:
            return self.reply(doc, "invalid_session", resource="/scan/result/job")
        polls = behaviour["polls"]
        if polls is None or job["polls"] <= polls:
            return self.reply(doc, "job_pending")
        verdict = behaviour["job"].replace("job_", "")
        if verdict in ("malicious", "suspicious", "clean"):
            with self.state.lock:   # the appliance knows the file/URL now
                self.state.files[("fortisandbox", job["indicator"])] = verdict
        return self.reply(doc, behaviour["job"], sid=job["sid"], jid=jid)
