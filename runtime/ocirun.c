/* ocirun: the OCI runtime command line over libruntime (create, start, state,
 * kill, delete, run, exec, ps, list, spec, features, update, pause, resume), following runc's
 * interface: global --root, --log, --log-format; exit status 1 on error, and `run` exits with the
 * container's status (128+N when killed by signal N). */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runtime/ocirun.h"
#include "runtime/runtime.h"

static const char *g_root = "/run/ocirun";
static const char *g_log;
static bool g_log_json;

/* Reports an error on stderr and, with --log, in the log file. Returns 1. */
int ocirun__report(const char *msg)
{
	fprintf(stderr, "ocirun: %s\n", msg);
	if (g_log) {
		FILE *f = fopen(g_log, "ae");
		if (f) {
			char ts[64];
			time_t t = time(NULL);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			if (g_log_json) {
				json_t *j = json_pack("{s:s, s:s, s:s}", "level", "error", "msg",
						      msg, "time", ts);
				char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
				if (s)
					fprintf(f, "%s\n", s);
				free(s);
				json_decref(j);
			} else {
				fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", ts, msg);
			}
			fclose(f);
		}
	}
	return 1;
}

int ocirun__fail(const rt_error_t *err)
{
	return ocirun__report(err->msg);
}

int ocirun__usage_error(const char *cmd, const char *what)
{
	char m[512];
	snprintf(m, sizeof(m), "%s: %s (see `ocirun %s --help`)", cmd, what, cmd);
	return ocirun__report(m);
}

/* ---- signals ----------------------------------------------------------- */

static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && *end == '\0')
		return n > 0 && n < NSIG ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *a = sigabbrev_np(i);
		if (a && strcasecmp(a, s) == 0)
			return i;
	}
	return -1;
}

/* ---- help -------------------------------------------------------------- */

static const struct {
	const char *cmd, *args, *text;
} helps[] = {
    {"create", "[--bundle DIR] [--pid-file FILE] [--console-socket PATH] ID",
     "Creates container ID from the bundle (default: the current directory); its process\n"
     "waits for `ocirun start`.\n"
     "  -b, --bundle DIR     bundle directory holding config.json\n"
     "      --pid-file FILE  write the container's pid to FILE\n"
     "      --console-socket PATH  with process.terminal: send the pty master to the unix\n"
     "                       socket at PATH (SCM_RIGHTS)\n"},
    {"start", "ID", "Starts the process of created container ID.\n"},
    {"state", "ID", "Prints the OCI state of container ID as JSON.\n"},
    {"kill", "[--all] ID [SIGNAL]",
     "Sends SIGNAL (a name like TERM/SIGTERM or a number; default TERM) to the container.\n"
     "  -a, --all  signal every process of the container's cgroup\n"},
    {"delete", "[--force] ID",
     "Deletes stopped container ID: its cgroup and state.\n"
     "  -f, --force  kill it first if it still runs\n"},
    {"run", "[--bundle DIR] [--pid-file FILE] [--detach] ID",
     "Creates and starts container ID, waits for it, deletes it and exits with its status.\n"
     "  -b, --bundle DIR     bundle directory holding config.json\n"
     "      --pid-file FILE  write the container's pid to FILE\n"
     "      --console-socket PATH  as for create\n"
     "  -d, --detach         return once it runs\n"},
    {"exec", "[OPTIONS] ID [COMMAND [ARG...]]",
     "Runs a new process in running container ID: its namespaces, cgroup, capabilities,\n"
     "no_new_privs and seccomp filter; exits with the process's status (128+N when killed\n"
     "by signal N).\n"
     "  -p, --process FILE   the process, a runtime-spec `process` object (JSON)\n"
     "  -e, --env K=V        add or replace an environment variable (repeatable)\n"
     "      --cwd DIR        working directory inside the container\n"
     "  -u, --user UID[:GID] run as this user\n"
     "      --pid-file FILE  write the process's pid to FILE\n"
     "  -d, --detach         return once it runs\n"
     "  -t, --tty            a terminal; needs --console-socket PATH, where the pty\n"
     "                       master is sent\n"},
    {"ps", "[--format table|json] ID",
     "Lists the (host) pids of container ID's processes.\n"
     "  -f, --format FORMAT  table (default) or json\n"},
    {"list", "[--quiet] [--format table|json]",
     "Lists containers.\n"
     "  -q, --quiet          ids only\n"
     "  -f, --format FORMAT  table (default) or json\n"},
    {"spec", "[--bundle DIR]",
     "Writes a default config.json (secure defaults, args [\"sh\"], rootfs \"rootfs\").\n"
     "  -b, --bundle DIR  where to write it (default: the current directory)\n"},
    {"features", "", "Prints what this runtime supports, as JSON.\n"},
    {"update", "[--resources FILE|-] [OPTIONS] ID",
     "Applies new cgroup limits to created, running or paused container ID: a runtime-spec\n"
     "`linux.resources` object from FILE (`-`: standard input), then the options below,\n"
     "which override it. Only what is given changes. SIZE: bytes, or with a k, m, g or t\n"
     "suffix (1024-based, as runc).\n"
     "  -r, --resources FILE         linux.resources JSON (`-`: stdin)\n"
     "      --memory SIZE            memory limit\n"
     "      --memory-reservation SIZE  memory soft limit\n"
     "      --memory-swap SIZE       memory plus swap limit (-1: unlimited swap)\n"
     "      --cpu-shares N           CPU shares (relative weight)\n"
     "      --cpu-quota US           CFS quota per period, microseconds\n"
     "      --cpu-period US          CFS period, microseconds\n"
     "      --cpuset-cpus LIST       CPUs allowed (\"0-2,4\")\n"
     "      --cpuset-mems LIST       memory nodes allowed\n"
     "      --pids-limit N           maximum number of tasks\n"
     "      --blkio-weight N         block IO weight (10..1000)\n"},
    {"pause", "ID",
     "Freezes every process of running container ID (its cgroup); `state` then says\n"
     "\"paused\" until `ocirun resume`. `kill` with KILL and `delete --force` still work.\n"},
    {"resume", "ID", "Thaws paused container ID: it is running again.\n"},
};

