/* Rootless mode: whether crt runs without the host's root privileges
 * (--rootless auto|true|false), and where its state goes then. */
#include "config.h"
#include "crt.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The initial user namespace maps every id to itself: "0 0 4294967295".
 * Any other map means crt runs in a user namespace, where root is not
 * the host's root (rootless podman runs its runtime so). */
bool
crt_in_user_namespace (void)
{
  cleanup_free char *map = NULL;
  unsigned long inside, outside, count;

  if (crt_read_file_at (AT_FDCWD, "/proc/self/uid_map", &map, NULL, NULL) < 0)
    return false;
  if (sscanf (map, "%lu %lu %lu", &inside, &outside, &count) != 3)
    return false;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

bool
crt_unprivileged (void)
{
  return geteuid () != 0;
}

/* As runc: with `auto` (or no flag) crt is rootless when it is not
 * uid 0, or is uid 0 only inside a user namespace. */
static bool
detect_rootless (void)
{
  return crt_unprivileged () || crt_in_user_namespace ();
}

/* runc honours $XDG_RUNTIME_DIR for an unprivileged user, and for root in
 * a user namespace unless $USER says root. Without it, an unprivileged
 * user's runtime directory is /run/user/UID (pam_systemd's). */
static char *
default_root (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR"), *user = getenv ("USER");

  if (crt_unprivileged ())
    return xdg && xdg[0] == '/' ? crt_fmt ("%s/crt", xdg)
                                : crt_fmt ("/run/user/%u/crt", (unsigned) geteuid ());
  if (xdg && xdg[0] == '/' && crt_in_user_namespace () && (user == NULL || strcmp (user, "root") != 0))
    return crt_fmt ("%s/crt", xdg);
  return NULL;
}

int
crt_context_set_rootless (crt_context *ctx, const char *rootless_flag, crt_error **err)
{
  static char *root_for_user;

  if (rootless_flag == NULL || strcmp (rootless_flag, "auto") == 0)
    ctx->rootless = detect_rootless ();
  else if (strcmp (rootless_flag, "true") == 0)
    ctx->rootless = true;
  else if (strcmp (rootless_flag, "false") == 0)
    ctx->rootless = false;
  else
    return crt_error_set (err, 0, "invalid --rootless \"%s\": want true, false or auto",
                          rootless_flag);
  if (ctx->root == NULL)
    {
      /* Lives as long as the context (the whole command). */
      if (root_for_user == NULL)
        root_for_user = default_root ();
      ctx->root = root_for_user ? root_for_user : CRT_DEFAULT_ROOT;
    }
  return 0;
}
