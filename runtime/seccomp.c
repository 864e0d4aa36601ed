/* seccomp from config.json (linux.seccomp): names of actions, architectures
 * and operators, and loading the filter with libseccomp. */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "runtime/rt-internal.h"

/* The listener of SCMP_ACT_NOTIFY set for this process (the container's
 * init, or a process of `exec`, single-threaded): see
 * rt__seccomp_set_listener. */
static int listener_sock = -1;
static char *listener_msg;

int rt__seccomp_action(const char *name, int errno_ret, uint32_t *out)
{
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO((uint32_t)errno_ret);
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE((uint32_t)errno_ret);
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		*out = SCMP_ACT_NOTIFY;
	else
		return -1;
	return 0;
}

int rt__seccomp_arch(const char *name, uint32_t *out)
{
	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return -1;
	char lower[32];
	size_t n = strlen(name + 10);
	if (n == 0 || n >= sizeof(lower))
		return -1;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[10 + i]);
	uint32_t a = seccomp_arch_resolve_name(lower);
	if (a == 0)
		return -1;
	*out = a;
	return 0;
}

int rt__seccomp_op(const char *name, int *out)
{
	static const struct {
		const char *n;
		int op;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
		   {"SCMP_CMP_LT", SCMP_CMP_LT},
		   {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
		   {"SCMP_CMP_GE", SCMP_CMP_GE},
		   {"SCMP_CMP_GT", SCMP_CMP_GT},
		   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(name, ops[i].n) == 0) {
			*out = ops[i].op;
			return 0;
		}
	return -1;
}

/* Whether two of a rule's argument filters compare the same argument:
 * libseccomp ANDs filters of one rule and refuses the same argument twice, so
 * such rules become one rule per filter (matching any), as runc does. */
static bool repeats_index(const rt_seccomp_rule_t *r)
{
	for (size_t i = 0; i < r->nargs; i++)
		for (size_t j = i + 1; j < r->nargs; j++)
			if (r->args[i].index == r->args[j].index)
				return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const rt_seccomp_arg_t *args,
		    size_t nargs)
{
	struct scmp_arg_cmp cmp[6];
	for (size_t i = 0; i < nargs && i < 6; i++)
		cmp[i] = (struct scmp_arg_cmp){args[i].index, (enum scmp_compare)args[i].op,
					       args[i].value, args[i].value_two};
	int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)nargs, cmp);
	/* -EACCES: the action is the default one; nothing to add. */
	return rc == -EACCES ? 0 : rc;
}

