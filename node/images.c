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
