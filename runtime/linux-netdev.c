/* linux.netDevices: host network devices moved into the container's network
 * namespace (runtime-spec v1.2 config-linux.md "Network Devices").
 *
 * Each device is moved and renamed in one RTM_NEWLINK (IFLA_NET_NS_FD +
 * IFLA_IFNAME), its permanent global addresses (IFA_F_PERMANENT,
 * RT_SCOPE_UNIVERSE; the kernel drops every address on a move) are added
 * again in the container's namespace and it is set up, as the spec asks.
 *
 * Raw rtnetlink, not libmnl: ocirun links statically and there is no
 * static libmnl. Work inside the container's namespace goes through a
 * netlink socket opened there by a short-lived thread that setns()es: the
 * caller's thread never leaves its namespace.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "runtime/config-internal.h"

/* ---- parsing ------------------------------------------------------------ */

/* Why s is no valid interface name (the kernel's dev_valid_name, plus the
 * "%d" template rule of dev_alloc_name), or NULL. */
static const char *ifname_problem(const char *s, size_t len, bool template_ok)
{
	if (len == 0)
		return "is empty";
	if (len != strlen(s))
		return "holds a NUL byte";
	if (len >= IFNAMSIZ)
		return "is longer than 15 bytes";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "cannot be `.` or `..`";
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "holds '/', ':' or white space";
	const char *pc = strchr(s, '%');
	if (pc == NULL)
		return NULL;
	if (!template_ok)
		return "holds '%' (a host device has a real name)";
	if (pc[1] != 'd' || strchr(pc + 2, '%') != NULL)
		return "holds '%' other than one `%d` template";
	return NULL;
}

static int bad_name(rt_error_t *err, const char *field, const char *name, const char *why)
{
	return rt__error_plain(err, EINVAL, "%s: `%.64s` is not a valid interface name: it %s",
			       field, name, why);
}

int rt__cfg_parse_netdevices(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *o;
	if (get_obj(l, "netDevices", "linux", &o, err) < 0)
		return -1;
	if (o == NULL || json_object_size(o) == 0)
		return 0;
	const rt_namespace_t *net = rt__config_ns(c, CLONE_NEWNET);
	if (net == NULL)
		return bad(err, "linux.netDevices",
			   "needs a network namespace of the container's own (linux.namespaces "
			   "has no `network`)");
	size_t n = json_object_size(o);
	rt__netdev_t *v = rt__xmalloc(n * sizeof(*v));
	size_t k = 0;
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		field_t f = fld("linux.netDevices", key);
		const char *why = ifname_problem(key, strlen(key), false);
		if (why) {
			bad_name(err, "linux.netDevices", key, why);
			goto fail;
		}
		if (!json_is_object(val)) {
			bad(err, f.s, "expected object");
			goto fail;
		}
		v[k].name = rt__xstrdup(key);
		k++;
		json_t *nj = json_object_get(val, "name");
		if (nj == NULL || json_is_null(nj))
			continue;
		if (!json_is_string(nj)) {
			bad(err, fld(f.s, "name").s, "expected string");
			goto fail;
		}
		why = ifname_problem(json_string_value(nj), json_string_length(nj), true);
		if (why) {
			bad_name(err, fld(f.s, "name").s, json_string_value(nj), why);
			goto fail;
		}
		v[k - 1].new_name = rt__xstrdup(json_string_value(nj));
	}
	/* Names in the container are unique (templates are made unique by the
	 * kernel). */
	for (size_t i = 0; i < k; i++) {
		const char *a = v[i].new_name ? v[i].new_name : v[i].name;
		for (size_t j = 0; j < i && !strchr(a, '%'); j++) {
			const char *b = v[j].new_name ? v[j].new_name : v[j].name;
			if (strcmp(a, b) != 0)
				continue;
			char m[160];
			snprintf(m, sizeof(m), "`%s` is the container name of `%s` too", a,
				 v[j].name);
			bad(err, fld("linux.netDevices", v[i].name).s, m);
			goto fail;
		}
	}
	c->netdevs = v;
	c->nnetdevs = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++) {
		free(v[i].name);
		free(v[i].new_name);
	}
	free(v);
	return -1;
}

