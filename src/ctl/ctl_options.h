/* ctl_options.h: the option parsing of threatmilterctl's subcommands.
 * Each subcommand states its options as a table (long name, short
 * letter, where the value goes) and one getopt_long loop reads them,
 * --help/-h included, so that the short letters are named once and
 * every subcommand answers --help and a bad option the same way. */
#ifndef TM_CTL_OPTIONS_H
#define TM_CTL_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* One option of a subcommand. A table ends with a row whose name is
 * NULL. Exactly one of value and flag is set. 'h' is not a letter of a
 * row: --help/-h belongs to every subcommand and is the parser's. */
struct ctl_option {
	const char *name;	/* long name, without "--" */
	char letter;		/* short letter, or 0: long name only */
	const char **value;	/* takes a value: *value = the argument (in argv) */
	bool *flag;		/* takes none: *flag = true */
};

/* Where the options may stand among the arguments. */
enum ctl_order {
	CTL_ORDER_ANY,		/* anywhere (getopt_long permutes argv; with
				 * POSIXLY_CORRECT set, up to the first argument) */
	CTL_ORDER_FIRST,	/* before the first argument: the scan stops there */
};

/* How a subcommand's command line reads, besides its options. */
struct ctl_syntax {
	enum ctl_order order;
	void (*usage)(FILE *out);	/* the subcommand's usage text */
	bool usage_on_error;		/* after a bad option, usage(stderr) too */
	int min_args;			/* arguments needed after the options */
};

/* ctl_parse_options(): the command goes on */
#define CTL_CONTINUE	(-1)

/* Parses argv[1..argc-1] (argv[0] is the subcommand or its verb, the
 * name getopt_long's messages start with) against options, a table
 * ending with a NULL name, read as syntax says. Stores each value or
 * flag given; the ones not given keep the caller's defaults. Returns
 * CTL_CONTINUE with *next the index of the first argument (argc when
 * there is none; with CTL_ORDER_ANY argv is permuted so that the
 * arguments come last, in their order). Else the exit status (ctl.h):
 * CTL_OK after usage(stdout) for the first --help/-h; CTL_USAGE for an
 * unknown option or a missing value (getopt_long's "ARGV0: message" on
 * stderr, then usage(stderr) when syntax->usage_on_error) and, after
 * usage(stderr), for fewer than syntax->min_args arguments. */
int ctl_parse_options(int argc, char **argv, const struct ctl_option *options,
		      const struct ctl_syntax *syntax, int *next);

#endif
