/* IPAM: addresses of one IPv4 pod CIDR, leased as files under a directory.
 *
 * A lease is dir/<ip> holding the owner id. It is created by writing a
 * temporary file and link(2)-ing it to its final name, which fails with EEXIST
 * when another process took the address first: the lease never appears empty
 * and two processes (or two nodelets sharing a directory by mistake) can never
 * hold the same address. Leases survive restarts because they are plain files.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

#define OWNER_MAX 512

struct rt_ipam {
	char *dir;
	char cidr[64];
	uint32_t network; /* host order */
	uint32_t broadcast;
	int prefix;
};

/* Parses "a.b.c.d/n" into a network address (host bits cleared) and prefix. */
static int parse_cidr(const char *cidr, uint32_t *net, int *prefix)
{
	char buf[64];
	if (strlen(cidr) >= sizeof(buf))
		return -1;
	strcpy(buf, cidr);
	char *slash = strchr(buf, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	char *end;
	errno = 0;
	long n = strtol(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == slash + 1 || n < 0 || n > 32)
		return -1;
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	uint32_t mask = n == 0 ? 0 : 0xffffffffu << (32 - n);
	*net = ntohl(a.s_addr) & mask;
	*prefix = (int)n;
	return 0;
}

static void format_ip(uint32_t host_order, char *ip, size_t size)
{
	struct in_addr a = {.s_addr = htonl(host_order)};
	inet_ntop(AF_INET, &a, ip, (socklen_t)size);
}

/* Reads the owner recorded in dir/name into buf; -1 when it cannot be read. */
static int read_owner(int dfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	size_t len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return 0;
}

/* Whether name is a lease file name: a dotted quad inside the CIDR. */
static bool lease_name(const rt_ipam_t *ipam, const char *name, uint32_t *addr)
{
	struct in_addr a;
	if (inet_pton(AF_INET, name, &a) != 1)
		return false;
	uint32_t h = ntohl(a.s_addr);
	if (h <= ipam->network + 1 || h >= ipam->broadcast)
		return false;
	if (addr != NULL)
		*addr = h;
	return true;
}

static int validate_owner(const char *owner, rt_error_t *err)
{
	size_t len = owner == NULL ? 0 : strlen(owner);
	if (len == 0 || len >= OWNER_MAX)
		return rt_error_set(err, EINVAL, "IPAM owner id must be 1..%d bytes",
				    OWNER_MAX - 1);
	if (strchr(owner, '\n') != NULL)
		return rt_error_set(err, EINVAL, "IPAM owner id `%s` contains a newline", owner);
	return 0;
}

/* Opens (creating dir if needed) the lease store of cidr, which must be an
 * IPv4 CIDR with room for at least one address besides network, gateway and
 * broadcast (prefix <= 30). *out is freed with rt_ipam_close. */
int rt_ipam_open(const char *dir, const char *cidr, rt_ipam_t **out, rt_error_t *err)
{
	uint32_t net;
	int prefix;
	if (parse_cidr(cidr, &net, &prefix) < 0)
		return rt_error_set(err, EINVAL, "IPAM: invalid IPv4 CIDR `%s`", cidr);
	if (prefix > 30)
		return rt_error_set(err, EINVAL,
				    "IPAM: CIDR `%s` is too small (prefix must be <= 30)", cidr);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "IPAM: creating lease directory `%s`", dir);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return rt_error_set(err, errno ? errno : ENOTDIR, "IPAM: lease directory `%s`",
				    dir);
	rt_ipam_t *ipam = calloc(1, sizeof(*ipam));
	if (ipam == NULL || (ipam->dir = strdup(dir)) == NULL)
		abort();
	ipam->network = net;
	ipam->prefix = prefix;
	ipam->broadcast = net | (prefix == 0 ? 0xffffffffu : (0xffffffffu >> prefix));
	char ip[INET_ADDRSTRLEN];
	format_ip(net, ip, sizeof(ip));
	snprintf(ipam->cidr, sizeof(ipam->cidr), "%s/%d", ip, prefix);
	*out = ipam;
	return 0;
}

void rt_ipam_close(rt_ipam_t *ipam)
{
	if (ipam == NULL)
		return;
	free(ipam->dir);
	free(ipam);
}

