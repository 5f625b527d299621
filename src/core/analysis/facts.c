/* facts.c: the facts of a message and their JSON form. */
#include "analysis/facts.h"

#include "lookup/sample.h"

static void attachment_fact_free(gpointer data)
{
	struct attachment_fact *att = data;

	g_free(att->filename);
	g_free(att->extension);
	g_free(att->content_type);
	sample_unref(att->sample);
	g_free(att);
}

static void facts_free_cb(gpointer data)
{
	facts_free(data);
}

struct facts *facts_new(void)
{
	struct facts *facts = g_new0(struct facts, 1);

	facts->urls = g_ptr_array_new_with_free_func(g_free);
	facts->excluded_urls = g_hash_table_new(g_str_hash, g_str_equal);
	facts->attachments = g_ptr_array_new_with_free_func(attachment_fact_free);
	facts->reported = g_ptr_array_new_with_free_func(facts_free_cb);
	facts->emails = g_ptr_array_new_with_free_func(g_free);
	return facts;
}

void facts_free(struct facts *facts)
{
	if (facts == NULL)
		return;
	/* excluded_urls keys point into facts->urls: drop the table first. */
	g_hash_table_destroy(facts->excluded_urls);
	g_ptr_array_unref(facts->urls);
	g_ptr_array_unref(facts->attachments);
	g_ptr_array_unref(facts->reported);
	g_ptr_array_unref(facts->emails);
	g_free(facts->sender_ip);
	g_free(facts->subject);
	g_free(facts->message_id);
	g_free(facts);
}

static cJSON *attachment_to_json(const struct attachment_fact *att)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "filename", att->filename);
	cJSON_AddStringToObject(obj, "extension", att->extension);
	cJSON_AddNumberToObject(obj, "size", (double)att->size);
	cJSON_AddStringToObject(obj, "md5", att->md5);
	cJSON_AddStringToObject(obj, "sha1", att->sha1);
	cJSON_AddStringToObject(obj, "sha256", att->sha256);
	cJSON_AddStringToObject(obj, "content_type", att->content_type);
	cJSON_AddBoolToObject(obj, "executable", att->executable);
	if (att->excluded != NULL)
		cJSON_AddStringToObject(obj, "excluded", att->excluded);
	return obj;
}

static void add_exclusion(cJSON *list, const char *type, const char *indicator,
			  const char *rule)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "type", type);
	cJSON_AddStringToObject(obj, "indicator", indicator);
	cJSON_AddStringToObject(obj, "excluded", rule);
	cJSON_AddItemToArray(list, obj);
}

const char *facts_limit_name(unsigned bit)
{
	switch (bit) {
	case LIMIT_MAX_URLS: return "max_urls";
	case LIMIT_MIME_DEPTH: return "max_mime_depth";
	case LIMIT_REPORTED_DEPTH: return "max_reported_depth";
	case LIMIT_MESSAGE_SIZE: return "max_message_size";
	case LIMIT_PARSE_ERROR: return "parse_error";
	}
	return NULL;
}

/* The names of the bits set, lowest bit first. */
static cJSON *limits_to_json(unsigned limits)
{
	cJSON *list = cJSON_CreateArray();

	for (unsigned bit = 1; bit <= LIMIT_PARSE_ERROR; bit <<= 1)
		if (limits & bit)
			cJSON_AddItemToArray(list, cJSON_CreateString(facts_limit_name(bit)));
	return list;
}

cJSON *facts_to_json(const struct facts *facts)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *urls = cJSON_AddArrayToObject(obj, "urls");
	cJSON *exclusions = cJSON_CreateArray();

	for (guint i = 0; i < facts->urls->len; i++) {
		const char *url = g_ptr_array_index(facts->urls, i);
		const char *rule = g_hash_table_lookup(facts->excluded_urls, url);

		cJSON_AddItemToArray(urls, cJSON_CreateString(url));
		if (rule != NULL)
			add_exclusion(exclusions, "url", url, rule);
	}
	if (facts->sender_ip != NULL) {
		cJSON_AddStringToObject(obj, "sender_ip", facts->sender_ip);
		if (facts->sender_ip_excluded != NULL)
			add_exclusion(exclusions, "ip", facts->sender_ip,
				      facts->sender_ip_excluded);
	} else {
		cJSON_AddNullToObject(obj, "sender_ip");
	}

	cJSON *emails = cJSON_AddArrayToObject(obj, "emails");
	for (guint i = 0; i < facts->emails->len; i++)
		cJSON_AddItemToArray(emails, cJSON_CreateString(g_ptr_array_index(facts->emails, i)));

	cJSON *atts = cJSON_AddArrayToObject(obj, "attachments");
	for (guint i = 0; i < facts->attachments->len; i++)
		cJSON_AddItemToArray(atts,
			attachment_to_json(g_ptr_array_index(facts->attachments, i)));

	cJSON *reported = cJSON_AddArrayToObject(obj, "reported");
	for (guint i = 0; i < facts->reported->len; i++)
		cJSON_AddItemToArray(reported,
			facts_to_json(g_ptr_array_index(facts->reported, i)));

	if (cJSON_GetArraySize(exclusions) > 0)
		cJSON_AddItemToObject(obj, "exclusions", exclusions);
	else
		cJSON_Delete(exclusions);
	if (facts->urls_dropped > 0)
		cJSON_AddNumberToObject(obj, "urls_dropped", facts->urls_dropped);
	if (facts->limits != 0)
		cJSON_AddItemToObject(obj, "limits", limits_to_json(facts->limits));
	cJSON_AddNumberToObject(obj, "size", (double)facts->size);
	if (facts->subject != NULL)
		cJSON_AddStringToObject(obj, "subject", facts->subject);
	if (facts->message_id != NULL)
		cJSON_AddStringToObject(obj, "message_id", facts->message_id);
	return obj;
}
