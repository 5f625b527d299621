/* ctl_options.c: one getopt_long loop for the option tables of the
 * threatmilterctl subcommands (ctl_options.h). */
#include "ctl/ctl_options.h"

#include <getopt.h>
#include <stddef.h>
#include <glib.h>

#include "cli/cli.h"
#include "ctl/ctl.h"

/* getopt_long's value for the row at index i without a short letter:
 * above every char, so that it never meets a letter. */
#define LONG_ONLY(i)	(256 + (int)(i))

/* The row getopt_long answered with c, or NULL ('?': a bad option). */
static const struct ctl_option *row_of(const struct ctl_option *options, size_t rows, int c)
{
	if (c >= LONG_ONLY(0))
		return (size_t)(c - LONG_ONLY(0)) < rows ? &options[c - LONG_ONLY(0)] : NULL;
	for (size_t i = 0; i < rows; i++)
		if (options[i].letter != 0 && options[i].letter == c)
			return &options[i];
	return NULL;
}

/* getopt_long over argv: CTL_CONTINUE when every option is stored, 'h'
 * at --help/-h, '?' at a bad option. */
static int scan(int argc, char **argv, const struct ctl_option *options, enum ctl_order order)
{
	static const struct option help = CLI_OPTION_HELP;
	GString *letters = g_string_new(order == CTL_ORDER_FIRST ? "+h" : "h");
	size_t rows = 0;
	int c, found = CTL_CONTINUE;

	while (options[rows].name != NULL)
		rows++;
	struct option *longopts = g_new0(struct option, rows + 2);	/* + help + the end */

	for (size_t i = 0; i < rows; i++) {
		const struct ctl_option *o = &options[i];

		longopts[i] = (struct option){ o->name, o->value ? required_argument : no_argument,
					       NULL, o->letter ? o->letter : LONG_ONLY(i) };
		if (o->letter != 0)
			g_string_append_printf(letters, "%c%s", o->letter, o->value ? ":" : "");
	}
	longopts[rows] = help;
	/* 0, not 1: glibc starts afresh and takes the ordering from letters;
	 * with 1 it would keep that of threatmilterctl's "+" scan */
	optind = 0;
	while (found == CTL_CONTINUE &&
	       (c = getopt_long(argc, argv, letters->str, longopts, NULL)) != -1) {
		const struct ctl_option *o = row_of(options, rows, c);

		if (c == 'h' || o == NULL)
			found = c == 'h' ? 'h' : '?';
		else if (o->value != NULL)
			*o->value = optarg;
		else
			*o->flag = true;
	}
	g_free(longopts);
	g_string_free(letters, TRUE);
	return found;
}

int ctl_parse_options(int argc, char **argv, const struct ctl_option *options,
		      const struct ctl_syntax *syntax, int *next)
{
	int found = scan(argc, argv, options, syntax->order);

	*next = optind;
	if (found == 'h') {
		syntax->usage(stdout);
		return CTL_OK;
	}
	if (found == '?' && !syntax->usage_on_error)
		return CTL_USAGE;
	if (found == '?' || argc - optind < syntax->min_args) {
		syntax->usage(stderr);
		return CTL_USAGE;
	}
	return CTL_CONTINUE;
}
