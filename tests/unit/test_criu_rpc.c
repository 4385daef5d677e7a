/* The hand-written protobuf of libcrt/container/criu_rpc.c against bytes
 * worked out from rpc.proto's field numbers (what protoc-generated code
 * sends), and the decoder against good, truncated and malformed input.
 * That criu itself understands it is shown by tests/criu/test_criu_vm.py. */
#include "config.h"
#include "tap.h"

#include <stdlib.h>

#include "container/criu_rpc.h"
#include "util/util.h"

int tap_count;
int tap_failures;

static bool
bytes_eq (const uint8_t *got, size_t n, const uint8_t *want, size_t m, const char *what)
{
  bool same = n == m && memcmp (got, want, n) == 0;

  if (!tap_ok (same, "%s", what))
    {
      printf ("#   got: ");
      for (size_t i = 0; i < n; i++)
        printf (" %02x", got[i]);
      printf ("\n#   want:");
      for (size_t i = 0; i < m; i++)
        printf (" %02x", want[i]);
      printf ("\n");
    }
  return same;
}

static void
test_encode (void)
{
  size_t n;
  cleanup_free uint8_t *version = crt_criu_encode_req (CRT_CRIU_REQ_VERSION, NULL, false, &n);
  static const uint8_t want_version[] = { 0x08, 0x0a };
  bytes_eq (version, n, want_version, sizeof (want_version), "VERSION: type only");

  cleanup_free uint8_t *ack = crt_criu_encode_req (CRT_CRIU_REQ_NOTIFY, NULL, true, &n);
  static const uint8_t want_ack[] = { 0x08, 0x06, 0x18, 0x01 };
  bytes_eq (ack, n, want_ack, sizeof (want_ack), "NOTIFY ack: notify_success = 3");

  crt_criu_opts o = { .images_dir_fd = 3, .work_dir_fd = -1, .pid = 300,
                      .leave_running = true, .root = "/r",
                      .manage_cgroups_mode = CRT_CRIU_CG_UNSET };
  o.ext_mnt[0] = (crt_criu_pair){ .key = "/a", .val = "/b" };
  o.n_ext_mnt = 1;
  cleanup_free uint8_t *dump = crt_criu_encode_req (CRT_CRIU_REQ_DUMP, &o, false, &n);
  static const uint8_t want_dump[] = {
    0x08, 0x01,                                 /* type DUMP */
    0x12, 0x16,                                 /* opts, 22 bytes */
    0x08, 0x03,                                 /* images_dir_fd 3 */
    0x10, 0xac, 0x02,                           /* pid 300 */
    0x18, 0x01,                                 /* leave_running */
    0x6a, 0x02, '/', 'r',                       /* root (13) */
    0xba, 0x01, 0x08,                           /* ext_mnt (23), 8 bytes */
    0x0a, 0x02, '/', 'a', 0x12, 0x02, '/', 'b',
  };
  bytes_eq (dump, n, want_dump, sizeof (want_dump), "DUMP: opts nested, ext_mnt a 2-byte key");

  /* A negative int32 is sign-extended: 10 bytes. The mode is sent even
   * when IGNORE (0): it is not criu's default. */
  crt_criu_opts neg = { .images_dir_fd = -1, .work_dir_fd = -1,
                        .manage_cgroups_mode = CRT_CRIU_CG_IGNORE };
  cleanup_free uint8_t *r = crt_criu_encode_req (CRT_CRIU_REQ_RESTORE, &neg, false, &n);
  static const uint8_t want_neg[] = {
    0x08, 0x02, 0x12, 0x0e,
    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    0x90, 0x02, 0x00,                           /* manage_cgroups_mode (34) = 0 */
  };
  bytes_eq (r, n, want_neg, sizeof (want_neg), "negative int32, cg mode IGNORE");

  /* Two-byte keys of the notify and terminal options. */
  crt_criu_opts tty = { .images_dir_fd = 3, .work_dir_fd = -1, .notify_scripts = true,
                        .orphan_pts_master = true, .manage_cgroups_mode = CRT_CRIU_CG_UNSET };
  cleanup_free uint8_t *t = crt_criu_encode_req (CRT_CRIU_REQ_RESTORE, &tty, false, &n);
  static const uint8_t want_tty[] = {
    0x08, 0x02, 0x12, 0x07,
    0x08, 0x03,                                 /* images_dir_fd 3 */
    0x60, 0x01,                                 /* notify_scripts (12) */
    0x90, 0x03, 0x01,                           /* orphan_pts_master (50) */
  };
  bytes_eq (t, n, want_tty, sizeof (want_tty), "notify_scripts, orphan_pts_master (50)");

  /* runc's switches: ext_unix_sk 4, auto_dedup 16, link_remap 18,
   * empty_ns 38 (CLONE_NEWNET 0x40000000, a 5-byte varint),
   * tcp_skip_in_flight 46. */
  crt_criu_opts sw = { .images_dir_fd = 3, .work_dir_fd = -1, .ext_unix_sk = true,
                       .auto_dedup = true, .link_remap = true, .tcp_skip_in_flight = true,
                       .empty_ns = 0x40000000, .manage_cgroups_mode = CRT_CRIU_CG_UNSET };
  cleanup_free uint8_t *w = crt_criu_encode_req (CRT_CRIU_REQ_DUMP, &sw, false, &n);
  static const uint8_t want_sw[] = {
    0x08, 0x01, 0x12, 0x14,                     /* opts, 20 bytes */
    0x08, 0x03,                                 /* images_dir_fd 3 */
    0x20, 0x01,                                 /* ext_unix_sk (4) */
    0x80, 0x01, 0x01,                           /* auto_dedup (16) */
    0x90, 0x01, 0x01,                           /* link_remap (18) */
    0xb0, 0x02, 0x80, 0x80, 0x80, 0x80, 0x04,   /* empty_ns (38) */
    0xf0, 0x02, 0x01,                           /* tcp_skip_in_flight (46) */
  };
  bytes_eq (w, n, want_sw, sizeof (want_sw), "ext_unix_sk, auto_dedup, link_remap, empty_ns, "
            "tcp_skip_in_flight");
}

