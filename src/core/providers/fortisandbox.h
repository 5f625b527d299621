/* fortisandbox.h: Fortinet FortiSandbox over its JSON-RPC API
 * (../shared/providers/fortisandbox.md), shared by fortisandbox.c (the
 * lookups and jobs) and fortisandbox_rpc.c (the envelope, the status
 * codes, the login, Test Connection). Not for use outside these files
 * and their unit test. */
#ifndef TM_PROVIDERS_FORTISANDBOX_H
#define TM_PROVIDERS_FORTISANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "providers/provider.h"

struct cJSON;

/* §3.3: "JSON/base64 upload is for files < 20 MB" — whether MB means
 * 10^6 or 2^20 bytes: a file of this size or more is never uploaded,
 * whatever MaxUploadSize says (the multipart path above it is
 * unverified). Bytes. */
#define FSA_JSON_UPLOAD_MAX 20000000u

/* The login forms of §2, in the order tried. */
enum fsa_login_form {
	FSA_LOGIN_USER,		/* {"user","passwd"} (4.x, XSOAR v2) */
	FSA_LOGIN_DATA,		/* {"data":[{"user","passwd"}]} (2.x/3.x) */
	FSA_LOGIN_FORMS,
};

/* result.status of an answer (§5). Branching is on the message where
 * the document does not know the number. */
enum fsa_status {
	FSA_OK,			/* 0 OK */
	FSA_NOT_FOUND,		/* 3 DATA_NOT_EXIST: not an error */
	FSA_IN_PROGRESS,	/* 29 DATA_IN_QUEUE_OR_PROGRESS: poll later */
	FSA_INVALID_SESSION,	/* re-login once, replay */
	FSA_WRONG_CREDENTIAL,	/* config error, stop */
	FSA_NO_PERMISSION,	/* USER_HAS_NO_PERMISSION: config error */
	FSA_TIME_OUT,		/* server-side timeout: retry later */
	FSA_OTHER,		/* any other code: an error */
};

/* A 200 answer read: the parsed body and where its parts are. */
struct fsa_answer {
	struct cJSON *json;		/* owned; fsa_answer_clear() */
	const struct cJSON *result;	/* the result object (a one-element
					 * list is accepted, §2) */
	const struct cJSON *data;	/* result.data or NULL */
	enum fsa_status status;
	int code;			/* result.status.code */
	char *message;			/* printable, at most 80 bytes, or NULL */
};

/* A JSON-RPC request {"method","params":[{"url":resource}],"session",
 * "id","ver":"2.5"} (§2). *params receives params[0] to add the call's
 * arguments to; session NULL sends "" (the token login). Returns the
 * root for fsa_send(). */
struct cJSON *fsa_call(const char *method, const char *resource, const char *session,
		       struct cJSON **params);
/* Makes req a POST of root (consumed, its text wiped after use) to the
 * endpoint: APIURL, with "/jsonrpc" appended unless it ends so. */
void fsa_send(const struct integration *in, struct cJSON *root, struct http_request *req);

/* Reads a 200 answer's envelope into ans. False (ans empty) when the
 * body is no JSON-RPC answer with a result.status.code. */
bool fsa_answer_read(const struct http_response *resp, struct fsa_answer *ans);
void fsa_answer_clear(struct fsa_answer *ans);
/* A failed status on lookup: sets its error result (never a verdict)
 * and returns the class: INVALID_SESSION, WRONG_CREDENTIAL and
 * USER_HAS_NO_PERMISSION error/auth (ANSWER_AUTH), TIME_OUT error/
 * provider (ANSWER_TRANSIENT), DATA_NOT_EXIST where a thing must exist
 * and any other code error/provider (ANSWER_PERMANENT). what: the call,
 * for the details ("job verdict"). */
enum answer_class fsa_fail(struct lookup *lookup, const struct fsa_answer *ans,
			   const char *what);
/* Every answer but a usable 200: the status ladder (§5, transport
 * level: retry only 5xx and timeouts), or error/malformed. */
enum answer_class fsa_http_fail(struct lookup *lookup, const struct http_response *resp);

/* fortisandbox_session's login and parse_login (§2): the password
 * login in form `form` (enum fsa_login_form) when APIPassword is set,
 * else the token login with APIKey as the token (one form). */
void fortisandbox_login(const struct integration *in, unsigned form, struct http_request *req);
char *fortisandbox_parse_login(const struct integration *in, const struct http_response *resp,
			       bool *other_form, char *err, size_t errlen);

/* threatmilterctl/`threatmilter test` "ping": Test Connection (§6). */
extern const struct provider_action fortisandbox_ping;

#endif