/* ---- rtnetlink ---------------------------------------------------------- */

typedef struct nlbuf {
	struct nlmsghdr h;
	char data[1024];
} nlbuf_t;

static void *nl_init(nlbuf_t *b, uint16_t type, uint16_t flags, size_t hdr)
{
	memset(b, 0, sizeof(*b));
	b->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	b->h.nlmsg_type = type;
	b->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return NLMSG_DATA(&b->h);
}

static void nl_attr(nlbuf_t *b, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)&b->h + NLMSG_ALIGN(b->h.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	b->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(b->h.nlmsg_len) + RTA_ALIGN(rta->rta_len));
}

/* A NETLINK_ROUTE socket in the calling thread's network namespace; -errno. */
static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	/* The kernel always answers at once: a lost answer is an error, not
	 * a wait for ever. */
	struct timeval tv = {.tv_sec = 5};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

struct ns_sock {
	int nsfd;
	int fd; /* the socket, or -errno */
};

static void *ns_sock_thread(void *p)
{
	struct ns_sock *s = p;
	/* This thread only: it ends right after. */
	if (setns(s->nsfd, CLONE_NEWNET) < 0)
		s->fd = -errno;
	else
		s->fd = nl_open();
	return NULL;
}

/* A NETLINK_ROUTE socket in the network namespace nsfd; -errno. */
static int nl_open_in(int nsfd)
{
	struct ns_sock s = {.nsfd = nsfd, .fd = -EIO};
	pthread_t t;
	int r = pthread_create(&t, NULL, ns_sock_thread, &s);
	if (r != 0)
		return -r;
	pthread_join(t, NULL);
	return s.fd;
}

typedef int (*nl_cb)(const struct nlmsghdr *h, void *data);

/* Sends b on fd and reads the answer: each message of it goes to cb (may be
 * NULL); the end is an ack (requests) or NLMSG_DONE (dumps). 0 or -errno
 * from the kernel. */
