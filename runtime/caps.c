/* Capabilities: names to numbers, and applying the config's five sets to the
 * container's init (bounding drop first, then effective/permitted/inheritable
 * with capset, then ambient). */
#include <ctype.h>
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "runtime/rt-internal.h"

int rt__cap_from_name(const char *name)
{
	char lower[64];
	size_t n = strlen(name);
	if (n >= sizeof(lower) || strncasecmp(name, "CAP_", 4) != 0)
		return -1;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	cap_value_t v;
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
		return -1;
	return (int)v;
}

static int last_cap(void)
{
	static int last = -1;
	if (last < 0) {
		last = (int)cap_max_bits() - 1;
		if (last < 0 || last > 63)
			last = CAP_LAST_CAP;
	}
	return last;
}

/* Capabilities of the config this process cannot grant (not in its own
 * bounding set): found by rt__caps_drop_bounding, left out by
 * rt__caps_apply. One process applies one config. */
static uint64_t ungrantable;

/* config.md, process.capabilities: one that cannot be granted MUST be
 * logged as a warning (and is skipped). */
static void warn_ungrantable(int c)
{
	char *name = cap_to_name((cap_value_t)c);
	char upper[64] = "";
	for (size_t i = 0; name && name[i] && i + 1 < sizeof(upper); i++) {
		upper[i] = (char)toupper((unsigned char)name[i]);
		upper[i + 1] = '\0';
	}
	dprintf(2,
		"ocirun: warning: process.capabilities: %s (%d) is not in the runtime's "
		"bounding set, so it cannot be granted: skipped\n",
		upper[0] ? upper : "?", c);
	cap_free(name);
}

int rt__caps_drop_bounding(const rt_config_t *cfg, rt_error_t *err)
{
	if (!cfg->has_caps)
		return 0;
	uint64_t want = 0;
	for (int s = 0; s < RT_CAP_NSETS; s++)
		want |= cfg->caps[s];
	for (int c = 0; c <= last_cap(); c++) {
		if ((want & (1ULL << c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0) {
			ungrantable |= 1ULL << c;
			warn_ungrantable(c);
		}
		if (cfg->caps[RT_CAP_BOUNDING] & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return rt_error_set(err, errno,
					    "dropping capability %d from the bounding set", c);
	}
	return 0;
}

int rt__caps_apply(const rt_config_t *cfg, rt_error_t *err)
{
	if (!cfg->has_caps)
		return 0;
	cap_t caps = cap_init();
	if (caps == NULL)
		return rt_error_set(err, errno, "allocating capability state");
	static const struct {
		int set;
		cap_flag_t flag;
	} map[] = {{RT_CAP_EFFECTIVE, CAP_EFFECTIVE},
		   {RT_CAP_PERMITTED, CAP_PERMITTED},
		   {RT_CAP_INHERITABLE, CAP_INHERITABLE}};
	for (size_t m = 0; m < 3; m++)
		for (int c = 0; c <= last_cap(); c++)
			if (cfg->caps[map[m].set] & ~ungrantable & (1ULL << c)) {
				cap_value_t v = c;
				cap_set_flag(caps, map[m].flag, 1, &v, CAP_SET);
			}
	int rc = cap_set_proc(caps);
	int e = errno;
	cap_free(caps);
	if (rc < 0)
		return rt_error_set(err, e, "setting capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return rt_error_set(err, errno, "clearing ambient capabilities");
	/* The kernel raises an ambient capability only when it is permitted and
	 * inheritable; configs (runc's own `spec`) often list ambient ones without
	 * inheritable. runc and crun skip those; so do we. */
	uint64_t ambient = cfg->caps[RT_CAP_AMBIENT] & cfg->caps[RT_CAP_PERMITTED] &
			   cfg->caps[RT_CAP_INHERITABLE] & ~ungrantable;
	for (int c = 0; c <= last_cap(); c++)
		if ((ambient & (1ULL << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return rt_error_set(err, errno, "raising ambient capability %d", c);
	return 0;
}