/* Looks for an existing lease of owner; 1 and ip filled when found. */
static int find_owner(const rt_ipam_t *ipam, const char *owner, char ip[64], rt_error_t *err)
{
	DIR *d = opendir(ipam->dir);
	if (d == NULL)
		return rt_error_set(err, errno, "IPAM: reading lease directory `%s`", ipam->dir);
	int found = 0;
	struct dirent *de;
	char buf[OWNER_MAX];
	while ((de = readdir(d)) != NULL) {
		uint32_t addr;
		if (!lease_name(ipam, de->d_name, &addr))
			continue;
		if (read_owner(dirfd(d), de->d_name, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, owner) == 0) {
			format_ip(addr, ip, 64);
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

/* Writes owner into a fresh temporary file in dfd; returns its name in tmp. */
static int write_tmp(int dfd, const char *owner, char tmp[64], rt_error_t *err, const char *dir)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(tmp, 64, ".lease-%d-%08x", (int)getpid(), (unsigned)random());
		int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return rt_error_set(err, errno, "IPAM: creating lease file in `%s`", dir);
		size_t len = strlen(owner);
		ssize_t n = write(fd, owner, len);
		int werr = errno;
		if (n == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0) {
			close(fd);
			return 0;
		}
		werr = errno ? errno : werr;
		close(fd);
		unlinkat(dfd, tmp, 0);
		return rt_error_set(err, werr ? werr : EIO, "IPAM: writing lease file in `%s`",
				    dir);
	}
	return rt_error_set(err, EEXIST, "IPAM: no unique temporary name in `%s`", dir);
}

/* Leases an address to owner (an existing lease of the same owner is returned
 * again). Addresses are tried lowest first; a taken one (EEXIST from link)
 * is skipped, so concurrent allocators in several processes are safe. */
int rt_ipam_allocate(rt_ipam_t *ipam, const char *owner, char ip[64], rt_error_t *err)
{
	if (validate_owner(owner, err) < 0)
		return -1;
	int r = find_owner(ipam, owner, ip, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	int dfd = open(ipam->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_error_set(err, errno, "IPAM: opening lease directory `%s`", ipam->dir);
	char tmp[64];
	if (write_tmp(dfd, owner, tmp, err, ipam->dir) < 0) {
		close(dfd);
		return -1;
	}
	int ret = -1;
	bool done = false;
	for (uint32_t a = ipam->network + 2; a < ipam->broadcast && !done; a++) {
		char name[INET_ADDRSTRLEN];
		format_ip(a, name, sizeof(name));
		if (linkat(dfd, tmp, dfd, name, 0) == 0) {
			format_ip(a, ip, 64);
			ret = 0;
			done = true;
		} else if (errno != EEXIST) {
			rt_error_set(err, errno, "IPAM: creating lease `%s/%s`", ipam->dir, name);
			done = true;
		}
	}
	if (!done)
		rt_error_set(err, 0, "no free address in %s", ipam->cidr);
	unlinkat(dfd, tmp, 0);
	if (ret == 0)
		fsync(dfd);
	close(dfd);
	return ret;
}

/* Drops every lease held by owner. No lease is not an error. */
int rt_ipam_release(rt_ipam_t *ipam, const char *owner, rt_error_t *err)
{
	if (validate_owner(owner, err) < 0)
		return -1;
	DIR *d = opendir(ipam->dir);
	if (d == NULL)
		return rt_error_set(err, errno, "IPAM: reading lease directory `%s`", ipam->dir);
	int ret = 0;
	struct dirent *de;
	char buf[OWNER_MAX];
	while ((de = readdir(d)) != NULL) {
		if (!lease_name(ipam, de->d_name, NULL))
			continue;
		if (read_owner(dirfd(d), de->d_name, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, owner) == 0 && unlinkat(dirfd(d), de->d_name, 0) < 0 &&
		    errno != ENOENT) {
			ret = rt_error_set(err, errno, "IPAM: removing lease `%s/%s`", ipam->dir,
					   de->d_name);
		}
	}
	closedir(d);
	return ret;
}

void rt_ipam_gateway(const rt_ipam_t *ipam, char ip[64], int *prefix_len)
{
	format_ip(ipam->network + 1, ip, 64);
	if (prefix_len != NULL)
		*prefix_len = ipam->prefix;
}
