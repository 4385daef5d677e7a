/* Paths inside the container's root, resolved as if the root were "/":
 * symlinks (absolute or relative) and ".." never lead out of it. Every
 * function here works on fds and behaves like a syscall: it returns a
 * new O_CLOEXEC fd (or 0) and sets errno on failure, so callers can
 * name the path in their own error message. */
#ifndef CRT_PATHS_H
#define CRT_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

#include "../error.h"

/* Resolution flags. */
#define CRT_PATH_NO_SYMLINKS 0x1   /* fail with ELOOP on any symlink */

/* The lexically cleaned form of an absolute or relative container path,
 * relative to the root: "/a/./b//../c/" -> "a/c", "/" -> "" (".." at the
 * root stays at the root). Caller frees. */
char *crt_path_clean (const char *path);

/* Open `path` inside the tree of rootfd. open_flags are openat(2) flags
 * (O_PATH, O_DIRECTORY, ...; O_CLOEXEC is added, O_CREAT is refused).
 * Uses openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and a userspace
 * walk where the kernel lacks openat2. */
int crt_path_open (int rootfd, const char *path, int open_flags, int resolve);

/* The userspace walk alone (kept callable so unit tests can exercise it
 * on kernels that have openat2). Opens with O_PATH; open_flags may add
 * O_DIRECTORY or O_NOFOLLOW (then a final symlink is returned itself). */
int crt_path_open_walk (int rootfd, const char *path, int open_flags, int resolve);

/* Open `path` inside rootfd, creating what is missing: parent directories
 * (mode 0755) and the last component, a directory when `directory`,
 * otherwise an empty regular file, with `mode`. Dangling symlinks are
 * followed and their target is created, inside the root. Returns an
 * O_PATH fd. */
int crt_path_create (int rootfd, const char *path, bool directory, mode_t mode, int resolve);

/* crt_path_create for a target crt_path_check_mount_target checks:
 * *resolved_as gets the resolve flags it was found with (first
 * CRT_PATH_NO_SYMLINKS, then, after a symlink on the way and unless
 * resolve has it, resolve itself), for that check. */
int crt_path_create_target (int rootfd, const char *path, bool directory, mode_t mode, int resolve,
                            int *resolved_as);

/* Open the parent directory of `path` inside rootfd (creating it, as
 * crt_path_create_target), and return the last component in *name
 * (malloc'ed). Fails with EINVAL for the root itself. Returns an O_PATH
 * directory fd. */
int crt_path_create_parent (int rootfd, const char *path, char **name, int *resolved_as);

/* May something be mounted on fd (the resolved destination `dest`
 * inside rootfd, opened with the resolve flags resolved_as)? Not inside
 * the container's /proc, except onto /proc itself for a proc mount and
 * a few lxcfs entries (runc's list), not on any other procfs, and not on
 * sysfs reached through a symlink. The error says why; callers put the
 * destination in front. */
int crt_path_check_mount_target (int rootfd, int fd, const char *dest, int resolved_as,
                                 bool proc_mount, crt_error **err);

/* "/proc/self/fd/N" for mount(2) and friends that take a path. */
#define CRT_FD_PATH_MAX 32
const char *crt_fd_path (int fd, char buf[CRT_FD_PATH_MAX]);

#endif
