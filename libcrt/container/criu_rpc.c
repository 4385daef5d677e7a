/* Hand-written protobuf (proto2 wire format) for the criu_req and
 * criu_resp messages of CRIU's rpc.proto: varint fields (wire type 0)
 * and length-delimited ones (strings and nested messages, wire type 2)
 * on the way out; on the way in the same, plus skipping the fixed-size
 * types of fields crt does not know. */
#include "config.h"
#include "criu_rpc.h"
#include "../util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_LEN 2
#define WIRE_FIXED32 5

/* ---- encoding ---- */
static void
pb_varint (crt_buf *b, uint64_t v)
{
  uint8_t out[10];
  size_t n = 0;

  do
    {
      out[n] = (uint8_t) (v & 0x7f);
      v >>= 7;
      if (v)
        out[n] |= 0x80;
      n++;
    }
  while (v);
  crt_buf_put (b, out, n);
}

static void
pb_key (crt_buf *b, unsigned field, unsigned wire)
{
  pb_varint (b, ((uint64_t) field << 3) | wire);
}

/* int32 as protobuf sends it: a negative one sign-extended to 64 bits. */
static void
pb_int32 (crt_buf *b, unsigned field, int32_t v)
{
  pb_key (b, field, WIRE_VARINT);
  pb_varint (b, (uint64_t) (int64_t) v);
}

static void
pb_bool (crt_buf *b, unsigned field, bool v)
{
  if (!v)
    return;
  pb_key (b, field, WIRE_VARINT);
  pb_varint (b, 1);
}

static void
pb_bytes (crt_buf *b, unsigned field, const void *p, size_t n)
{
  pb_key (b, field, WIRE_LEN);
  pb_varint (b, n);
  crt_buf_put (b, p, n);
}

static void
pb_string (crt_buf *b, unsigned field, const char *s)
{
  if (s != NULL)
    pb_bytes (b, field, s, strlen (s));
}

static void
pb_message (crt_buf *b, unsigned field, crt_buf *sub)
{
  pb_bytes (b, field, sub->data, sub->len);
  free (sub->data);
  *sub = (crt_buf){ 0 };
}

/* ext_mount_map {key 1, val 2}, cgroup_root {ctrl 1, path 2},
 * inherit_fd {key 1, fd 2}. */
static void
pb_pairs (crt_buf *b, unsigned field, const crt_criu_pair *p, size_t n, bool fd_value)
{
  for (size_t i = 0; i < n; i++)
    {
      crt_buf sub = { 0 };
      pb_string (&sub, 1, p[i].key);
      if (fd_value)
        pb_int32 (&sub, 2, p[i].fd);
      else
        pb_string (&sub, 2, p[i].val ? p[i].val : "");
      pb_message (b, field, &sub);
    }
}

static void
encode_opts (crt_buf *b, const crt_criu_opts *o)
{
  pb_int32 (b, 1, o->images_dir_fd);
  if (o->pid > 0)
    pb_int32 (b, 2, o->pid);
  pb_bool (b, 3, o->leave_running);
  pb_bool (b, 4, o->ext_unix_sk);
  pb_bool (b, 5, o->tcp_established);
  pb_bool (b, 7, o->shell_job);
  pb_bool (b, 8, o->file_locks);
  if (o->log_level > 0)
    pb_int32 (b, 9, o->log_level);
  pb_string (b, 10, o->log_file);
  pb_bool (b, 12, o->notify_scripts);
  pb_string (b, 13, o->root);
  pb_string (b, 14, o->parent_img);
  pb_bool (b, 15, o->track_mem);
  pb_bool (b, 16, o->auto_dedup);
  if (o->work_dir_fd >= 0)
    pb_int32 (b, 17, o->work_dir_fd);
  pb_bool (b, 18, o->link_remap);
  pb_pairs (b, 23, o->ext_mnt, o->n_ext_mnt, false);
  pb_bool (b, 24, o->manage_cgroups);
  pb_pairs (b, 25, o->cg_root, o->n_cg_root, false);
  pb_bool (b, 26, o->rst_sibling);
  pb_pairs (b, 27, o->inherit_fd, o->n_inherit_fd, true);
  if (o->manage_cgroups_mode != CRT_CRIU_CG_UNSET)
    pb_int32 (b, 34, o->manage_cgroups_mode);
  for (size_t i = 0; i < o->n_external; i++)
    pb_string (b, 37, o->external[i]);
  if (o->empty_ns)
    {
      pb_key (b, 38, WIRE_VARINT);
      pb_varint (b, o->empty_ns);
    }
  pb_string (b, 44, o->freeze_cgroup);
  pb_bool (b, 46, o->tcp_skip_in_flight);
  pb_bool (b, 50, o->orphan_pts_master);
}

