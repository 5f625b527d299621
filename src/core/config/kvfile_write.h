/* kvfile_write.h: the writer's side of the `Key value` files (kvfile.h):
 * which values a line can hold so that the reader gives them back byte
 * for byte. threatmilterctl writes integration files, threatmilter.conf
 * and the exclusion list files; every value it writes passes here first.
 *
 * The reader has no quoting: it trims the blanks around a value and
 * starts a comment at a '#' that begins the line or follows a blank. So
 * a written value cannot hold a control character (a newline would end
 * the line; tabs and escapes are refused alike), cannot begin or end
 * with a blank, and cannot hold a '#' at its start or after a blank
 * ("abc#1" is fine, "abc #1" is not). threatmilterctl(8), VALUES. */
#ifndef TM_KVFILE_WRITE_H
#define TM_KVFILE_WRITE_H

/* Why `value` cannot be written as the value of a line (or as one entry
 * of a list file, or of an inline list after ", "), as a short phrase
 * for "Key: <phrase>" messages that never quote the value (it may be a
 * secret); NULL when it can. Static strings. */
const char *kvfile_value_unwritable(const char *value);

#endif
