/* nodelay.h: TCP_NODELAY on libmilter's listening socket.
 *
 * The milter protocol is a ping-pong of small packets; with Nagle's
 * algorithm and delayed ACKs each exchange can stall ~40 ms. libmilter
 * does not expose its socket, but after smfi_opensocket() it is among our
 * descriptors: a listening TCP socket. Linux copies TCP_NODELAY from the
 * listening socket to every connection accept() returns. */
#ifndef TM_NODELAY_H
#define TM_NODELAY_H

/* Returns how many listening TCP sockets got TCP_NODELAY. */
int nodelay_listening_sockets(void);

#endif
