/* fortisandbox.c: Fortinet FortiSandbox lookups as engine jobs
 * (../shared/providers/fortisandbox.md §1, §3, §4).
 *
 * The steps of a job (provider_job.step):
 *   0  the rating, synchronous: a file by hash (`get /scan/result/file`,
 *      §3.1; 3 DATA_NOT_EXIST = unknown) or a URL (`get
 *      /scan/result/urlrating`, §3.2; a domain, HideURLParameters, is
 *      asked as http://<domain>/; no rating = unknown); 29
 *      DATA_IN_QUEUE_OR_PROGRESS or the rating N/A (being analysed
 *      already, by our submission or another) is pending and asked again
 *      later, never an unknown;
 *   1  only for an unknown: the upload (`set /alert/ondemand/submit-file`
 *      type file, bytes and name base64, §3.3) when the planner gave the
 *      lookup a sample (lookup.h: NULL never uploads) under 20 MB, or the
 *      URL submission (type url, §3.4) when SubmitURLs is on -> data.sid;
 *   2  the jobs of the submission (§3.5), polled until all jids exist;
 *   3+k the verdict of the k-th job (§3.6), polled while it answers 29
 *      DATA_IN_QUEUE_OR_PROGRESS (or rating N/A); the worst verdict of
 *      the jobs is the lookup's.
 * job->id holds "<sid>" after step 1, "<sid> <jid>..." after step 2.
 * INVALID_SESSION on any step asks the engine for one new login and the
 * same step again (JOB_RELOGIN); every other failed status is an error,
 * never a verdict (fortisandbox_rpc.c). Ratings (§1): Malicious and High
 * Risk malicious, Medium and Low Risk suspicious, Clean clean, anything
 * else (Unknown, Other, N/A, canceled, no data) unknown; the numeric
 * score (1, 2 malicious; 3, 4 suspicious; 0 clean) when no rating is
 * given. */
#include "providers/fortisandbox.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "lookup/sample.h"

#define STEP_RATE 0
#define STEP_SUBMIT 1
#define STEP_JOBS 2
#define STEP_VERDICT 3
/* an archive's jobs asked one by one; more are not waited for */
#define MAX_JIDS 16

/* ------------------------------------------------------------ ratings */

static enum lookup_status rating_status(const char *rating)
{
	if (rating == NULL)
		return LOOKUP_UNKNOWN;
	if (g_ascii_strcasecmp(rating, "Malicious") == 0 ||
	    g_ascii_strcasecmp(rating, "High Risk") == 0)
		return LOOKUP_MALICIOUS;
	if (g_ascii_strcasecmp(rating, "Medium Risk") == 0 ||
	    g_ascii_strcasecmp(rating, "Low Risk") == 0)
		return LOOKUP_SUSPICIOUS;
	if (g_ascii_strcasecmp(rating, "Clean") == 0)
		return LOOKUP_CLEAN;
	return LOOKUP_UNKNOWN;
}

static enum lookup_status score_status(const cJSON *score)
{
	if (!cJSON_IsNumber(score))
		return LOOKUP_UNKNOWN;
	switch (score->valueint) {
	case 0: return LOOKUP_CLEAN;
	case 1: case 2: return LOOKUP_MALICIOUS;
	case 3: case 4: return LOOKUP_SUSPICIOUS;
	default: return LOOKUP_UNKNOWN;
	}
}

/* Worse first: an unknown part never lets the whole be clean. */
static int severity(enum lookup_status status)
{
	switch (status) {
	case LOOKUP_MALICIOUS: return 3;
	case LOOKUP_SUSPICIOUS: return 2;
	case LOOKUP_UNKNOWN: return 1;
	case LOOKUP_CLEAN: return 0;
	default: return -1;
	}
}

