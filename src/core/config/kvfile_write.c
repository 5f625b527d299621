/* kvfile_write.c: values a `Key value` line can hold (kvfile_write.h). */
#include "config/kvfile_write.h"

#include <string.h>

#include "config/kvfile.h"

const char *kvfile_value_unwritable(const char *value)
{
	size_t len = strlen(value);

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "a value cannot hold control characters (newline, tab, escape...)";
	if (len > 0 && (value[0] == ' ' || value[len - 1] == ' '))
		return "a value cannot begin or end with a blank (the file trims them)";
	if (kvfile_comment_start(value, len) != NULL)
		return "a value cannot hold '#' at its start or after a blank (the file reads "
		       "the rest as a comment)";
	return NULL;
}
