/* exclude.c: matching indicators against the administrator's exclusions. */
#include "analysis/exclude.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "util/netaddr.h"
#include "analysis/url_normalize.h"

struct url_rule {
	char *text;		/* "domain example.com" / "url https://..." */
	char *value;		/* lower-case domain, or normalised URL prefix */
	bool is_prefix;
};

struct exclusions {
	GPtrArray *url_rules;		/* struct url_rule * */
	struct net_list *ips;		/* texts are the entries as written */
	GPtrArray *ip_rule_texts;	/* "ip <entry>", parallel to ips */
	GHashTable *extensions;		/* lower-case ext -> "extension <ext>" */
};

static void url_rule_free(gpointer data)
{
	struct url_rule *rule = data;

	g_free(rule->text);
	g_free(rule->value);
	g_free(rule);
}

struct exclusions *exclusions_new(void)
{
	struct exclusions *excl = g_new0(struct exclusions, 1);

	excl->url_rules = g_ptr_array_new_with_free_func(url_rule_free);
	excl->ips = net_list_new();
	excl->ip_rule_texts = g_ptr_array_new_with_free_func(g_free);
	excl->extensions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return excl;
}

void exclusions_free(struct exclusions *excl)
{
	if (excl == NULL)
		return;
	g_ptr_array_unref(excl->url_rules);
	net_list_free(excl->ips);
	g_ptr_array_unref(excl->ip_rule_texts);
	g_hash_table_unref(excl->extensions);
	g_free(excl);
}

/* A bare domain: letters, digits, '-', '.', '_', at least one dot, or an
 * IDN that g_hostname_to_ascii accepts. Returns the lower-case ASCII form. */
static char *domain_entry(const char *entry)
{
	const char *start = entry;
	char *ascii, *lower;

	if (g_str_has_prefix(start, "*."))
		start += 2;	/* "*.example.com" means the same as "example.com" */
	else if (*start == '.')
		start++;
	if (*start == '\0' || strpbrk(start, "/:@ \t?#") != NULL)
		return NULL;
	ascii = g_hostname_to_ascii(start);
	if (ascii == NULL)
		return NULL;
	lower = g_ascii_strdown(ascii, -1);
	g_free(ascii);
	if (lower[strlen(lower) - 1] == '.')
		lower[strlen(lower) - 1] = '\0';
	if (strchr(lower, '.') == NULL || lower[0] == '.') {
		g_free(lower);
		return NULL;
	}
	for (const char *p = lower; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_') {
			g_free(lower);
			return NULL;
		}
	}
	return lower;
}

bool exclusions_add_url(struct exclusions *excl, const char *entry, char *err, size_t errlen)
{
	struct url_rule *rule;
	struct net_addr addr;

	/* An IP written in the URL list means "URLs on that host". */
	if (net_addr_parse(entry, &addr))
		return exclusions_add_ip(excl, entry, err, errlen);

	rule = g_new0(struct url_rule, 1);
	if (strstr(entry, "://") != NULL) {
		rule->value = url_normalize(entry, strlen(entry));
		rule->is_prefix = true;
		if (rule->value == NULL) {
			snprintf(err, errlen, "\"%s\" is not a URL that can be excluded", entry);
			g_free(rule);
			return false;
		}
		rule->text = g_strdup_printf("url %s", entry);
	} else {
		rule->value = domain_entry(entry);
		if (rule->value == NULL) {
			snprintf(err, errlen, "\"%s\" is neither a domain nor a URL with a scheme", entry);
			g_free(rule);
			return false;
		}
		rule->text = g_strdup_printf("domain %s", entry);
	}
	g_ptr_array_add(excl->url_rules, rule);
	return true;
}

bool exclusions_add_ip(struct exclusions *excl, const char *entry, char *err, size_t errlen)
{
	if (!net_list_add(excl->ips, entry, err, errlen))
		return false;
	g_ptr_array_add(excl->ip_rule_texts, g_strdup_printf("ip %s", entry));
	return true;
}

