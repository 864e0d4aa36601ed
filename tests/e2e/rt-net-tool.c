/* rt-net-tool: drives libruntime's networking calls for the e2e tests.
 *   rt-net-tool bridge-ensure NAME GATEWAY_CIDR
 *   rt-net-tool bridge-delete NAME
 *   rt-net-tool attach NETNS_PATH BRIDGE HOST_IFNAME ADDR_CIDR GATEWAY
 *   rt-net-tool detach HOST_IFNAME
 *   rt-net-tool exists IFNAME          (exit 0 if it exists, 1 if not)
 *   rt-net-tool ipam DIR CIDR allocate|release OWNER
 */
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"

static int usage(void)
{
	fprintf(stderr, "usage: rt-net-tool bridge-ensure NAME CIDR | bridge-delete NAME | "
			"attach NETNS BRIDGE HOSTIF ADDR/LEN GW | detach HOSTIF | exists IF | "
			"ipam DIR CIDR allocate|release OWNER\n");
	return 2;
}

int main(int argc, char **argv)
{
	rt_error_t err = {0};
	int r;
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "bridge-ensure") == 0 && argc == 4)
		r = rt_net_bridge_ensure(argv[2], argv[3], &err);
	else if (strcmp(cmd, "bridge-delete") == 0 && argc == 3)
		r = rt_net_bridge_delete(argv[2], &err);
	else if (strcmp(cmd, "attach") == 0 && argc == 7) {
		r = rt_net_attach(argv[2], argv[3], argv[4], argv[5], argv[6], &err);
		/* The namespace work happens on a helper thread: this thread must
		 * still see the host end afterwards. */
		if (r == 0 && !rt_net_link_exists(argv[4]))
			r = rt_error_set(&err, 0,
					 "after attach `%s` is not visible: the caller "
					 "left its network namespace",
					 argv[4]);
	} else if (strcmp(cmd, "detach") == 0 && argc == 3)
		r = rt_net_detach(argv[2], &err);
	else if (strcmp(cmd, "exists") == 0 && argc == 3)
		return rt_net_link_exists(argv[2]) ? 0 : 1;
	else if (strcmp(cmd, "ipam") == 0 && argc == 6) {
		rt_ipam_t *ipam = NULL;
		char ip[64] = "";
		r = rt_ipam_open(argv[2], argv[3], &ipam, &err);
		if (r == 0 && strcmp(argv[4], "allocate") == 0) {
			r = rt_ipam_allocate(ipam, argv[5], ip, &err);
			if (r == 0)
				printf("%s\n", ip);
		} else if (r == 0 && strcmp(argv[4], "release") == 0) {
			r = rt_ipam_release(ipam, argv[5], &err);
		} else if (r == 0) {
			rt_ipam_close(ipam);
			return usage();
		}
		rt_ipam_close(ipam);
	} else
		return usage();
	if (r < 0) {
		fprintf(stderr, "rt-net-tool %s: %s\n", cmd, err.msg);
		return 1;
	}
	return 0;
}
