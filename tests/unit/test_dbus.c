/* Unit tests of libcrt/dbus: the wire format against messages GLib's
 * GDBus (an independent implementation) wrote, the malformed inputs a
 * peer could send, and the bus address rules. The fixtures were made
 * with python3-gi's Gio.DBusMessage.to_blob (see the comment of each). */
#include "config.h"
#include "cgroup/systemd.h"
#include "dbus/bus.h"
#include "dbus/message.h"
#include "tap.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tap_count;
int tap_failures;

/* The body GDBus writes for StartTransientUnit("crt-c1.scope", "replace",
 * [Description "crt container c1", Slice "system.slice", Delegate true,
 * PIDs [4242], MemoryMax uint64 32 MiB, AllowedCPUs bytes [5], Nice
 * int32 -5, IOWeight uint16 7, CPUShares int16 -2, Byte byte 9, Offset
 * int64 -7, Ratio double 1.5, SendSIGHUP true], []). */
static const char start_body[] =
  "\x0c\x00\x00\x00\x63\x72\x74\x2d\x63\x31\x2e\x73\x63\x6f\x70\x65"
  "\x00\x00\x00\x00\x07\x00\x00\x00\x72\x65\x70\x6c\x61\x63\x65\x00"
  "\x60\x01\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00\x44\x65\x73\x63"
  "\x72\x69\x70\x74\x69\x6f\x6e\x00\x01\x73\x00\x00\x10\x00\x00\x00"
  "\x63\x72\x74\x20\x63\x6f\x6e\x74\x61\x69\x6e\x65\x72\x20\x63\x31"
  "\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x53\x6c\x69\x63"
  "\x65\x00\x01\x73\x00\x00\x00\x00\x0c\x00\x00\x00\x73\x79\x73\x74"
  "\x65\x6d\x2e\x73\x6c\x69\x63\x65\x00\x00\x00\x00\x00\x00\x00\x00"
  "\x08\x00\x00\x00\x44\x65\x6c\x65\x67\x61\x74\x65\x00\x01\x62\x00"
  "\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x50\x49\x44\x73"
  "\x00\x02\x61\x75\x00\x00\x00\x00\x04\x00\x00\x00\x92\x10\x00\x00"
  "\x09\x00\x00\x00\x4d\x65\x6d\x6f\x72\x79\x4d\x61\x78\x00\x01\x74"
  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00"
  "\x0b\x00\x00\x00\x41\x6c\x6c\x6f\x77\x65\x64\x43\x50\x55\x73\x00"
  "\x02\x61\x79\x00\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00"
  "\x04\x00\x00\x00\x4e\x69\x63\x65\x00\x01\x69\x00\xfb\xff\xff\xff"
  "\x08\x00\x00\x00\x49\x4f\x57\x65\x69\x67\x68\x74\x00\x01\x71\x00"
  "\x07\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x43\x50\x55\x53"
  "\x68\x61\x72\x65\x73\x00\x01\x6e\x00\x00\xfe\xff\x00\x00\x00\x00"
  "\x04\x00\x00\x00\x42\x79\x74\x65\x00\x01\x79\x00\x09\x00\x00\x00"
  "\x06\x00\x00\x00\x4f\x66\x66\x73\x65\x74\x00\x01\x78\x00\x00\x00"
  "\xf9\xff\xff\xff\xff\xff\xff\xff\x05\x00\x00\x00\x52\x61\x74\x69"
  "\x6f\x00\x01\x64\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf8\x3f"
  "\x0a\x00\x00\x00\x53\x65\x6e\x64\x53\x49\x47\x48\x55\x50\x00\x01"
  "\x62\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

/* Signal JobRemoved(99, "/org/freedesktop/systemd1/job/99",
 * "crt-c1.scope", "done") from ":1.0", serial 12, little-endian... */
