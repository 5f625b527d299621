"""VMRay Platform / Cloud REST API for the mock server (mock_providers.py), as
../shared/providers/vmray.md describes it:

  GET  /rest/sample/{md5|sha1|sha256}/{hash}  {"result":"ok","data":[sample...]}
                                              (unknown: 200 with "data":[])
  GET  /rest/sample/{sample_id}               one sample; 404 for an unknown id
  POST /rest/sample/submit                    multipart sample_file, or the form
                                              field sample_url (URL or domain);
                                              parameters in the body or the query
  GET  /rest/submission/{submission_id}       submission_finished false
                                              "finish_after_polls" times, then true
  GET  /rest/continuation/{id}                (no long lists here: 404)
  GET  /rest/analysis[?_limit=N]              Test Connection (§6)
  GET  /rest/system_info                      {"version": ...}
  auth: header "Authorization: api_key <key>"; 401 {"result":"error",...}

Verdicts: the fixture's and --config's "indicators", runtime overrides,
then the usual conventions (hash prefixes bad/5a5/404, URL words). A file
uploaded here becomes a sample at once: a hash search then finds it,
verdict not_available until its submission finished, then the verdict of
its content (EICAR or "malicious" inside: malicious, "suspicious":
suspicious, else clean; the table by its SHA-256 first). Behaviours
(fixture "bodies" with "behaviour", named for a hash or URL, or a word in
a URL, "behaviour_words"): never_finishes, analysis_fails,
already_analysed ("no jobs were created"), submit_ratelimited (429 +
Retry-After: 30 on submit), submit_quota (submit errors name the quota).
Faults as for every provider; "quota" is HTTP 200 with result "error".
Keys: "test-vmray-key" unless --config gives "keys": {"vmray": [...]}."""
import hashlib
import re
import sys
from urllib.parse import parse_qsl

if "mock_providers" in sys.modules:
    mp = sys.modules["mock_providers"]
else:
    import mock_providers as mp         # noqa: E402

HASH_PATH = re.compile(r"/rest/sample/(md5|sha1|sha256)/([^/]+)")
HASH_LEN = {"md5": 32, "sha1": 40, "sha256": 64}


def multipart_fields(req):
    """The multipart/form-data parts (mock_providers.form_fields), {} if none."""
    return mp.form_fields(req) or {}


