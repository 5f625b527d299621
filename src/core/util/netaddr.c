/* netaddr.c: IPv4/IPv6 addresses, prefixes and prefix lists. */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <glib.h>

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes plain IPv4, so
 * that a rule written either way matches both spellings. */
static void unmap_ipv4(struct net_addr *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (addr->family == AF_INET6 && memcmp(addr->bytes, mapped, 12) == 0) {
		memmove(addr->bytes, addr->bytes + 12, 4);
		memset(addr->bytes + 4, 0, 12);
		addr->family = AF_INET;
	}
}

bool net_addr_parse_len(const char *text, size_t len, struct net_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 16];

	if (text == NULL)
		return false;
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len > 5 && g_ascii_strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';

	memset(out, 0, sizeof(*out));
	/* inet_pton(AF_INET) accepts only the strict dotted quad, which is
	 * what a Received header or an exclusion list contains. */
	if (inet_pton(AF_INET, buf, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
		out->family = AF_INET6;
		unmap_ipv4(out);
		return true;
	}
	return false;
}

bool net_addr_parse(const char *text, struct net_addr *out)
{
	return text != NULL && net_addr_parse_len(text, strlen(text), out);
}

char *net_addr_format(const struct net_addr *addr, char *buf, size_t len)
{
	if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) == NULL && len > 0)
		buf[0] = '\0';
	return buf;
}

struct private_range {
	int family;
	uint8_t bytes[16];
	unsigned bits;
};

/* The corpus README's "private" ranges. */
static const struct private_range private_ranges[] = {
	{ AF_INET, { 0 }, 8 },
	{ AF_INET, { 10 }, 8 },
	{ AF_INET, { 100, 64 }, 10 },
	{ AF_INET, { 127 }, 8 },
	{ AF_INET, { 169, 254 }, 16 },
	{ AF_INET, { 172, 16 }, 12 },
	{ AF_INET, { 192, 168 }, 16 },
	{ AF_INET, { 255, 255, 255, 255 }, 32 },
	{ AF_INET6, { 0 }, 128 },					/* :: */
	{ AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 }, /* ::1 */
	{ AF_INET6, { 0xfc }, 7 },
	{ AF_INET6, { 0xfe, 0x80 }, 10 },
};

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool net_addr_is_private(const struct net_addr *addr)
{
	for (size_t i = 0; i < G_N_ELEMENTS(private_ranges); i++) {
		const struct private_range *r = &private_ranges[i];

		if (r->family == addr->family && bits_match(addr->bytes, r->bytes, r->bits))
			return true;
	}
	return false;
}

static void clear_host_bits(struct net_addr *addr, unsigned bits)
{
	unsigned total = addr->family == AF_INET ? 32 : 128;

	for (unsigned bit = bits; bit < total; bit++)
		addr->bytes[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

bool net_prefix_parse(const char *text, struct net_prefix *out, char *err, size_t errlen)
{
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
	bool mapped_v6 = false;

	if (!net_addr_parse_len(text, addr_len, &out->addr)) {
		snprintf(err, errlen, "\"%.*s\" is not an IP address", (int)addr_len, text);
		return false;
	}
	/* "::ffff:10.0.0.0/104" was unmapped to IPv4: its length shrinks by 96. */
	if (out->addr.family == AF_INET && memchr(text, ':', addr_len) != NULL)
		mapped_v6 = true;

	unsigned max = out->addr.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		out->bits = max;
		return true;
	}
	const char *digits = slash + 1;
	char *end = NULL;
	if (!g_ascii_isdigit(*digits)) {
		snprintf(err, errlen, "\"%s\": prefix length missing", text);
		return false;
	}
	unsigned long bits = strtoul(digits, &end, 10);
	if (*end != '\0' || strlen(digits) > 3) {
		snprintf(err, errlen, "\"%s\": bad prefix length", text);
		return false;
	}
	if (mapped_v6) {
		if (bits < 96 || bits > 128) {
			snprintf(err, errlen, "\"%s\": prefix length must be 96..128", text);
			return false;
		}
		bits -= 96;
	}
	if (bits > max) {
		snprintf(err, errlen, "\"%s\": prefix length larger than %u", text, max);
		return false;
	}
	out->bits = (unsigned)bits;
	clear_host_bits(&out->addr, out->bits);
	return true;
}

bool net_prefix_contains(const struct net_prefix *prefix, const struct net_addr *addr)
{
	return prefix->addr.family == addr->family &&
	       bits_match(prefix->addr.bytes, addr->bytes, prefix->bits);
}

struct net_list_entry {
	struct net_prefix prefix;
	char *text;
};

struct net_list {
	GArray *entries;	/* struct net_list_entry */
};

struct net_list *net_list_new(void)
{
	struct net_list *list = g_new0(struct net_list, 1);

	list->entries = g_array_new(FALSE, FALSE, sizeof(struct net_list_entry));
	return list;
}

void net_list_free(struct net_list *list)
{
	if (list == NULL)
		return;
	for (guint i = 0; i < list->entries->len; i++)
		g_free(g_array_index(list->entries, struct net_list_entry, i).text);
	g_array_free(list->entries, TRUE);
	g_free(list);
}

bool net_list_add(struct net_list *list, const char *text, char *err, size_t errlen)
{
	struct net_list_entry entry;

	if (!net_prefix_parse(text, &entry.prefix, err, errlen))
		return false;
	entry.text = g_strdup(text);
	g_array_append_val(list->entries, entry);
	return true;
}

size_t net_list_count(const struct net_list *list)
{
	return list ? list->entries->len : 0;
}

const char *net_list_match(const struct net_list *list, const struct net_addr *addr)
{
	if (list == NULL)
		return NULL;
	/* Lists are short (tens of entries): a linear scan is the clear choice. */
	for (guint i = 0; i < list->entries->len; i++) {
		const struct net_list_entry *e = &g_array_index(list->entries, struct net_list_entry, i);

		if (net_prefix_contains(&e->prefix, addr))
			return e->text;
	}
	return NULL;
}
