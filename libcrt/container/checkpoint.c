/* checkpoint: dump a running container with CRIU (swrk RPC). The tree
 * under the init is dumped with its namespaces, mounts (bind mounts as
 * external ones, which restore maps back to their sources) and cgroup;
 * without --leave-running criu kills it, and the container is then
 * "stopped" until `delete`. --pre-dump copies memory only (track_mem),
 * for a later dump with --parent-path. */
#include "config.h"
#include "container.h"
#include "criu.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"
#include "../util/json_gen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* runc's descriptors.json: the targets of the init's fds 0..2. */
static int
save_descriptors (pid_t pid, int image_fd, crt_error **err)
{
  yajl_gen g = crt_gen_new (NULL);
  cleanup_free char *text = NULL;

  yajl_gen_array_open (g);
  for (int fd = 0; fd < 3; fd++)
    {
      cleanup_free char *link = crt_fmt ("/proc/%d/fd/%d", (int) pid, fd);
      char target[PATH_MAX];
      ssize_t n = readlink (link, target, sizeof (target) - 1);

      if (n < 0)
        n = 0;                  /* a closed fd: nothing to hand over */
      target[n] = '\0';
      crt_gen_str (g, target);
    }
  yajl_gen_array_close (g);
  text = crt_gen_finish (g);
  return crt_write_file_at (image_fd, CRT_CRIU_DESCRIPTORS, text, strlen (text), 0600, err);
}

/* A joined network namespace is not criu's to dump: it is named as
 * external, and restore hands the same one back. */
static int
external_netns (const crt_spec *spec, pid_t pid, char **owned, crt_criu_opts *o,
                crt_error **err)
{
  const crt_namespace *ns = crt_spec_namespace (spec, CRT_NS_NETWORK);
  cleanup_free char *path = NULL;
  struct stat st;

  if (ns == NULL || ns->path == NULL)
    return 0;
  path = crt_fmt ("/proc/%d/ns/net", (int) pid);
  if (stat (path, &st) < 0)
    return crt_error_errno (err, "stat `%s`", path);
  *owned = crt_fmt ("net[%llu]:%s", (unsigned long long) st.st_ino, CRT_CRIU_NETNS_KEY);
  o->external[o->n_external++] = *owned;
  return 0;
}

typedef struct dump_plan
{
  crt_criu_opts o;
  char **owned;                 /* strings the opts point to */
  char *netns_external;
  char *freeze;
} dump_plan;

static void
dump_plan_release (dump_plan *p)
{
  crt_strv_free (p->owned);
  free (p->netns_external);
  free (p->freeze);
}

static int
plan_dump (const crt_checkpoint_options *opts, const crt_spec *spec,
           const crt_state_record *rec, int image_fd, int work_fd, dump_plan *p,
           crt_error **err)
{
  crt_criu_opts *o = &p->o;
  const char *mnt;

  memset (p, 0, sizeof (*p));
  o->images_dir_fd = image_fd;
  o->work_dir_fd = work_fd;
  o->pid = rec->pid;
  o->log_level = 4;
  o->log_file = CRT_CRIU_DUMP_LOG;
  o->root = rec->rootfs;
  o->leave_running = opts->leave_running;
  o->link_remap = opts->link_remap;
  o->tcp_skip_in_flight = opts->tcp_skip_in_flight;
  if (crt_criu_switches_apply (&opts->criu, o, err) < 0)
    return -1;
  o->parent_img = opts->parent_path;
  /* Memory tracking, so that a later dump copies only what changed. */
  o->track_mem = opts->pre_dump || opts->parent_path != NULL;
  /* A terminal's master is outside (the console socket's receiver):
   * criu dumps the pty slave alone, and restore makes a new pair. */
  o->orphan_pts_master = spec->process && spec->process->terminal;
  o->manage_cgroups = true;
  /* criu freezes the whole cgroup (nothing forks past it) when it has one. */
  if (rec->cgroup_path[0])
    {
      if (crt_cgroup_mountpoint (&mnt, err) < 0)
        return -1;
      p->freeze = crt_fmt ("%s%s", mnt, rec->cgroup_path);
      o->freeze_cgroup = p->freeze;
    }
  if (crt_criu_ext_mounts (spec, NULL, o, &p->owned, err) < 0
      || external_netns (spec, rec->pid, &p->netns_external, o, err) < 0)
    return -1;
  return 0;
}