static const char job_removed_le[] =
  "\x6c\x04\x01\x01\x49\x00\x00\x00\x0c\x00\x00\x00\x8b\x00\x00\x00"
  "\x07\x01\x73\x00\x04\x00\x00\x00\x3a\x31\x2e\x30\x00\x00\x00\x00"
  "\x01\x01\x6f\x00\x19\x00\x00\x00\x2f\x6f\x72\x67\x2f\x66\x72\x65"
  "\x65\x64\x65\x73\x6b\x74\x6f\x70\x2f\x73\x79\x73\x74\x65\x6d\x64"
  "\x31\x00\x00\x00\x00\x00\x00\x00\x02\x01\x73\x00\x20\x00\x00\x00"
  "\x6f\x72\x67\x2e\x66\x72\x65\x65\x64\x65\x73\x6b\x74\x6f\x70\x2e"
  "\x73\x79\x73\x74\x65\x6d\x64\x31\x2e\x4d\x61\x6e\x61\x67\x65\x72"
  "\x00\x00\x00\x00\x00\x00\x00\x00\x08\x01\x67\x00\x04\x75\x6f\x73"
  "\x73\x00\x00\x00\x00\x00\x00\x00\x03\x01\x73\x00\x0a\x00\x00\x00"
  "\x4a\x6f\x62\x52\x65\x6d\x6f\x76\x65\x64\x00\x00\x00\x00\x00\x00"
  "\x63\x00\x00\x00\x20\x00\x00\x00\x2f\x6f\x72\x67\x2f\x66\x72\x65"
  "\x65\x64\x65\x73\x6b\x74\x6f\x70\x2f\x73\x79\x73\x74\x65\x6d\x64"
  "\x31\x2f\x6a\x6f\x62\x2f\x39\x39\x00\x00\x00\x00\x0c\x00\x00\x00"
  "\x63\x72\x74\x2d\x63\x31\x2e\x73\x63\x6f\x70\x65\x00\x00\x00\x00"
  "\x04\x00\x00\x00\x64\x6f\x6e\x65\x00";
/* ...and the same big-endian. */
static const char job_removed_be[] =
  "\x42\x04\x01\x01\x00\x00\x00\x49\x00\x00\x00\x0c\x00\x00\x00\x8b"
  "\x07\x01\x73\x00\x00\x00\x00\x04\x3a\x31\x2e\x30\x00\x00\x00\x00"
  "\x01\x01\x6f\x00\x00\x00\x00\x19\x2f\x6f\x72\x67\x2f\x66\x72\x65"
  "\x65\x64\x65\x73\x6b\x74\x6f\x70\x2f\x73\x79\x73\x74\x65\x6d\x64"
  "\x31\x00\x00\x00\x00\x00\x00\x00\x02\x01\x73\x00\x00\x00\x00\x20"
  "\x6f\x72\x67\x2e\x66\x72\x65\x65\x64\x65\x73\x6b\x74\x6f\x70\x2e"
  "\x73\x79\x73\x74\x65\x6d\x64\x31\x2e\x4d\x61\x6e\x61\x67\x65\x72"
  "\x00\x00\x00\x00\x00\x00\x00\x00\x08\x01\x67\x00\x04\x75\x6f\x73"
  "\x73\x00\x00\x00\x00\x00\x00\x00\x03\x01\x73\x00\x00\x00\x00\x0a"
  "\x4a\x6f\x62\x52\x65\x6d\x6f\x76\x65\x64\x00\x00\x00\x00\x00\x00"
  "\x00\x00\x00\x63\x00\x00\x00\x20\x2f\x6f\x72\x67\x2f\x66\x72\x65"
  "\x65\x64\x65\x73\x6b\x74\x6f\x70\x2f\x73\x79\x73\x74\x65\x6d\x64"
  "\x31\x2f\x6a\x6f\x62\x2f\x39\x39\x00\x00\x00\x00\x00\x00\x00\x0c"
  "\x63\x72\x74\x2d\x63\x31\x2e\x73\x63\x6f\x70\x65\x00\x00\x00\x00"
  "\x00\x00\x00\x04\x64\x6f\x6e\x65\x00";

/* Error org.freedesktop.systemd1.NoSuchUnit "Unit crt-c1.scope not
 * loaded." replying to serial 5, serial 30. */
static const char no_such_unit[] =
  "\x6c\x03\x01\x01\x22\x00\x00\x00\x1e\x00\x00\x00\x40\x00\x00\x00"
  "\x04\x01\x73\x00\x23\x00\x00\x00\x6f\x72\x67\x2e\x66\x72\x65\x65"
  "\x64\x65\x73\x6b\x74\x6f\x70\x2e\x73\x79\x73\x74\x65\x6d\x64\x31"
  "\x2e\x4e\x6f\x53\x75\x63\x68\x55\x6e\x69\x74\x00\x00\x00\x00\x00"
  "\x08\x01\x67\x00\x01\x73\x00\x00\x05\x01\x75\x00\x05\x00\x00\x00"
  "\x1d\x00\x00\x00\x55\x6e\x69\x74\x20\x63\x72\x74\x2d\x63\x31\x2e"
  "\x73\x63\x6f\x70\x65\x20\x6e\x6f\x74\x20\x6c\x6f\x61\x64\x65\x64"
  "\x2e\x00";

