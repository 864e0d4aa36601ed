/* Pod networking over rtnetlink (libmnl): a Linux bridge per node holding the
 * gateway address, and a veth pair per pod sandbox, its host end on the bridge
 * and its peer as eth0 inside the sandbox's network namespace.
 *
 * Nothing here execs ip(8). Work inside another network namespace is done on a
 * short-lived helper thread that setns()es into it: setns(CLONE_NEWNET) only
 * changes the calling thread, so the caller's thread never leaves its own
 * namespace, and other threads of a daemon are never affected. No forwarding,
 * NAT or routes off the machine are set up: the node reaches its pods through
 * the address on the bridge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "runtime/runtime.h"

/* One rtnetlink request/answer exchange on a fresh socket (so calls are
 * thread-safe and land in the calling thread's network namespace). Returns 0
 * or -errno (the kernel's answer to the request). */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl);
		return -e;
	}
	unsigned int portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	nlh->nlmsg_flags |= NLM_F_ACK;
	int ret = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	/* Large enough for one link's attributes (stats, VF info). */
	enum { RECV_SIZE = 64 * 1024 };
	char *buf = malloc(RECV_SIZE);
	if (buf == NULL)
		abort();
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, RECV_SIZE);
		if (n < 0) {
			ret = -errno;
			break;
		}
		int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (r < 0) {
			ret = errno ? -errno : -EIO;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	free(buf);
out:
	mnl_socket_close(nl);
	return ret;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

static int check_ifname(const char *name, rt_error_t *err)
{
	size_t len = name == NULL ? 0 : strlen(name);
	if (len == 0 || len >= IFNAMSIZ || strchr(name, '/') != NULL || strchr(name, ' ') != NULL)
		return rt_error_set(
		    err, EINVAL, "invalid interface name `%s` (1..%d characters, no '/' or space)",
		    name ? name : "", IFNAMSIZ - 1);
	return 0;
}

/* Parses "a.b.c.d/n" (with_prefix) or "a.b.c.d". */
static int parse_addr(const char *s, bool with_prefix, struct in_addr *a, int *prefix)
{
	char buf[64];
	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (with_prefix) {
		if (slash == NULL)
			return -1;
		*slash = '\0';
		char *end;
		long n = strtol(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1 || n < 0 || n > 32)
			return -1;
		*prefix = (int)n;
	} else if (slash != NULL) {
		return -1;
	}
	return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

/* ---- link queries ------------------------------------------------------ */

struct link_info {
	char kind[32];
	int index;
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;
	if (mnl_attr_get_type(attr) != IFLA_LINKINFO)
		return MNL_CB_OK;
	struct nlattr *nested;
	mnl_attr_for_each_nested(nested, attr)
	{
		if (mnl_attr_get_type(nested) == IFLA_INFO_KIND &&
		    mnl_attr_validate(nested, MNL_TYPE_STRING) >= 0)
			snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(nested));
	}
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	li->index = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, data);
	return MNL_CB_OK;
}

/* Fills li for link name in the current network namespace; -ENODEV if none. */
static int link_get(const char *name, struct link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	memset(li, 0, sizeof(*li));
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	int r = nl_talk(nlh, link_msg_cb, li);
	if (r < 0)
		return r;
	return li->index > 0 ? 0 : -ENODEV;
}

/* ---- link changes ------------------------------------------------------ */

static int link_set_up(int ifindex, int master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nl_talk(nlh, NULL, NULL);
}

static int link_delete(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, ifindex);
	return nl_talk(nlh, NULL, NULL);
}

/* Adds addr/prefix to ifindex; an address already there is fine. */
static int addr_add(int ifindex, struct in_addr addr, int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	if (prefix < 31) {
		uint32_t host = prefix == 0 ? 0xffffffffu : (0xffffffffu >> prefix);
		struct in_addr brd = {.s_addr = addr.s_addr | htonl(host)};
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
	}
	int r = nl_talk(nlh, NULL, NULL);
	return r == -EEXIST ? 0 : r;
}

static int route_default(int ifindex, struct in_addr gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nlh, NULL, NULL);
}

/* ---- bridge -------------------------------------------------------------- */

/* Creates bridge `name` if missing (an existing link of another kind is an
 * error), adds gateway_cidr to it unless present, and sets it up. */
int rt_net_bridge_ensure(const char *name, const char *gateway_cidr, rt_error_t *err)
{
	if (check_ifname(name, err) < 0)
		return -1;
	struct in_addr gw;
	int prefix;
	if (parse_addr(gateway_cidr, true, &gw, &prefix) < 0)
		return rt_error_set(err, EINVAL, "bridge `%s`: invalid gateway address `%s`", name,
				    gateway_cidr ? gateway_cidr : "");
	struct link_info li;
	int r = link_get(name, &li);
	if (r == -ENODEV) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
		mnl_attr_nest_end(nlh, info);
		r = nl_talk(nlh, NULL, NULL);
		if (r < 0 && r != -EEXIST)
			return rt_error_set(err, -r, "creating bridge `%s`", name);
		r = link_get(name, &li);
	}
	if (r < 0)
		return rt_error_set(err, -r, "looking up bridge `%s`", name);
	if (strcmp(li.kind, "bridge") != 0)
		return rt_error_set(err, EEXIST, "link `%s` exists and is not a bridge (kind `%s`)",
				    name, li.kind[0] ? li.kind : "none");
	r = addr_add(li.index, gw, prefix);
	if (r < 0)
		return rt_error_set(err, -r, "adding address %s to bridge `%s`", gateway_cidr,
				    name);
	r = link_set_up(li.index, 0);
	if (r < 0)
		return rt_error_set(err, -r, "setting bridge `%s` up", name);
	return 0;
}

