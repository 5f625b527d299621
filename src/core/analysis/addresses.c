/* addresses.c: From:/Reply-To: addresses as facts (addresses.h). */
#include "analysis/addresses.h"

#include <stdbool.h>
#include <string.h>

/* RFC 5322 atext plus '.', which a dot-atom local part may hold. */
static bool local_ok(const char *local, size_t len)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~.";

	if (len == 0 || len > 64 || local[0] == '.' || local[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];

		if (!g_ascii_isalnum(c) && (c == '\0' || strchr(specials, c) == NULL))
			return false;
	}
	return true;
}

/* Lower-case LDH labels, at least two; NULL otherwise. Takes ownership. */
static char *domain_ok(char *domain)
{
	size_t len = strlen(domain);
	unsigned labels = 1, label_len = 0;

	while (len > 0 && domain[len - 1] == '.')
		domain[--len] = '\0';
	if (len == 0 || len > 253)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = g_ascii_tolower(domain[i]);

		domain[i] = c;
		if (c == '.') {
			if (label_len == 0 || domain[i - 1] == '-')
				goto bad;
			labels++;
			label_len = 0;
		} else if (g_ascii_isalnum(c) || (c == '-' && label_len > 0)) {
			if (++label_len > 63)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (labels < 2 || domain[len - 1] == '-')
		goto bad;
	return domain;
bad:
	g_free(domain);
	return NULL;
}

char *address_normalize(const char *address)
{
	const char *at;
	char *domain, *out;

	if (address == NULL || (at = strrchr(address, '@')) == NULL)
		return NULL;
	if (!local_ok(address, (size_t)(at - address)))
		return NULL;
	/* an IDN domain in punycode (NULL when it is no host name at all) */
	domain = g_utf8_validate(at + 1, -1, NULL) ? g_hostname_to_ascii(at + 1) : NULL;
	if (domain == NULL || (domain = domain_ok(domain)) == NULL)
		return NULL;
	out = g_strdup_printf("%.*s@%s", (int)(at - address), address, domain);
	g_free(domain);
	return out;
}

static void add_list(InternetAddressList *list, GPtrArray *out, unsigned depth)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && out->len < ADDRESSES_MAX; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0) {
			add_list(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				 out, depth + 1);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			char *addr = address_normalize(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia)));
			bool seen = false;

			for (guint k = 0; addr != NULL && k < out->len && !seen; k++)
				seen = strcmp(g_ptr_array_index(out, k), addr) == 0;
			if (addr != NULL && !seen)
				g_ptr_array_add(out, addr);
			else
				g_free(addr);
		}
	}
}

void addresses_collect(GMimeMessage *message, GPtrArray *out)
{
	add_list(g_mime_message_get_from(message), out, 0);
	add_list(g_mime_message_get_reply_to(message), out, 0);
}