uint8_t *
crt_criu_encode_req (crt_criu_req_type type, const crt_criu_opts *opts, bool notify_success,
                     size_t *len)
{
  crt_buf b = { 0 };

  pb_int32 (&b, 1, (int32_t) type);
  if (opts != NULL)
    {
      crt_buf sub = { 0 };
      encode_opts (&sub, opts);
      pb_message (&b, 2, &sub);
    }
  pb_bool (&b, 3, notify_success);
  *len = b.len;
  return b.data;
}

/* ---- decoding ---- */
typedef struct pread
{
  const uint8_t *p, *end;
} pread;

static int
rd_varint (pread *r, uint64_t *v, crt_error **err)
{
  uint64_t out = 0;

  for (unsigned shift = 0; shift < 64; shift += 7)
    {
      if (r->p >= r->end)
        return crt_error_set (err, EPROTO, "criu response: truncated varint");
      uint8_t c = *r->p++;
      out |= (uint64_t) (c & 0x7f) << shift;
      if (!(c & 0x80))
        {
          *v = out;
          return 0;
        }
    }
  return crt_error_set (err, EPROTO, "criu response: varint longer than 10 bytes");
}

/* One field: its number, wire type, and value (a varint, or the bounds
 * of a length-delimited one); fixed-size values are skipped. */
typedef struct pfield
{
  unsigned number, wire;
  uint64_t varint;
  pread sub;
} pfield;

static int
rd_field (pread *r, pfield *f, crt_error **err)
{
  uint64_t key, n;

  if (rd_varint (r, &key, err) < 0)
    return -1;
  if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
    return crt_error_set (err, EPROTO, "criu response: invalid field number");
  f->number = (unsigned) (key >> 3);
  f->wire = (unsigned) (key & 7);
  switch (f->wire)
    {
    case WIRE_VARINT:
      return rd_varint (r, &f->varint, err);
    case WIRE_LEN:
      if (rd_varint (r, &n, err) < 0)
        return -1;
      if (n > (uint64_t) (r->end - r->p))
        return crt_error_set (err, EPROTO, "criu response: field %u longer than the message",
                              f->number);
      f->sub.p = r->p;
      f->sub.end = r->p + n;
      r->p += n;
      return 0;
    case WIRE_FIXED64:
    case WIRE_FIXED32:
      n = f->wire == WIRE_FIXED64 ? 8 : 4;
      if (n > (uint64_t) (r->end - r->p))
        return crt_error_set (err, EPROTO, "criu response: truncated fixed field %u",
                              f->number);
      r->p += n;
      return 0;
    default:
      return crt_error_set (err, EPROTO, "criu response: unsupported wire type %u of field %u",
                            f->wire, f->number);
    }
}

/* A field crt reads must have the wire type rpc.proto gives it. */
static int
want_wire (const pfield *f, unsigned wire, const char *name, crt_error **err)
{
  if (f->wire != wire)
    return crt_error_set (err, EPROTO, "criu response: %s: wrong wire type %u", name, f->wire);
  return 0;
}

static int
rd_string (const pfield *f, const char *name, char **out, crt_error **err)
{
  size_t n = (size_t) (f->sub.end - f->sub.p);

  if (want_wire (f, WIRE_LEN, name, err) < 0)
    return -1;
  if (memchr (f->sub.p, '\0', n) != NULL)
    return crt_error_set (err, EPROTO, "criu response: %s: contains a NUL byte", name);
  free (*out);
  *out = crt_xmalloc0 (n + 1);
  memcpy (*out, f->sub.p, n);
  return 0;
}