/* The first string of a string or a list of strings that is not "N/A". */
static const char *first_name(const cJSON *item)
{
	const cJSON *e;

	if (cJSON_IsString(item))
		return g_ascii_strcasecmp(item->valuestring, "N/A") ? item->valuestring : NULL;
	cJSON_ArrayForEach(e, item)
		if (cJSON_IsString(e) && g_ascii_strcasecmp(e->valuestring, "N/A") != 0)
			return e->valuestring;
	return NULL;
}

/* The verdict of a file or job record: rating (a string, §3.6, or a
 * list, §3.1: the worst), else the score. *rating: the rating text. */
static enum lookup_status record_status(const cJSON *data, const char **rating)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(data, "rating");
	enum lookup_status worst = LOOKUP_ERROR;
	const cJSON *e;

	*rating = NULL;
	if (cJSON_IsString(r)) {
		*rating = r->valuestring;
		return rating_status(r->valuestring);
	}
	cJSON_ArrayForEach(e, r) {
		enum lookup_status s = rating_status(cJSON_GetStringValue(e));

		if (cJSON_IsString(e) && severity(s) > severity(worst)) {
			worst = s;
			*rating = e->valuestring;
		}
	}
	if (worst != LOOKUP_ERROR)
		return worst;
	return score_status(cJSON_GetObjectItemCaseSensitive(data, "score"));
}

/* Sets the lookup's verdict from a record, worse than what it has
 * already (an archive's jobs); details name the rating, the malware
 * and the source, all printable. */
static void set_verdict(struct lookup *lookup, enum lookup_status status, const char *rating,
			const cJSON *data)
{
	char *r = provider_printable(rating, 40);
	char *name = provider_printable(first_name(cJSON_GetObjectItem(data, "malware_name")), 80);
	char *source = provider_printable(first_name(cJSON_GetObjectItem(data, "rating_source")),
					  60);
	const cJSON *untrusted = cJSON_GetObjectItem(data, "untrusted");

	if (lookup->result.status != LOOKUP_PENDING &&
	    severity(lookup->result.status) > severity(status))
		goto out;
	provider_set_result(lookup, status, "FortiSandbox: %s%s%s%s%s%s",
			    r ? r : "no rating", name ? ", " : "", name ? name : "",
			    source ? " (" : "", source ? source : "", source ? ")" : "");
	if (cJSON_IsNumber(untrusted) && untrusted->valueint != 0) {
		char *more = g_strconcat(lookup->result.details,
					 ", untrusted: scanned before an environment change", NULL);
		g_free(lookup->result.details);
		lookup->result.details = more;
	}
out:
	g_free(r);
	g_free(name);
	g_free(source);
}

/* ----------------------------------------------------------- requests */

/* The URL FortiSandbox is asked about (§3.2): the URL, or http://<domain>/. */
static char *address_of(const struct lookup *lookup)
{
	if (lookup->kind == INDICATOR_DOMAIN)
		return g_strdup_printf("http://%s/", lookup->indicator);
	return g_strdup(lookup->indicator);
}

static const char *hash_type(const char *hash)
{
	switch (strlen(hash)) {
	case 32: return "md5";
	case 40: return "sha1";
	default: return "sha256";
	}
}

/* §3.3: the parameters every submission sends after the file, as the
 * document writes them (all steps run, the appliance's VM choice). */
static const char submit_fixed[] =
	"{\"comments\":\"threatmilter\",\"timeout\":\"3600\",\"skip_steps\":\"\","
	"\"archive_password\":\"\",\"overwrite_vm_list\":\"\",\"forcedvm\":0,"
	"\"malpkg\":\"0\",\"vrecord\":\"0\",\"enable_ai\":0}";

/* §3.4: a URL submission's timeout must lie in 30-1200 s (the file's 3600
 * of §3.3 is out of range); 600 s, XSOAR's default wait for a job (§4). */
#define URL_TIMEOUT "600"

