/* rt-image-tool: drives libruntime's image calls for the e2e tests.
 *   rt-image-tool resolve LAYOUT REF           prints the resolved image
 *   rt-image-tool mount LAYOUT REF LAYERS DIR  resolve, unpack, mount DIR/rootfs
 *   rt-image-tool remove DIR                   unmount DIR/rootfs, remove DIR
 *   rt-image-tool pull STORE REF [OPTS]        pull REF into the content store STORE,
 *       print the image as resolve does; OPTS: --default-registry R, --insecure HOST
 *       (repeatable), --creds FILE, --ca FILE, --max-blob BYTES, --threads N (N
 *       concurrent pulls of REF, to show they happen once)
 *   rt-image-tool parse REF [DEFAULT_REGISTRY] prints the parsed reference
 *   rt-image-tool unpack LAYOUT REF LAYERS     resolve and unpack only
 *   rt-image-tool time-mount LAYOUT REF LAYERS DIR N
 *       mounts and removes DIR/rootfs N times (layers already unpacked), printing
 *       each mount's time in microseconds, one a line
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

static void print_strv(const char *name, char **v)
{
	printf("%s:", name);
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		printf(" %s", v[i]);
	printf("\n");
}

static void print_image(const rt_image_t *img)
{
	printf("ref: %s\nmanifest: %s\nsize: %lld\n", img->ref, img->manifest_digest,
	       (long long)img->size);
	print_strv("layers", img->layers);
	print_strv("entrypoint", img->entrypoint);
	print_strv("cmd", img->cmd);
	print_strv("env", img->env);
	printf("workdir: %s\nuser: %s\n", img->working_dir ? img->working_dir : "",
	       img->user ? img->user : "");
}

static void on_progress(void *arg, int64_t done, int64_t total)
{
	(void)arg;
	fprintf(stderr, "progress: %lld/%lld\n", (long long)done, (long long)total);
}

struct puller {
	const rt_pull_opts_t *opts;
	const char *ref;
	rt_image_t *img;
	rt_error_t err;
	int r;
};

static void *pull_thread(void *arg)
{
	struct puller *p = arg;
	p->r = rt_image_pull(p->opts, p->ref, &p->img, &p->err);
	return NULL;
}

static int pull(int argc, char **argv)
{
	const char *insecure[16] = {0};
	size_t ninsecure = 0;
	int threads = 1;
	rt_pull_opts_t o = {.store_dir = argv[2], .progress = on_progress};
	for (int i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--default-registry") == 0)
			o.default_registry = argv[i + 1];
		else if (strcmp(argv[i], "--insecure") == 0 && ninsecure < 15)
			insecure[ninsecure++] = argv[i + 1];
		else if (strcmp(argv[i], "--creds") == 0)
			o.credentials_file = argv[i + 1];
		else if (strcmp(argv[i], "--ca") == 0)
			o.ca_file = argv[i + 1];
		else if (strcmp(argv[i], "--max-blob") == 0)
			o.max_blob_bytes = atoll(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else
			return fprintf(stderr, "rt-image-tool pull: unknown option %s\n", argv[i]),
			       2;
	}
	o.insecure_registries = insecure;
	if (threads < 1 || threads > 16)
		threads = 1;
	struct puller p[16];
	pthread_t t[16];
	for (int i = 0; i < threads; i++) {
		p[i] = (struct puller){.opts = &o, .ref = argv[3]};
		pthread_create(&t[i], NULL, pull_thread, &p[i]);
	}
	int rc = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		if (p[i].r < 0) {
			fprintf(stderr, "rt-image-tool pull: %s\n", p[i].err.msg);
			rc = 1;
		} else if (i == 0) {
			print_image(p[i].img);
		}
		rt_image_free(p[i].img);
	}
	return rc;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int time_mount(char **argv, rt_error_t *err)
{
	rt_image_t *img = NULL;
	int n = atoi(argv[6]);
	int r = rt_image_resolve(argv[2], argv[3], &img, err);
	if (r == 0)
		r = rt_image_unpack(img, argv[2], argv[4], err);
	for (int i = 0; r == 0 && i < n; i++) {
		int64_t t0 = now_us();
		r = rt_rootfs_mount(img, argv[4], argv[5], err);
		int64_t t1 = now_us();
		if (r == 0) {
			printf("%lld\n", (long long)(t1 - t0));
			r = rt_rootfs_remove(argv[5], err);
		}
	}
	rt_image_free(img);
	return r;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "pull") == 0)
		return pull(argc, argv);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "parse") == 0) {
		rt_imageref_t ref;
		rt_error_t perr = {0};
		if (rt_imageref_parse(argv[2], argc == 4 ? argv[3] : NULL, &ref, &perr) < 0) {
			fprintf(stderr, "rt-image-tool parse: %s\n", perr.msg);
			return 1;
		}
		printf("registry: %s\nrepository: %s\ntag: %s\ndigest: %s\nname: %s\n",
		       ref.registry, ref.repository, ref.tag ? ref.tag : "",
		       ref.digest ? ref.digest : "", ref.name);
		rt_imageref_clear(&ref);
		return 0;
	}
	rt_error_t err = {0};
	rt_image_t *img = NULL;
	int r = -1;
	if (argc == 4 && strcmp(argv[1], "resolve") == 0) {
		r = rt_image_resolve(argv[2], argv[3], &img, &err);
		if (r == 0)
			print_image(img);
	} else if (argc == 6 && strcmp(argv[1], "mount") == 0) {
		r = rt_image_resolve(argv[2], argv[3], &img, &err);
		if (r == 0)
			r = rt_image_unpack(img, argv[2], argv[4], &err);
		if (r == 0)
			r = rt_rootfs_mount(img, argv[4], argv[5], &err);
	} else if (argc == 5 && strcmp(argv[1], "unpack") == 0) {
		r = rt_image_resolve(argv[2], argv[3], &img, &err);
		if (r == 0)
			r = rt_image_unpack(img, argv[2], argv[4], &err);
	} else if (argc == 7 && strcmp(argv[1], "time-mount") == 0) {
		r = time_mount(argv, &err);
	} else if (argc == 3 && strcmp(argv[1], "remove") == 0) {
		r = rt_rootfs_remove(argv[2], &err);
	} else {
		fprintf(stderr, "usage: rt-image-tool resolve LAYOUT REF | mount LAYOUT REF LAYERS "
				"DIR | remove DIR\n");
		return 2;
	}
	rt_image_free(img);
	if (r < 0) {
		fprintf(stderr, "rt-image-tool %s: %s\n", argv[1], err.msg);
		return 1;
	}
	return 0;
}