static int nl_talk(int fd, nlbuf_t *b, nl_cb cb, void *data)
{
	static uint32_t seq;
	/* NLM_F_REPLACE shares a bit with NLM_F_DUMP: only a GET dumps. */
	bool dump = (b->h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && b->h.nlmsg_type % 4 == 2;
	if (!dump)
		b->h.nlmsg_flags |= NLM_F_ACK;
	b->h.nlmsg_seq = ++seq;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(fd, &b->h, b->h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	enum { RECV_SIZE = 64 * 1024 };
	char *buf = rt__xmalloc(RECV_SIZE);
	int ret = -EIO;
	for (;;) {
		ssize_t n = recv(fd, buf, RECV_SIZE, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		size_t len = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != b->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				ret = h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EIO : e->error;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (cb && cb(h, data) < 0) {
				/* keep reading to the end of a dump, then fail */
				ret = -ENOMEM;
			}
		}
	}
out:
	free(buf);
	return ret;
}

typedef struct nd_link {
	int index;
	unsigned flags;
} nd_link_t;

static int link_cb(const struct nlmsghdr *h, void *data)
{
	nd_link_t *l = data;
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	return 0;
}

/* Link name on fd's namespace into *l; -ENODEV when there is none. */
static int link_get(int fd, const char *name, nd_link_t *l)
{
	nlbuf_t b;
	nl_init(&b, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	nl_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	memset(l, 0, sizeof(*l));
	int r = nl_talk(fd, &b, link_cb, l);
	if (r < 0)
		return r;
	return l->index > 0 ? 0 : -ENODEV;
}

typedef struct idx_set {
	int *v;
	size_t n;
} idx_set_t;

static int idx_cb(const struct nlmsghdr *h, void *data)
{
	idx_set_t *s = data;
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	s->v = rt__xrealloc(s->v, (s->n + 1) * sizeof(int));
	s->v[s->n++] = ifi->ifi_index;
	return 0;
}

/* The indexes of all links of fd's namespace (s->v to free). */
static int link_indexes(int fd, idx_set_t *s)
{
	nlbuf_t b;
	nl_init(&b, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
	s->v = NULL;
	s->n = 0;
	return nl_talk(fd, &b, idx_cb, s);
}

static int link_set_up(int fd, int index)
{
	nlbuf_t b;
	struct ifinfomsg *ifi = nl_init(&b, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_talk(fd, &b, NULL, NULL);
}

/* Moves link index of fd's namespace into the namespace nsfd, named name
 * there (NULL: its own name). */
static int link_move(int fd, int index, int nsfd, const char *name)
{
	nlbuf_t b;
	struct ifinfomsg *ifi = nl_init(&b, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_index = index;
	uint32_t ns = (uint32_t)nsfd;
	nl_attr(&b, IFLA_NET_NS_FD, &ns, sizeof(ns));
	if (name)
		nl_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	return nl_talk(fd, &b, NULL, NULL);
}

/* An address worth keeping: what RTM_NEWADDR needs to make it again. */
typedef struct nd_addr {
	unsigned char family, prefixlen, scope;
	uint32_t flags;
	unsigned char local[16], address[16], broadcast[16];
	bool has_local, has_address, has_broadcast;
} nd_addr_t;

typedef struct addr_list {
	int index;
	nd_addr_t *v;
	size_t n;
} addr_list_t;

static void copy_addr(unsigned char *dst, bool *has, const struct rtattr *a, unsigned family)
{
	size_t want = family == AF_INET ? 4 : 16;
	if (RTA_PAYLOAD(a) != want)
		return;
	memcpy(dst, RTA_DATA(a), want);
	*has = true;
}

static int addr_cb(const struct nlmsghdr *h, void *data)
{
	addr_list_t *l = data;
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return 0;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if ((int)ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	nd_addr_t a = {.family = ifa->ifa_family,
		       .prefixlen = ifa->ifa_prefixlen,
		       .scope = ifa->ifa_scope,
		       .flags = ifa->ifa_flags};
	int len = (int)IFA_PAYLOAD(h);
	for (const struct rtattr *r = IFA_RTA(ifa); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		switch (r->rta_type) {
		case IFA_LOCAL:
			copy_addr(a.local, &a.has_local, r, a.family);
			break;
		case IFA_ADDRESS:
			copy_addr(a.address, &a.has_address, r, a.family);
			break;
		case IFA_BROADCAST:
			copy_addr(a.broadcast, &a.has_broadcast, r, a.family);
			break;
		case IFA_FLAGS:
			if (RTA_PAYLOAD(r) == sizeof(uint32_t))
				memcpy(&a.flags, RTA_DATA(r), sizeof(uint32_t));
			break;
		}
	}
	if (!(a.flags & IFA_F_PERMANENT) || !(a.has_local || a.has_address))
		return 0;
	l->v = rt__xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = a;
	return 0;
}

/* The permanent global addresses of link index on fd's namespace. */
static int addr_list(int fd, int index, addr_list_t *l)
{
	nlbuf_t b;
	struct ifaddrmsg *ifa = nl_init(&b, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	l->index = index;
	l->v = NULL;
	l->n = 0;
	return nl_talk(fd, &b, addr_cb, l);
}

/* Adds a to link index on fd's namespace (one already there is fine). */
static int addr_add(int fd, int index, const nd_addr_t *a)
{
	nlbuf_t b;
	struct ifaddrmsg *ifa =
	    nl_init(&b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_scope = a->scope;
	ifa->ifa_index = (unsigned)index;
	/* What the user chose; the state bits (tentative, deprecated...) and
	 * permanent are the kernel's. */
	uint32_t keep = a->flags & (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE |
				    IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN);
	ifa->ifa_flags = (unsigned char)(keep & 0xff);
	size_t sz = a->family == AF_INET ? 4 : 16;
	if (a->has_local)
		nl_attr(&b, IFA_LOCAL, a->local, sz);
	if (a->has_address)
		nl_attr(&b, IFA_ADDRESS, a->address, sz);
	if (a->has_broadcast)
		nl_attr(&b, IFA_BROADCAST, a->broadcast, sz);
	if (keep > 0xff)
		nl_attr(&b, IFA_FLAGS, &keep, sizeof(keep));
	return nl_talk(fd, &b, NULL, NULL);
}

/* ---- moving ------------------------------------------------------------- */

int rt__netdev_open_ns(const rt_config_t *cfg, pid_t pid, rt_error_t *err)
{
	const rt_namespace_t *ns = rt__config_ns(cfg, CLONE_NEWNET);
	char path[64];
	const char *p = ns ? ns->path : NULL;
	if (p == NULL) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		p = path;
	}
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_set(err, errno,
				    "linux.netDevices: opening the container's network "
				    "namespace `%s`",
				    p);
	return fd;
}

/* What move_in knows of one device, to undo its move. */
typedef struct nd_state {
	int host_index;
	bool was_up;
	addr_list_t addrs;
	bool moved;
	int ctr_index; /* 0: not known (look it up by ctr_name) */
	const char *ctr_name;
} nd_state_t;

/* Moves the device at ctr_index (or named ctr_name) of the container's
 * namespace (socket cfd) back to the runtime's (self, socket hfd) as
 * host_name, with addrs, up when up. */
static int move_back(int cfd, int hfd, int self, int ctr_index, const char *ctr_name,
		     const char *host_name, const addr_list_t *addrs, bool up, rt_error_t *err)
{
	nd_link_t l;
	int r;
	if (ctr_index <= 0) {
		if ((r = link_get(cfd, ctr_name, &l)) < 0)
			return rt_error_set(err, -r,
					    "linux.netDevices.%s: finding `%s` in the "
					    "container's network namespace",
					    host_name, ctr_name);
		ctr_index = l.index;
	}
	if ((r = link_move(cfd, ctr_index, self, host_name)) < 0)
		return rt_error_set(err, -r,
				    "linux.netDevices.%s: moving it back to the runtime's "
				    "network namespace",
				    host_name);
	if ((r = link_get(hfd, host_name, &l)) < 0)
		return rt_error_set(err, -r, "linux.netDevices.%s: finding it after moving it back",
				    host_name);
	for (size_t i = 0; addrs && i < addrs->n; i++)
		if ((r = addr_add(hfd, l.index, &addrs->v[i])) < 0)
			return rt_error_set(err, -r, "linux.netDevices.%s: restoring an address",
					    host_name);
	if (up && (r = link_set_up(hfd, l.index)) < 0)
		return rt_error_set(err, -r, "linux.netDevices.%s: setting it up", host_name);
	return 0;
}

/* The runtime's own network namespace (the calling thread's). */
static int open_self_ns(rt_error_t *err)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_set(err, errno,
				    "linux.netDevices: opening the runtime's network "
				    "namespace");
	return fd;
}

/* Moves device i (pre-checked): -1 with err; st->moved tells whether it
 * left the runtime's namespace. */
static int move_one(const rt__netdev_t *d, nd_state_t *st, int hfd, int cfd, int ctr,
		    rt_error_t *err)
{
	const char *target = d->new_name ? d->new_name : d->name;
	bool templ = strchr(target, '%') != NULL;
	idx_set_t before = {0};
	nd_link_t l;
	int r;
	if (templ && (r = link_indexes(cfd, &before)) < 0)
		return rt_error_set(err, -r, "linux.netDevices.%s: listing the container's links",
				    d->name);
	r = link_move(hfd, st->host_index, ctr, d->new_name);
	if (r < 0) {
		/* The kernel moves before it renames: a failed rename may
		 * leave the device in the container under its host name. */
		if (link_get(hfd, d->name, &l) == -ENODEV) {
			st->moved = true;
			st->ctr_name = d->name;
		}
		free(before.v);
		return rt_error_set(err, -r,
				    "linux.netDevices.%s: moving it into the container's network "
				    "namespace as `%s`",
				    d->name, target);
	}
	st->moved = true;
	st->ctr_name = target;
	if (templ) {
		idx_set_t after = {0};
		r = link_indexes(cfd, &after);
		for (size_t i = 0; r == 0 && i < after.n && st->ctr_index == 0; i++) {
			bool old = false;
			for (size_t j = 0; j < before.n; j++)
				old = old || before.v[j] == after.v[i];
			if (!old)
				st->ctr_index = after.v[i];
		}
		free(after.v);
		free(before.v);
		if (st->ctr_index == 0)
			return rt_error_set(err, r < 0 ? -r : ENODEV,
					    "linux.netDevices.%s: finding it in the container",
					    d->name);
	} else {
		if ((r = link_get(cfd, target, &l)) < 0)
			return rt_error_set(err, -r,
					    "linux.netDevices.%s: finding `%s` in the "
					    "container",
					    d->name, target);
		st->ctr_index = l.index;
	}
	for (size_t i = 0; i < st->addrs.n; i++)
		if ((r = addr_add(cfd, st->ctr_index, &st->addrs.v[i])) < 0)
			return rt_error_set(err, -r,
					    "linux.netDevices.%s: adding its address in the "
					    "container",
					    d->name);
	if ((r = link_set_up(cfd, st->ctr_index)) < 0)
		return rt_error_set(err, -r, "linux.netDevices.%s: setting it up in the container",
				    d->name);
	return 0;
}

int rt__netdev_move_in(const rt_config_t *cfg, pid_t pid, rt_error_t *err)
{
	if (cfg->nnetdevs == 0)
		return 0;
	cleanup_close int ctr = rt__netdev_open_ns(cfg, pid, err);
	if (ctr < 0)
		return -1;
	cleanup_close int self = open_self_ns(err);
	if (self < 0)
		return -1;
	struct stat a, b;
	if (fstat(ctr, &a) < 0 || fstat(self, &b) < 0)
		return rt_error_set(err, errno, "linux.netDevices: reading the network namespaces");
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return rt__error_plain(err, EINVAL,
				       "linux.netDevices: the container's network namespace is the "
				       "runtime's own: devices cannot be moved into it");
	cleanup_close int hfd = nl_open();
	if (hfd < 0)
		return rt_error_set(err, -hfd, "linux.netDevices: opening a netlink socket");
	cleanup_close int cfd = nl_open_in(ctr);
	if (cfd < 0)
		return rt_error_set(err, -cfd,
				    "linux.netDevices: opening a netlink socket in the "
				    "container's network namespace");
	size_t n = cfg->nnetdevs;
	nd_state_t *st = rt__xmalloc(n * sizeof(*st));
	int rc = -1;
	size_t i = 0;
	/* Check everything first: each device exists here, no name is taken
	 * there (a template is never taken). */
	for (i = 0; i < n; i++) {
		const rt__netdev_t *d = &cfg->netdevs[i];
		const char *target = d->new_name ? d->new_name : d->name;
		nd_link_t l;
		int r = link_get(hfd, d->name, &l);
		if (r < 0) {
			rt_error_set(err, -r,
				     "linux.netDevices.%s: %s in the runtime's network "
				     "namespace",
				     d->name, r == -ENODEV ? "no such device" : "looking it up");
			goto out;
		}
		st[i].host_index = l.index;
		st[i].was_up = l.flags & IFF_UP;
		if (!strchr(target, '%') && (r = link_get(cfd, target, &l)) != -ENODEV) {
			if (r == 0)
				rt__error_plain(
				    err, EEXIST,
				    "linux.netDevices.%s: a device named `%s` exists in "
				    "the container's network namespace already",
				    d->name, target);
			else
				rt_error_set(err, -r,
					     "linux.netDevices.%s: looking up `%s` in the "
					     "container",
					     d->name, target);
			goto out;
		}
		/* Before the move (and before any down): the kernel flushes
		 * addresses on both. */
		if ((r = addr_list(hfd, st[i].host_index, &st[i].addrs)) < 0) {
			rt_error_set(err, -r, "linux.netDevices.%s: listing its addresses",
				     d->name);
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (move_one(&cfg->netdevs[i], &st[i], hfd, cfd, ctr, err) < 0)
			break;
	if (i == n) {
		rc = 0;
		goto out;
	}
	/* Undo, newest first; the first error is the one reported. */
	for (size_t j = i + 1; j-- > 0;) {
		if (!st[j].moved)
			continue;
		rt_error_t e2;
		if (move_back(cfd, hfd, self, st[j].ctr_index, st[j].ctr_name, cfg->netdevs[j].name,
			      &st[j].addrs, st[j].was_up, &e2) < 0)
			fprintf(stderr, "ocirun: warning: %s\n", e2.msg);
	}
out:
	for (size_t j = 0; j < n; j++)
		free(st[j].addrs.v);
	free(st);
	return rc;
}

/* Moves the devices of cfg back from the container's network namespace
 * (netns_fd, see rt__netdev_open_ns) to the caller's, under their host
 * names, with their permanent global addresses, up. For a create that
 * fails after rt__netdev_move_in succeeded; never at delete (the spec
 * forbids it). A device named by a `%d` template is not found (its name is
 * the kernel's choice) and stays. Tries every device; the first error is
 * returned. */
int rt__netdev_move_out(const rt_config_t *cfg, int netns_fd, rt_error_t *err)
{
	if (cfg->nnetdevs == 0)
		return 0;
	cleanup_close int self = open_self_ns(err);
	if (self < 0)
		return -1;
	cleanup_close int hfd = nl_open();
	if (hfd < 0)
		return rt_error_set(err, -hfd, "linux.netDevices: opening a netlink socket");
	cleanup_close int cfd = nl_open_in(netns_fd);
	if (cfd < 0)
		return rt_error_set(err, -cfd,
				    "linux.netDevices: opening a netlink socket in the "
				    "container's network namespace");
	int rc = 0;
	for (size_t i = 0; i < cfg->nnetdevs; i++) {
		const rt__netdev_t *d = &cfg->netdevs[i];
		const char *target = d->new_name ? d->new_name : d->name;
		rt_error_t e2 = {0};
		rt_error_t *e = rc == 0 ? err : &e2;
		if (strchr(target, '%')) {
			if (rc == 0)
				rc = rt__error_plain(err, ENOENT,
						     "linux.netDevices.%s: named by a template in "
						     "the container: left there",
						     d->name);
			continue;
		}
		nd_link_t l;
		addr_list_t al = {0};
		int r = link_get(cfd, target, &l);
		if (r == 0)
			r = addr_list(cfd, l.index, &al);
		if (r < 0) {
			rc = rt_error_set(e, -r,
					  "linux.netDevices.%s: finding `%s` in the "
					  "container's network namespace",
					  d->name, target);
			free(al.v);
			continue;
		}
		if (move_back(cfd, hfd, self, l.index, target, d->name, &al, true, e) < 0)
			rc = -1;
		free(al.v);
	}
	return rc;
}

void rt__netdev_give_back(const rt_config_t *cfg, int netns_fd, const char *id)
{
	rt_error_t e2;
	if (rt__netdev_move_out(cfg, netns_fd, &e2) < 0)
		fprintf(stderr, "ocirun: warning: container `%s`: %s\n", id, e2.msg);
}