/* §3.3/§3.4: the submission of the sample or of the URL. */
static void submit_request(const struct integration *in, const struct lookup *lookup,
			   const char *session, struct http_request *req)
{
	cJSON *params, *root = fsa_call("set", "/alert/ondemand/submit-file", session, &params);
	char *file, *name;

	if (lookup->kind == INDICATOR_HASH) {
		GBytes *bytes = sample_bytes(lookup->sample);
		gsize len;
		const guchar *data = g_bytes_get_data(bytes, &len);

		file = g_base64_encode(data, len);
		g_bytes_unref(bytes);
		name = g_base64_encode((const guchar *)sample_name(lookup->sample),
				       strlen(sample_name(lookup->sample)));
		cJSON_AddStringToObject(params, "type", "file");
	} else {
		char *address = address_of(lookup);
		char *list = g_strconcat(address, "\n", NULL);
		char *txt = g_strdup_printf("urls_%lld.txt", (long long)time(NULL));

		file = g_base64_encode((const guchar *)list, strlen(list));
		name = g_base64_encode((const guchar *)txt, strlen(txt));
		cJSON_AddStringToObject(params, "type", "url");
		cJSON_AddNumberToObject(params, "depth", 0);	/* the page itself */
		g_free(address);
		g_free(list);
		g_free(txt);
	}
	/* the base64 is referenced, not copied, until fsa_send prints it */
	cJSON_AddItemToObject(params, "file", cJSON_CreateStringReference(file));
	cJSON_AddStringToObject(params, "filename", name);
	provider_json_add_fixed(params, submit_fixed);
	if (lookup->kind != INDICATOR_HASH)
		cJSON_ReplaceItemInObjectCaseSensitive(params, "timeout",
						       cJSON_CreateString(URL_TIMEOUT));
	fsa_send(in, root, req);
	g_free(file);
	g_free(name);
}

static void fsa_job_request(const struct integration *in, const struct lookup *lookup,
			    const struct provider_job *job, struct http_request *req)
{
	char **ids = g_strsplit(job->id ? job->id : "", " ", -1);
	cJSON *params, *root;

	switch (job->step) {
	case STEP_RATE:
		if (lookup->kind == INDICATOR_HASH) {
			root = fsa_call("get", "/scan/result/file", job->session, &params);
			cJSON_AddStringToObject(params, "ctype", hash_type(lookup->indicator));
			cJSON_AddStringToObject(params, "checksum", lookup->indicator);
		} else {
			char *address = address_of(lookup);

			root = fsa_call("get", "/scan/result/urlrating", job->session, &params);
			cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "address"),
					     cJSON_CreateString(address));
			g_free(address);
		}
		fsa_send(in, root, req);
		break;
	case STEP_SUBMIT:
		submit_request(in, lookup, job->session, req);
		break;
	case STEP_JOBS:
		root = fsa_call("get", "/scan/result/get-jobs-of-submission", job->session, &params);
		cJSON_AddStringToObject(params, "sid", ids[0] ? ids[0] : "");
		fsa_send(in, root, req);
		break;
	default: {
		guint k = job->step - STEP_VERDICT + 1;

		root = fsa_call("get", "/scan/result/job", job->session, &params);
		cJSON_AddStringToObject(params, "jid", k < g_strv_length(ids) ? ids[k] : "");
		fsa_send(in, root, req);
	}
	}
	g_strfreev(ids);
}

/* ------------------------------------------------------------ answers */

/* Whether an unknown may go on to a submission (step 1), and why not. */
static bool may_submit(const struct integration *in, const struct lookup *lookup,
		       char *why, size_t len)
{
	if (lookup->kind != INDICATOR_HASH) {
		snprintf(why, len, "not rated yet%s", in->submit_urls ? "" : " (SubmitURLs off)");
		return in->submit_urls;
	}
	if (lookup->sample == NULL) {
		snprintf(why, len, "file unknown");
		return false;
	}
	if (sample_size(lookup->sample) >= FSA_JSON_UPLOAD_MAX) {
		snprintf(why, len, "file unknown, not uploaded: %zu bytes (the JSON upload takes "
			 "files under 20 MB)", sample_size(lookup->sample));
		return false;
	}
	return true;
}