static void main_usage(FILE *f)
{
	fprintf(f, "usage: ocirun [--root DIR] [--log FILE] [--log-format text|json] COMMAND "
		   "[ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		fprintf(f, "  %-9s %s\n", helps[i].cmd, helps[i].args);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR          state directory (default /run/ocirun)\n"
		   "  --log FILE          also write errors to FILE\n"
		   "  --log-format FMT    text (default) or json\n"
		   "  -h, --help          this help; `ocirun COMMAND --help` for a command\n");
}

int ocirun__help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].cmd, cmd) == 0) {
			printf("usage: ocirun %s %s\n\n%s", cmd, helps[i].args, helps[i].text);
			return 0;
		}
	return 1;
}

/* ---- commands ---------------------------------------------------------- */

typedef struct cmd_opts {
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	const char *format;
	bool all, force, detach, quiet, help;
	int nargs;
	char **args;
} cmd_opts_t;

static int parse_cmd(const char *cmd, int argc, char **argv, cmd_opts_t *o)
{
	static const struct option longopts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'C'},
	    {"all", no_argument, NULL, 'a'},
	    {"force", no_argument, NULL, 'F'},
	    {"detach", no_argument, NULL, 'd'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	/* -f is --force for delete and --format for list, as in runc. */
	bool f_is_force = strcmp(cmd, "delete") == 0;
	int c;
	while ((c = getopt_long(argc, argv, "+b:adqf:Fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'C':
			o->console_socket = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case 'F':
			o->force = true;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'f':
			if (f_is_force) {
				o->force = true;
				optind--; /* -f takes no argument here */
			} else {
				o->format = optarg;
			}
			break;
		case 'h':
			o->help = true;
			break;
		default: {
			char m[128];
			snprintf(m, sizeof(m), "unknown option `%s`", argv[optind - 1]);
			return ocirun__usage_error(cmd, m);
		}
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

static int need_id(const char *cmd, const cmd_opts_t *o, int max)
{
	if (o->nargs < 1)
		return ocirun__usage_error(cmd, "container id missing");
	if (o->nargs > max)
		return ocirun__usage_error(cmd, "too many arguments");
	return 0;
}

static int do_create(const char *cmd, cmd_opts_t *o, pid_t *pid)
{
	rt_error_t err;
	rt_create_opts_t co = {
	    .stdio = {0, 1, 2}, .pid_file = o->pid_file, .console_socket = o->console_socket};
	if (rt_container_create(g_root, o->args[0], o->bundle ? o->bundle : ".", &co, pid, &err) <
	    0)
		return ocirun__fail(&err);
	(void)cmd;
	return 0;
}

static pid_t g_child;
static void forward(int sig)
{
	if (g_child > 0)
		kill(g_child, sig);
}

static int wait_child(pid_t pid, const char *what);

/* ---- run with process.terminal and no --console-socket ------------------ */

static int cmd_run(cmd_opts_t *o)
{
	if (need_id("run", o, 1))
		return 1;
	pid_t pid;
	rt_error_t err;
	/* A terminal and nobody to hand it to: we hold the pty, as runc does. */
	int lsock = -1, master = -1;
	char cdir[64], cpath[96];
	if (!o->console_socket && ocirun__wants_terminal(o->bundle ? o->bundle : ".")) {
		if (o->detach)
			return ocirun__usage_error("run", "--detach with process.terminal needs "
							  "--console-socket");
		if ((lsock = ocirun__console_listener(cdir, cpath)) < 0) {
			rt_error_set(&err, errno, "run: making a console socket");
			return ocirun__fail(&err);
		}
		o->console_socket = cpath;
	}
	int rc = do_create("run", o, &pid);
	if (lsock >= 0) {
		if (rc == 0)
			master = ocirun__recv_master(lsock);
		close(lsock);
		unlink(cpath);
		rmdir(cdir);
		if (rc == 0 && master < 0) {
			rt_error_t e2;
			rt_container_delete(g_root, o->args[0], true, &e2);
			return ocirun__report("run: no terminal came back from the container");
		}
	}
	if (rc)
		return 1;
	if (rt_container_start(g_root, o->args[0], &err) < 0) {
		rt_error_t e2;
		rt_container_delete(g_root, o->args[0], true, &e2);
		if (master >= 0)
			close(master);
		return ocirun__fail(&err);
	}
	if (o->detach)
		return 0;
	if (master >= 0) {
		ocirun__relay(master);
		close(master);
	}
	int code = wait_child(pid, "the container");
	if (code < 0)
		return 1;
	if (rt_container_delete(g_root, o->args[0], true, &err) < 0)
		ocirun__fail(&err);
	return code;
}

static int wait_child(pid_t pid, const char *what)
{
	g_child = pid;
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rt_error_t err;
			rt_error_set(&err, errno, "waiting for %s", what);
			ocirun__fail(&err);
			return -1;
		}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'c'},
	    {"user", required_argument, NULL, 'u'},
	    {"pid-file", required_argument, NULL, 'P'},
	    {"detach", no_argument, NULL, 'd'},
	    {"tty", no_argument, NULL, 't'},
	    {"console-socket", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	rt_exec_opts_t eo = {.stdio = {0, 1, 2}};
	const char *process_file = NULL;
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	size_t nenv = 0;
	bool detach = false, tty = false;
	optind = 0;
	opterr = 0;
	int c, rc = 1;
	while ((c = getopt_long(argc, argv, "+p:e:u:dth", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			process_file = optarg;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL) {
				ocirun__usage_error("exec", "--env takes K=V");
				goto out;
			}
			env[nenv++] = optarg;
			break;
		case 'c':
			eo.cwd = optarg;
			break;
		case 'u': {
			char *end;
			unsigned long u = strtoul(optarg, &end, 10), g = 0;
			if (end == optarg || (*end && *end != ':')) {
				ocirun__usage_error("exec", "--user takes UID[:GID] (numbers)");
				goto out;
			}
			if (*end == ':') {
				char *gs = end + 1;
				g = strtoul(gs, &end, 10);
				if (end == gs || *end) {
					ocirun__usage_error("exec",
							    "--user takes UID[:GID] (numbers)");
					goto out;
				}
			}
			eo.has_user = true;
			eo.uid = (uid_t)u;
			eo.gid = (gid_t)g;
			break;
		}
		case 'P':
			eo.pid_file = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 't':
			tty = true;
			break;
		case 'C':
			eo.console_socket = optarg;
			break;
		case 'h':
			rc = ocirun__help("exec");
			goto out;
		default: {
			char m[128];
			snprintf(m, sizeof(m), "unknown option `%s`", argv[optind - 1]);
			ocirun__usage_error("exec", m);
			goto out;
		}
		}
	}
	if (optind >= argc) {
		ocirun__usage_error("exec", "container id missing");
		goto out;
	}
	if (tty != (eo.console_socket != NULL)) {
		ocirun__usage_error("exec",
				    "--tty and --console-socket go together (the pty master is "
				    "sent to the socket)");
		goto out;
	}
	const char *id = argv[optind];
	eo.args = argv + optind + 1;
	eo.env = env;
	char *process_json = NULL;
	if (process_file) {
		FILE *f = fopen(process_file, "re");
		size_t cap = 0;
		if (f == NULL || getdelim(&process_json, &cap, '\0', f) < 0) {
			rt_error_t err;
			rt_error_set(&err, errno, "exec: reading `%s`", process_file);
			if (f)
				fclose(f);
			free(process_json);
			ocirun__fail(&err);
			goto out;
		}
		fclose(f);
		eo.process_json = process_json;
	} else if (eo.args[0] == NULL) {
		ocirun__usage_error("exec", "a command or --process is required");
		goto out;
	}
	pid_t pid;
	rt_error_t err;
	int r = rt_container_exec(g_root, id, &eo, &pid, &err);
	free(process_json);
	if (r < 0) {
		ocirun__fail(&err);
		goto out;
	}
	if (detach) {
		rc = 0;
		goto out;
	}
	rc = wait_child(pid, "the exec'd process");
	if (rc < 0)
		rc = 1;
out:
	free(env);
	return rc;
}

static int cmd_state(cmd_opts_t *o)
{
	if (need_id("state", o, 1))
		return 1;
	rt_error_t err;
	char *s = rt_container_state_json(g_root, o->args[0], &err);
	if (s == NULL)
		return ocirun__fail(&err);
	printf("%s\n", s);
	free(s);
	return 0;
}

static int cmd_kill(cmd_opts_t *o)
{
	if (need_id("kill", o, 2))
		return 1;
	int sig = SIGTERM;
	if (o->nargs == 2 && (sig = parse_signal(o->args[1])) < 0) {
		char m[128];
		snprintf(m, sizeof(m), "unknown signal `%.64s`", o->args[1]);
		return ocirun__usage_error("kill", m);
	}
	rt_error_t err;
	if (rt_container_kill(g_root, o->args[0], sig, o->all, &err) < 0)
		return ocirun__fail(&err);
	return 0;
}

static int cmd_list(cmd_opts_t *o)
{
	bool json = o->format && strcmp(o->format, "json") == 0;
	if (o->format && !json && strcmp(o->format, "table") != 0)
		return ocirun__usage_error("list", "--format must be table or json");
	DIR *d = opendir(g_root);
	json_t *arr = json_array();
	if (!json && !o->quiet)
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		rt_state_t st;
		rt_error_t err;
		if (rt_container_state(g_root, de->d_name, &st, &err) < 0)
			continue;
		if (o->quiet) {
			printf("%s\n", st.id);
			continue;
		}
		char created[64];
		time_t t = (time_t)(st.created_ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:s}", "id",
							     st.id, "pid", (int)st.pid, "status",
							     rt_status_name(st.status), "bundle",
							     st.bundle, "created", created));
		else
			printf("%-24s %-8d %-10s %-40s %s\n", st.id, (int)st.pid,
			       rt_status_name(st.status), st.bundle, created);
	}
	if (d)
		closedir(d);
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(arr);
	return 0;
}

