/* The container's filesystem, set up by its init before it execs: the root
 * bind-mounted onto itself, config.json's mounts (paths resolved inside the
 * rootfs without following symlinks out of it), the default device nodes,
 * pivot_root, then masked and read-only paths. Runs in the cloned child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

/* Resolves dest (absolute, inside the container) to a host path under
 * rootfs, following symlinks as if rootfs were "/", creating missing
 * directories; the last component is created as a directory, or as an empty
 * file when want_file. */
static int resolve_in_root(const char *rootfs, const char *dest, bool want_file, char *out,
			   size_t outn, rt_error_t *err)
{
	char rest[PATH_MAX], cur[PATH_MAX];
	size_t rl = strlen(rootfs);
	if (snprintf(rest, sizeof(rest), "%s", dest) >= (int)sizeof(rest) || rl >= sizeof(cur))
		return rt_error_set(err, ENAMETOOLONG, "mount destination `%s`", dest);
	strcpy(cur, rootfs);
	int links = 0;
	char *p = rest;
	while (*p) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		char *e = strchrnul(p, '/');
		char comp[NAME_MAX + 1];
		size_t cl = (size_t)(e - p);
		if (cl > NAME_MAX)
			return rt_error_set(err, ENAMETOOLONG, "mount destination `%s`", dest);
		memcpy(comp, p, cl);
		comp[cl] = '\0';
		p = e;
		bool last = true;
		for (char *q = p; *q; q++)
			if (*q != '/') {
				last = false;
				break;
			}
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(cur, '/');
			if (slash && (size_t)(slash - cur) >= rl)
				*slash = '\0';
			continue;
		}
		size_t l = strlen(cur);
		if (l + 1 + cl >= sizeof(cur))
			return rt_error_set(err, ENAMETOOLONG, "mount destination `%s`", dest);
		cur[l] = '/';
		memcpy(cur + l + 1, comp, cl + 1);
		struct stat st;
		if (lstat(cur, &st) < 0) {
			if (errno != ENOENT)
				return rt_error_set(err, errno, "resolving `%s`", cur);
			if (last && want_file) {
				int fd = open(cur, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
				if (fd < 0)
					return rt_error_set(err, errno, "creating `%s`", cur);
				close(fd);
			} else if (mkdir(cur, 0755) < 0 && errno != EEXIST) {
				return rt_error_set(err, errno, "creating directory `%s`", cur);
			}
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > 40)
				return rt_error_set(err, ELOOP, "resolving `%s`", dest);
			char target[PATH_MAX];
			ssize_t tl = readlink(cur, target, sizeof(target) - 1);
			if (tl < 0)
				return rt_error_set(err, errno, "reading link `%s`", cur);
			target[tl] = '\0';
			cur[l] = '\0'; /* back to the link's directory */
			if (target[0] == '/')
				cur[rl] = '\0';
			char next[PATH_MAX];
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", target, p) >=
			    sizeof(next))
				return rt_error_set(err, ENAMETOOLONG, "resolving `%s`", dest);
			strcpy(rest, next);
			p = rest;
		}
	}
	if (strlen(cur) >= outn)
		return rt_error_set(err, ENAMETOOLONG, "mount destination `%s`", dest);
	strcpy(out, cur);
	return 0;
}

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* A cgroup mount on a v1 (or hybrid) host, as runc does it without a cgroup
 * namespace: a tmpfs at dest holding, for each hierarchy mounted under
 * /sys/fs/cgroup, the container's own cgroup bind-mounted under the
 * hierarchy's name (so the container sees its cgroup as the root and nothing
 * of the host's tree), and the host's symlinks (cpu -> cpu,cpuacct).
 * With "ro" each hierarchy is read-only, the tmpfs is not (runc, crun). */
