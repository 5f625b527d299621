/* ctl_apivoid.h: `threatmilterctl apivoid`, the APIVoid actions of the
 * seed (../shared/seeds/001_*.txt) on the command line. The actions are
 * the provider's own (providers/apivoid_actions.c), run by the
 * synchronous runner with the client the milter uses. */
#ifndef TM_CTL_APIVOID_H
#define TM_CTL_APIVOID_H

/* argv[0] is "apivoid"; config_path NULL: the default file. Prints the
 * seed's messages (or, with --json, the seed's JSON result) on stdout.
 * Returns 0 when the action ran (entities without data included), 1 when
 * it failed (key refused, no credits, no answer, a screenshot that
 * cannot be written), 2 for a usage or configuration error. */
int ctl_apivoid_main(int argc, char **argv, const char *config_path);

#endif
