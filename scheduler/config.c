/* schedd's command line: flags, durations, the cluster CIDR. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"

int sched_parse_duration(const char *s, int64_t *ms)
{
	char *end;
	double v;
	double mult;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -EINVAL;
	v *= mult;
	if (v < 0 || v > 1e15)
		return -EINVAL;
	*ms = (int64_t)(v + 0.5);
	return 0;
}

int sched_parse_cidr(const char *s, uint32_t *base, int *prefix)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || p < 8 || p > 23)
		return -EINVAL;
	*prefix = (int)p;
	*base = ntohl(a.s_addr) & (0xffffffffu << (32 - p));
	return 0;
}

int sched_pod_cidr(uint32_t base, int prefix, int index, char *buf, size_t len)
{
	uint32_t count = 1u << (24 - prefix);
	uint32_t addr;
	struct in_addr a;
	char ip[INET_ADDRSTRLEN];

	if (index < 1 || (uint32_t)index >= count)
		return -ERANGE;
	addr = base + ((uint32_t)index << 8);
	a.s_addr = htonl(addr);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, len, "%s/24", ip);
	return 0;
}

static const char usage[] =
    "Usage: schedd [flags]\n"
    "\n"
    "The nodelet scheduler: serves the HTTP/JSON API and the node WebSocket\n"
    "(" API_WS_PATH ", subprotocol " API_WS_SUBPROTOCOL ") on one port.\n"
    "\n"
    "Flags:\n"
    "  --listen ADDR:PORT         address to serve on (default 127.0.0.1:7080)\n"
    "  --data DIR                 state directory, holds schedd.db (default /var/lib/schedd)\n"
    "  --node-grace DUR           no heartbeat for this long -> node NotReady (default 40s)\n"
    "  --eviction-timeout DUR     NotReady for this long -> its pods are re-placed (default 300s)\n"
    "  --heartbeat-interval DUR   heartbeat interval told to nodes (default 5s)\n"
    "  --cluster-cidr CIDR        pod network; each node gets a /24 of it (default 10.244.0.0/16)\n"
    "  --token-file FILE          require 'Authorization: Bearer <token>' on /api\n"
    "  --help                     print this help\n"
    "  --version                  print the version\n"
    "\n"
    "Durations: 1500ms, 40s, 5m, 1h, or a number of seconds.\n";

static int parse_listen(sched_config_t *cfg, const char *s, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;
	struct in_addr a;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(cfg->listen_host)) {
		snprintf(err, errlen, "--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:7080", s);
		return -EINVAL;
	}
	memcpy(cfg->listen_host, s, (size_t)(colon - s));
	cfg->listen_host[colon - s] = '\0';
	if (!strcmp(cfg->listen_host, "localhost"))
		snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535) {
		snprintf(err, errlen, "--listen %s: invalid port \"%s\"", s, colon + 1);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, cfg->listen_host, &a) != 1) {
		snprintf(err, errlen, "--listen %s: \"%s\" is not an IPv4 address", s,
			 cfg->listen_host);
		return -EINVAL;
	}
	cfg->listen_port = (int)port;
	return 0;
}

static int duration_flag(const char *flag, const char *v, int64_t *ms, bool allow_zero, char *err,
			 size_t errlen)
{
	if (sched_parse_duration(v, ms) < 0 || (!allow_zero && *ms == 0)) {
		snprintf(err, errlen, "%s %s: invalid duration (use e.g. 1500ms, 40s, 5m)", flag,
			 v);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_LISTEN = 256,
	OPT_DATA,
	OPT_GRACE,
	OPT_EVICT,
	OPT_HB,
	OPT_CIDR,
	OPT_TOKEN,
	OPT_HELP,
	OPT_VERSION
};

int sched_config_parse(sched_config_t *cfg, int argc, char **argv, char *err, size_t errlen)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"data", required_argument, NULL, OPT_DATA},
	    {"node-grace", required_argument, NULL, OPT_GRACE},
	    {"eviction-timeout", required_argument, NULL, OPT_EVICT},
	    {"heartbeat-interval", required_argument, NULL, OPT_HB},
	    {"cluster-cidr", required_argument, NULL, OPT_CIDR},
	    {"token-file", required_argument, NULL, OPT_TOKEN},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	cfg->listen_port = 7080;
	cfg->data_dir = "/var/lib/schedd";
	cfg->node_grace_ms = 40000;
	cfg->eviction_timeout_ms = 300000;
	cfg->heartbeat_interval_ms = 5000;
	sched_parse_cidr("10.244.0.0/16", &cfg->cidr_base, &cfg->cidr_prefix);

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			if (parse_listen(cfg, optarg, err, errlen) < 0)
				return -EINVAL;
			break;
		case OPT_DATA:
			if (!*optarg) {
				snprintf(err, errlen, "--data: empty directory name");
				return -EINVAL;
			}
			cfg->data_dir = optarg;
			break;
		case OPT_GRACE:
			if (duration_flag("--node-grace", optarg, &cfg->node_grace_ms, false, err,
					  errlen) < 0)
				return -EINVAL;
			break;
		case OPT_EVICT:
			if (duration_flag("--eviction-timeout", optarg, &cfg->eviction_timeout_ms,
					  true, err, errlen) < 0)
				return -EINVAL;
			break;
		case OPT_HB:
			if (duration_flag("--heartbeat-interval", optarg,
					  &cfg->heartbeat_interval_ms, false, err, errlen) < 0)
				return -EINVAL;
			if (cfg->heartbeat_interval_ms > 0xffffffffLL) {
				snprintf(err, errlen, "--heartbeat-interval %s: too long", optarg);
				return -EINVAL;
			}
			break;
		case OPT_CIDR:
			if (sched_parse_cidr(optarg, &cfg->cidr_base, &cfg->cidr_prefix) < 0) {
				snprintf(err, errlen,
					 "--cluster-cidr %s: expected an IPv4 CIDR with a prefix "
					 "from /8 to /23, e.g. 10.244.0.0/16",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_TOKEN:
			cfg->token_file = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(usage, stdout);
			return 1;
		case OPT_VERSION:
			printf("schedd %s (protocol %d)\n", SCHED_VERSION, API_PROTOCOL_VERSION);
			return 1;
		case ':':
			snprintf(err, errlen, "%s: missing value (see schedd --help)",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown flag %s (see schedd --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" (see schedd --help)",
			 argv[optind]);
		return -EINVAL;
	}
	return 0;
}