class VMRay(mp.Provider):
    name = "vmray"

    def __init__(self, app):
        app.config["keys"].setdefault(self.name, ["test-vmray-key"])
        super().__init__(app)
        self.routes = [
            ("GET", HASH_PATH, self.search),
            ("GET", re.compile(r"/rest/sample/(\d+)"), self.sample),
            ("POST", re.compile(r"/rest/sample/submit"), self.submit),
            ("GET", re.compile(r"/rest/submission/(\d+)"), self.submission),
            ("GET", re.compile(r"/rest/continuation/(\d+)"), self.continuation),
            ("GET", re.compile(r"/rest/analysis"), self.analyses),
            ("GET", re.compile(r"/rest/system_info"), self.system_info),
        ]

    def claims(self, path):
        return path.startswith("/rest/")

    def route(self, req):
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(req.path)
            if match:
                if method != req.method:
                    return mp.Call(lambda: self.error("method_not_allowed"))
                return handler(req, match)
        return mp.Call(lambda: self.error("no_route"))

    def check_auth(self, req):
        value = req.headers.get("Authorization", "")
        if not value:
            return self.error("missing_key")
        scheme, _, key = value.partition(" ")
        if scheme != "api_key" or key not in self.app.config["keys"][self.name]:
            return self.error("wrong_key")
        return None

    def secret_values(self, req):
        return list(self.app.config["keys"][self.name])

    # --- state: samples and submissions, forgotten by /__mock/reset ---
    def store(self):
        with self.state.lock:
            return self.state.analyses.setdefault(self.name, {
                "samples": {}, "by_hash": {}, "submissions": {},
                "next_sample": self.fx["settings"]["first_sample_id"],
                "next_submission": self.fx["settings"]["first_submission_id"],
                "next_job": self.fx["settings"]["first_job_id"]})

    def behaviour(self, indicator):
        name = self.lookup(indicator)
        if self.fx["bodies"].get(name, {}).get("behaviour"):
            return name
        text = indicator.lower()
        for word, behaviour in self.fx["behaviour_words"].items():
            if word in text:
                return behaviour
        return None

    def verdict(self, sample):
        """The verdict name of a sample now: not_available while its
        submission runs (or after a failed analysis)."""
        if sample["state"] != "done":
            return "not_available"
        name = sample["verdict"]
        return "not_available" if name in ("unknown", "unscanned") else name

    def sample_object(self, sample):
        values = dict(self.fx["verdicts"][self.verdict(sample)], sample_id=sample["id"],
                      sample_type=sample["type"], filename=sample["filename"],
                      url=sample["url"], md5=sample["md5"], sha1=sample["sha1"],
                      sha256=sample["sha256"])
        return mp.render(self.fx["templates"]["sample"], values)

    # --- calls ---
    def search(self, req, match):
        kind, digest = match.group(1), match.group(2).lower()

        def run():
            if len(digest) != HASH_LEN[kind] or not mp.is_hash(digest):
                return self.error("bad_request", message=f"Invalid {kind} hash")
            store = self.store()
            with self.state.lock:
                known = store["samples"].get(store["by_hash"].get(digest))
            if known is not None:
                return self.json(200, {"result": "ok", "data": [self.sample_object(known)]})
            name = self.lookup(digest)
            if name in ("unknown", "unscanned") or self.behaviour(digest):
                return self.json(200, {"result": "ok", "data": []})
            sample = self.new_sample(digest, name, "Windows Exe (x86-32)", "sample.exe", None,
                                     self.identity(digest))
            return self.json(200, {"result": "ok", "data": [self.sample_object(sample)]})
        return mp.Call(run, [digest])

    @staticmethod
    def identity(indicator, content=None):
        """md5, sha1, sha256 of an upload's content; of anything else made
        up from the indicator, which keeps its own value for its length."""
        seed = content if content is not None else indicator.encode()
        ident = {"md5": hashlib.md5(seed).hexdigest(), "sha1": hashlib.sha1(seed).hexdigest(),
                 "sha256": hashlib.sha256(seed).hexdigest()}
        if content is None:
            for name, length in HASH_LEN.items():
                if len(indicator) == length and mp.is_hash(indicator):
                    ident[name] = indicator.lower()
        return ident

    def new_sample(self, indicator, verdict, stype, filename, url, ident, state="done"):
        store = self.store()
        with self.state.lock:
            for h in (ident["md5"], ident["sha1"], ident["sha256"], indicator):
                existing = store["by_hash"].get(h)
                if existing is not None:
                    return store["samples"][existing]
            sample_id = store["next_sample"]
            store["next_sample"] += 1
            sample = dict(ident, id=sample_id, verdict=verdict, type=stype, filename=filename,
                          url=url, state=state)
            store["samples"][sample_id] = sample
            for h in (ident["md5"], ident["sha1"], ident["sha256"], indicator):
                store["by_hash"][h] = sample_id
            return sample

    def sample(self, req, match):
        sample_id = int(match.group(1))

        def run():
            store = self.store()
            with self.state.lock:
                sample = store["samples"].get(sample_id)
            if sample is None:
                return self.error("not_found", what="Sample", id=sample_id)
            return self.json(200, {"result": "ok", "data": self.sample_object(sample)})
        return mp.Call(run, [str(sample_id)])

    def submit_params(self, req):
        fields = multipart_fields(req)
        params = dict(req.query)
        if not fields:
            params.update(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        for name, (filename, data) in fields.items():
            if filename is None:
                params[name] = data.decode("utf-8", "replace")
        return params, fields.get("sample_file")

    def submit(self, req, match):
        params, file_part = self.submit_params(req)
        url = params.get("sample_url")
        if file_part is not None:
            content = file_part[1]
            indicator = hashlib.sha256(content).hexdigest()
        else:
            content, indicator = None, url

        def run():
            if not indicator:
                return self.error("bad_request", message="sample_file or sample_url is required")
            if params.get("shareable", "false") != "false":
                return self.error("bad_request", message="this mock refuses shareable submissions")
            behaviour = self.behaviour(indicator)
            if behaviour == "submit_ratelimited":
                return self.error("ratelimit", headers=[("Retry-After", "30")])
            if behaviour == "submit_quota":
                return self.json(200, self.fx["bodies"]["submit_quota_errors"]["body"])
            if content is not None:
                ident = self.identity(indicator, content)
                name = (self.state.override(self.name, indicator) or self.table.get(indicator)
                        or mp.content_verdict(content))
                if name in ("unknown", "unscanned") or behaviour:
                    name = mp.content_verdict(content)
                sample = self.new_sample(indicator, name, "Windows Exe (x86-32)",
                                         file_part[0] or "sample", None, ident, state="running")
            else:
                ident = self.identity(url)
                name = mp.convention_verdict(url.lower()) if behaviour else self.lookup(url)
                sample = self.new_sample(url, name, "URL", None, url, ident, state="running")
            return self.new_submission(sample, behaviour, len(content or url.encode()))
        return mp.Call(run, [indicator])

    def new_submission(self, sample, behaviour, size):
        store = self.store()
        with self.state.lock:
            sub_id = store["next_submission"]
            job_id = store["next_job"]
            store["next_submission"] += 1
            store["next_job"] += 1
            cached = behaviour == "already_analysed"
            if cached:
                sample["state"] = "done"
            store["submissions"][sub_id] = {"sample": sample, "polls": 0, "behaviour": behaviour}
        values = {"submission_id": sub_id, "sample_id": sample["id"], "job_id": job_id,
                  "vm": "web" if sample["type"] == "URL" else "win10_64", "size": size,
                  "sha1": sample["sha1"]}
        template = "already_analysed" if cached else "submit"
        return self.json(200, mp.render(self.fx["templates"][template], values))

    def submission(self, req, match):
        sub_id = int(match.group(1))

        def run():
            store = self.store()
            with self.state.lock:
                sub = store["submissions"].get(sub_id)
                if sub is not None:
                    sub["polls"] += 1
                    polls, behaviour, sample = sub["polls"], sub["behaviour"], sub["sample"]
            if sub is None:
                return self.error("not_found", what="Submission", id=sub_id)
            finished = behaviour != "never_finishes" and \
                polls > self.fx["settings"]["finish_after_polls"]
            errors = finished and behaviour == "analysis_fails"
            if finished:
                with self.state.lock:
                    sample["state"] = "failed" if errors else "done"
            values = {"submission_id": sub_id, "sample_id": sample["id"],
                      "finished": finished, "has_errors": errors}
            return self.json(200, mp.render(self.fx["templates"]["submission"], values))
        return mp.Call(run, [str(sub_id)])

    def continuation(self, req, match):
        return mp.Call(lambda: self.error("not_found", what="Continuation", id=match.group(1)))

    def analyses(self, req, match):
        return mp.Call(lambda: self.json(200, {"result": "ok", "data": []}))

    def system_info(self, req, match):
        return mp.Call(lambda: self.json(200, {"result": "ok", "data": {"version": "2024.4.0"}}))
