/* The ocirun command line's own helpers (not part of libruntime). */
#ifndef NODELET_OCIRUN_H
#define NODELET_OCIRUN_H

#include <stdbool.h>

/* Whether the bundle's config.json asks for a terminal (errors in the file
 * are left to create, which reports them with the field). */
bool ocirun__wants_terminal(const char *bundle);
/* Receives the pty master the container's init sent to the console socket. */
int ocirun__recv_master(int lsock);
/* Relays stdin/stdout to the pty master until the container's side is gone. */
void ocirun__relay(int master);
/* A listening socket in a new private directory; dir receives its path. */
int ocirun__console_listener(char dir[64], char path[96]);

#endif
