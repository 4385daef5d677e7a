#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* In a user namespace whose gid map was written without CAP_SETGID
 * (rootless), /proc/self/setgroups is "deny" and setgroups always fails. */
static bool
setgroups_denied (void)
{
  char buf[16] = "";
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

  if (fd < 0 || read (fd, buf, sizeof (buf) - 1) < 0)
    return false;
  return crt_str_has_prefix (buf, "deny");
}

static int
set_groups (const crt_user *user, crt_error **err)
{
  cleanup_free gid_t *gids = NULL;

  if (user->n_additional_gids == 0 && setgroups_denied ())
    return 0;
  /* An empty list still matters: it drops the groups crt ran with. */
  gids = crt_xmalloc0 (user->n_additional_gids * sizeof (gid_t));
  for (size_t i = 0; i < user->n_additional_gids; i++)
    gids[i] = user->additional_gids[i];
  if (setgroups (user->n_additional_gids, gids) < 0)
    return crt_error_errno (err, "setgroups (process.user.additionalGids, %zu groups)",
                            user->n_additional_gids);
  return 0;
}

int
crt_user_switch (const crt_user *user, crt_error **err)
{
  if (set_groups (user, err) < 0)
    return -1;
  if (setresgid (user->gid, user->gid, user->gid) < 0)
    return crt_error_errno (err, "setresgid %u (process.user.gid)", user->gid);

  /* Leaving uid 0 would otherwise empty the permitted set, leaving
   * nothing for the capabilities step to keep. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_KEEPCAPS");
  if (setresuid (user->uid, user->uid, user->uid) < 0)
    return crt_error_errno (err, "setresuid %u (process.user.uid)", user->uid);
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_KEEPCAPS");
  return 0;
}
