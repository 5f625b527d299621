"""ANY.RUN Interactive Sandbox API v1 for the mock server
(mock_providers.py), as ../shared/providers/anyrun.md describes it.

  POST /v1/analysis                 submit (§3.1): JSON {"obj_type":"url",
                                    "obj_url":...} or multipart (part "file"
                                    + form fields, obj_type=file); the
                                    options are checked (opt_privacy_type one
                                    of public|bylink|owner|byteam, default
                                    bylink as the real API's) and kept
                                    -> {"error":false,"data":{"taskid":uuid}}
  GET  /v1/analysis/{uuid}          report (§3.3): "running" (scores {}) for
                                    the first `anyrun_running_polls` polls
                                    (config, default 2), then the verdict
  GET  /v1/analysis/?task={uuid}    the same report (XSOAR's 403 fallback)
  GET  /v1/analysis/monitor/{uuid}  status stream (§3.2, text/event-stream):
                                    data: {"task":{"status":N,"remaining":S}}
                                    lines up to the task's state (20, 60, then
                                    100 done or -1 failed); each read counts
                                    as a poll
  GET  /v1/analysis?limit=N         history (§3.4, §6: Test Connection)
  GET  /v1/user, /v1/environment    account limits, environments (§3.5)
  auth: "Authorization: API-Key <key>" (scheme case-insensitive, §2);
        401 {"error":true,"message":...} without or with a wrong key.

Verdicts: a URL task by the usual conventions of its obj_url (tables, then
"malicious"/"suspicious"/"unknown" in the text); a file task by its
SHA-256 in the tables, else its content (EICAR or "malicious" ->
malicious, "suspicious" -> suspicious). Besides the verdicts, an indicator
may name a fixture body: "failed" (the analysis fails: status failed,
monitor -1), "endless" (never finishes), "report_forbidden" (the report
path answers 403, the ?task= form works). "unknown" is a finished task
without a verdict. Fault modes as for every provider (ratelimit/quota:
429 "Parallel tasks limit exceeded").

For the tests, GET /v1/analysis/__mock__/tasks (with the key) lists what
the mock received for every task: uuid, obj_type, obj_url, filename,
sha256, size, privacy (opt_privacy_type as sent, null when absent) and
all options. /__mock/reset forgets them. Keys: "test-anyrun-key" unless
--config gives "keys": {"anyrun": [...]}.
"""
import hashlib
import json
import re
import sys
import uuid

if "mock_providers" in sys.modules:
    mp = sys.modules["mock_providers"]
elif all(hasattr(sys.modules.get("__main__"), n) for n in ("Provider", "Reply", "render")):
    mp = sys.modules["__main__"]        # mock_providers.py run as a script
else:
    import mock_providers as mp         # noqa: E402

ROOT = "/v1/analysis"
PRIVACY = ("public", "bylink", "owner", "byteam")
TASK_ID = re.compile(r"[0-9a-f-]{36}")
SPECIAL = ("failed", "endless", "report_forbidden")


def form_fields(req):
    """The multipart/form-data parts (mock_providers.form_fields)."""
    return mp.form_fields(req)


