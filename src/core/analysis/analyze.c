/* analyze.c: a raw message in, its facts out.
 *
 * GMime parses the MIME structure; this file walks it and decides what
 * each leaf is: body text (URLs are extracted from it), an attachment
 * (hashed), or a reported message (analysed as a message of its own).
 * The rules are those of ../shared/corpus/README.md. */
#include "analysis/analyze.h"

#include <string.h>

#include <openssl/evp.h>

#include "config/config.h"
#include "analysis/addresses.h"
#include "analysis/exclude.h"
#include "analysis/filetype.h"
#include "analysis/html.h"
#include "analysis/part_content.h"
#include "analysis/received.h"
#include "analysis/text_flowed.h"
#include "analysis/uuencode.h"
#include "analysis/url_normalize.h"
#include "analysis/urls.h"
#include "lookup/sample.h"
#include "util/log.h"

/* What one message's walk needs; each reported message gets its own. */
struct analysis {
	const struct tm_config *cfg;
	struct facts *facts;
	struct url_set *urls;
	unsigned reported_depth;	/* 0 for the message itself */
	const struct analyze_options *keep;	/* NULL: keep no bytes, all digests */
};

static struct facts *analyze_message(GMimeMessage *message,
				     const struct tm_config *cfg,
				     unsigned reported_depth,
				     const struct analyze_options *keep);

void analyze_init(void)
{
	g_mime_init();
}

void analyze_shutdown(void)
{
	g_mime_shutdown();
}

/* ASCII without NUL (which g_utf8_validate() refuses), read 8 bytes at a
 * time: most mail text is, checked in an eighth of the instructions. */
static bool is_ascii_text(const char *data, size_t len)
{
	const guint64 high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		guint64 w;

		memcpy(&w, data + i, sizeof(w));
		if ((w & high) != 0 || ((w - ones) & ~w & high) != 0)
			return false;	/* a byte over 0x7f, or a NUL */
	}
	for (; i < len; i++)
		if (data[i] == '\0' || (unsigned char)data[i] > 0x7f)
			return false;
	return true;
}

/* Text of a part as valid UTF-8, whatever the declared charset says.
 * An unknown or lying charset falls back to Windows-1252, the de facto
 * charset of mislabelled mail, so that no byte stops the URL scan. */
static char *text_to_utf8(const GByteArray *bytes, const char *charset,
			  gsize *out_len)
{
	const char *data = (const char *)bytes->data;
	gssize len = (gssize)bytes->len;
	char *utf8 = NULL;
	gsize written = 0;

	/* An empty part has no data pointer at all (phishing_pot sample-1786). */
	if (len == 0 || data == NULL) {
		*out_len = 0;
		return g_strdup("");
	}
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		const char *iconv_name = g_mime_charset_iconv_name(charset);

		utf8 = g_convert(data, len, "UTF-8", iconv_name, NULL, &written, NULL);
	}
	if (utf8 == NULL && (is_ascii_text(data, (size_t)len) || g_utf8_validate(data, len, NULL))) {
		utf8 = g_strndup(data, (gsize)len);
		written = (gsize)len;
	}
	if (utf8 == NULL)
		utf8 = g_convert_with_fallback(data, len, "UTF-8", "WINDOWS-1252",
					       "?", NULL, &written, NULL);
	if (utf8 == NULL) {
		utf8 = g_utf8_make_valid(data, len);
		written = strlen(utf8);
	}
	*out_len = written;
	return utf8;
}

/* "Content-Type: text" without a subtype: GMime cannot parse it and
 * says application/octet-stream, but mail clients show it as text/plain. */
static bool is_bare_text(GMimePart *part)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(part));
	int count = g_mime_header_list_get_count(headers);
	const char *value = NULL;
	size_t n;

	/* the last Content-Type counts, as GMime reads it */
	for (int i = 0; i < count; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Content-Type") == 0)
			value = g_mime_header_get_value(header);
	}

	if (value == NULL)
		return false;
	while (g_ascii_isspace(*value))
		value++;
	n = strcspn(value, ";");
	while (n > 0 && g_ascii_isspace(value[n - 1]))
		n--;
	return n == 4 && g_ascii_strncasecmp(value, "text", 4) == 0;
}

