/* Compiled seccomp filters cached under crt's root dir, so that `run`,
 * `create` and `exec` of a profile compiled before load neither
 * libseccomp nor its compiler (which also probes the kernel with about
 * nine seccomp(2) calls).
 *
 * <root>/.seccomp/<hash>: one file per profile. The file holds its whole
 * key (the profile as crt_seccomp_key gives it, plus what else changes
 * the program: this crt binary, the kernel, the word size) and is used
 * only when the key is the same byte for byte; the hash only names the
 * file. The file also names the libseccomp that compiled it (path, inode,
 * size, mtime), checked at every use: an upgraded libseccomp recompiles.
 *
 * A cache is trusted code for every container, so an entry is used only
 * when: the dir is a real directory (O_NOFOLLOW) owned by crt's euid with
 * mode 0700; the file is a regular file (O_NOFOLLOW), owned by that euid,
 * not group or other writable, with one link; its checksum, sizes and
 * limits are right. Anything else is a miss: the profile is compiled as
 * if there were no cache (and the entry rewritten when the dir is sound).
 * Nothing here ever fails a container. The dir keeps the entries used
 * last (util/cache_dir.h): a hit marks its entry used, a new entry
 * removes the least recently used beyond CRT_CACHE_DIR_KEEP. */
#ifndef CRT_LINUX_SECCOMP_CACHE_H
#define CRT_LINUX_SECCOMP_CACHE_H

#include <stddef.h>

#include "../spec/spec.h"
#include "seccomp.h"

/* The key of s (caller frees). */
char *crt_seccomp_cache_key (const crt_seccomp *s, size_t *len);

/* 1 and *out on a hit, 0 on a miss. */
int crt_seccomp_cache_get (const char *root, const char *key, size_t key_len,
                           crt_seccomp_filter **out);

/* Store f (compiled by the libseccomp in the file lib_file, see
 * crt_scmp_api_file) under key; failures are ignored. */
void crt_seccomp_cache_put (const char *root, const char *key, size_t key_len,
                            const crt_seccomp_filter *f, const char *lib_file);

#endif
