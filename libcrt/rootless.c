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
 * the host's root (rootless podman runs its runtime so). Read on every
 * command, so cheaply: one read into the stack, no sscanf (whose code
 * alone costs a start-up its page faults). */
bool
crt_in_user_namespace (void)
{
  static const unsigned long want[] = { 0, 0, 4294967295UL };
  cleanup_close int fd = open ("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  char buf[256], *p = buf, *end;
  ssize_t n;

  if (fd < 0 || (n = crt_read_all (fd, buf, sizeof (buf) - 1)) <= 0)
    return false;
  buf[n] = '\0';
  for (size_t i = 0; i < CRT_ARRAY_SIZE (want); i++)
    {
      unsigned long v;

      while (*p == ' ')
        p++;
      errno = 0;
      v = strtoul (p, &end, 10);
      if (end == p || errno != 0)
        return false;
      if (v != want[i])
        return true;
      p = end;
    }
  /* A second line is a second range: not the initial namespace's. */
  while (*p == ' ' || *p == '\n')
    p++;
  return *p != '\0';
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
