/* The ocirun command line's own helpers (not part of libruntime). */
#ifndef NODELET_OCIRUN_H
#define NODELET_OCIRUN_H

#include <stdbool.h>

#include "runtime/runtime.h"

/* Whether the bundle's config.json asks for a terminal (errors in the file
 * are left to create, which reports them with the field). */
bool ocirun__wants_terminal(const char *bundle);
/* Receives the pty master the container's init sent to the console socket. */
int ocirun__recv_master(int lsock);
/* Relays stdin/stdout to the pty master until the container's side is gone. */
void ocirun__relay(int master);
/* A listening socket in a new private directory; dir receives its path. */
int ocirun__console_listener(char dir[64], char path[96]);

/* ocirun.c's reporting, shared with the verbs in other files: each prints
 * "ocirun: <message>" (or the JSON log line) and returns the exit status. */
int ocirun__report(const char *msg);
int ocirun__fail(const rt_error_t *err);
/* A usage error of verb cmd (exit status 1, as runc). */
int ocirun__usage_error(const char *cmd, const char *what);
/* Prints `ocirun <cmd> --help`; returns 0. */
int ocirun__help(const char *cmd);

/* `ocirun update [flags] <id>` with the global --root root (ocirun-update.c). */
int ocirun__cmd_update(const char *root, int argc, char **argv);

#endif
