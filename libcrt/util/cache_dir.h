/* Bounded cache directories: the seccomp cache (<root>/.seccomp) and the
 * pinned device programs (/sys/fs/bpf/crt) hold one entry per distinct
 * profile or rule set. Both live in memory (tmpfs, bpffs), and a host
 * that keeps making new profiles (generated per job, or a crt upgrade
 * that changes every key) must not fill it: after adding an entry, crt
 * removes the least recently used ones beyond a limit. */
#ifndef CRT_UTIL_CACHE_DIR_H
#define CRT_UTIL_CACHE_DIR_H

#include <stddef.h>

/* Entries a cache keeps: far more than the profiles and rule sets a
 * host uses at once (Docker, podman and Kubernetes give every container
 * one of a handful), few enough to cost little memory (a seccomp entry
 * is at most tens of KiB, a program a few KiB of kernel memory). */
#define CRT_CACHE_DIR_KEEP 64

/* Remove from dirfd the regular files beyond the `keep` used last, never
 * `added` (the entry just made) nor names starting with '.' (entries being
 * written). "Used" is the mtime: crt_cache_dir_touch sets it at every
 * use. Best effort, errors ignored: a cache never fails a container, and
 * an entry removed too early is only made again. */
void crt_cache_dir_trim (int dirfd, size_t keep, const char *added);

/* Mark the entry `name` of dirfd (or the path, with AT_FDCWD) used now. */
void crt_cache_dir_touch (int dirfd, const char *name);

#endif