static int mount_cgroup_v1(const char *dest, unsigned long flags, const char *cgroup, size_t i,
			   rt_error_t *err)
{
	unsigned long base = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
	if (mount("tmpfs", dest, "tmpfs", base, "mode=755") < 0)
		return rt_error_set(err, errno, "mounts[%zu]: mounting tmpfs on `%s`", i, dest);
	DIR *d = opendir("/sys/fs/cgroup");
	if (d == NULL)
		return rt_error_set(err, errno, "mounts[%zu]: opening `/sys/fs/cgroup`", i);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char host[PATH_MAX], in[PATH_MAX + 256], src[2 * PATH_MAX];
		snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", de->d_name);
		snprintf(in, sizeof(in), "%s/%s", dest, de->d_name);
		if (de->d_type == DT_LNK) {
			char target[PATH_MAX];
			ssize_t n = readlink(host, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				if (symlink(target, in) < 0 && errno != EEXIST)
					rc = rt_error_set(err, errno, "mounts[%zu]: linking `%s`",
							  i, in);
			}
			continue;
		}
		struct statfs sf;
		if (de->d_type != DT_DIR || statfs(host, &sf) < 0 ||
		    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
			continue;
		if (mkdir(in, 0755) < 0 && errno != EEXIST) {
			rc = rt_error_set(err, errno, "mounts[%zu]: creating `%s`", i, in);
			break;
		}
		if ((size_t)snprintf(src, sizeof(src), "%s/%s", host, cgroup ? cgroup : "") >=
			sizeof(src) ||
		    access(src, F_OK) < 0)
			continue; /* a hierarchy the container has no cgroup in: left empty */
		if (mount(src, in, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, in, NULL, MS_BIND | MS_REMOUNT | base | (flags & MS_RDONLY), NULL) <
			0)
			rc = rt_error_set(err, errno, "mounts[%zu]: bind mounting `%s` on `%s`", i,
					  src, in);
	}
	closedir(d);
	/* "ro" applies to the hierarchies; the tmpfs holding them stays
	 * writable, as with runc and crun. */
	return rc;
}

/* A user namespace holding m's uidMappings/gidMappings, for
 * MOUNT_ATTR_IDMAP: a short-lived child unshares it, the maps are written
 * from here (so hostIDs are IDs of our own user namespace: always the
 * host's, since with a container user namespace the runtime calls this, not
 * the init), the namespace is kept by an fd and the child reaped. Returns
 * the fd (close-on-exec) or -1 with err. */
static int idmap_userns(const rt_mount_t *m, size_t i, rt_error_t *err)
{
	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0)
		return rt_error_set(err, errno, "mounts[%zu]: idmap: pipe", i);
	if (pipe2(down, O_CLOEXEC) < 0) {
		int e = errno;
		close(up[0]);
		close(up[1]);
		return rt_error_set(err, e, "mounts[%zu]: idmap: pipe", i);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		char self[32];
		ssize_t n = -1;
		if (unshare(CLONE_NEWUSER) == 0)
			n = readlink("/proc/self", self, sizeof(self) - 1);
		if (n > 0 && write(up[1], self, (size_t)n) == n) {
			char c;
			while (read(down[0], &c, 1) < 0 && errno == EINTR)
				;
		}
		_exit(0);
	}
	int e = errno;
	close(up[1]);
	close(down[0]);
	if (pid < 0) {
		close(up[0]);
		close(down[1]);
		return rt_error_set(err, e, "mounts[%zu]: idmap: fork", i);
	}
	int fd = -1;
	char hostpid[32] = "";
	ssize_t n;
	do
		n = read(up[0], hostpid, sizeof(hostpid) - 1);
	while (n < 0 && errno == EINTR);
	close(up[0]);
	if (n <= 0) {
		rt__error_plain(err, EPERM,
				"mounts[%zu]: idmap: the helper could not create a user namespace",
				i);
		goto out;
	}
	hostpid[n] = '\0';
	for (int k = 0; k < 2; k++) {
		const rt__idmap_t *map = k ? m->gid_maps : m->uid_maps;
		size_t nmap = k ? m->ngid_maps : m->nuid_maps;
		char path[64], *buf = rt__xmalloc(nmap * 40 + 1);
		size_t len = 0;
		for (size_t j = 0; j < nmap; j++)
			len += (size_t)sprintf(buf + len, "%u %u %u\n", map[j].container,
					       map[j].host, map[j].size);
		snprintf(path, sizeof(path), "/proc/%s/%s", hostpid, k ? "gid_map" : "uid_map");
		int rc = rt__write_file(path, buf, err);
		free(buf);
		if (rc < 0) {
			rt_error_wrap(err, "mounts[%zu].%s", i, k ? "gidMappings" : "uidMappings");
			goto out;
		}
	}
	char nspath[64];
	snprintf(nspath, sizeof(nspath), "/proc/%s/ns/user", hostpid);
	fd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rt_error_set(err, errno, "mounts[%zu]: idmap: opening `%s`", i, nspath);
