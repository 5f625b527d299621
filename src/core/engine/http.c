/* http.c: HTTP requests on libcurl's multi socket API, driven by the
 * engine loop (sockets through loop_watch, curl's timer as a loop timer). */
#include <autoconfig.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <curl/curl.h>
#include <glib.h>

#include "engine/loop.h"
#include "config/integrations.h"
#include "engine/transport.h"
#include "providers/provider_http.h"
#include "providers/registry.h"
#include "util/log.h"

/* An answer larger than this is not a lookup answer. */
#define MAX_BODY_BYTES (8u << 20)

struct http_transport {
	struct loop *loop;
	CURLM *multi;
	CURLSH *share;
	uint64_t timer;		/* curl's timeout as a loop timer; 0: none */
	GHashTable *calls;	/* struct http_call * in flight */
	char *ca_file;
};

struct http_call {
	struct transport_call base;
	struct http_transport *owner;
	CURL *easy;
	struct http_easy_hold hold;	/* headers and multipart of the request */
	const char *reset_header;	/* the type's rate-limit header (static) */
	GString *body;
	transport_cb cb;
	void *ctx;
	char errbuf[CURL_ERROR_SIZE];
};

static void call_free(struct http_call *call)
{
	g_hash_table_remove(call->owner->calls, call);
	curl_multi_remove_handle(call->owner->multi, call->easy);
	curl_easy_cleanup(call->easy);
	http_easy_hold_free(&call->hold);
	g_string_free(call->body, TRUE);
	g_free(call);
}

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct http_call *call = userdata;
	size_t len = size * nmemb;

	if (call->body->len + len > MAX_BODY_BYTES)
		return 0;
	g_string_append_len(call->body, data, (gssize)len);
	return len;
}

static void finish(struct http_call *call, CURLcode code)
{
	struct transport_answer a;

	memset(&a, 0, sizeof(a));
	/* Retry-After, or the type's rate-limit header on an error status,
	 * capped (provider_http.h); the engine caps the pause again */
	http_response_from_easy(call->easy, code, call->errbuf, call->body, call->reset_header,
				&a.http);
	call->cb(call->ctx, &a);
	call_free(call);
}

static void collect(struct http_transport *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct http_call *call = NULL;

		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		finish(call, msg->data.result);
	}
}

static void on_socket(void *data, int fd, uint32_t events)
{
	struct http_transport *h = data;
	int mask = 0, running;

	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, mask, &running);
	collect(h);
}

static void on_timer(void *data)
{
	struct http_transport *h = data;
	int running;

	h->timer = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(h);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_transport *h = userp;

	(void)easy;
	(void)socketp;
	if (loop_watch(h->loop, fd, on_socket, h,
		       what == CURL_POLL_IN || what == CURL_POLL_INOUT,
		       what == CURL_POLL_OUT || what == CURL_POLL_INOUT) != 0)
		log_msg(LOG_ERR, "engine: cannot watch socket %d", fd);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_transport *h = userp;

	(void)multi;
	loop_timer_cancel(h->loop, h->timer);
	h->timer = 0;
	if (timeout_ms >= 0)
		h->timer = loop_timer_add(h->loop, loop_now_ms(h->loop) + timeout_ms, on_timer, h);
	return 0;
}

struct http_transport *http_transport_new(struct loop *loop, const char *ca_file,
					  char *err, size_t errlen)
{
	struct http_transport *h = g_new0(struct http_transport, 1);

	h->loop = loop;
	h->calls = g_hash_table_new(g_direct_hash, g_direct_equal);
	h->ca_file = g_strdup(ca_file);
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (h->multi == NULL || h->share == NULL ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK) {
		snprintf(err, errlen, "engine: libcurl multi or share handle setup failed");
		http_transport_free(h);
		return NULL;
	}
	return h;
}

void http_transport_free(struct http_transport *h)
{
	if (h == NULL)
		return;
	GList *calls = g_hash_table_get_keys(h->calls);

	for (GList *l = calls; l != NULL; l = l->next)
		call_free(l->data);
	g_list_free(calls);
	loop_timer_cancel(h->loop, h->timer);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->share != NULL)
		curl_share_cleanup(h->share);
	g_hash_table_destroy(h->calls);
	g_free(h->ca_file);
	g_free(h);
}

struct transport_call *http_transport_send(struct http_transport *h,
					   const struct integration *in,
					   const struct http_request *req, int64_t timeout_ms,
					   transport_cb cb, void *ctx)
{
	struct http_call *call = g_new0(struct http_call, 1);
	CURL *easy = curl_easy_init();

	if (easy == NULL) {
		g_free(call);
		return NULL;
	}
	call->owner = h;
	call->easy = easy;
	call->body = g_string_new(NULL);
	call->cb = cb;
	call->ctx = ctx;
	call->reset_header = in->type != NULL ? in->type->rate_limit_reset_header : NULL;
	/* URL, method, headers, body or multipart, auth, Timeout, TLS, proxy:
	 * the same set-up as the synchronous runner (provider_http.h) */
	if (http_request_to_easy(easy, req, in, h->ca_file, (long)timeout_ms, &call->hold) !=
	    CURLE_OK) {
		curl_easy_cleanup(easy);
		http_easy_hold_free(&call->hold);
		g_string_free(call->body, TRUE);
		g_free(call);
		return NULL;
	}
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(easy, CURLOPT_SHARE, h->share);
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Waiting for a connection to multiplex on pays only where HTTP/2 can
	 * be negotiated (TLS): on plain HTTP/1.1 it serialises every request
	 * of a message on one connection (defect 10). */
	if (g_ascii_strncasecmp(req->url->str, "https:", 6) == 0)
		curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		http_easy_hold_free(&call->hold);
		g_string_free(call->body, TRUE);
		g_free(call);
		return NULL;
	}
	g_hash_table_add(h->calls, call);
	return &call->base;
}

void http_transport_cancel(struct http_transport *h, struct transport_call *call)
{
	(void)h;
	call_free((struct http_call *)call);
}