/* Big-endian method return to serial 5: a variant holding the string
 * "252.39-1~deb12u2" (what Properties.Get Version answers), serial 31. */
static const char version_reply_be[] =
  "\x42\x02\x01\x01\x00\x00\x00\x19\x00\x00\x00\x1f\x00\x00\x00\x10"
  "\x08\x01\x67\x00\x01\x76\x00\x00\x05\x01\x75\x00\x00\x00\x00\x05"
  "\x01\x73\x00\x00\x00\x00\x00\x10\x32\x35\x32\x2e\x33\x39\x2d\x31"
  "\x7e\x64\x65\x62\x31\x32\x75\x32\x00";

static void
add_annotation (crt_sd_props *p, const char *name, const char *value)
{
  cleanup_free char *key = crt_fmt ("org.systemd.property.%s", name);
  crt_kv kv = { key, (char *) value };
  crt_error *err = NULL;

  if (crt_sd_props_from_annotations (&kv, 1, p, &err) < 0)
    {
      printf ("# %s\n", err->msg);
      crt_error_free (&err);
    }
}

static void
test_start_body (void)
{
  cleanup_sd_props crt_sd_props p = { 0 };
  cleanup_dbus_msg crt_dbus_msg m;
  crt_sd_prop pids = { .name = (char *) "PIDs", .sig = "au", .u64 = 4242 };
  uint8_t cpus[] = { 5 };
  crt_sd_prop allowed = { .name = (char *) "AllowedCPUs", .sig = "ay", .bytes = cpus,
                          .n_bytes = 1 };
  crt_dbus_array a;
  bool all_put = true;
  size_t body_len;

  crt_sd_props_add_str (&p, "Description", "crt container c1");
  crt_sd_props_add_str (&p, "Slice", "system.slice");
  crt_sd_props_add_bool (&p, "Delegate", true);
  crt_sd_props_add_u64 (&p, "MemoryMax", 32 << 20);
  /* The annotation parser makes each of the other types. */
  add_annotation (&p, "Nice", "int32 -5");
  add_annotation (&p, "IOWeight", "uint16 7");
  add_annotation (&p, "CPUShares", "int16 -2");
  add_annotation (&p, "Byte", "byte 9");
  add_annotation (&p, "Offset", "int64 -7");
  add_annotation (&p, "Ratio", "double 1.5");
  add_annotation (&p, "SendSIGHUP", "true");
  TAP_INT_EQ (p.n, 11, "every annotation parsed");

  crt_dbus_msg_begin (&m, 0, 7, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                      "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                      "ssa(sv)a(sa(sv))");
  crt_dbus_put_str (&m, "crt-c1.scope");
  crt_dbus_put_str (&m, "replace");
  a = crt_dbus_array_begin (&m, 8);
  for (size_t i = 0; i < p.n; i++)
    {
      if (i == 3)
        {
          all_put &= crt_sd_put_prop (&m, &pids) == 0;
        }
      if (i == 4)
        all_put &= crt_sd_put_prop (&m, &allowed) == 0;
      all_put &= crt_sd_put_prop (&m, &p.v[i]) == 0;
    }
  crt_dbus_array_end (&m, a);
  a = crt_dbus_array_begin (&m, 8);
  crt_dbus_array_end (&m, a);
  crt_dbus_msg_end (&m);
  tap_ok (all_put && m.bad == NULL, "every property has an encoding");
  body_len = m.buf.len - m.body_at;
  TAP_INT_EQ (body_len, sizeof (start_body) - 1, "StartTransientUnit: the body's length is GDBus's");
  if (!tap_ok (body_len == sizeof (start_body) - 1
                   && memcmp (m.buf.data + m.body_at, start_body, body_len) == 0,
               "StartTransientUnit: the body is GDBus's, byte for byte"))
    for (size_t i = 0; i < body_len && i < sizeof (start_body) - 1; i++)
      if (m.buf.data[m.body_at + i] != (uint8_t) start_body[i])
        {
          printf ("#   first difference at body byte %zu: %02x, GDBus %02x\n", i,
                  m.buf.data[m.body_at + i], (uint8_t) start_body[i]);
          break;
        }

  /* The whole message reads back: header fields, the length GDBus's. */
  {
    crt_dbus_header h;
    const char *why = NULL;
    size_t len;
    tap_ok (crt_dbus_msg_length (m.buf.data, &len) == 0 && len == m.buf.len,
            "our message announces its own length");
    tap_ok (crt_dbus_parse_header (m.buf.data, m.buf.len, &h, &why) == 0
                && h.type == CRT_DBUS_METHOD_CALL && h.serial == 7
                && strcmp (h.member, "StartTransientUnit") == 0
                && strcmp (h.destination, "org.freedesktop.systemd1") == 0
                && strcmp (h.signature, "ssa(sv)a(sa(sv))") == 0 && h.body_len == body_len,
            "our header parses back");
  }
}

static void
test_read_job_removed (const char *blob, size_t size, const char *what)
{
  const uint8_t *p = (const uint8_t *) blob;
  const char *why = NULL, *job, *unit, *result;
  crt_dbus_header h;
  crt_dbus_reader r;
  uint32_t id = 0;
  size_t len = 0;

  tap_ok (crt_dbus_msg_length (p, &len) == 0 && len == size, "%s: its length", what);
  if (!tap_ok (crt_dbus_parse_header (p, size, &h, &why) == 0, "%s: the header parses", what))
    {
      printf ("#   %s\n", why);
      return;
    }
  tap_ok (h.type == CRT_DBUS_SIGNAL && h.serial == 12 && strcmp (h.sender, ":1.0") == 0
              && strcmp (h.path, "/org/freedesktop/systemd1") == 0
              && strcmp (h.interface, "org.freedesktop.systemd1.Manager") == 0
              && strcmp (h.member, "JobRemoved") == 0 && strcmp (h.signature, "uoss") == 0,
          "%s: its header fields", what);
  crt_dbus_reader_init (&r, p, &h);
  tap_ok (crt_dbus_get_u32 (&r, &id) == 0 && crt_dbus_get_str (&r, &job) == 0
              && crt_dbus_get_str (&r, &unit) == 0 && crt_dbus_get_str (&r, &result) == 0
              && id == 99 && strcmp (job, "/org/freedesktop/systemd1/job/99") == 0
              && strcmp (unit, "crt-c1.scope") == 0 && strcmp (result, "done") == 0
              && r.pos == r.end,
          "%s: its body (uoss)", what);
  tap_ok (crt_dbus_get_u32 (&r, &id) < 0 && r.failed, "%s: nothing past the end", what);
}

static void
test_read_replies (void)
{
  const uint8_t *p = (const uint8_t *) no_such_unit;
  const char *why = NULL, *s = NULL, *sig = NULL;
  crt_dbus_header h;
  crt_dbus_reader r;

  tap_ok (crt_dbus_parse_header (p, sizeof (no_such_unit) - 1, &h, &why) == 0
              && h.type == CRT_DBUS_ERROR && h.reply_serial == 5 && h.serial == 30
              && strcmp (h.error_name, "org.freedesktop.systemd1.NoSuchUnit") == 0,
          "an error reply: its name and reply serial");
  crt_dbus_reader_init (&r, p, &h);
  tap_ok (crt_dbus_get_str (&r, &s) == 0 && strcmp (s, "Unit crt-c1.scope not loaded.") == 0,
          "an error reply: its message");

  p = (const uint8_t *) version_reply_be;
  tap_ok (crt_dbus_parse_header (p, sizeof (version_reply_be) - 1, &h, &why) == 0
              && h.big_endian && h.type == CRT_DBUS_METHOD_RETURN && h.reply_serial == 5
              && strcmp (h.signature, "v") == 0,
          "a big-endian method return");
  crt_dbus_reader_init (&r, p, &h);
  tap_ok (crt_dbus_get_sig (&r, &sig) == 0 && strcmp (sig, "s") == 0
              && crt_dbus_get_str (&r, &s) == 0 && strcmp (s, "252.39-1~deb12u2") == 0,
          "a big-endian variant of a string");
}

/* A copy of the little-endian JobRemoved with one byte changed. */
static int
parse_mutated (size_t at, uint8_t value, const char **why)
{
  uint8_t copy[sizeof (job_removed_le)];
  crt_dbus_header h;

  memcpy (copy, job_removed_le, sizeof (copy));
  copy[at] = value;
  return crt_dbus_parse_header (copy, sizeof (job_removed_le) - 1, &h, why);
}

static void
test_malformed (void)
{
  const char *why = NULL;
  crt_dbus_header h;
  size_t len;
  /* A header announcing 2 GiB of body. */
  static const uint8_t huge[16] = { 'l', 4, 0, 1, 0, 0, 0, 0x80, 1, 0, 0, 0, 0, 0, 0, 0 };

  tap_ok (crt_dbus_msg_length (huge, &len) < 0, "a message over the limit is refused");
  tap_ok (parse_mutated (0, 'x', &why) < 0, "an unknown byte order is refused");
  tap_ok (parse_mutated (3, 2, &why) < 0, "protocol version 2 is refused");
  {
    uint8_t copy[sizeof (job_removed_le)];
    memcpy (copy, job_removed_le, sizeof (copy));
    memset (copy + 8, 0, 4);
    tap_ok (crt_dbus_parse_header (copy, sizeof (copy) - 1, &h, &why) < 0, "serial 0 is refused");
  }
  /* Byte 28 is the padding after the sender ":1.0" and its NUL. */
  tap_ok (parse_mutated (29, 1, &why) < 0, "nonzero padding is refused (%s)", why ? why : "");
  /* Byte 28 is the sender's NUL. */
  tap_ok (parse_mutated (28, 'x', &why) < 0, "a string without its NUL is refused");
  /* Byte 26 is the sender's "1": not UTF-8. */
  tap_ok (parse_mutated (26, 0xff, &why) < 0, "a string that is not UTF-8 is refused");
  /* Byte 18 is the type of field 7 (sender): "s" -> "u". */
  tap_ok (parse_mutated (18, 'u', &why) < 0, "a field of the wrong type is refused");
  /* Byte 16 is the code of the sender field: 7 -> 200, an unknown field of type s: skipped. */
  tap_ok (parse_mutated (16, 200, &why) == 0, "an unknown header field is skipped");
  /* Every prefix of the message: no crash, and no success. */
  {
    bool all_refused = true;
    for (size_t n = 0; n < sizeof (job_removed_le) - 1; n++)
      {
        uint8_t *copy = crt_xmalloc0 (n ? n : 1);
        memcpy (copy, job_removed_le, n);
        all_refused &= crt_dbus_parse_header (copy, n, &h, &why) < 0;
        free (copy);
      }
    tap_ok (all_refused, "every truncation is refused");
  }
}

/* The skipper on values crafted by hand: a variant nested past the
 * limit, an array whose length overruns, a boolean of 2. */
static void
test_skip (void)
{
  uint8_t deep[4096];
  size_t n = 0;
  crt_dbus_reader r;
  const char *sig;

  /* 100 variants, each holding the next: "v" signature 1,'v',0. */
  for (int i = 0; i < 100; i++)
    {
      deep[n++] = 1;
      deep[n++] = 'v';
      deep[n++] = 0;
    }
  deep[n++] = 1;
  deep[n++] = 'y';
  deep[n++] = 0;
  deep[n++] = 7;
  r = (crt_dbus_reader){ .p = deep, .pos = 0, .end = n };
  sig = "v";
  tap_ok (crt_dbus_skip (&r, &sig) < 0, "variants nested 100 deep are refused");
  r = (crt_dbus_reader){ .p = deep + 3 * 95, .pos = 0, .end = n - 3 * 95 };
  sig = "v";
  tap_ok (crt_dbus_skip (&r, &sig) == 0 && r.pos == r.end && *sig == '\0',
          "variants nested 5 deep are read");
  {
    static const uint8_t overrun[] = { 0xff, 0, 0, 0, 1, 2, 3, 4 };
    r = (crt_dbus_reader){ .p = overrun, .pos = 0, .end = sizeof (overrun) };
    sig = "ay";
    tap_ok (crt_dbus_skip (&r, &sig) < 0, "an array longer than the message is refused");
  }
  {
    static const uint8_t two[] = { 2, 0, 0, 0 };
    r = (crt_dbus_reader){ .p = two, .pos = 0, .end = sizeof (two) };
    sig = "b";
    tap_ok (crt_dbus_skip (&r, &sig) < 0, "a boolean of 2 is refused");
  }
  {
    /* a{sv} with one entry {"k": <uint32 5>}: len 16, pad to 8, "k", "u", 5. */
    static const uint8_t dict[] = { 16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'k', 0, 1, 'u',
                                    0, 0, 0, 0, 5, 0, 0, 0 };
    r = (crt_dbus_reader){ .p = dict, .pos = 0, .end = sizeof (dict) };
    sig = "a{sv}x";
    tap_ok (crt_dbus_skip (&r, &sig) == 0 && r.pos == r.end && strcmp (sig, "x") == 0,
            "a dict of a variant is stepped over");
  }
  {
    static const uint8_t empty[] = { 1, '(', 0 };
    r = (crt_dbus_reader){ .p = empty, .pos = 0, .end = sizeof (empty) };
    tap_ok (crt_dbus_get_sig (&r, &sig) < 0, "a signature with an open struct is refused");
  }
}

static void
test_utf8 (void)
{
  static const struct { const char *s; bool ok; } cases[] = {
    { "plain", true }, { "gr\xc3\xbc\xc3\x9f", true }, { "\xe2\x82\xac", true },
    { "\xf0\x9f\x90\xb3", true }, { "\xc0\xaf", false }, { "\xe0\x80\xaf", false },
    { "\xed\xa0\x80", false }, { "\xf4\x90\x80\x80", false }, { "\xc3", false },
    { "\xff", false }, { "a\x80", false },
  };
  for (size_t i = 0; i < CRT_ARRAY_SIZE (cases); i++)
    tap_ok (crt_dbus_valid_utf8 (cases[i].s, strlen (cases[i].s)) == cases[i].ok,
            "UTF-8 case %zu: %s", i, cases[i].ok ? "valid" : "refused");
  {
    cleanup_dbus_msg crt_dbus_msg m;
    crt_dbus_msg_begin (&m, 0, 1, NULL, "/", NULL, "M", "s");
    crt_dbus_put_str (&m, "bad \xff");
    tap_ok (m.bad != NULL, "a message with a string that is not UTF-8 is marked bad");
  }
}

static void
test_addresses (void)
{
  static const struct { const char *address, *label; } cases[] = {
    { "unix:path=/run/dbus/system_bus_socket", "/run/dbus/system_bus_socket" },
    { "unix:path=/tmp/b,guid=709514a9", "/tmp/b" },
    { "unix:guid=1,path=/tmp/b", "/tmp/b" },
    { "unix:abstract=/tmp/dbus-XYZ", "@/tmp/dbus-XYZ" },
    { "tcp:host=localhost,port=1;unix:path=/a%20b", "/a b" },
    { "unix:path=", "unix:path=" },
    { "nonsense", "nonsense" },
  };
  for (size_t i = 0; i < CRT_ARRAY_SIZE (cases); i++)
    {
      cleanup_free char *label = crt_dbus_address_label (cases[i].address);
      tap_str_eq (label, cases[i].label, cases[i].address);
    }
  setenv ("DBUS_SYSTEM_BUS_ADDRESS", "", 1);
  {
    cleanup_free char *a = crt_dbus_default_address (false);
    tap_str_eq (a, "unix:path=/run/dbus/system_bus_socket", "the system bus by default");
  }
  unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  setenv ("XDG_RUNTIME_DIR", "/run/user/1001", 1);
  {
    cleanup_free char *a = crt_dbus_default_address (true);
    tap_str_eq (a, "unix:path=/run/user/1001/bus", "the user's bus in XDG_RUNTIME_DIR");
  }
  {
    cleanup_error crt_error *err = NULL;
    crt_dbus *b = NULL;
    tap_ok (crt_dbus_open ("unix:path=/nonexistent/bus", NULL, NULL, &b, &err) < 0 && b == NULL
                && err && err->errnum == ENOENT,
            "no socket there: ENOENT");
  }
}

int
main (void)
{
  test_start_body ();
  test_read_job_removed (job_removed_le, sizeof (job_removed_le) - 1, "JobRemoved, little-endian");
  test_read_job_removed (job_removed_be, sizeof (job_removed_be) - 1, "JobRemoved, big-endian");
  test_read_replies ();
  test_malformed ();
  test_skip ();
  test_utf8 ();
  test_addresses ();
  return tap_done ();
}