out:
	close(down[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

bool rt__mount_is_idmapped(const rt_mount_t *m)
{
	return m->bind && (m->nuid_maps > 0 || m->idmap_userns);
}

int rt__idmap_tree(const rt_mount_t *m, size_t i, pid_t userns_pid, rt_error_t *err)
{
	const bool rec = (m->flags & MS_REC) != 0;
	cleanup_close int ns = -1;
	if (m->nuid_maps > 0) {
		ns = idmap_userns(m, i, err);
		if (ns < 0)
			return -1;
	} else {
		char nspath[64];
		snprintf(nspath, sizeof(nspath), "/proc/%d/ns/user", (int)userns_pid);
		ns = open(nspath, O_RDONLY | O_CLOEXEC);
		if (ns < 0)
			return rt_error_set(err, errno,
					    "mounts[%zu]: idmap: opening the container's user "
					    "namespace `%s`",
					    i, nspath);
	}
	int tree = open_tree(AT_FDCWD, m->source,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		return rt_error_set(err, errno, "mounts[%zu]: idmap: open_tree(`%s`)", i,
				    m->source);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr, sizeof(attr)) <
	    0) {
		rt_error_set(err, errno,
			     "mounts[%zu]: idmapping `%s` (does its file system support "
			     "idmapped mounts?)",
			     i, m->source);
		close(tree);
		return -1;
	}
	return tree;
}

/* Attaches a detached tree (rt__idmap_tree) at dest. */
static int attach_tree(const rt_mount_t *m, int tree, const char *dest, size_t i, rt_error_t *err)
{
	if (move_mount(tree, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return rt_error_set(err, errno, "mounts[%zu]: attaching the idmapped `%s` on `%s`",
				    i, m->source, dest);
	return 0;
}

/* linux.mountLabel (SELinux hosts only; the init refused it elsewhere):
 * the label as a context= option of the file systems that take one. */
static char *labelled_data(const rt_config_t *cfg, const rt_mount_t *m, const char *type)
{
	if (cfg->mount_label == NULL ||
	    (strcmp(type, "tmpfs") != 0 && strcmp(type, "devpts") != 0 &&
	     strcmp(type, "mqueue") != 0))
		return NULL;
	const char *d = m->data ? m->data : "";
	char *s = rt__xmalloc(strlen(d) + strlen(cfg->mount_label) + 16);
	sprintf(s, "%s%scontext=\"%s\"", d, d[0] ? "," : "", cfg->mount_label);
	return s;
}

typedef struct cgroup_wait {
	int (*ready)(void *ctx, rt_error_t *err);
	void *ctx;
} cgroup_wait_t;

static int mount_one(const rt_config_t *cfg, const rt_mount_t *m, const char *rootfs,
		     const char *cgroup, const cgroup_wait_t *cw, int tree, size_t i,
		     rt_error_t *err)
{
	bool file = false;
	if (m->bind) {
		struct stat st;
		if (stat(m->source, &st) < 0)
			return rt_error_set(err, errno, "mounts[%zu]: bind source `%s`", i,
					    m->source);
		file = !S_ISDIR(st.st_mode);
	}
	char dest[PATH_MAX];
	if (resolve_in_root(rootfs, m->destination, file, dest, sizeof(dest), err) < 0)
		return rt_error_wrap(err, "mounts[%zu]", i);
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if (m->bind) {
		if (tree >= 0) {
			/* made by the runtime (a container with a user namespace) */
			if (attach_tree(m, tree, dest, i, err) < 0)
				return -1;
		} else if (m->nuid_maps > 0) {
			/* no user namespace: we idmap it ourselves */
			cleanup_close int t = rt__idmap_tree(m, i, 0, err);
			if (t < 0 || attach_tree(m, t, dest, i, err) < 0)
				return -1;
		} else if (mount(m->source, dest, NULL, m->flags & (MS_BIND | MS_REC), NULL) < 0)
			return rt_error_set(err, errno, "mounts[%zu]: bind mounting `%s` on `%s`",
					    i, m->source, dest);
		if (flags && mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
			return rt_error_set(err, errno, "mounts[%zu]: remounting `%s`", i, dest);
	} else {
		const char *type = m->type;
		if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
			if (cw->ready && cw->ready(cw->ctx, err) < 0)
				return -1;
			rt_cgroup_mode_t mode;
			if (rt_cgroup_mode(&mode, err) < 0)
				return -1;
			if (mode != RT_CGROUP_UNIFIED) {
				if (mount_cgroup_v1(dest, flags, cgroup, i, err) < 0)
					return -1;
				goto propagation;
			}
			type = "cgroup2";
		}
		const char *src = m->source ? m->source : type;
		cleanup_free char *labelled = labelled_data(cfg, m, type);
		if (mount(src, dest, type, flags, labelled ? labelled : m->data) < 0) {
			/* sysfs in a shared network namespace: bind the host's, read-only. */
			if (errno == EPERM && strcmp(type, "sysfs") == 0 &&
			    mount("/sys", dest, NULL, MS_BIND | MS_REC, NULL) == 0 &&
			    mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags,
				  NULL) == 0)
				goto propagation;
			return rt_error_set(err, errno, "mounts[%zu]: mounting %s on `%s`", i, type,
					    dest);
		}
	}
propagation:
	if (m->propagation && mount(NULL, dest, NULL, m->propagation, NULL) < 0)
		return rt_error_set(err, errno, "mounts[%zu]: setting propagation of `%s`", i,
				    dest);
	return 0;
}

static const struct {
	const char *name;
	unsigned maj, min;
} default_devs[] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* Creates the default device nodes and /dev symlinks when rootfs has /dev. */
static int make_devices(const char *rootfs, rt_error_t *err)
{
	char dev[PATH_MAX];
	snprintf(dev, sizeof(dev), "%s/dev", rootfs);
	int dfd = open(dev, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return 0;
	for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
		const char *n = default_devs[i].name;
		if (mknodat(dfd, n, S_IFCHR | 0666,
			    makedev(default_devs[i].maj, default_devs[i].min)) == 0)
			continue;
		if (errno == EEXIST)
			continue;
		if (errno != EPERM) {
			int e = errno;
			close(dfd);
			return rt_error_set(err, e, "creating device `/dev/%s`", n);
		}
		/* No mknod (nodev /dev): bind-mount the host's node instead. */
		char host[64], path[PATH_MAX + 64];
		snprintf(host, sizeof(host), "/dev/%s", n);
		snprintf(path, sizeof(path), "%s/%s", dev, n);
		int fd = openat(dfd, n, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
		if (mount(host, path, NULL, MS_BIND, NULL) < 0) {
			int e = errno;
			close(dfd);
			return rt_error_set(err, e, "bind mounting `%s` on `%s`", host, path);
		}
	}
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"},
					       {"pts/ptmx", "ptmx"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST) {
			int e = errno;
			close(dfd);
			return rt_error_set(err, e, "creating link `/dev/%s`", links[i][1]);
		}
	close(dfd);
	return 0;
}

/* linux.devices: each node made at its path inside rootfs (parents
 * created, symlinks resolved inside it), with its mode and owner. A file
 * already at the path must be that device (config-linux.md, Devices). */
static int make_config_devices(const rt_config_t *cfg, const char *rootfs, rt_error_t *err)
{
	for (size_t i = 0; i < cfg->ndevices; i++) {
		const rt__device_t *d = &cfg->devices[i];
		char dest[PATH_MAX], dir[PATH_MAX];
		const char *slash = strrchr(d->path, '/');
		const char *base = slash ? slash + 1 : d->path;
		if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
			return rt__error_plain(err, EINVAL,
					       "linux.devices[%zu].path `%s`: not a file name", i,
					       d->path);
		snprintf(dir, sizeof(dir), "/%.*s", slash ? (int)(slash - d->path) : 0, d->path);
		if (resolve_in_root(rootfs, dir, false, dest, sizeof(dest), err) < 0)
			return rt_error_wrap(err, "linux.devices[%zu]", i);
		size_t dl = strlen(dest);
		if (dl + 1 + strlen(base) >= sizeof(dest))
			return rt_error_set(err, ENAMETOOLONG, "linux.devices[%zu].path `%s`", i,
					    d->path);
		dest[dl] = '/';
		strcpy(dest + dl + 1, base);
		mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
		mode_t mode = d->has_mode ? (d->mode & 07777) : 0666;
		dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
		struct stat st;
		if (lstat(dest, &st) == 0) {
			if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != dev))
				return rt__error_plain(
				    err, EEXIST,
				    "linux.devices[%zu].path `%s`: a file already there is not "
				    "the device asked for (%c %u:%u)",
				    i, d->path, d->type ? d->type : 'c', (unsigned)d->major,
				    (unsigned)d->minor);
		} else if (errno != ENOENT) {
			return rt_error_set(err, errno, "linux.devices[%zu].path `%s`", i, d->path);
		} else if (mknod(dest, type | mode, dev) < 0) {
			return rt_error_set(err, errno, "linux.devices[%zu]: creating `%s`", i,
					    d->path);
		}
		if (chown(dest, d->uid, d->gid) < 0 || chmod(dest, mode) < 0)
			return rt_error_set(err, errno, "linux.devices[%zu]: owner or mode of `%s`",
					    i, d->path);
	}
	return 0;
}

int rt__mount_rootfs(const rt_config_t *cfg, const char *rootfs, const char *cgroup,
		     int (*cgroup_ready)(void *ctx, rt_error_t *err), void *ctx,
		     const int *mount_fds, rt_error_t *err)
{
	const cgroup_wait_t cw = {cgroup_ready, ctx};
	/* Nothing done here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rt_error_set(err, errno, "making `/` private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rt_error_set(err, errno, "bind mounting the root `%s` onto itself", rootfs);
	for (size_t i = 0; i < cfg->nmounts; i++)
		if (mount_one(cfg, &cfg->mounts[i], rootfs, cgroup, &cw,
			      mount_fds ? mount_fds[i] : -1, i, err) < 0)
			return -1;
	/* linux.devices first: the default nodes do not replace its entries. */
	if (make_config_devices(cfg, rootfs, err) < 0)
		return -1;
	return make_devices(rootfs, err);
}

int rt__pivot_root(const char *rootfs, rt_error_t *err)
{
	cleanup_close int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return rt_error_set(err, errno, "opening `/`");
	if (chdir(rootfs) < 0)
		return rt_error_set(err, errno, "entering `%s`", rootfs);
	/* pivot_root(".", ".") stacks the old root under the new one at "."; it
	 * is then unmounted from the old root's view. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rt_error_set(err, errno, "pivot_root into `%s`", rootfs);
	if (fchdir(oldroot) < 0)
		return rt_error_set(err, errno, "entering the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return rt_error_set(err, errno, "making the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return rt_error_set(err, errno, "unmounting the old root");
	if (chdir("/") < 0)
		return rt_error_set(err, errno, "entering the new root");
	return 0;
}

/* Flags of the mount holding path, as mount(2) flags (so a bind remount
 * keeps nosuid/nodev/noexec). */
static unsigned long mount_flags_of(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

static int remount_ro(const char *path, rt_error_t *err)
{
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags_of(path), NULL) <
	    0)
		return rt_error_set(err, errno, "remounting `%s` read-only", path);
	return 0;
}

int rt__mount_finish(const rt_config_t *cfg, rt_error_t *err)
{
	for (char **p = cfg->masked_paths; p && *p; p++) {
		struct stat st;
		if (stat(*p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return rt_error_set(err, errno, "masking `%s`", *p);
		}
		/* A file is covered by /dev/null, as runc and crun do: it reads as
		 * empty and swallows writes. The bind is read-only, nosuid and
		 * noexec but not nodev (a nodev mount of a device fails every
		 * open with EACCES); a directory by an empty read-only tmpfs. */
		int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0k")
					     : mount("/dev/null", *p, NULL, MS_BIND, NULL);
		if (rc == 0 && !S_ISDIR(st.st_mode))
			rc = mount(NULL, *p, NULL,
				   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL);
		if (rc < 0)
			return rt_error_set(err, errno, "masking `%s`", *p);
	}
	for (char **p = cfg->readonly_paths; p && *p; p++) {
		if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return rt_error_set(err, errno, "making `%s` read-only", *p);
		}
		if (remount_ro(*p, err) < 0)
			return -1;
	}
	if (cfg->root_readonly && remount_ro("/", err) < 0)
		return -1;
	/* Set-up ran with everything private (nothing of it may reach the
	 * host); the root takes the propagation asked for at the end. */
	if (cfg->rootfs_propagation && mount(NULL, "/", NULL, cfg->rootfs_propagation, NULL) < 0)
		return rt_error_set(err, errno, "linux.rootfsPropagation: setting it on `/`");
	return 0;
}