static int
check_options (const crt_checkpoint_options *opts, crt_error **err)
{
  if (crt_criu_switches_check (&opts->criu, err) < 0)
    return -1;
  if (opts->pre_dump && opts->leave_running)
    return crt_error_set (err, 0, "--pre-dump: always leaves the container running; "
                                  "--leave-running is not for it");
  if (opts->parent_path && opts->parent_path[0] == '/')
    return crt_error_set (err, 0,
                          "--parent-path `%s`: must be relative to the image directory (as "
                          "criu takes it, e.g. ../pre-dump)", opts->parent_path);
  return 0;
}

int
crt_container_checkpoint (crt_context *ctx, const char *id, const crt_checkpoint_options *opts,
                          crt_error **err)
{
  cleanup_close int dirfd = -1, image_fd = -1, work_fd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  cleanup_free char *config_text = NULL, *criu_path = NULL;
  cleanup_spec crt_spec *spec = NULL;
  const char *image_path = crt_criu_image_path (&opts->criu);
  const char *work_path = crt_criu_work_path (&opts->criu);
  crt_criu_req_type type = opts->pre_dump ? CRT_CRIU_REQ_PRE_DUMP : CRT_CRIU_REQ_DUMP;
  crt_criu_resp resp = { 0 };
  crt_status status;
  dump_plan plan;
  crt_criu criu;
  int ret, made;

  if (check_options (opts, err) < 0)
    return -1;
  if (crt_state_dir_open (ctx, id, true, &dirfd, err) < 0 || crt_state_read (dirfd, &rec, err) < 0)
    return -1;
  /* A paused one too, as runc: criu finds its cgroup frozen already,
   * dumps it and leaves it frozen (with --leave-running it stays
   * paused). */
  status = crt_state_status (dirfd, &rec);
  if (status != CRT_STATUS_RUNNING && status != CRT_STATUS_PAUSED)
    return crt_error_set (err, 0,
                          "cannot checkpoint container `%s`: it is %s (want running or paused)",
                          id, crt_status_name (status));
  if (crt_read_file_at (dirfd, CRT_CONFIG_COPY, &config_text, NULL, err) < 0
      || crt_spec_parse (config_text, "config.json", &spec, err) < 0
      || crt_criu_check_spec (spec, "checkpoint", err) < 0)
    return -1;
  if (crt_criu_find (&criu_path, err) < 0)
    return -1;
  made = crt_criu_open_dir (image_path, true, "--image-path", &image_fd, err);
  if (made < 0 || crt_criu_images_for_userns (spec, image_fd, image_path, made == 1, err) < 0
      || crt_criu_open_dir (work_path, true, "--work-path", &work_fd, err) < 0)
    return -1;
  if (plan_dump (opts, spec, &rec, image_fd, work_fd, &plan, err) < 0)
    {
      dump_plan_release (&plan);
      return -1;
    }
  if (!opts->pre_dump && save_descriptors (rec.pid, image_fd, err) < 0)
    {
      dump_plan_release (&plan);
      return -1;
    }
  {
    int keep[] = { image_fd, work_fd };
    ret = crt_criu_start (&criu, keep, CRT_ARRAY_SIZE (keep), err);
  }
  if (ret == 0)
    {
      ret = crt_criu_call (&criu, type, &plan.o, NULL, NULL, &resp, err);
      crt_criu_finish (&criu);
      if (ret == 0 && !resp.success)
        ret = crt_criu_explain (&resp, opts->pre_dump ? "pre-dump" : "dump", work_fd, work_path,
                                CRT_CRIU_DUMP_LOG, err);
      crt_criu_resp_clear (&resp);
    }
  dump_plan_release (&plan);
  if (ret < 0)
    return -1;
  crt_log (ctx, CRT_LOG_DEBUG, "checkpoint %s: images in %s", id, image_path);
  return 0;
}