int rt__seccomp_prepare(const rt_seccomp_t *sc, void **out, rt_error_t *err)
{
	*out = NULL;
	if (sc == NULL)
		return 0;
	if (sc->has_notify && listener_sock < 0)
		return rt__error_plain(err, ENOTSUP,
				       "linux.seccomp: SCMP_ACT_NOTIFY with no listener connected "
				       "(linux.seccomp.listenerPath)");
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (ctx == NULL)
		return rt_error_set(err, EINVAL, "initialising seccomp");
	/* libseccomp sets no_new_privs itself when loading (SCMP_FLTATR_CTL_NNP
	 * defaults to on): process.noNewPrivileges decides it, not the filter.
	 * rt__process_prepare sets it, or loads while CAP_SYS_ADMIN is held. */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0) {
		rt_error_set(err, -rc, "seccomp: clearing the no_new_privs attribute");
		goto fail;
	}
	static const struct {
		enum scmp_filter_attr attr;
		const char *flag;
	} attrs[] = {{SCMP_FLTATR_CTL_LOG, "SECCOMP_FILTER_FLAG_LOG"},
		     {SCMP_FLTATR_CTL_SSB, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
		     {SCMP_FLTATR_CTL_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC"}};
	const bool on[3] = {sc->flag_log, sc->flag_spec_allow, sc->flag_tsync};
	for (size_t i = 0; i < 3; i++) {
		if (!on[i])
			continue;
		rc = seccomp_attr_set(ctx, attrs[i].attr, 1);
		if (rc < 0) {
			rt_error_set(err, -rc, "linux.seccomp.flags: setting %s", attrs[i].flag);
			goto fail;
		}
	}
	/* The native architecture is in a new filter already; add the others. */
	for (size_t i = 0; i < sc->narches; i++) {
		rc = seccomp_arch_add(ctx, sc->arches[i]);
		if (rc == -EEXIST)
			rc = 0;
		if (rc < 0) {
			rt_error_set(err, -rc, "adding seccomp architecture %u", sc->arches[i]);
			goto fail;
		}
	}
	for (size_t i = 0; i < sc->nrules; i++) {
		const rt_seccomp_rule_t *r = &sc->rules[i];
		for (char **n = r->names; *n; n++) {
			int nr = seccomp_syscall_resolve_name(*n);
			if (nr == __NR_SCMP_ERROR)
				continue; /* unknown on this kernel/arch: nothing to filter */
			if (r->nargs == 0 || !repeats_index(r)) {
				rc = add_rule(ctx, r->action, nr, r->args, r->nargs);
			} else {
				for (size_t k = 0; rc == 0 && k < r->nargs; k++)
					rc = add_rule(ctx, r->action, nr, &r->args[k], 1);
			}
			if (rc < 0) {
				rt_error_set(err, -rc, "adding seccomp rule for `%s`", *n);
				goto fail;
			}
		}
	}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

/* Sends msg with fd (SCM_RIGHTS) on sock. */
static int send_fd(int sock, int fd, const char *msg, rt_error_t *err)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t w;
	do
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return rt_error_set(err, errno, "sending the seccomp notify fd to the listener");
	if ((size_t)w < iov.iov_len)
		return rt__error_plain(
		    err, EIO, "sending the seccomp notify fd to the listener: short write");
	return 0;
}

int rt__seccomp_apply(void *ctx, rt_error_t *err)
{
	if (ctx == NULL)
		return 0;
	int rc = seccomp_load(ctx);
	int nfd = -1;
	if (rc == 0 && listener_sock >= 0)
		nfd = seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return rt_error_set(err, -rc, "loading the seccomp filter");
	if (listener_sock >= 0) {
		if (nfd >= 0)
			rc = send_fd(listener_sock, nfd, listener_msg ? listener_msg : "{}", err);
		close(listener_sock);
		listener_sock = -1;
		free(listener_msg);
		listener_msg = NULL;
		if (nfd >= 0)
			close(nfd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void rt__seccomp_set_listener(int sock, char *msg)
{
	if (listener_sock >= 0)
		close(listener_sock);
	free(listener_msg);
	listener_sock = sock;
	listener_msg = msg;
}

int rt__seccomp_connect(const rt_seccomp_t *sc, rt_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (sc->listener_path == NULL || strlen(sc->listener_path) >= sizeof(sa.sun_path))
		return rt__error_plain(err, ENAMETOOLONG,
				       "linux.seccomp.listenerPath: missing or too long");
	memcpy(sa.sun_path, sc->listener_path, strlen(sc->listener_path) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rt_error_set(err, errno, "creating a socket for the seccomp listener");
	int rc;
	do
		rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;
		close(s);
		return rt_error_set(err, e, "connecting to linux.seccomp.listenerPath `%s`",
				    sc->listener_path);
	}
	return s;
}

char *rt__seccomp_listener_message(const rt_seccomp_t *sc, const char *state, pid_t pid)
{
	json_t *st = json_loads(state, 0, NULL);
	if (st == NULL)
		return NULL;
	json_t *m = json_pack("{s:s, s:[s], s:i, s:s, s:o}", "ociVersion", "1.0.2", "fds",
			      "seccompFd", "pid", (json_int_t)pid, "metadata",
			      sc->listener_metadata ? sc->listener_metadata : "", "state", st);
	if (m == NULL)
		return NULL;
	char *s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return s;
}

int rt__seccomp_load(const rt_seccomp_t *sc, rt_error_t *err)
{
	void *ctx;
	if (rt__seccomp_prepare(sc, &ctx, err) < 0)
		return -1;
	return rt__seccomp_apply(ctx, err);
}