/* Lists the pids of the container's cgroup (host pids), one a line or as a
 * JSON array. */
static int cmd_ps(cmd_opts_t *o)
{
	if (need_id("ps", o, 1))
		return 1;
	bool json = o->format && strcmp(o->format, "json") == 0;
	if (o->format && !json && strcmp(o->format, "table") != 0)
		return ocirun__usage_error("ps", "--format must be table or json");
	rt_state_t st;
	rt_error_t err;
	if (rt_container_state(g_root, o->args[0], &st, &err) < 0)
		return ocirun__fail(&err);
	pid_t *pids = NULL;
	size_t n = 0;
	if (st.cgroup[0] && rt_cgroup_pids(st.cgroup, &pids, &n, &err) < 0)
		return ocirun__fail(&err);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(pids[i]));
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(a);
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	free(pids);
	return 0;
}

static int cmd_spec(cmd_opts_t *o)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", o->bundle ? o->bundle : ".");
	if (access(path, F_OK) == 0) {
		char m[PATH_MAX + 64];
		snprintf(m, sizeof(m), "spec: `%s` exists; remove it first", path);
		return ocirun__report(m);
	}
	char *text = rt_spec_default();
	FILE *f = fopen(path, "w");
	int ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	int e = errno;
	if (f != NULL && fclose(f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	free(text);
	if (!ok) {
		rt_error_t err;
		rt_error_set(&err, e, "spec: writing `%s`", path);
		return ocirun__fail(&err);
	}
	return 0;
}

static int cmd_features(void)
{
	char *s = rt_features_default();
	printf("%s\n", s);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option gopts[] = {
	    {"root", required_argument, NULL, 'r'},	  {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'L'}, {"debug", no_argument, NULL, 'D'},
	    {"systemd-cgroup", no_argument, NULL, 'S'},	  {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},	  {NULL, 0, NULL, 0},
	};
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+hv", gopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g_root = optarg;
			break;
		case 'l':
			g_log = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "json") == 0)
				g_log_json = true;
			else if (strcmp(optarg, "text") != 0)
				return ocirun__report("--log-format must be text or json");
			break;
		case 'D':
			break;
		case 'S':
			return ocirun__report("--systemd-cgroup: not supported yet");
		case 'h':
			main_usage(stdout);
			return 0;
		case 'v':
			printf("ocirun version 0.1\nspec: 1.0.2\n");
			return 0;
		default:
			main_usage(stderr);
			return ocirun__report("unknown global option");
		}
	}
	if (optind >= argc) {
		main_usage(stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	int cargc = argc - optind;
	char **cargv = argv + optind;
	if (strcmp(cmd, "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(cargc, cargv);
	if (strcmp(cmd, "update") == 0)
		return ocirun__cmd_update(g_root, cargc, cargv);
	cmd_opts_t o;
	if (parse_cmd(cmd, cargc, cargv, &o))
		return 1;
	if (o.help) {
		if (ocirun__help(cmd) != 0) {
			main_usage(stderr);
			return 1;
		}
		return 0;
	}
	rt_error_t err;
	if (strcmp(cmd, "create") == 0) {
		pid_t pid;
		return need_id(cmd, &o, 1) ? 1 : do_create(cmd, &o, &pid);
	} else if (strcmp(cmd, "start") == 0) {
		if (need_id(cmd, &o, 1))
			return 1;
		return rt_container_start(g_root, o.args[0], &err) < 0 ? ocirun__fail(&err) : 0;
	} else if (strcmp(cmd, "state") == 0) {
		return cmd_state(&o);
	} else if (strcmp(cmd, "kill") == 0) {
		return cmd_kill(&o);
	} else if (strcmp(cmd, "delete") == 0) {
		if (need_id(cmd, &o, 1))
			return 1;
		return rt_container_delete(g_root, o.args[0], o.force, &err) < 0
			   ? ocirun__fail(&err)
			   : 0;
	} else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		if (need_id(cmd, &o, 1))
			return 1;
		int r = cmd[0] == 'p' ? rt_container_pause(g_root, o.args[0], &err)
				      : rt_container_resume(g_root, o.args[0], &err);
		return r < 0 ? ocirun__fail(&err) : 0;
	} else if (strcmp(cmd, "run") == 0) {
		return cmd_run(&o);
	} else if (strcmp(cmd, "list") == 0) {
		return cmd_list(&o);
	} else if (strcmp(cmd, "ps") == 0) {
		return cmd_ps(&o);
	} else if (strcmp(cmd, "spec") == 0) {
		return cmd_spec(&o);
	} else if (strcmp(cmd, "features") == 0) {
		return cmd_features();
	}
	char m[128];
	snprintf(m, sizeof(m), "unknown command `%.64s` (see `ocirun --help`)", cmd);
	return ocirun__report(m);
}