/* text/plain; format=flowed (RFC 3676), any case. */
static bool is_flowed(GMimeContentType *type)
{
	const char *format = g_mime_content_type_get_parameter(type, "format");

	return format != NULL && g_ascii_strcasecmp(format, "flowed") == 0;
}

static void extract_text_urls(struct analysis *an, GMimePart *part,
			      const GByteArray *bytes)
{
	GMimeContentType *type = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *charset = is_bare_text(part) ? NULL
			      : g_mime_content_type_get_parameter(type, "charset");
	gsize len;
	char *text = text_to_utf8(bytes, charset, &len);

	if (!is_bare_text(part) &&
	    g_ascii_strcasecmp(g_mime_content_type_get_media_subtype(type), "html") == 0) {
		urls_from_html(text, len, an->urls);
	} else if (is_flowed(type)) {
		const char *delsp = g_mime_content_type_get_parameter(type, "delsp");
		size_t flat_len;
		char *flat = flowed_unwrap(text, len, delsp && g_ascii_strcasecmp(delsp, "yes") == 0,
					   &flat_len);

		urls_from_text(flat, flat_len, an->urls);
		g_free(flat);
	} else {
		urls_from_text(text, len, an->urls);
	}
	g_free(text);
}

/* The attachment's digests in one pass over its bytes: SHA-256 always,
 * MD5 and SHA-1 unless the options say only SHA-256 is used (left "").
 * libcrypto, not GChecksum: GLib's portable C SHA-256 was 15.7 % of the
 * instructions of a cached message (issue 19's profile); libcrypto picks
 * the CPU's SHA extensions or vector code, and libcurl already loads it. */
static void attachment_digests(struct attachment_fact *att, const GByteArray *bytes,
			       bool sha256_only)
{
	const EVP_MD *kinds[] = { EVP_sha256(), EVP_md5(), EVP_sha1() };
	char *out[] = { att->sha256, att->md5, att->sha1 };
	const guint n = sha256_only ? 1 : G_N_ELEMENTS(kinds);
	EVP_MD_CTX *sums[G_N_ELEMENTS(kinds)] = { NULL };
	const gsize chunk = 64 * 1024;	/* stays in cache for the next digest */
	bool ok = true;

	for (guint i = 0; i < n; i++) {
		sums[i] = EVP_MD_CTX_new();
		ok = ok && sums[i] != NULL && EVP_DigestInit_ex(sums[i], kinds[i], NULL) == 1;
	}
	for (gsize off = 0; ok && off < bytes->len; off += chunk)
		for (guint i = 0; i < n; i++)
			ok = ok && EVP_DigestUpdate(sums[i], bytes->data + off,
						    MIN(chunk, bytes->len - off)) == 1;
	for (guint i = 0; i < n; i++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int md_len = 0;

		/* a digest libcrypto cannot make (out of memory) stays "" and
		 * is logged: never a wrong hash */
		out[i][0] = '\0';
		if (ok && EVP_DigestFinal_ex(sums[i], md, &md_len) == 1) {
			static const char hex[] = "0123456789abcdef";

			for (unsigned int b = 0; b < md_len; b++) {
				out[i][2 * b] = hex[md[b] >> 4];
				out[i][2 * b + 1] = hex[md[b] & 0x0f];
			}
			out[i][2 * md_len] = '\0';
		} else
			log_msg(LOG_ERR, "attachment digest: libcrypto failed");
		EVP_MD_CTX_free(sums[i]);
	}
}

static char *filename_extension(const char *filename)
{
	const char *dot = strrchr(filename, '.');

	if (dot == NULL)
		return g_strdup("");
	return g_ascii_strdown(dot + 1, -1);
}

/* The bytes of a file some active integration may upload (the options
 * say which kinds and sizes); the others are dropped with the part. */
static void keep_sample(struct analysis *an, struct attachment_fact *att,
			const GByteArray *bytes)
{
	const struct analyze_options *k = an->keep;
	char err[256];

	if (k == NULL || !(att->pe ? k->keep_pe && att->size <= k->pe_max
				   : k->keep_other && att->size <= k->other_max))
		return;
	att->sample = sample_new_bounded(att->filename, att->sha256, att->pe, bytes->data,
					 bytes->len, k->memory_limit, k->tmp_dir, err,
					 sizeof(err));
	if (att->sample == NULL)
		log_msg(LOG_WARNING, "attachment %s: not kept for upload: %s", att->sha256, err);
}

