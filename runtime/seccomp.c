/* seccomp from config.json (linux.seccomp): names of actions, architectures
 * and operators, and loading the filter with libseccomp. */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>

#include "runtime/rt-internal.h"

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
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (ctx == NULL)
		return rt_error_set(err, EINVAL, "initialising seccomp");
	int rc = 0;
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

int rt__seccomp_apply(void *ctx, rt_error_t *err)
{
	if (ctx == NULL)
		return 0;
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return rt_error_set(err, -rc, "loading the seccomp filter");
	return 0;
}

int rt__seccomp_load(const rt_seccomp_t *sc, rt_error_t *err)
{
	void *ctx;
	if (rt__seccomp_prepare(sc, &ctx, err) < 0)
		return -1;
	return rt__seccomp_apply(ctx, err);
}