bool exclusions_add_extension(struct exclusions *excl, const char *entry, char *err, size_t errlen)
{
	const char *ext = entry[0] == '.' ? entry + 1 : entry;

	if (*ext == '\0' || strpbrk(ext, "/\\ \t") != NULL) {
		snprintf(err, errlen, "\"%s\" is not a file extension", entry);
		return false;
	}
	char *lower = g_utf8_strdown(ext, -1);
	g_hash_table_replace(excl->extensions, lower, g_strdup_printf("extension %s", lower));
	return true;
}

const struct exclusion_list exclusion_lists[EXCLUSION_LISTS] = {
	{ "ExcludeURLs", "urls", exclusions_add_url },
	{ "ExcludeIPs", "ips", exclusions_add_ip },
	{ "ExcludeExtensions", "extensions", exclusions_add_extension },
};

const struct exclusion_list *exclusion_list_find(const char *name)
{
	for (size_t i = 0; i < EXCLUSION_LISTS; i++)
		if (g_ascii_strcasecmp(exclusion_lists[i].key, name) == 0 ||
		    g_ascii_strcasecmp(exclusion_lists[i].word, name) == 0)
			return &exclusion_lists[i];
	return NULL;
}

/* Whether `url` starts with the prefix rule at a boundary: the prefix
 * ends with '/', '?' or '#', or the URL goes on with one of them or ends
 * there. "https://example.com/app" excludes ".../app/login" and
 * ".../app?x", never ".../application-evil/login" (defect 7). */
static bool prefix_at_boundary(const char *url, const char *prefix)
{
	size_t len = strlen(prefix);

	if (len == 0 || strncmp(url, prefix, len) != 0)
		return false;
	return strchr("/?#", prefix[len - 1]) != NULL || url[len] == '\0' ||
	       strchr("/?#", url[len]) != NULL;
}

/* "a.example.com" is within "example.com"; "badexample.com" is not. */
static bool host_within(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	if (hl < dl || g_ascii_strcasecmp(host + hl - dl, domain) != 0)
		return false;
	return hl == dl || host[hl - dl - 1] == '.';
}

static const char *match_ip_addr(const struct exclusions *excl, const struct net_addr *addr)
{
	const char *entry = net_list_match(excl->ips, addr);

	if (entry == NULL)
		return NULL;
	/* net_list_match returns the entry text; find its "ip ..." twin. */
	for (guint i = 0; i < excl->ip_rule_texts->len; i++) {
		const char *text = g_ptr_array_index(excl->ip_rule_texts, i);

		if (strcmp(text + 3, entry) == 0)
			return text;
	}
	return NULL;
}

const char *exclusions_match_url(const struct exclusions *excl, const char *url)
{
	char *host;
	const char *rule_text = NULL;
	struct net_addr addr;

	if (excl == NULL || url == NULL)
		return NULL;
	host = url_host(url);
	for (guint i = 0; i < excl->url_rules->len && rule_text == NULL; i++) {
		const struct url_rule *rule = g_ptr_array_index(excl->url_rules, i);

		if (rule->is_prefix) {
			if (prefix_at_boundary(url, rule->value))
				rule_text = rule->text;
		} else if (host != NULL && host_within(host, rule->value)) {
			rule_text = rule->text;
		}
	}
	if (rule_text == NULL && host != NULL && net_addr_parse(host, &addr))
		rule_text = match_ip_addr(excl, &addr);
	g_free(host);
	return rule_text;
}

const char *exclusions_match_ip(const struct exclusions *excl, const char *ip)
{
	struct net_addr addr;

	if (excl == NULL || ip == NULL || !net_addr_parse(ip, &addr))
		return NULL;
	return match_ip_addr(excl, &addr);
}

const char *exclusions_match_extension(const struct exclusions *excl, const char *extension)
{
	if (excl == NULL || extension == NULL || *extension == '\0')
		return NULL;
	if (extension[0] == '.')
		extension++;
	char *lower = g_utf8_strdown(extension, -1);
	const char *rule = g_hash_table_lookup(excl->extensions, lower);
	g_free(lower);
	return rule;
}