/* content_type: g_malloc'd, taken over. */
static void add_attachment(struct analysis *an, char *content_type,
			   const char *filename, const GByteArray *bytes)
{
	struct attachment_fact *att = g_new0(struct attachment_fact, 1);

	att->filename = filename ? g_utf8_make_valid(filename, -1) : g_strdup("");
	att->extension = filename_extension(att->filename);
	att->content_type = content_type;
	att->size = bytes->len;
	attachment_digests(att, bytes, an->keep != NULL && an->keep->sha256_only);
	att->executable = filetype_is_executable(bytes->data, bytes->len);
	att->pe = filetype_is_pe(bytes->data, bytes->len);
	keep_sample(an, att, bytes);
	g_ptr_array_add(an->facts->attachments, att);
}

static void add_reported(struct analysis *an, GMimeMessage *inner)
{
	if (an->reported_depth >= an->cfg->max_reported_depth) {
		an->facts->limits |= LIMIT_REPORTED_DEPTH;
		return;
	}
	g_ptr_array_add(an->facts->reported,
			analyze_message(inner, an->cfg, an->reported_depth + 1, an->keep));
}

/* An attached .eml file is a reported message whatever its content type
 * says (mail clients disagree: message/rfc822, application/octet-stream,
 * text/plain...). */
