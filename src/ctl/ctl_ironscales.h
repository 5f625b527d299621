/* ctl_ironscales.h: `threatmilterctl ironscales`, the IRONSCALES actions
 * of the seed (../shared/seeds/004_*.txt) on the command line. The
 * actions themselves are providers/ironscales.c; this is their argument
 * parsing and printing. */
#ifndef TM_CTL_IRONSCALES_H
#define TM_CTL_IRONSCALES_H

/* argv[0] is "ironscales"; config_path is the ctl's -c (NULL: the
 * default file, cli_load_config()). Prints the seed's messages on stdout
 * (with --json: the seed's JSON result on stdout, the messages on
 * stderr). Returns 0 when the action ran (unknown incident ids
 * included), 1 when it failed as the seed says it "should fail and stop a
 * playbook execution" (its failure message on stderr), 2 on a usage or
 * configuration error. */
int ctl_ironscales_main(int argc, char **argv, const char *config_path);

#endif
