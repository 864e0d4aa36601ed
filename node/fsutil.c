/* Small file helpers shared by the nodelet and the shim (see fsutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/fsutil.h"

int node__mkdir_p(const char *path, mode_t mode, rt_error_t *err)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return rt_error_set(err, ENAMETOOLONG, "creating directory `%s`", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return rt_error_set(err, errno, "creating directory `%s`", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "creating directory `%s`", buf);
	return 0;
}

int node__write_file(const char *path, const char *data, size_t len, mode_t mode, int durable,
		     rt_error_t *err)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return rt_error_set(err, ENAMETOOLONG, "writing `%s`", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return rt_error_set(err, errno, "writing `%s`", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return rt_error_set(err, e, "writing `%s`", tmp);
		}
		off += (size_t)w;
	}
	if (durable && fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return rt_error_set(err, e, "syncing `%s`", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_error_set(err, e, "renaming `%s` to `%s`", tmp, path);
	}
	return 0;
}

int node__write_atomic(const char *path, const char *data, size_t len, mode_t mode, rt_error_t *err)
{
	return node__write_file(path, data, len, mode, 1, err);
}

int node__copy_file(const char *src, const char *dst, mode_t mode, rt_error_t *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return rt_error_set(err, errno, "opening `%s`", src);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", dst);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return rt_error_set(err, errno, "writing `%s`", tmp);
	}
	char buf[65536];
	ssize_t r;
	int rc = 0;
	while ((r = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, (size_t)r) != r) {
			rc = rt_error_set(err, errno, "writing `%s`", tmp);
			break;
		}
	}
	if (r < 0)
		rc = rt_error_set(err, errno, "reading `%s`", src);
	close(in);
	if (fchmod(out, mode) < 0 || close(out) < 0)
		rc = rc ? rc : rt_error_set(err, errno, "writing `%s`", tmp);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = rt_error_set(err, errno, "renaming `%s`", tmp);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