static int
rd_int32 (const pfield *f, const char *name, int *out, crt_error **err)
{
  if (want_wire (f, WIRE_VARINT, name, err) < 0)
    return -1;
  *out = (int) (int32_t) (uint32_t) f->varint;
  return 0;
}

/* The nested messages: each field's number and what to do with it. */
typedef int (*sub_field_fn) (const pfield *f, crt_criu_resp *out, crt_error **err);

static int
rd_message (pread r, sub_field_fn fn, crt_criu_resp *out, crt_error **err)
{
  while (r.p < r.end)
    {
      pfield f;
      if (rd_field (&r, &f, err) < 0 || fn (&f, out, err) < 0)
        return -1;
    }
  return 0;
}

static int
dump_field (const pfield *f, crt_criu_resp *out, crt_error **err)
{
  if (f->number != 1)
    return 0;
  if (want_wire (f, WIRE_VARINT, "dump.restored", err) < 0)
    return -1;
  out->has_restored = true;
  out->restored = f->varint != 0;
  return 0;
}

static int
restore_field (const pfield *f, crt_criu_resp *out, crt_error **err)
{
  return f->number == 1 ? rd_int32 (f, "restore.pid", &out->restore_pid, err) : 0;
}

static int
notify_field (const pfield *f, crt_criu_resp *out, crt_error **err)
{
  if (f->number == 1)
    return rd_string (f, "notify.script", &out->notify_script, err);
  if (f->number == 2)
    return rd_int32 (f, "notify.pid", &out->notify_pid, err);
  return 0;
}

static int
version_field (const pfield *f, crt_criu_resp *out, crt_error **err)
{
  switch (f->number)
    {
    case 1:
      return rd_int32 (f, "version.major_number", &out->version_major, err);
    case 2:
      return rd_int32 (f, "version.minor_number", &out->version_minor, err);
    case 3:
      return rd_string (f, "version.gitid", &out->version_gitid, err);
    case 4:
      return rd_int32 (f, "version.sublevel", &out->version_sublevel, err);
    default:
      return 0;
    }
}

static int
rd_sub (const pfield *f, const char *name, sub_field_fn fn, crt_criu_resp *out,
        crt_error **err)
{
  if (want_wire (f, WIRE_LEN, name, err) < 0)
    return -1;
  return rd_message (f->sub, fn, out, err);
}

static int
resp_field (const pfield *f, crt_criu_resp *out, bool *has_type, bool *has_success,
            crt_error **err)
{
  switch (f->number)
    {
    case 1:
      *has_type = true;
      return rd_int32 (f, "type", &out->type, err);
    case 2:
      if (want_wire (f, WIRE_VARINT, "success", err) < 0)
        return -1;
      *has_success = true;
      out->success = f->varint != 0;
      return 0;
    case 3:
      return rd_sub (f, "dump", dump_field, out, err);
    case 4:
      return rd_sub (f, "restore", restore_field, out, err);
    case 5:
      return rd_sub (f, "notify", notify_field, out, err);
    case 7:
      out->has_cr_errno = true;
      return rd_int32 (f, "cr_errno", &out->cr_errno, err);
    case 9:
      return rd_string (f, "cr_errmsg", &out->cr_errmsg, err);
    case 10:
      out->has_version = true;
      return rd_sub (f, "version", version_field, out, err);
    default:
      return 0;
    }
}

int
crt_criu_decode_resp (const uint8_t *buf, size_t len, crt_criu_resp *out, crt_error **err)
{
  pread r = { buf, buf + len };
  bool has_type = false, has_success = false;

  memset (out, 0, sizeof (*out));
  while (r.p < r.end)
    {
      pfield f;
      if (rd_field (&r, &f, err) < 0 || resp_field (&f, out, &has_type, &has_success, err) < 0)
        goto fail;
    }
  if (!has_type || !has_success)
    {
      crt_error_set (err, EPROTO, "criu response: required field %s missing",
                     has_type ? "success" : "type");
      goto fail;
    }
  return 0;

fail:
  crt_criu_resp_clear (out);
  return -1;
}

void
crt_criu_resp_clear (crt_criu_resp *r)
{
  free (r->notify_script);
  free (r->cr_errmsg);
  free (r->version_gitid);
  memset (r, 0, sizeof (*r));
}