/* An unknown rating: the submission now, or unknown as the answer. */
static void unknown_or_submit(const struct integration *in, struct lookup *lookup,
			      struct provider_job *job)
{
	char why[160];

	if (may_submit(in, lookup, why, sizeof(why))) {
		job->step = STEP_SUBMIT;
		job->next = JOB_STEP_NOW;
		return;
	}
	provider_set_result(lookup, LOOKUP_UNKNOWN, "FortiSandbox: %s", why);
}

/* Step 0 with status 0: a file record (§3.1) or the URL list (§3.2). */
static void rated(const struct integration *in, struct lookup *lookup, struct provider_job *job,
		  const cJSON *data)
{
	const cJSON *record = data;
	const char *rating;
	enum lookup_status status;

	if (lookup->kind != INDICATOR_HASH) {
		char *address = address_of(lookup);
		const cJSON *e;

		record = NULL;
		cJSON_ArrayForEach(e, data)
			if (g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(e, "url")), address) == 0)
				record = e;
		if (record == NULL && cJSON_GetArraySize(data) == 1)
			record = cJSON_GetArrayItem(data, 0);
		g_free(address);
		/* not rated: only {"url"}, no rating nor finish_ts */
		if (!cJSON_IsString(cJSON_GetObjectItem(record, "rating"))) {
			unknown_or_submit(in, lookup, job);
			return;
		}
	}
	status = record_status(record, &rating);
	if (rating != NULL && g_ascii_strcasecmp(rating, "N/A") == 0) {
		/* §1: N/A = its scan is still running: pending, rated again
		 * later, never an unknown the cache would keep */
		job->next = JOB_POLL_LATER;
		provider_set_result(lookup, LOOKUP_PENDING, "FortiSandbox: being analysed");
		return;
	}
	set_verdict(lookup, status, rating, record);
}

/* Step 1: data.sid (a large integer, kept as text). */
static enum answer_class submitted(struct lookup *lookup, struct provider_job *job,
				   const cJSON *data)
{
	const cJSON *sid = cJSON_GetObjectItem(data, "sid");

	if (cJSON_IsNumber(sid))
		job->id = g_strdup_printf("%.0f", sid->valuedouble);
	else if (cJSON_IsString(sid) && *sid->valuestring != '\0' &&
		 strspn(sid->valuestring, "0123456789") == strlen(sid->valuestring))
		job->id = g_strdup(sid->valuestring);
	if (job->id == NULL) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED,
			      "FortiSandbox submission: no sid in the answer");
		return ANSWER_TRANSIENT;
	}
	provider_set_result(lookup, LOOKUP_PENDING, "FortiSandbox: submitted");
	job->step = STEP_JOBS;
	job->next = JOB_POLL_LATER;
	return ANSWER_DECIDED;
}

/* Step 2: the jids, once all of them exist (§3.5). */
static void jobs_listed(struct lookup *lookup, struct provider_job *job, const cJSON *data)
{
	const cJSON *jids = cJSON_GetObjectItem(data, "jids");
	const cJSON *total = cJSON_GetObjectItem(data, "total_jids");
	GString *ids = g_string_new(NULL);
	const cJSON *e;
	int n = 0;

	job->next = JOB_POLL_LATER;
	if (!cJSON_IsNumber(total) || total->valueint <= 0 ||
	    cJSON_GetArraySize(jids) < total->valueint) {
		g_string_free(ids, TRUE);
		return;
	}
	g_string_append(ids, job->id);
	cJSON_ArrayForEach(e, jids) {
		char *jid = cJSON_IsNumber(e) ? g_strdup_printf("%.0f", e->valuedouble)
					      : g_strdup(cJSON_GetStringValue(e));

		if (jid != NULL && *jid != '\0' && strspn(jid, "0123456789") == strlen(jid) &&
		    n < MAX_JIDS) {
			g_string_append_printf(ids, " %s", jid);
			n++;
		}
		g_free(jid);
	}
	if (n == 0) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED,
			      "FortiSandbox jobs of the submission: no job id");
		job->next = JOB_FINISHED;
		g_string_free(ids, TRUE);
		return;
	}
	g_free(job->id);
	job->id = g_string_free(ids, FALSE);
	job->step = STEP_VERDICT;
	job->next = JOB_STEP_NOW;
}

