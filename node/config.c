/* nodelet's command line: flags, defaults, and the small parsers behind them
 * (labels, durations, the server URL). Pure: no I/O but printing --help. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/nodelet-internal.h"

void node_config_usage(FILE *f, const char *argv0)
{
	fprintf(
	    f,
	    "Usage: %s [flags]\n"
	    "The nodelet node agent: registers with schedd and runs the pods it is given.\n\n"
	    "  --server URL          schedd WebSocket (default ws://127.0.0.1:7080)\n"
	    "  --name NAME           node name (default: hostname)\n"
	    "  --root DIR            state directory (default /var/lib/nodelet)\n"
	    "  --cgroup-parent NAME  cgroup holding the pods (default nodelet)\n"
	    "  --bridge NAME         pod bridge (default nodelet0)\n"
	    "  --image-dir DIR       local OCI image layout, looked in before pulling\n"
	    "                        (default /var/lib/nodelet/images)\n"
	    "  --default-registry HOST[:PORT]\n"
	    "                        registry of images named without one (default docker.io)\n"
	    "  --registry-credentials FILE\n"
	    "                        registry logins (Docker config.json \"auths\" format)\n"
	    "  --insecure-registry HOST[:PORT]\n"
	    "                        registry with no TLS checks: HTTPS unverified, then\n"
	    "                        plain HTTP (repeatable)\n"
	    "  --image-gc-high-threshold PCT\n"
	    "                        collect unused pulled images when the image filesystem\n"
	    "                        is at least PCT%% used (default 85; 100: never)\n"
	    "  --image-gc-low-threshold PCT\n"
	    "                        ... down to PCT%% (default 80)\n"
	    "  --image-gc-period DUR how often usage is checked (default 5m)\n"
	    "  --max-layer-size QUANTITY\n"
	    "                        most one image layer may unpack to (default 10Gi)\n"
	    "  --max-image-pull-size QUANTITY\n"
	    "                        largest blob (layer, config) a pull accepts (default 10Gi)\n"
	    "  --labels k=v,...      node labels\n"
	    "  --log-dir DIR         container logs (default /var/log/pods)\n"
	    "  --address IP          reported InternalIP (default: first non-loopback IPv4)\n"
	    "  --max-pods N          pods capacity (default 110)\n"
	    "  --cpu MILLIS          CPU capacity: millicores (2000) or a quantity (1500m, 1.5);\n"
	    "                        default: online CPUs x 1000\n"
	    "  --memory QUANTITY     memory capacity, e.g. 4Gi (default: MemTotal)\n"
	    "  --crash-backoff DUR   CrashLoopBackOff base delay (default 10s, max 5m)\n"
	    "  --shim PATH           nodelet-shim binary (default: next to nodelet)\n"
	    "  --pause PATH          nodelet-pause binary (default: next to nodelet)\n"
	    "  --help, --version\n",
	    argv0);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

int node_parse_labels(const char *s, api_kvlist_t *l, char *errbuf, size_t errlen)
{
	char *copy = xstrdup(s), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			snprintf(errbuf, errlen, "--labels: \"%s\" is not key=value", tok);
			rc = -1;
			break;
		}
		*eq = '\0';
		const char *key = tok, *val = eq + 1;
		/* A key may carry a DNS-subdomain prefix ("example.com/zone"). */
		const char *slash = strrchr(key, '/');
		const char *kname = slash ? slash + 1 : key;
		bool ok = strlen(kname) > 0 && strlen(kname) <= 63;
		for (const char *p = kname; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
		for (const char *p = val; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
		if (ok && strlen(val) > 63)
			ok = false;
		if (!ok) {
			snprintf(errbuf, errlen, "--labels: invalid label \"%s=%s\"", key, val);
			rc = -1;
			break;
		}
		api_kv_set(l, key, val);
	}
	free(copy);
	return rc;
}

int node_parse_duration(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -EINVAL;
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return -EINVAL;
	double mul;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else
		return -EINVAL;
	double r = v * mul;
	if (r > 1e15)
		return -EINVAL;
	*ms = (int64_t)(r + 0.5);
	return 0;
}

