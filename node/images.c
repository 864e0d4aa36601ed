/* A container's image: found in the node's local OCI layout (--image-dir)
 * first, as before; otherwise in the content store <root>/images, pulled from
 * its registry as the container's imagePullPolicy says (Always; IfNotPresent,
 * the default, but Always for ":latest" or no tag; Never).
 *
 * Runs on the thread pool (a pull blocks). Progress goes to the container's
 * atomics, which the pod's timer turns into a "Pulling" waiting state.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/nodelet-internal.h"

/* Kubernetes' default: Always when the tag is latest (or absent, without a
 * digest), IfNotPresent otherwise. */
const char *node_image_pull_policy(const api_container_t *spec)
{
	if (spec->image_pull_policy != NULL && spec->image_pull_policy[0] != '\0')
		return spec->image_pull_policy;
	rt_imageref_t r;
	rt_error_t err;
	if (rt_imageref_parse(spec->image, NULL, &r, &err) < 0)
		return "IfNotPresent"; /* the pull will say what is wrong */
	bool latest = r.digest == NULL && r.tag != NULL && strcmp(r.tag, "latest") == 0;
	rt_imageref_clear(&r);
	return latest ? "Always" : "IfNotPresent";
}

static void on_progress(void *arg, int64_t done, int64_t total)
{
	node_ctr_t *c = arg;
	atomic_store(&c->pull_total, total);
	atomic_store(&c->pull_done, done);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Finds or pulls c's image; see nodelet-internal.h. */
int node_image_get(node_t *n, node_ctr_t *c, rt_image_t **img, const char **layout, char reason[32],
		   rt_error_t *err)
{
	const char *image = c->spec->image;
	snprintf(reason, 32, "ErrImagePull");
	if (rt_image_resolve(n->cfg->image_dir, image, img, err) == 0) {
		*layout = n->cfg->image_dir;
		return 0;
	}
	if (err->errnum != ENOENT)
		return rt_error_wrap(err, "image \"%s\" in %s", image, n->cfg->image_dir);

	const char *policy = node_image_pull_policy(c->spec);
	rt_pull_opts_t o = {
	    .store_dir = n->images_dir,
	    .default_registry = n->cfg->default_registry,
	    .credentials_file = n->cfg->registry_credentials,
	    .insecure_registries = (const char *const *)n->cfg->insecure_registries,
	    .progress = on_progress,
	    .progress_arg = c,
	};
	*layout = n->images_dir;
	if (strcmp(policy, "Always") != 0) {
		if (rt_image_lookup(&o, image, img, err) == 0)
			return 0;
		if (err->errnum != ENOENT) {
			snprintf(reason, 32, "InvalidImageName");
			return -1;
		}
		if (strcmp(policy, "Never") == 0) {
			snprintf(reason, 32, "ErrImageNeverPull");
			return rt_error_set(
			    err, 0,
			    "Container image \"%s\" is not present with pull policy "
			    "of Never",
			    image);
		}
	}
	atomic_store(&c->pull_done, 0);
	atomic_store(&c->pull_total, 0);
	atomic_store(&c->pulling, true);
	int64_t t0 = mono_ms();
	node_log('I', "pod %s: container %s: pulling image \"%s\" (policy %s)", c->pod->desc,
		 c->spec->name, image, policy);
	int rc = rt_image_pull(&o, image, img, err);
	atomic_store(&c->pulling, false);
	if (rc < 0) {
		if (err->errnum == EINVAL && strstr(err->msg, "image reference") != NULL)
			snprintf(reason, 32, "InvalidImageName");
		return -1;
	}
	double secs = (double)(mono_ms() - t0) / 1000.0;
	snprintf(c->pulled_msg, sizeof c->pulled_msg,
		 "Successfully pulled image \"%s\" in %.3fs. Image size: %lld bytes.", image, secs,
		 (long long)(*img)->size);
	node_log('I', "pod %s: container %s: %s", c->pod->desc, c->spec->name, c->pulled_msg);
	return 0;
}

static void human(int64_t b, char *out, size_t n)
{
	if (b < 0)
		snprintf(out, n, "?");
	else if (b < 1000 * 1000)
		snprintf(out, n, "%.1fkB", (double)b / 1000.0);
	else if (b < 1000LL * 1000 * 1000)
		snprintf(out, n, "%.1fMB", (double)b / 1e6);
	else
		snprintf(out, n, "%.2fGB", (double)b / 1e9);
}

static int list_one(const char *layout, const char *where)
{
	rt_image_info_t *v = NULL;
	size_t n = 0;
	rt_error_t err;
	if (rt_image_list(layout, &v, &n, &err) < 0) {
		fprintf(stderr, "nodelet images: %s: %s\n", where, err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char size[32];
		human(v[i].size, size, sizeof size);
		printf("%-60s %-19.19s %10s %12lld  %s\n", v[i].name, v[i].digest, size,
		       (long long)v[i].size, where);
	}
	rt_image_list_free(v, n);
	return 0;
}

/* `nodelet images [list]` and `nodelet images import FILE...`; see nodelet-internal.h. */
int node_images_main(int argc, char **argv)
{
	const char *root = "/var/lib/nodelet", *image_dir = "/var/lib/nodelet/images";
	const char *defreg = NULL;
	const char *args[64];
	size_t nargs = 0;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--root") == 0)
			root = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--image-dir") == 0)
			image_dir = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--default-registry") == 0)
			defreg = argv[++i];
		else if (argv[i][0] == '-' || nargs == 64) {
			fprintf(stderr,
				"usage: nodelet images [list] [--root DIR] [--image-dir DIR]\n"
				"       nodelet images import FILE... [--root DIR] "
				"[--default-registry HOST[:PORT]]\n");
			return 2;
		} else {
			args[nargs++] = argv[i];
		}
	}
	char store[4200];
	snprintf(store, sizeof store, "%s/images", root);
	if (nargs == 0 || (nargs == 1 && strcmp(args[0], "list") == 0)) {
		printf("%-60s %-19s %10s %12s  %s\n", "IMAGE", "DIGEST", "SIZE", "BYTES", "WHERE");
		int rc = list_one(store, "store");
		if (strcmp(image_dir, store) != 0 && list_one(image_dir, "image-dir") < 0)
			rc = -1;
		return rc < 0 ? 1 : 0;
	}
	if (strcmp(args[0], "import") != 0 || nargs < 2) {
		fprintf(stderr, "nodelet images: unknown command \"%s\" (list, import FILE...)\n",
			args[0]);
		return 2;
	}
	rt_pull_opts_t o = {.store_dir = store, .default_registry = defreg};
	int rc = 0;
	for (size_t i = 1; i < nargs; i++) {
		char **names = NULL;
		size_t n = 0;
		rt_error_t err;
		if (rt_image_import(&o, args[i], &names, &n, &err) < 0) {
			fprintf(stderr, "nodelet images import: %s\n", err.msg);
			rc = 1;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			printf("imported %s\n", names[k]);
			free(names[k]);
		}
		free(names);
	}
	return rc;
}
