/* testconn.h: `threatmilter test [-c FILE] [NAME...]`, the integrations
 * form's "Test Connection": one real request per integration with its
 * key, and a line saying whether the provider accepted it. */
#ifndef TM_TESTCONN_H
#define TM_TESTCONN_H

/* argv[0] is "test". Returns 0 when every tested integration works, 1
 * when one does not (or cannot be tested yet), 2 on a usage or
 * configuration error or an unknown name. */
int testconn_main(int argc, char **argv);

#endif