static void add_reported_from_bytes(struct analysis *an, const GByteArray *bytes)
{
	GMimeStream *stream = analyze_memory_stream(bytes->data, bytes->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *inner = g_mime_parser_construct_message(parser, NULL);

	if (inner != NULL) {
		add_reported(an, inner);
		g_object_unref(inner);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

static bool is_text_type(GMimeContentType *type)
{
	return g_mime_content_type_is_type(type, "text", "plain") ||
	       g_mime_content_type_is_type(type, "text", "html");
}

/* message/rfc822 and message/global: a reported message whatever its
 * file name. GMime makes one a plain part when its transfer encoding is
 * base64 or quoted-printable (forbidden by RFC 2046 §5.2.1, seen in the
 * wild); the decoded content is the message. */
static bool is_message_type(GMimeContentType *type)
{
	return g_mime_content_type_is_type(type, "message", "rfc822") ||
	       g_mime_content_type_is_type(type, "message", "global");
}

static bool has_eml_extension(const char *filename)
{
	size_t len = filename ? strlen(filename) : 0;

	return len >= 4 && g_ascii_strcasecmp(filename + len - 4, ".eml") == 0;
}

/* A text/plain body: its uuencoded files are attachments (and reported
 * messages when named .eml); the rest of the text is searched for URLs. */
static void analyze_plain_body(struct analysis *an, GMimePart *part, GByteArray *bytes)
{
	GString *rest;
	GPtrArray *files = uu_extract((const char *)bytes->data, bytes->len, &rest);

	if (files == NULL) {
		extract_text_urls(an, part, bytes);
		return;
	}
	GByteArray *text = g_byte_array_new_take((guint8 *)rest->str, rest->len);

	g_string_free(rest, FALSE);
	extract_text_urls(an, part, text);
	g_byte_array_unref(text);
	for (guint i = 0; i < files->len; i++) {
		struct uu_file *file = g_ptr_array_index(files, i);

		add_attachment(an, g_strdup("application/octet-stream"), file->name, file->data);
		if (has_eml_extension(file->name))
			add_reported_from_bytes(an, file->data);
	}
	g_ptr_array_unref(files);
}

/* A page a browser opens by its name: .html, .htm, .shtml, .xhtml. */
static bool has_html_extension(const char *filename)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	return dot != NULL && (g_ascii_strcasecmp(dot, ".html") == 0 ||
			       g_ascii_strcasecmp(dot, ".htm") == 0 ||
			       g_ascii_strcasecmp(dot, ".shtml") == 0 ||
			       g_ascii_strcasecmp(dot, ".xhtml") == 0);
}

/* An SVG image (image/svg+xml, or named .svg): a browser opening it
 * follows its <a href>/xlink:href links, so it is read as markup. */
static bool is_svg(GMimeContentType *type, const char *filename)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	return g_mime_content_type_is_type(type, "image", "svg+xml") ||
	       (dot != NULL && g_ascii_strcasecmp(dot, ".svg") == 0);
}

/* An HTML page attached under a type that is not text (usually
 * application/octet-stream, as phishing pages are sent): its links are
 * read as HTML, in its declared charset if any. */
static void extract_attached_page_urls(struct analysis *an, GMimePart *part,
				       const GByteArray *bytes)
{
	GMimeContentType *type = g_mime_object_get_content_type(GMIME_OBJECT(part));
	gsize len;
	char *text = text_to_utf8(bytes, g_mime_content_type_get_parameter(type, "charset"), &len);

	urls_from_html(text, len, an->urls);
	g_free(text);
}

static void analyze_leaf(struct analysis *an, GMimePart *part)
{
	GMimeContentType *type = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *filename = g_mime_part_get_filename(part);
	bool bare_text = is_bare_text(part);
	bool text = is_text_type(type) || bare_text;
	bool body_text = text && filename == NULL && !g_mime_part_is_attachment(part);
	bool reported = has_eml_extension(filename);
	GByteArray *bytes = part_decoded_content(part);

	if (is_message_type(type)) {
		add_reported_from_bytes(an, bytes);
		g_byte_array_unref(bytes);
		return;
	}
	/* An attached .eml is text to some clients, but its URLs belong to
	 * the reported message, not to this one. */
	if (body_text && (bare_text || g_mime_content_type_is_type(type, "text", "plain")))
		analyze_plain_body(an, part, bytes);
	else if (text && !reported)
		extract_text_urls(an, part, bytes);
	else if (!text && (has_html_extension(filename) || is_svg(type, filename)))
		extract_attached_page_urls(an, part, bytes);
	if (!body_text)
		add_attachment(an, g_mime_content_type_get_mime_type(type), filename, bytes);
	if (reported)
		add_reported_from_bytes(an, bytes);
	g_byte_array_unref(bytes);
}

/* A multipart in which GMime found no part (no boundary parameter, or a
 * boundary that never occurs) keeps its whole body as the prologue; mail
 * clients show that body as text, so its links count, searched both as
 * HTML and as plain text (the content type says nothing about it). */
static void analyze_partless_body(struct analysis *an, GMimeMultipart *multipart)
{
	const char *body = g_mime_multipart_get_prologue(multipart);

	if (body == NULL || *body == '\0')
		return;
	GByteArray *bytes = g_byte_array_new();
	gsize len;
	char *text;

	g_byte_array_append(bytes, (const guint8 *)body, strlen(body));
	text = text_to_utf8(bytes, NULL, &len);
	urls_from_html(text, len, an->urls);
	urls_from_text(text, len, an->urls);
	g_free(text);
	g_byte_array_unref(bytes);
}

/* Recursive over the MIME tree, bounded by MaxMimeDepth: GMime already
 * parsed the whole tree, so the bound protects this walk's stack and
 * makes the limit visible in the output. */
static void analyze_object(struct analysis *an, GMimeObject *object,
			   unsigned depth)
{
	if (depth > an->cfg->max_mime_depth) {
		an->facts->limits |= LIMIT_MIME_DEPTH;
		return;
	}
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multipart = GMIME_MULTIPART(object);
		int count = g_mime_multipart_get_count(multipart);

		for (int i = 0; i < count; i++)
			analyze_object(an, g_mime_multipart_get_part(multipart, i),
				       depth + 1);
		if (count == 0)
			analyze_partless_body(an, multipart);
	} else if (GMIME_IS_MESSAGE_PART(object)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(object));

		if (inner != NULL)
			add_reported(an, inner);
	} else if (GMIME_IS_PART(object)) {
		analyze_leaf(an, GMIME_PART(object));
	}
	/* message/partial and unknown objects carry no indicators. */
}

static char *message_sender_ip(GMimeMessage *message, const struct tm_config *cfg)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
	int count = g_mime_header_list_get_count(headers);
	GPtrArray *values = g_ptr_array_new();
	char *ip;

	for (int i = 0; i < count; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Received") == 0)
			g_ptr_array_add(values, (gpointer)g_mime_header_get_raw_value(header));
	}
	ip = received_sender_ip((const char *const *)values->pdata, values->len,
				cfg->internal_hosts);
	g_ptr_array_unref(values);
	return ip;
}