/* Deletes link `name` (of any kind); a missing link is fine. */
static int delete_by_name(const char *name, const char *what, rt_error_t *err)
{
	if (check_ifname(name, err) < 0)
		return -1;
	struct link_info li;
	int r = link_get(name, &li);
	if (r == -ENODEV)
		return 0;
	if (r == 0)
		r = link_delete(li.index);
	if (r < 0 && r != -ENODEV)
		return rt_error_set(err, -r, "deleting %s `%s`", what, name);
	return 0;
}

int rt_net_bridge_delete(const char *name, rt_error_t *err)
{
	return delete_by_name(name, "bridge", err);
}

int rt_net_detach(const char *host_ifname, rt_error_t *err)
{
	return delete_by_name(host_ifname, "veth", err);
}

bool rt_net_link_exists(const char *ifname)
{
	struct link_info li;
	if (ifname == NULL || strlen(ifname) >= IFNAMSIZ)
		return false;
	return link_get(ifname, &li) == 0;
}

/* ---- veth into a namespace ---------------------------------------------- */

/* What the helper thread does inside the pod's namespace. */
struct netns_job {
	int nsfd;
	struct in_addr addr, gw;
	int prefix;
	rt_error_t err;
	int ret;
};

static void *netns_thread(void *arg)
{
	struct netns_job *job = arg;
	job->ret = -1;
	/* This thread only: it exits right after, in the pod's namespace. */
	if (setns(job->nsfd, CLONE_NEWNET) < 0) {
		rt_error_set(&job->err, errno, "entering the network namespace");
		return NULL;
	}
	struct link_info eth0, lo;
	int r = link_get("eth0", &eth0);
	if (r < 0) {
		rt_error_set(&job->err, -r, "looking up eth0 in the pod namespace");
		return NULL;
	}
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &job->addr, a, sizeof(a));
	inet_ntop(AF_INET, &job->gw, g, sizeof(g));
	if ((r = addr_add(eth0.index, job->addr, job->prefix)) < 0) {
		rt_error_set(&job->err, -r, "adding address %s/%d to eth0", a, job->prefix);
		return NULL;
	}
	if ((r = link_set_up(eth0.index, 0)) < 0) {
		rt_error_set(&job->err, -r, "setting eth0 up");
		return NULL;
	}
	if ((r = link_get("lo", &lo)) < 0 || (r = link_set_up(lo.index, 0)) < 0) {
		rt_error_set(&job->err, -r, "setting lo up");
		return NULL;
	}
	if ((r = route_default(eth0.index, job->gw)) < 0) {
		rt_error_set(&job->err, -r, "adding default route via %s dev eth0", g);
		return NULL;
	}
	job->ret = 0;
	return NULL;
}

/* Creates host_ifname <-> eth0 (created directly inside netns_path via
 * IFLA_NET_NS_FD, so no rename is needed), puts the host end on bridge and
 * up, then configures eth0, lo and the default route from a helper thread.
 * On failure the pair is deleted again. */
int rt_net_attach(const char *netns_path, const char *bridge, const char *host_ifname,
		  const char *addr_cidr, const char *gateway, rt_error_t *err)
{
	if (check_ifname(host_ifname, err) < 0 || check_ifname(bridge, err) < 0)
		return -1;
	struct netns_job job = {.nsfd = -1};
	if (parse_addr(addr_cidr, true, &job.addr, &job.prefix) < 0)
		return rt_error_set(err, EINVAL, "attaching `%s`: invalid address `%s`",
				    host_ifname, addr_cidr ? addr_cidr : "");
	if (parse_addr(gateway, false, &job.gw, NULL) < 0)
		return rt_error_set(err, EINVAL, "attaching `%s`: invalid gateway `%s`",
				    host_ifname, gateway ? gateway : "");
	struct link_info br;
	int r = link_get(bridge, &br);
	if (r < 0)
		return rt_error_set(err, -r, "attaching `%s`: bridge `%s`", host_ifname, bridge);
	job.nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (job.nsfd < 0)
		return rt_error_set(err, errno, "attaching `%s`: opening network namespace `%s`",
				    host_ifname, netns_path);

	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_ifname);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)job.nsfd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	r = nl_talk(nlh, NULL, NULL);
	if (r < 0) {
		close(job.nsfd);
		return rt_error_set(err, -r, "creating veth `%s` with peer eth0 in `%s`",
				    host_ifname, netns_path);
	}

	struct link_info host;
	r = link_get(host_ifname, &host);
	if (r == 0)
		r = link_set_up(host.index, br.index);
	if (r < 0) {
		rt_error_set(err, -r, "attaching veth `%s` to bridge `%s`", host_ifname, bridge);
		goto fail;
	}

	pthread_t th;
	r = pthread_create(&th, NULL, netns_thread, &job);
	if (r != 0) {
		rt_error_set(err, r, "attaching `%s`: starting the namespace thread", host_ifname);
		goto fail;
	}
	pthread_join(th, NULL);
	if (job.ret < 0) {
		if (err != NULL)
			*err = job.err;
		rt_error_wrap(err, "attaching `%s` in `%s`", host_ifname, netns_path);
		goto fail;
	}
	close(job.nsfd);
	return 0;
fail:
	close(job.nsfd);
	if (link_get(host_ifname, &host) == 0)
		link_delete(host.index);
	return -1;
}
