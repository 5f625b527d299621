/* lookup.c: names of indicator kinds and lookup statuses, as they appear
 * in the JSON output, the headers and the logs. */
#include "lookup/lookup.h"

const char *indicator_kind_name(enum indicator_kind kind)
{
	switch (kind) {
	case INDICATOR_URL: return "url";
	case INDICATOR_DOMAIN: return "domain";
	case INDICATOR_IP: return "ip";
	case INDICATOR_HASH: return "hash";
	case INDICATOR_EMAIL: return "email";
	}
	return "?";
}

const char *lookup_status_name(enum lookup_status status)
{
	switch (status) {
	case LOOKUP_MALICIOUS: return "malicious";
	case LOOKUP_SUSPICIOUS: return "suspicious";
	case LOOKUP_CLEAN: return "clean";
	case LOOKUP_UNKNOWN: return "unknown";
	case LOOKUP_ERROR: return "error";
	case LOOKUP_RATE_LIMITED: return "rate_limited";
	case LOOKUP_SKIPPED: return "skipped";
	case LOOKUP_PENDING: return "pending";
	case LOOKUP_INVALID: return "invalid";
	}
	return "?";
}

unsigned lookup_status_severity(enum lookup_status status)
{
	switch (status) {
	case LOOKUP_MALICIOUS: return 8;
	case LOOKUP_SUSPICIOUS: return 7;
	case LOOKUP_ERROR: return 6;
	case LOOKUP_RATE_LIMITED: return 5;
	case LOOKUP_PENDING: return 4;
	case LOOKUP_INVALID: return 3;
	case LOOKUP_SKIPPED: return 2;
	case LOOKUP_UNKNOWN: return 1;
	case LOOKUP_CLEAN: return 0;
	}
	return 0;
}

const char *lookup_error_name(enum lookup_error error)
{
	switch (error) {
	case LOOKUP_ERR_NONE: return "";
	case LOOKUP_ERR_TIMEOUT: return "timeout";
	case LOOKUP_ERR_TRANSPORT: return "transport";
	case LOOKUP_ERR_AUTH: return "auth";
	case LOOKUP_ERR_QUOTA: return "quota";
	case LOOKUP_ERR_MALFORMED: return "malformed";
	case LOOKUP_ERR_PROVIDER: return "provider";
	case LOOKUP_ERR_PAUSED: return "paused";
	}
	return "?";
}