static void
test_decode (void)
{
  crt_criu_resp resp;
  crt_error *err = NULL;

  /* RESTORE, success, restore {pid 4242}, an unknown fixed32 field 20
   * and an unknown string field 21 (skipped). */
  static const uint8_t restore[] = {
    0x08, 0x02, 0x10, 0x01, 0x22, 0x03, 0x08, 0x92, 0x21,
    0xa5, 0x01, 1, 2, 3, 4, 0xaa, 0x01, 0x01, 'x',
  };
  TAP_INT_EQ (crt_criu_decode_resp (restore, sizeof (restore), &resp, &err), 0, "restore resp");
  TAP_INT_EQ (resp.type, 2, "type");
  tap_ok (resp.success, "success");
  TAP_INT_EQ (resp.restore_pid, 4242, "restore.pid");
  crt_criu_resp_clear (&resp);

  /* DUMP failed: cr_errno 2, cr_errmsg "boom". */
  static const uint8_t failed[] = { 0x08, 0x01, 0x10, 0x00, 0x38, 0x02,
                                    0x4a, 0x04, 'b', 'o', 'o', 'm' };
  TAP_INT_EQ (crt_criu_decode_resp (failed, sizeof (failed), &resp, &err), 0, "failed resp");
  tap_ok (!resp.success && resp.has_cr_errno && resp.cr_errno == 2, "cr_errno");
  tap_str_eq (resp.cr_errmsg, "boom", "cr_errmsg");
  crt_criu_resp_clear (&resp);

  /* NOTIFY {script "post-restore", pid 7}. */
  static const uint8_t notify[] = { 0x08, 0x06, 0x10, 0x01, 0x2a, 0x10, 0x0a, 0x0c,
                                    'p', 'o', 's', 't', '-', 'r', 'e', 's', 't', 'o', 'r', 'e',
                                    0x10, 0x07 };
  TAP_INT_EQ (crt_criu_decode_resp (notify, sizeof (notify), &resp, &err), 0, "notify resp");
  tap_str_eq (resp.notify_script, "post-restore", "notify.script");
  TAP_INT_EQ (resp.notify_pid, 7, "notify.pid");
  crt_criu_resp_clear (&resp);

  /* VERSION 3.17.1 with gitid. */
  static const uint8_t version[] = { 0x08, 0x0a, 0x10, 0x01, 0x52, 0x0a, 0x08, 0x03, 0x10, 0x11,
                                     0x1a, 0x02, 'g', '1', 0x20, 0x01 };
  TAP_INT_EQ (crt_criu_decode_resp (version, sizeof (version), &resp, &err), 0, "version resp");
  tap_ok (resp.has_version && resp.version_major == 3 && resp.version_minor == 17
              && resp.version_sublevel == 1, "version 3.17.1");
  tap_str_eq (resp.version_gitid, "g1", "version.gitid");
  crt_criu_resp_clear (&resp);

  static const struct
  {
    const char *what;
    uint8_t bytes[12];
    size_t n;
    const char *want;
  } bad[] = {
    { "empty", { 0 }, 0, "required field type missing" },
    { "no success", { 0x08, 0x01 }, 2, "required field success missing" },
    { "truncated varint", { 0x08, 0x81 }, 2, "truncated varint" },
    { "string past the end", { 0x08, 0x01, 0x10, 0x01, 0x4a, 0x05, 'a' }, 7,
      "longer than the message" },
    { "NUL in a string", { 0x08, 0x01, 0x10, 0x01, 0x4a, 0x02, 'a', 0 }, 8, "NUL byte" },
    { "wrong wire type", { 0x0a, 0x00, 0x10, 0x01 }, 4, "type: wrong wire type" },
    { "group wire type", { 0x0b }, 1, "unsupported wire type 3" },
    { "field 0", { 0x00, 0x01 }, 2, "invalid field number" },
    { "nested truncated", { 0x08, 0x02, 0x10, 0x01, 0x22, 0x02, 0x08, 0x80 }, 8,
      "truncated varint" },
    { "11-byte varint", { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                          0x01 }, 12, "longer than 10 bytes" },
  };
  for (size_t i = 0; i < CRT_ARRAY_SIZE (bad); i++)
    {
      int rc = crt_criu_decode_resp (bad[i].bytes, bad[i].n, &resp, &err);
      tap_ok (rc < 0 && err && strstr (err->msg, bad[i].want), "refused: %s (%s)", bad[i].what,
              err ? err->msg : "no error");
      crt_error_free (&err);
    }
}

int
main (void)
{
  test_encode ();
  test_decode ();
  return tap_done ();
}
