/* ocirun's side of a container terminal: the console socket it listens on
 * when `run` keeps the pty itself, receiving the pty master, and relaying it
 * to ocirun's own terminal. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/ocirun.h"

/* Whether the bundle's config asks for a terminal (errors are left to
 * create, which reports them with the field). */
bool ocirun__wants_terminal(const char *bundle)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	json_t *j = json_load_file(path, 0, NULL);
	bool t = json_is_true(json_object_get(json_object_get(j, "process"), "terminal"));
	json_decref(j);
	return t;
}

/* Receives the pty master the init sent to our console socket. */
int ocirun__recv_master(int lsock)
{
	int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return -1;
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	int fd = -1;
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) > 0) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	}
	close(conn);
	return fd;
}

/* Copies our stdin to the pty and the pty to our stdout (our terminal raw
 * meanwhile) until the container's side of the pty is gone. */
void ocirun__relay(int master)
{
	struct termios saved;
	bool raw = tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	bool in_open = true;
	char buf[4096];
	for (;;) {
		struct pollfd p[2] = {{.fd = master, .events = POLLIN},
				      {.fd = in_open ? 0 : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break; /* EIO: no process holds the terminal any more */
			if (write(1, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0)
				in_open = false;
			else if (write(master, buf, (size_t)n) < 0)
				break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
}

/* A listening socket in a new private directory; *dir receives its path. */
int ocirun__console_listener(char dir[64], char path[96])
{
	snprintf(dir, 64, "/tmp/ocirun-console-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, 96, "%s/sock", dir);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		if (s >= 0)
			close(s);
		unlink(path);
		rmdir(dir);
		return -1;
	}
	return s;
}