class AnyRun(mp.Provider):
    name = "anyrun"

    def __init__(self, app):
        app.config["keys"].setdefault(self.name, ["test-anyrun-key"])
        app.config.setdefault("anyrun_running_polls", 2)
        super().__init__(app)

    def valid_name(self, name):
        return name in mp.VERDICTS or name in SPECIAL

    def claims(self, path):
        return path == ROOT or path.startswith(ROOT + "/") or path in ("/v1/user",
                                                                       "/v1/environment")

    def check_auth(self, req):
        value = req.headers.get("Authorization")
        if not value:
            return self.error("missing_key")
        scheme, _, key = value.strip().partition(" ")
        if scheme.lower() != "api-key" or key.strip() not in self.app.config["keys"][self.name]:
            return self.error("wrong_key")
        return None

    def secret_values(self, req):
        return list(self.app.config["keys"][self.name])

    def fault_reply(self, fault):
        if fault.mode in ("quota", "ratelimit"):
            return self.error("ratelimit")
        return super().fault_reply(fault)

    # --- routes -------------------------------------------------------
    def route(self, req):
        rel = req.path[len(ROOT):] if req.path.startswith(ROOT) else None
        if req.path == "/v1/user" and req.method == "GET":
            return mp.Call(lambda: self.json(200, {"error": False, "data": {"limits": {
                "api": {"month": -1, "day": -1, "hour": -1, "minute": -1},
                "parallels": {"total": 2, "available": 2}}}}))
        if req.path == "/v1/environment" and req.method == "GET":
            return mp.Call(lambda: self.json(200, {"error": False, "data": {"environments": [
                {"os": "windows", "version": "10", "bitness": 64, "type": "complete"}]}}))
        if rel == "/__mock__/tasks" and req.method == "GET":
            return mp.Call(lambda: self.json(200, self.tasks()))
        if rel == "" and req.method == "POST":
            return self.submit(req)
        if rel == "" and req.method == "GET":
            return mp.Call(lambda: self.history(req))
        if rel == "/" and req.method == "GET" and req.params("task"):
            task_id = req.params("task")[0]
            return mp.Call(lambda: self.report(task_id, fallback=True), [task_id])
        match = re.fullmatch(r"/monitor/([^/]+)", rel or "")
        if match and req.method == "GET":
            return mp.Call(lambda: self.monitor(match.group(1)), [match.group(1)])
        match = re.fullmatch(r"/([^/]+)", rel or "")
        if match and req.method == "GET":
            return mp.Call(lambda: self.report(match.group(1)), [match.group(1)])
        return mp.Call(lambda: self.error("no_route"))

    # --- submission (§3.1) ---------------------------------------------
    def submit(self, req):
        fields = form_fields(req)
        if fields is not None:
            options = {k: v[1].decode("utf-8", "replace") for k, v in fields.items()
                       if k != "file"}
            upload = fields.get("file")
        else:
            doc = req.json_body()
            if not isinstance(doc, dict):
                return mp.Call(lambda: self.error("bad_request", message="JSON object expected"))
            options, upload = doc, None
        obj_type = options.get("obj_type")
        indicator = None
        if obj_type == "url":
            indicator = options.get("obj_url")
        elif obj_type == "file" and upload is not None:
            indicator = hashlib.sha256(upload[1]).hexdigest()
        return mp.Call(lambda: self.new_task(options, upload), [indicator])

    def new_task(self, options, upload):
        obj_type = options.get("obj_type")
        privacy = options.get("opt_privacy_type")
        if privacy is not None and privacy not in PRIVACY:
            return self.error("bad_request", message="opt_privacy_type: invalid value")
        task = {"uuid": str(uuid.uuid4()), "obj_type": obj_type, "privacy": privacy,
                "options": {k: v for k, v in options.items()}, "polls": 0,
                "obj_url": None, "filename": None, "sha256": None, "size": None}
        if obj_type == "url":
            url = options.get("obj_url")
            if not isinstance(url, str) or not url:
                return self.error("bad_request", message="obj_url is required")
            task["obj_url"] = url
            task["name"] = self.lookup(url)
        elif obj_type == "file":
            if upload is None:
                return self.error("bad_request", message='multipart part "file" is required')
            content = upload[1]
            digest = hashlib.sha256(content).hexdigest()
            task.update(filename=upload[0], sha256=digest, size=len(content))
            task["name"] = (self.state.override(self.name, digest) or self.table.get(digest)
                            or mp.content_verdict(content))
        else:
            return self.error("bad_request", message="obj_type must be url or file")
        with self.state.lock:
            self.state.analyses["anyrun:" + task["uuid"]] = task
        return self.json(200, mp.render(self.fx["templates"]["submitted"],
                                        {"taskid": task["uuid"]}))

    def task(self, task_id, count=True):
        with self.state.lock:
            task = self.state.analyses.get("anyrun:" + task_id)
            if task is None:
                return None, None
            polls = task["polls"]
            if count:
                task["polls"] += 1
            return dict(task), polls

    def tasks(self):
        with self.state.lock:
            return [{k: v for k, v in t.items() if k != "polls"}
                    for key, t in self.state.analyses.items() if key.startswith("anyrun:")]

    # --- report (§3.3), monitor (§3.2), history (§3.4) ---------------------
    def state_of(self, task, polls):
        """running, failed, or done."""
        if task["name"] == "endless" or polls < self.app.config["anyrun_running_polls"]:
            return "running"
        return "failed" if task["name"] == "failed" else "done"

    def report(self, task_id, fallback=False):
        if not TASK_ID.fullmatch(task_id):
            return self.error("not_found")
        task, polls = self.task(task_id)
        if task is None:
            return self.error("not_found")
        if task["name"] == "report_forbidden" and not fallback:
            return self.error("forbidden")
        state = self.state_of(task, polls)
        if state != "done":
            return self.json(200, mp.render(self.fx["templates"][state], {"taskid": task_id}))
        verdict = "clean" if task["name"] in ("unscanned", "report_forbidden") else task["name"]
        values = {"taskid": task_id, "private": "false" if task["privacy"] == "public" else "true",
                  "obj_type": task["obj_type"], "obj_url": task["obj_url"] or mp.OMIT,
                  "filename": task["filename"] or mp.OMIT,
                  "sha256": task["sha256"] or hashlib.sha256(
                      (task["obj_url"] or "").encode()).hexdigest(),
                  "verdict": self.fx["verdicts"][verdict]["verdict"] if verdict != "unknown"
                  else {}}
        return self.json(200, mp.render(self.fx["templates"]["report"], values))

    def monitor(self, task_id):
        task, polls = self.task(task_id)
        if task is None:
            return self.error("not_found")
        state = self.state_of(task, polls)
        steps = [(20, 130)] + ([(60, 90)] if polls > 0 or state != "running" else [])
        if state == "done":
            steps.append((100, 0))
        elif state == "failed":
            steps.append((-1, 0))
        lines = "".join("data: %s\n\n" % json.dumps(mp.render(
            self.fx["templates"]["monitor_line"], {"status": s, "remaining": r}),
            separators=(",", ":")) for s, r in steps)
        return mp.Reply(200, lines.encode(), content_type="text/event-stream")

    def history(self, req):
        limit = req.params("limit")
        try:
            limit = min(100, max(1, int(limit[0]))) if limit else 25
        except ValueError:
            return self.error("bad_request", message="limit must be a number")
        tasks = []
        for task in reversed(self.tasks()):
            verdict = self.verdict_of(task["name"])
            text = {"malicious": "Malicious activity", "suspicious": "Suspicious activity"}.get(
                verdict, "No threats detected")
            tasks.append({"uuid": task["uuid"], "name": task["obj_url"] or task["filename"],
                          "verdict": text, "related": "https://app.any.run/tasks/" + task["uuid"],
                          "date": "2026-11-20T10:00:00.000Z",
                          "hashes": {"sha256": task["sha256"]}})
        return self.json(200, mp.render(self.fx["templates"]["history"],
                                        {"tasks": tasks[:limit]}))
