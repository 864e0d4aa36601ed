/* process.terminal with --console-socket, as runc and containerd do it: the
 * init opens a pty in the container's own devpts instance, sends the master
 * to the caller's unix socket (SCM_RIGHTS), and makes the slave its
 * controlling terminal and stdio. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "runtime/rt-internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int rt__console_connect(const char *path, rt_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return rt_error_set(err, ENAMETOOLONG, "--console-socket `%s`", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rt_error_set(err, errno, "--console-socket `%s`: socket", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return rt_error_set(err, e, "connecting to --console-socket `%s`", path);
	}
	return fd;
}

static int send_fd(int sock, int fd, const char *name, rt_error_t *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rt_error_set(err, errno, "sending the terminal to the console socket");
	return 0;
}

int rt__console_setup(int sock, rt_error_t *err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return rt_error_set(err, errno,
				    "process.terminal: opening `/dev/ptmx` (a devpts mount with "
				    "newinstance at /dev/pts is needed)");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return rt_error_set(err, errno, "process.terminal: unlocking the pty");
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return rt_error_set(err, errno, "process.terminal: opening the pty's slave");
	unsigned n = 0;
	char name[64] = "/dev/ptmx";
	if (ioctl(master, TIOCGPTN, &n) == 0)
		snprintf(name, sizeof(name), "/dev/pts/%u", n);
	if (send_fd(sock, master, name, err) < 0)
		return -1;
	if (setsid() < 0)
		return rt_error_set(err, errno, "process.terminal: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return rt_error_set(err, errno, "process.terminal: making the pty the terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return rt_error_set(err, errno, "process.terminal: pty as fd %d", i);
	return 0;
}
