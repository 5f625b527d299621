/* scan.h: `threatmilter scan [--no-lookups] [-c FILE] FILE.eml... | -`
 * prints one JSON object per message. */
#ifndef TM_SCAN_H
#define TM_SCAN_H

/* argv[0] is "scan". Returns the process exit status:
 * 0 every message scanned, 1 at least one file could not be read,
 * 2 usage or configuration error. */
int scan_main(int argc, char **argv);

#endif