int node_parse_ws_url(const char *url, char **host, int *port)
{
	if (strncmp(url, "ws://", 5) != 0)
		return -EINVAL;
	const char *h = url + 5;
	size_t hl = strcspn(h, ":/");
	if (hl == 0)
		return -EINVAL;
	int p = 80;
	const char *rest = h + hl;
	if (*rest == ':') {
		char *end;
		long v = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || v < 1 || v > 65535 || (*end && *end != '/'))
			return -EINVAL;
		p = (int)v;
	} else if (*rest && *rest != '/') {
		return -EINVAL;
	}
	*host = strndup(h, hl);
	if (!*host)
		abort();
	*port = p;
	return 0;
}

/* The directory of /proc/self/exe joined with name. */
static char *beside_self(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return xstrdup(name);
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	char *out;
	if (asprintf(&out, "%s/%s", self, name) < 0)
		abort();
	return out;
}

enum {
	OPT_SERVER = 256,
	OPT_NAME,
	OPT_ROOT,
	OPT_CGROUP,
	OPT_BRIDGE,
	OPT_IMAGES,
	OPT_LABELS,
	OPT_LOGDIR,
	OPT_ADDRESS,
	OPT_MAXPODS,
	OPT_CPU,
	OPT_MEMORY,
	OPT_BACKOFF,
	OPT_SHIM,
	OPT_PAUSE,
	OPT_HELP,
	OPT_VERSION,
	OPT_DEFREG,
	OPT_REGCREDS,
	OPT_INSECURE,
	OPT_GC_HIGH,
	OPT_GC_LOW,
	OPT_GC_PERIOD,
	OPT_MAX_LAYER,
	OPT_MAX_PULL,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"name", required_argument, NULL, OPT_NAME},
    {"root", required_argument, NULL, OPT_ROOT},
    {"cgroup-parent", required_argument, NULL, OPT_CGROUP},
    {"bridge", required_argument, NULL, OPT_BRIDGE},
    {"image-dir", required_argument, NULL, OPT_IMAGES},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"log-dir", required_argument, NULL, OPT_LOGDIR},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"max-pods", required_argument, NULL, OPT_MAXPODS},
    {"cpu", required_argument, NULL, OPT_CPU},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"crash-backoff", required_argument, NULL, OPT_BACKOFF},
    {"shim", required_argument, NULL, OPT_SHIM},
    {"pause", required_argument, NULL, OPT_PAUSE},
    {"default-registry", required_argument, NULL, OPT_DEFREG},
    {"registry-credentials", required_argument, NULL, OPT_REGCREDS},
    {"insecure-registry", required_argument, NULL, OPT_INSECURE},
    {"image-gc-high-threshold", required_argument, NULL, OPT_GC_HIGH},
    {"image-gc-low-threshold", required_argument, NULL, OPT_GC_LOW},
    {"image-gc-period", required_argument, NULL, OPT_GC_PERIOD},
    {"max-layer-size", required_argument, NULL, OPT_MAX_LAYER},
    {"max-image-pull-size", required_argument, NULL, OPT_MAX_PULL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

int node_config_parse(int argc, char **argv, node_config_t *cfg, char *errbuf, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->server = xstrdup("ws://127.0.0.1:7080");
	cfg->root = xstrdup("/var/lib/nodelet");
	cfg->cgroup_parent = xstrdup("nodelet");
	cfg->bridge = xstrdup("nodelet0");
	cfg->image_dir = xstrdup("/var/lib/nodelet/images");
	cfg->log_dir = xstrdup("/var/log/pods");
	cfg->max_pods = 110;
	cfg->crash_backoff_ms = 10000;
	cfg->image_gc_high = 85;
	cfg->image_gc_low = 80;
	cfg->image_gc_period_ms = 5 * 60 * 1000;
	cfg->max_layer_bytes = 10LL << 30;
	cfg->max_pull_blob_bytes = 10LL << 30;

	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case OPT_SERVER:
			set_str(&cfg->server, optarg);
			break;
		case OPT_NAME:
			set_str(&cfg->name, optarg);
			break;
		case OPT_ROOT:
			set_str(&cfg->root, optarg);
			break;
		case OPT_CGROUP:
			set_str(&cfg->cgroup_parent, optarg);
			break;
		case OPT_BRIDGE:
			set_str(&cfg->bridge, optarg);
			break;
		case OPT_IMAGES:
			set_str(&cfg->image_dir, optarg);
			break;
		case OPT_LOGDIR:
			set_str(&cfg->log_dir, optarg);
			break;
		case OPT_ADDRESS:
			set_str(&cfg->address, optarg);
			break;
		case OPT_SHIM:
			set_str(&cfg->shim_path, optarg);
			break;
		case OPT_PAUSE:
			set_str(&cfg->pause_path, optarg);
			break;
		case OPT_DEFREG:
		case OPT_INSECURE: {
			/* checked the way image references read a registry host */
			rt_imageref_t r;
			rt_error_t e;
			if (rt_imageref_parse("x", optarg, &r, &e) < 0) {
				snprintf(errbuf, errlen,
					 "--%s: \"%s\" is not a registry HOST[:PORT]",
					 c == OPT_DEFREG ? "default-registry" : "insecure-registry",
					 optarg);
				return -1;
			}
			rt_imageref_clear(&r);
			if (c == OPT_DEFREG) {
				set_str(&cfg->default_registry, optarg);
				break;
			}
			cfg->insecure_registries = realloc(cfg->insecure_registries,
							   (cfg->ninsecure + 2) * sizeof(char *));
			if (!cfg->insecure_registries)
				abort();
			cfg->insecure_registries[cfg->ninsecure++] = xstrdup(optarg);
			cfg->insecure_registries[cfg->ninsecure] = NULL;
			break;
		}
		case OPT_GC_HIGH:
		case OPT_GC_LOW: {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 100) {
				snprintf(errbuf, errlen,
					 "--image-gc-%s-threshold: \"%s\" is not a "
					 "percentage (0-100)",
					 c == OPT_GC_HIGH ? "high" : "low", optarg);
				return -1;
			}
			*(c == OPT_GC_HIGH ? &cfg->image_gc_high : &cfg->image_gc_low) = (int)v;
			break;
		}
		case OPT_MAX_LAYER:
		case OPT_MAX_PULL: {
			int64_t *dst =
			    c == OPT_MAX_LAYER ? &cfg->max_layer_bytes : &cfg->max_pull_blob_bytes;
			if (api_quantity_parse_memory(optarg, dst) < 0 || *dst <= 0) {
				snprintf(
				    errbuf, errlen, "--%s: invalid size \"%s\" (e.g. 512Mi, 10Gi)",
				    c == OPT_MAX_LAYER ? "max-layer-size" : "max-image-pull-size",
				    optarg);
				return -1;
			}
			break;
		}
		case OPT_GC_PERIOD:
			if (node_parse_duration(optarg, &cfg->image_gc_period_ms) < 0 ||
			    cfg->image_gc_period_ms <= 0) {
				snprintf(errbuf, errlen,
					 "--image-gc-period: invalid duration \"%s\"", optarg);
				return -1;
			}
			break;
		case OPT_REGCREDS:
			set_str(&cfg->registry_credentials, optarg);
			break;
		case OPT_LABELS:
			if (node_parse_labels(optarg, &cfg->labels, errbuf, errlen) < 0)
				return -1;
			break;
		case OPT_MAXPODS: {
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > 100000) {
				snprintf(errbuf, errlen, "--max-pods: invalid number \"%s\"",
					 optarg);
				return -1;
			}
			cfg->max_pods = v;
			break;
		}
		case OPT_CPU:
			/* A plain integer is millicores (--cpu 2000); anything else is
			 * a Kubernetes CPU quantity ("1500m", "1.5"). */
			if (optarg[0] && strspn(optarg, "0123456789") == strlen(optarg)) {
				errno = 0;
				cfg->cpu_millis = strtoll(optarg, &end, 10);
				if (errno)
					cfg->cpu_millis = 0;
			} else if (api_quantity_parse_cpu(optarg, &cfg->cpu_millis) < 0) {
				cfg->cpu_millis = 0;
			}
			if (cfg->cpu_millis <= 0) {
				snprintf(errbuf, errlen, "--cpu: invalid CPU quantity \"%s\"",
					 optarg);
				return -1;
			}
			break;
		case OPT_MEMORY:
			if (api_quantity_parse_memory(optarg, &cfg->memory_bytes) < 0 ||
			    cfg->memory_bytes <= 0) {
				snprintf(errbuf, errlen, "--memory: invalid memory quantity \"%s\"",
					 optarg);
				return -1;
			}
			break;
		case OPT_BACKOFF:
			if (node_parse_duration(optarg, &cfg->crash_backoff_ms) < 0 ||
			    cfg->crash_backoff_ms <= 0) {
				snprintf(errbuf, errlen, "--crash-backoff: invalid duration \"%s\"",
					 optarg);
				return -1;
			}
			break;
		case OPT_HELP:
			node_config_usage(stdout, argv[0]);
			return 1;
		case OPT_VERSION:
			printf("nodelet %s\n", NODE_VERSION);
			return 1;
		case '?':
		default:
			if (optopt)
				snprintf(errbuf, errlen, "flag %s needs a value", argv[optind - 1]);
			else
				snprintf(errbuf, errlen, "unknown flag %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(errbuf, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (node_parse_ws_url(cfg->server, &cfg->server_host, &cfg->server_port) < 0) {
		snprintf(errbuf, errlen, "--server: \"%s\" is not ws://HOST:PORT", cfg->server);
		return -1;
	}
	if (!cfg->name) {
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !host[0])
			snprintf(host, sizeof host, "node");
		cfg->name = xstrdup(host);
	}
	if (!api_is_dns1123_subdomain(cfg->name)) {
		snprintf(errbuf, errlen, "--name: \"%s\" is not a DNS-1123 subdomain", cfg->name);
		return -1;
	}
	if (!valid_name(cfg->bridge, 15)) {
		snprintf(errbuf, errlen, "--bridge: \"%s\" is not a valid interface name (max 15)",
			 cfg->bridge);
		return -1;
	}
	if (!valid_name(cfg->cgroup_parent, 200) || strstr(cfg->cgroup_parent, "..")) {
		/* Allow nested parents ("a/b") too. */
		bool ok = cfg->cgroup_parent[0] && !strstr(cfg->cgroup_parent, "..") &&
			  cfg->cgroup_parent[0] != '/';
		for (const char *p = cfg->cgroup_parent; ok && *p; p++)
			ok = *p == '/' || *p == '-' || *p == '_' || *p == '.' ||
			     (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!ok) {
			snprintf(errbuf, errlen, "--cgroup-parent: invalid cgroup name \"%s\"",
				 cfg->cgroup_parent);
			return -1;
		}
	}
	if (cfg->root[0] != '/' || cfg->log_dir[0] != '/' || cfg->image_dir[0] != '/') {
		char *abs[3] = {NULL, NULL, NULL};
		char **fields[3] = {&cfg->root, &cfg->log_dir, &cfg->image_dir};
		for (int i = 0; i < 3; i++) {
			if ((*fields[i])[0] == '/')
				continue;
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof cwd)) {
				snprintf(errbuf, errlen, "getcwd: %s", strerror(errno));
				return -1;
			}
			if (asprintf(&abs[i], "%s/%s", cwd, *fields[i]) < 0)
				abort();
			free(*fields[i]);
			*fields[i] = abs[i];
		}
	}
	if (cfg->image_gc_low > cfg->image_gc_high) {
		snprintf(errbuf, errlen,
			 "--image-gc-low-threshold (%d) must not be above "
			 "--image-gc-high-threshold (%d)",
			 cfg->image_gc_low, cfg->image_gc_high);
		return -1;
	}
	if (!cfg->shim_path)
		cfg->shim_path = beside_self("nodelet-shim");
	if (!cfg->pause_path)
		cfg->pause_path = beside_self("nodelet-pause");
	return 0;
}

void node_config_free(node_config_t *cfg)
{
	free(cfg->server);
	free(cfg->server_host);
	free(cfg->name);
	free(cfg->root);
	free(cfg->cgroup_parent);
	free(cfg->bridge);
	free(cfg->image_dir);
	free(cfg->log_dir);
	free(cfg->address);
	free(cfg->shim_path);
	free(cfg->pause_path);
	free(cfg->default_registry);
	free(cfg->registry_credentials);
	for (size_t i = 0; i < cfg->ninsecure; i++)
		free(cfg->insecure_registries[i]);
	free(cfg->insecure_registries);
	api_kvlist_free(&cfg->labels);
	memset(cfg, 0, sizeof *cfg);
}
