/* A container's image: found in the node's local OCI layout (--image-dir)
 * first, as before; otherwise in the content store <root>/images, pulled from
 * its registry as the container's imagePullPolicy says (Always; IfNotPresent,
 * the default, but Always for ":latest" or no tag; Never).
 *
 * Runs on the thread pool (a pull blocks). Progress goes to the container's
 * atomics, which the pod's timer turns into a "Pulling" waiting state.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
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

/* Records the image's last use in the store (for the garbage collector). */
static void touch(node_t *n, const char *image)
{
	rt_imageref_t r;
	rt_error_t err;
	if (rt_imageref_parse(image, n->cfg->default_registry, &r, &err) < 0)
		return;
	if (rt_image_touch(n->images_dir, r.name, &err) < 0)
		node_log('W', "image %s: recording its use: %s", r.name, err.msg);
	rt_imageref_clear(&r);
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
	    .max_blob_bytes = n->cfg->max_pull_blob_bytes,
	    .progress = on_progress,
	    .progress_arg = c,
	};
	*layout = n->images_dir;
	if (strcmp(policy, "Always") != 0) {
		if (rt_image_lookup(&o, image, img, err) == 0) {
			touch(n, image);
			return 0;
		}
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
	atomic_store(&c->pulled, false);
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
	touch(n, image);
	double secs = (double)(mono_ms() - t0) / 1000.0;
	snprintf(c->pulled_msg, sizeof c->pulled_msg,
		 "Successfully pulled image \"%s\" in %.3fs. Image size: %lld bytes.", image, secs,
		 (long long)(*img)->size);
	atomic_store(&c->pulled, true); /* after pulled_msg: the pod timer shows it */
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

static int images_prune(const char *root, const char *image_dir, const char *defreg);

/* `nodelet images [list]`, `nodelet images import FILE...` and `nodelet images
 * prune`; see nodelet-internal.h. */
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
				"[--default-registry HOST[:PORT]]\n"
				"       nodelet images prune [--root DIR] [--image-dir DIR] "
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
	if (nargs == 1 && strcmp(args[0], "prune") == 0)
		return images_prune(root, image_dir, defreg);
	if (strcmp(args[0], "import") != 0 || nargs < 2) {
		fprintf(stderr,
			"nodelet images: unknown command \"%s\" (list, import FILE..., prune)\n",
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

/* ---- garbage collection --------------------------------------------------- */

typedef struct gc_job {
	uv_work_t req;
	node_t *n;
	char **in_use; /* NULL-terminated, malloc'd */
	uint64_t uses; /* n->image_uses when in_use was taken */
	bool skipped;
	int rc;
	rt_image_gc_result_t res;
	rt_error_t err;
} gc_job_t;

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void strv_add(char ***v, size_t *n, const char *s)
{
	*v = realloc(*v, (*n + 2) * sizeof(char *));
	if (*v == NULL || ((*v)[*n] = strdup(s)) == NULL)
		abort();
	(*v)[++*n] = NULL;
}

static void log_result(const char *what, const rt_image_gc_result_t *res, int high, int low)
{
	char freed[32];
	human(res->freed, freed, sizeof freed);
	for (size_t i = 0; i < res->nremoved; i++)
		node_log('I', "%s: removed unused image %s", what, res->removed[i]);
	if (res->total > 0)
		node_log('I',
			 "%s: image filesystem was %.1f%% used (high %d%%, low %d%%): removed %zu "
			 "image(s), freed %s (%" PRId64 " bytes)",
			 what, (double)res->used * 100.0 / (double)res->total, high, low,
			 res->nremoved, freed, res->freed);
}

static void gc_run(uv_work_t *req)
{
	gc_job_t *j = container_of(req, gc_job_t, req);
	node_t *n = j->n;
	pthread_rwlock_wrlock(&n->image_gc_lock);
	if (atomic_load(&n->image_uses) != j->uses) {
		/* a container started since the list was taken: next round */
		j->skipped = true;
		pthread_rwlock_unlock(&n->image_gc_lock);
		return;
	}
	const char *keep[] = {n->cfg->image_dir, NULL};
	rt_image_gc_opts_t o = {
	    .store_dir = n->images_dir,
	    .layers_dir = n->layers_dir,
	    .keep_layouts = keep,
	    .in_use = (const char *const *)j->in_use,
	    .default_registry = n->cfg->default_registry,
	    .high_pct = n->cfg->image_gc_high,
	    .low_pct = n->cfg->image_gc_low,
	};
	j->rc = rt_image_gc(&o, &j->res, &j->err);
	pthread_rwlock_unlock(&n->image_gc_lock);
}

static void gc_done(uv_work_t *req, int status)
{
	(void)status;
	gc_job_t *j = container_of(req, gc_job_t, req);
	node_t *n = j->n;
	if (j->rc < 0)
		node_log('E', "image gc: %s", j->err.msg);
	if (!j->skipped && (j->res.nremoved > 0 || j->rc < 0))
		log_result("image gc", &j->res, n->cfg->image_gc_high, n->cfg->image_gc_low);
	rt_image_gc_result_clear(&j->res);
	strv_free(j->in_use);
	free(j);
	n->image_gc_running = false;
	if (n->image_gc_again && !n->shutting_down) {
		n->image_gc_again = false;
		node_image_gc_kick(n);
	}
}

/* Queues a collection; see nodelet-internal.h. */
void node_image_gc_kick(node_t *n)
{
	if (n->shutting_down || n->cfg->image_gc_high >= 100)
		return;
	if (n->image_gc_running) {
		n->image_gc_again = true;
		return;
	}
	gc_job_t *j = calloc(1, sizeof *j);
	if (j == NULL)
		abort();
	j->n = n;
	size_t k = 0;
	strv_add(&j->in_use, &k, ""); /* never NULL, even with no pod */
	for (node_pod_t *p = n->pods; p != NULL; p = p->next)
		for (size_t i = 0; i < p->nctrs; i++)
			if (p->ctrs[i].spec != NULL && p->ctrs[i].spec->image != NULL)
				strv_add(&j->in_use, &k, p->ctrs[i].spec->image);
	j->uses = atomic_load(&n->image_uses);
	n->image_gc_running = true;
	uv_queue_work(n->loop, &j->req, gc_run, gc_done);
}

static void on_gc_timer(uv_timer_t *t)
{
	node_image_gc_kick(t->data);
}

/* Starts the period timer; see nodelet-internal.h. */
void node_image_gc_start(node_t *n)
{
	uv_timer_init(n->loop, &n->image_gc_timer);
	n->image_gc_timer.data = n;
	if (n->cfg->image_gc_high >= 100)
		return;
	uint64_t period = (uint64_t)n->cfg->image_gc_period_ms;
	uv_timer_start(&n->image_gc_timer, on_gc_timer, period < 10000 ? period : 10000, period);
}

/* Closes the timer; see nodelet-internal.h. */
void node_image_gc_stop(node_t *n)
{
	if (!uv_is_closing((uv_handle_t *)&n->image_gc_timer))
		uv_close((uv_handle_t *)&n->image_gc_timer, NULL);
}

/* The images the pods under root/pods/<uid>/pod.json use, for a prune. */
static int pods_images(const char *root, char ***out, rt_error_t *err)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/pods", root);
	size_t k = 0;
	strv_add(out, &k, "");
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : rt_error_set(err, errno, "opening `%s`", dir);
	struct dirent *e;
	int ret = 0;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char pdir[4500];
		snprintf(pdir, sizeof pdir, "%s/%s", dir, e->d_name);
		api_pod_t pod;
		memset(&pod, 0, sizeof pod);
		if (node_pod_json_load(pdir, &pod, err) < 0) {
			/* a pod we cannot read may use anything: prune nothing */
			ret = rt_error_wrap(err, "pod directory `%s`", pdir);
			break;
		}
		for (size_t i = 0; i < pod.spec.ncontainers; i++)
			if (pod.spec.containers[i].image != NULL)
				strv_add(out, &k, pod.spec.containers[i].image);
		api_pod_free(&pod);
	}
	closedir(d);
	return ret;
}

/* `nodelet images prune`: every image of <root>/images no pod directory uses. */
static int images_prune(const char *root, const char *image_dir, const char *defreg)
{
	char store[4200], layers[4200];
	snprintf(store, sizeof store, "%s/images", root);
	snprintf(layers, sizeof layers, "%s/layers", root);
	char **in_use = NULL;
	rt_error_t err;
	if (pods_images(root, &in_use, &err) < 0) {
		fprintf(stderr, "nodelet images prune: %s\n", err.msg);
		strv_free(in_use);
		return 1;
	}
	const char *keep[] = {image_dir, NULL};
	rt_image_gc_opts_t o = {
	    .store_dir = store,
	    .layers_dir = layers,
	    .keep_layouts = keep,
	    .in_use = (const char *const *)in_use,
	    .default_registry = defreg,
	    .all = true,
	};
	rt_image_gc_result_t res;
	int rc = rt_image_gc(&o, &res, &err);
	for (size_t i = 0; i < res.nremoved; i++)
		printf("removed %s\n", res.removed[i]);
	char freed[32];
	human(res.freed, freed, sizeof freed);
	printf("freed %s (%lld bytes)\n", freed, (long long)res.freed);
	if (rc < 0)
		fprintf(stderr, "nodelet images prune: %s\n", err.msg);
	rt_image_gc_result_clear(&res);
	strv_free(in_use);
	return rc < 0 ? 1 : 0;
}