/* Exclusions come after extraction: an excluded indicator stays in the
 * facts, marked with the rule, and is never looked up. */
static void apply_exclusions(struct facts *facts, const struct exclusions *excl)
{
	if (excl == NULL)
		return;
	for (guint i = 0; i < facts->urls->len; i++) {
		char *url = g_ptr_array_index(facts->urls, i);
		const char *rule = exclusions_match_url(excl, url);

		if (rule != NULL)
			g_hash_table_insert(facts->excluded_urls, url, (gpointer)rule);
	}
	if (facts->sender_ip != NULL)
		facts->sender_ip_excluded = exclusions_match_ip(excl, facts->sender_ip);
	for (guint i = 0; i < facts->attachments->len; i++) {
		struct attachment_fact *att = g_ptr_array_index(facts->attachments, i);

		att->excluded = exclusions_match_extension(excl, att->extension);
		if (att->excluded != NULL) {	/* never uploaded: drop the bytes */
			sample_unref(att->sample);
			att->sample = NULL;
		}
	}
}

static char *valid_utf8_or_null(const char *text)
{
	return text ? g_utf8_make_valid(text, -1) : NULL;
}

static struct facts *analyze_message(GMimeMessage *message,
				     const struct tm_config *cfg,
				     unsigned reported_depth,
				     const struct analyze_options *keep)
{
	struct analysis an = {
		.cfg = cfg,
		.facts = facts_new(),
		.urls = url_set_new(cfg->max_urls),
		.reported_depth = reported_depth,
		.keep = keep,
	};
	GMimeObject *body = g_mime_message_get_mime_part(message);

	an.facts->subject = valid_utf8_or_null(g_mime_message_get_subject(message));
	an.facts->message_id = valid_utf8_or_null(g_mime_message_get_message_id(message));
	an.facts->sender_ip = message_sender_ip(message, cfg);
	addresses_collect(message, an.facts->emails);
	if (body != NULL)
		analyze_object(&an, body, 0);

	GPtrArray *sorted = url_set_sorted(an.urls);
	for (guint i = 0; i < sorted->len; i++)
		g_ptr_array_add(an.facts->urls, g_strdup(g_ptr_array_index(sorted, i)));
	g_ptr_array_unref(sorted);
	an.facts->urls_dropped = url_set_dropped(an.urls);
	if (an.facts->urls_dropped > 0)
		an.facts->limits |= LIMIT_MAX_URLS;
	url_set_free(an.urls);

	apply_exclusions(an.facts, cfg->exclusions);
	return an.facts;
}

struct facts *analyze_stream(GMimeStream *stream, const struct tm_config *cfg)
{
	return analyze_stream_keep(stream, cfg, NULL);
}

struct facts *analyze_stream_keep(GMimeStream *stream, const struct tm_config *cfg,
				  const struct analyze_options *keep)
{
	gint64 length = g_mime_stream_length(stream);
	struct facts *facts;

	if (length >= 0 && (guint64)length > cfg->max_message_size) {
		facts = facts_new();
		facts->size = (size_t)length;
		facts->limits |= LIMIT_MESSAGE_SIZE;
		return facts;
	}

	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);

	if (message == NULL) {
		facts = facts_new();
		facts->limits |= LIMIT_PARSE_ERROR;
	} else {
		facts = analyze_message(message, cfg, 0, keep);
		g_object_unref(message);
	}
	facts->size = length >= 0 ? (size_t)length : 0;
	g_object_unref(parser);
	return facts;
}

GMimeStream *analyze_memory_stream(const void *data, size_t len)
{
	if (len == 0)
		return g_mime_stream_mem_new();
	return g_mime_stream_mem_new_with_buffer(data, len);
}

struct facts *analyze_buffer(const char *data, size_t len,
			     const struct tm_config *cfg)
{
	GMimeStream *stream = analyze_memory_stream(data, len);
	struct facts *facts = analyze_stream(stream, cfg);

	g_object_unref(stream);
	return facts;
}
