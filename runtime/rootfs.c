/* Container root filesystems on overlayfs: the image's unpacked layers
 * (layers_dir/<hex>) as read-only lowerdirs, topmost first, and a per-container
 * dir/upper and dir/work, mounted at dir/rootfs.
 *
 * The mount options must fit in one page. When absolute layer paths make them
 * too long, the mount is done from a helper thread that unshare(CLONE_FS)es and
 * chdir()s into layers_dir so the lowerdirs can be given as bare hex names;
 * no other thread's working directory moves.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/image-internal.h"

/* ---- recursive removal ---------------------------------------------------- */

static __thread struct {
	int errnum;
	char path[PATH_MAX];
} rm_state;

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR) ? rmdir(path) : unlink(path);
	if (r < 0 && errno != ENOENT && rm_state.errnum == 0) {
		rm_state.errnum = errno;
		snprintf(rm_state.path, sizeof(rm_state.path), "%s", path);
	}
	return 0; /* go on: remove as much as possible, report the first failure */
}

int rt__remove_tree(const char *path, rt_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_error_set(err, errno, "removing `%s`", path);
	rm_state.errnum = 0;
	rm_state.path[0] = '\0';
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return rt_error_set(err, errno, "removing `%s`", path);
	if (rm_state.errnum != 0)
		return rt_error_set(err, rm_state.errnum, "removing `%s` (at `%s`)", path,
				    rm_state.path);
	return 0;
}

/* ---- mount ------------------------------------------------------------------ */

static bool is_mountpoint(const char *path, const char *parent)
{
	struct stat a, b;
	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int mkdir_mode(const char *path, mode_t mode, rt_error_t *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "creating `%s`", path);
	return 0;
}

/* Appends the lowerdir list (topmost layer first) to buf; relative gives bare
 * hex names. Returns the length it needed (like snprintf). */
static size_t lowerdirs(char *buf, size_t size, const rt_image_t *img, const char *layers_dir,
			bool relative)
{
	size_t len = 0;
	for (size_t i = img->nlayers; i-- > 0;) {
		const char *hex = img->layers[i] + 7;
		int n = relative
			    ? snprintf(buf + (len < size ? len : size), len < size ? size - len : 0,
				       "%s%s", len ? ":" : "", hex)
			    : snprintf(buf + (len < size ? len : size), len < size ? size - len : 0,
				       "%s%s/%s", len ? ":" : "", layers_dir, hex);
		len += (size_t)n;
	}
	return len;
}

struct mount_job {
	const char *layers_dir, *target, *opts;
	int ret, errnum;
};

static void *mount_thread(void *arg)
{
	struct mount_job *job = arg;
	job->ret = -1;
	if (unshare(CLONE_FS) < 0 || chdir(job->layers_dir) < 0) {
		job->errnum = errno;
		return NULL;
	}
	if (mount("overlay", job->target, "overlay", 0, job->opts) < 0) {
		job->errnum = errno;
		return NULL;
	}
	job->ret = 0;
	return NULL;
}

/* Mounts dir/rootfs; see runtime.h. All of dir/{upper,work,rootfs} must be on
 * one filesystem that supports overlay upper dirs (not overlayfs itself). */
int rt_rootfs_mount(const rt_image_t *img, const char *layers_dir, const char *dir, rt_error_t *err)
{
	if (img->nlayers == 0)
		return rt_error_set(err, EINVAL, "image `%s` has no layers", img->ref);
	if (strpbrk(layers_dir, ",:\\") != NULL || strpbrk(dir, ",:\\") != NULL)
		return rt_error_set(err, EINVAL,
				    "overlay paths `%s`, `%s` must not contain , : or \\",
				    layers_dir, dir);
	if (layers_dir[0] != '/' || dir[0] != '/')
		return rt_error_set(err, EINVAL, "overlay paths `%s`, `%s` must be absolute",
				    layers_dir, dir);
	for (size_t i = 0; i < img->nlayers; i++) {
		char p[PATH_MAX];
		struct stat st;
		if (rt__digest_hex(img->layers[i], NULL) < 0)
			return rt_error_set(err, EINVAL, "image `%s`: bad layer digest `%s`",
					    img->ref, img->layers[i]);
		snprintf(p, sizeof(p), "%s/%s", layers_dir, img->layers[i] + 7);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return rt_error_set(err, errno ? errno : ENOTDIR,
					    "image `%s`: layer %s is not unpacked at `%s`",
					    img->ref, img->layers[i], p);
	}
	char upper[PATH_MAX], work[PATH_MAX], target[PATH_MAX];
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	snprintf(target, sizeof(target), "%s/rootfs", dir);
	if (mkdir_mode(dir, 0711, err) < 0 || mkdir_mode(upper, 0755, err) < 0 ||
	    mkdir_mode(work, 0700, err) < 0 || mkdir_mode(target, 0755, err) < 0)
		return -1;
	if (is_mountpoint(target, dir))
		return 0;

	long page = sysconf(_SC_PAGESIZE);
	size_t max = (size_t)(page > 0 ? page : 4096) - 1;
	char *opts = malloc(max + 1);
	if (opts == NULL)
		abort();
	char *lower = malloc(max + 1);
	if (lower == NULL)
		abort();
	bool relative = false;
	size_t need = lowerdirs(lower, max + 1, img, layers_dir, false);
	int n = 0;
	if (need <= max)
		n = snprintf(opts, max + 1, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
			     work);
	if (need > max || (size_t)n > max) {
		relative = true;
		need = lowerdirs(lower, max + 1, img, layers_dir, true);
		if (need <= max)
			n = snprintf(opts, max + 1, "lowerdir=%s,upperdir=%s,workdir=%s", lower,
				     upper, work);
		if (need > max || (size_t)n > max) {
			free(lower);
			free(opts);
			return rt_error_set(err, E2BIG,
					    "mounting `%s`: %zu layers do not fit in the overlay "
					    "mount options (%zu bytes)",
					    target, img->nlayers, max);
		}
	}
	free(lower);
	int ret = 0;
	if (!relative) {
		if (mount("overlay", target, "overlay", 0, opts) < 0)
			ret = rt_error_set(err, errno, "mounting overlay at `%s`", target);
	} else {
		struct mount_job job = {.layers_dir = layers_dir, .target = target, .opts = opts};
		pthread_t th;
		int r = pthread_create(&th, NULL, mount_thread, &job);
		if (r != 0) {
			ret = rt_error_set(err, r, "mounting overlay at `%s`: starting thread",
					   target);
		} else {
			pthread_join(th, NULL);
			if (job.ret < 0)
				ret = rt_error_set(err, job.errnum,
						   "mounting overlay at `%s` (%zu layers, relative "
						   "to `%s`)",
						   target, img->nlayers, layers_dir);
		}
	}
	free(opts);
	return ret;
}

/* Unmounts dir/rootfs (lazily when busy) and removes dir; see runtime.h. */
int rt_rootfs_remove(const char *dir, rt_error_t *err)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/rootfs", dir);
	for (int i = 0; i < 16; i++) {
		if (umount2(target, UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			break;
		return rt_error_set(err, errno, "unmounting `%s`", target);
	}
	return rt__remove_tree(dir, err);
}