/* Step 3+k: one job's verdict; the next job, or the end. */
static void job_verdict(struct lookup *lookup, struct provider_job *job, const cJSON *data)
{
	char **ids = g_strsplit(job->id, " ", -1);
	guint njobs = g_strv_length(ids) - 1;
	const char *rating;
	enum lookup_status status = record_status(data, &rating);

	g_strfreev(ids);
	/* §1: N/A = the scan is still running */
	if (rating != NULL && g_ascii_strcasecmp(rating, "N/A") == 0) {
		job->next = JOB_POLL_LATER;
		return;
	}
	set_verdict(lookup, status, rating, data);
	if (job->step - STEP_VERDICT + 1 < njobs) {
		job->step++;
		job->next = JOB_STEP_NOW;
	}
}

static const char *step_name(unsigned step)
{
	switch (step) {
	case STEP_RATE: return "rating";
	case STEP_SUBMIT: return "submission";
	case STEP_JOBS: return "jobs of the submission";
	default: return "job verdict";
	}
}

static enum answer_class fsa_job_parse(const struct integration *in, struct lookup *lookup,
				       struct provider_job *job, const struct http_response *resp)
{
	enum answer_class class = ANSWER_DECIDED;
	struct fsa_answer ans;

	job->next = JOB_FINISHED;
	job->poll_after_s = 0;		/* the engine's back-off */
	if (resp->status != 200 || !fsa_answer_read(resp, &ans))
		return fsa_http_fail(lookup, resp);
	if (ans.status == FSA_INVALID_SESSION) {
		job->next = JOB_RELOGIN;
		class = fsa_fail(lookup, &ans, step_name(job->step));
	} else if (ans.status == FSA_IN_PROGRESS && job->step != STEP_SUBMIT) {
		/* step 0 too: the appliance is analysing this file already */
		job->next = JOB_POLL_LATER;
		if (job->step == STEP_RATE)
			provider_set_result(lookup, LOOKUP_PENDING, "FortiSandbox: being analysed");
	} else if (ans.status == FSA_NOT_FOUND && job->step == STEP_RATE) {
		unknown_or_submit(in, lookup, job);
	} else if (ans.status != FSA_OK) {
		class = fsa_fail(lookup, &ans, step_name(job->step));
	} else if (job->step == STEP_RATE) {
		rated(in, lookup, job, ans.data);
	} else if (job->step == STEP_SUBMIT) {
		class = submitted(lookup, job, ans.data);
	} else if (job->step == STEP_JOBS) {
		jobs_listed(lookup, job, ans.data);
	} else {
		job_verdict(lookup, job, ans.data);
	}
	fsa_answer_clear(&ans);
	return class;
}

/* The session (login and its forms): fortisandbox_rpc.c. */
const struct provider_job_ops fortisandbox_job = {
	.request = fsa_job_request,
	.parse = fsa_job_parse,
	/* §4: XSOAR polls every 30 s (min 10 s; PollInterval's default for
	 * this type, integration_schema.c) with a 600 s timeout (JobTimeout's
	 * default) */
	.poll = { .max_s = 120 },
};

const struct provider_action *const fortisandbox_actions[] = { &fortisandbox_ping, NULL };
