/* The D-Bus wire format: see message.h. */
#include "config.h"
#include "message.h"

#include <stdlib.h>
#include <string.h>

/* Header field codes (the specification's table). */
enum
{
  FIELD_PATH = 1,
  FIELD_INTERFACE = 2,
  FIELD_MEMBER = 3,
  FIELD_ERROR_NAME = 4,
  FIELD_REPLY_SERIAL = 5,
  FIELD_DESTINATION = 6,
  FIELD_SENDER = 7,
  FIELD_SIGNATURE = 8,
  FIELD_UNIX_FDS = 9,
};

#define FIXED_HEADER 16
/* The specification's nesting limits: 32 arrays and 32 structs deep. */
#define MAX_DEPTH 64
#define MAX_SIGNATURE 255

static size_t
align_up (size_t n, size_t a)
{
  return (n + a - 1) / a * a;
}

/* ---- writing ---- */

static void
pad (crt_dbus_msg *m, size_t a)
{
  static const uint8_t zeros[8];
  size_t n = align_up (m->buf.len, a) - m->buf.len;
  crt_buf_put (&m->buf, zeros, n);
}

/* crt only writes little-endian messages, on every host: the header's
 * first byte says so. */
static void
put_le (crt_dbus_msg *m, uint64_t v, size_t size)
{
  uint8_t b[8];

  pad (m, size);
  for (size_t i = 0; i < size; i++)
    b[i] = (uint8_t) (v >> (8 * i));
  crt_buf_put (&m->buf, b, size);
}

static void
poke_u32 (crt_dbus_msg *m, size_t at, uint32_t v)
{
  for (size_t i = 0; i < 4; i++)
    m->buf.data[at + i] = (uint8_t) (v >> (8 * i));
}

void
crt_dbus_put_byte (crt_dbus_msg *m, uint8_t v)
{
  crt_buf_put (&m->buf, &v, 1);
}

void
crt_dbus_put_bool (crt_dbus_msg *m, bool v)
{
  put_le (m, v ? 1 : 0, 4);
}

void
crt_dbus_put_u16 (crt_dbus_msg *m, uint16_t v)
{
  put_le (m, v, 2);
}

void
crt_dbus_put_u32 (crt_dbus_msg *m, uint32_t v)
{
  put_le (m, v, 4);
}

void
crt_dbus_put_u64 (crt_dbus_msg *m, uint64_t v)
{
  put_le (m, v, 8);
}

void
crt_dbus_put_double (crt_dbus_msg *m, double v)
{
  uint64_t bits;
  memcpy (&bits, &v, sizeof (bits));
  put_le (m, bits, 8);
}

void
crt_dbus_put_str (crt_dbus_msg *m, const char *s)
{
  size_t len = strlen (s);

  if (len > CRT_DBUS_MAX_MESSAGE || !crt_dbus_valid_utf8 (s, len))
    {
      if (m->bad == NULL)
        m->bad = len > CRT_DBUS_MAX_MESSAGE ? "a string is too long for D-Bus"
                                            : "a string is not valid UTF-8";
      s = "";
      len = 0;
    }
  put_le (m, len, 4);
  crt_buf_put (&m->buf, s, len + 1);
}

void
crt_dbus_put_sig (crt_dbus_msg *m, const char *sig)
{
  size_t len = strlen (sig);

  if (len > MAX_SIGNATURE)
    {
      if (m->bad == NULL)
        m->bad = "a signature is longer than 255 characters";
      sig = "";
      len = 0;
    }
  crt_dbus_put_byte (m, (uint8_t) len);
  crt_buf_put (&m->buf, sig, len + 1);
}

crt_dbus_array
crt_dbus_array_begin (crt_dbus_msg *m, size_t elem_align)
{
  crt_dbus_array a;

  put_le (m, 0, 4);
  a.length_at = m->buf.len - 4;
  pad (m, elem_align);
  a.start = m->buf.len;
  return a;
}

void
crt_dbus_array_end (crt_dbus_msg *m, crt_dbus_array a)
{
  poke_u32 (m, a.length_at, (uint32_t) (m->buf.len - a.start));
}

void
crt_dbus_struct_begin (crt_dbus_msg *m)
{
  pad (m, 8);
}

static void
put_field (crt_dbus_msg *m, uint8_t code, const char *sig, const char *value)
{
  if (value == NULL)
    return;
  crt_dbus_struct_begin (m);
  crt_dbus_put_byte (m, code);
  crt_dbus_put_sig (m, sig);
  if (sig[0] == 'g')
    crt_dbus_put_sig (m, value);
  else
    crt_dbus_put_str (m, value);
}

void
crt_dbus_msg_begin (crt_dbus_msg *m, uint8_t flags, uint32_t serial, const char *destination,
                    const char *path, const char *interface, const char *member,
                    const char *body_sig)
{
  crt_dbus_array fields;

  memset (m, 0, sizeof (*m));
  m->serial = serial;
  m->flags = flags;
  crt_dbus_put_byte (m, 'l');
  crt_dbus_put_byte (m, CRT_DBUS_METHOD_CALL);
  crt_dbus_put_byte (m, flags);
  crt_dbus_put_byte (m, 1);     /* protocol version */
  crt_dbus_put_u32 (m, 0);      /* the body's length: crt_dbus_msg_end */
  crt_dbus_put_u32 (m, serial);
  fields = crt_dbus_array_begin (m, 8);
  put_field (m, FIELD_PATH, "o", path);
  put_field (m, FIELD_DESTINATION, "s", destination);
  put_field (m, FIELD_INTERFACE, "s", interface);
  put_field (m, FIELD_MEMBER, "s", member);
  if (body_sig && body_sig[0])
    put_field (m, FIELD_SIGNATURE, "g", body_sig);
  crt_dbus_array_end (m, fields);
  pad (m, 8);
  m->body_at = m->buf.len;
}

void
crt_dbus_msg_end (crt_dbus_msg *m)
{
  poke_u32 (m, 4, (uint32_t) (m->buf.len - m->body_at));
}

void
crt_dbus_msg_clear (crt_dbus_msg *m)
{
  free (m->buf.data);
  memset (m, 0, sizeof (*m));
}

bool
crt_dbus_valid_utf8 (const char *str, size_t len)
{
  const uint8_t *s = (const uint8_t *) str;

  for (size_t i = 0; i < len;)
    {
      uint32_t c = s[i];
      size_t n;

      if (c < 0x80)
        {
          if (c == 0)
            return false;
          i++;
          continue;
        }
      if ((c & 0xe0) == 0xc0)
        n = 1, c &= 0x1f;
      else if ((c & 0xf0) == 0xe0)
        n = 2, c &= 0x0f;
      else if ((c & 0xf8) == 0xf0)
        n = 3, c &= 0x07;
      else
        return false;
      if (len - i <= n)
        return false;
      for (size_t k = 1; k <= n; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return false;
          c = (c << 6) | (s[i + k] & 0x3f);
        }
      /* The shortest form only, no surrogates, nothing past U+10FFFF. */
      if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000)
          || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return false;
      i += n + 1;
    }
  return true;
}

/* ---- reading ---- */

static uint32_t
load_u32 (const uint8_t *p, bool big_endian)
{
  return big_endian ? (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]
                    : (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

static int
fail (crt_dbus_reader *r)
{
  r->failed = true;
  return -1;
}

/* Step to the next multiple of a; the padding must be zeros. */
static int
align_to (crt_dbus_reader *r, size_t a)
{
  size_t to = align_up (r->pos, a);

  if (r->failed || to > r->end)
    return fail (r);
  for (; r->pos < to; r->pos++)
    if (r->p[r->pos] != 0)
      return fail (r);
  return 0;
}

static int
get_fixed (crt_dbus_reader *r, size_t size, uint64_t *v)
{
  if (align_to (r, size) < 0 || r->end - r->pos < size)
    return fail (r);
  *v = 0;
  for (size_t i = 0; i < size; i++)
    {
      size_t k = r->big_endian ? i : size - 1 - i;
      *v = (*v << 8) | r->p[r->pos + k];
    }
  r->pos += size;
  return 0;
}

void
crt_dbus_reader_init (crt_dbus_reader *r, const uint8_t *msg, const crt_dbus_header *h)
{
  r->p = msg;
  r->pos = h->body_at;
  r->end = h->body_at + h->body_len;
  r->big_endian = h->big_endian;
  r->failed = false;
}

int
crt_dbus_get_byte (crt_dbus_reader *r, uint8_t *v)
{
  uint64_t x;
  if (get_fixed (r, 1, &x) < 0)
    return -1;
  *v = (uint8_t) x;
  return 0;
}

int
crt_dbus_get_u32 (crt_dbus_reader *r, uint32_t *v)
{
  uint64_t x;
  if (get_fixed (r, 4, &x) < 0)
    return -1;
  *v = (uint32_t) x;
  return 0;
}

int
crt_dbus_get_u64 (crt_dbus_reader *r, uint64_t *v)
{
  return get_fixed (r, 8, v);
}

/* len bytes of text and their NUL at the reader: no NUL inside, UTF-8. */
static int
get_text (crt_dbus_reader *r, size_t len, const char **s)
{
  const char *t = (const char *) r->p + r->pos;

  if (r->end - r->pos <= len || t[len] != '\0' || !crt_dbus_valid_utf8 (t, len))
    return fail (r);
  r->pos += len + 1;
  *s = t;
  return 0;
}

int
crt_dbus_get_str (crt_dbus_reader *r, const char **s)
{
  uint32_t len;
  if (crt_dbus_get_u32 (r, &len) < 0)
    return -1;
  return get_text (r, len, s);
}

static size_t
type_align (char t)
{
  switch (t)
    {
    case 'n': case 'q':
      return 2;
    case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a':
      return 4;
    case 'x': case 't': case 'd': case '(': case '{':
      return 8;
    default:
      return 1;
    }
}

/* Past the single complete type at sig, or NULL when there is none. */
static const char *
type_end (const char *sig, int depth)
{
  if (depth > MAX_DEPTH)
    return NULL;
  switch (*sig)
    {
    case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
    case 'd': case 'h': case 's': case 'o': case 'g': case 'v':
      return sig + 1;
    case 'a':
      return type_end (sig + 1, depth + 1);
    case '(':
      {
        const char *s = sig + 1;
        if (*s == ')')
          return NULL;
        while (s && *s != ')')
          s = type_end (s, depth + 1);
        return s ? s + 1 : NULL;
      }
    case '{':
      {
        /* A dict entry: a basic key and one value, only in an array. */
        const char *s = sig + 1;
        if (type_end (s, depth + 1) != s + 1 || *s == 'v' || *s == 'a' || *s == '(' || *s == '{')
          return NULL;
        s = type_end (s + 1, depth + 1);
        return s && *s == '}' ? s + 1 : NULL;
      }
    default:
      return NULL;
    }
}

/* A signature: only complete types, and only where they may be. */
static bool
valid_signature (const char *sig)
{
  for (const char *s = sig; *s;)
    {
      const char *e = type_end (s, 0);
      if (e == NULL)
        return false;
      for (const char *c = s; c < e; c++)
        if (*c == '{' && (c == sig || c[-1] != 'a'))
          return false;
      s = e;
    }
  return true;
}

int
crt_dbus_get_sig (crt_dbus_reader *r, const char **sig)
{
  uint8_t len;

  if (crt_dbus_get_byte (r, &len) < 0 || get_text (r, len, sig) < 0)
    return -1;
  if (!valid_signature (*sig))
    return fail (r);
  return 0;
}

static int
skip_one (crt_dbus_reader *r, const char **sig, int depth)
{
  const char *s = *sig;
  const char *text;
  uint64_t v;

  if (depth > MAX_DEPTH || r->failed)
    return fail (r);
  switch (*s)
    {
    case 'y': case 'n': case 'q': case 'i': case 'u': case 'h': case 'x': case 't': case 'd':
      if (get_fixed (r, type_align (*s), &v) < 0)
        return -1;
      break;
    case 'b':
      if (get_fixed (r, 4, &v) < 0 || v > 1)
        return fail (r);
      break;
    case 's': case 'o':
      if (crt_dbus_get_str (r, &text) < 0)
        return -1;
      break;
    case 'g':
      if (crt_dbus_get_sig (r, &text) < 0)
        return -1;
      break;
    case 'v':
      {
        const char *inner;
        if (crt_dbus_get_sig (r, &inner) < 0 || type_end (inner, 0) == NULL
            || *type_end (inner, 0) != '\0' || skip_one (r, &inner, depth + 1) < 0)
          return fail (r);
        break;
      }
    case 'a':
      {
        const char *elem = s + 1, *after = type_end (elem, depth + 1);
        uint32_t len;
        size_t end;
        if (after == NULL || crt_dbus_get_u32 (r, &len) < 0
            || align_to (r, type_align (*elem)) < 0 || r->end - r->pos < len)
          return fail (r);
        end = r->pos + len;
        while (r->pos < end)
          {
            const char *e = elem;
            if (skip_one (r, &e, depth + 1) < 0)
              return -1;
          }
        if (r->pos != end)
          return fail (r);
        *sig = after;
        return 0;
      }
    case '(': case '{':
      {
        char close = *s == '(' ? ')' : '}';
        if (align_to (r, 8) < 0)
          return -1;
        s++;
        while (*s && *s != close)
          if (skip_one (r, &s, depth + 1) < 0)
            return -1;
        if (*s != close)
          return fail (r);
        *sig = s + 1;
        return 0;
      }
    default:
      return fail (r);
    }
  *sig = s + 1;
  return 0;
}

int
crt_dbus_skip (crt_dbus_reader *r, const char **sig)
{
  if (type_end (*sig, 0) == NULL)
    return fail (r);
  return skip_one (r, sig, 0);
}

/* ---- the header ---- */

int
crt_dbus_msg_length (const uint8_t head[16], size_t *len)
{
  bool big_endian = head[0] == 'B';
  uint64_t fields, body, total;

  if ((head[0] != 'l' && head[0] != 'B') || head[3] != 1)
    return -1;
  body = load_u32 (head + 4, big_endian);
  fields = load_u32 (head + 12, big_endian);
  total = align_up (FIXED_HEADER + fields, 8) + body;
  if (total > CRT_DBUS_MAX_MESSAGE)
    return -1;
  *len = (size_t) total;
  return 0;
}

static int
bad (const char **why, const char *what)
{
  *why = what;
  return -1;
}

static int
read_field (crt_dbus_reader *r, crt_dbus_header *h, const char **why)
{
  /* The value type of each known field, by code. */
  static const char field_type[] = { 0, 'o', 's', 's', 's', 'u', 's', 's', 'g', 'u' };
  const char *sig, *s = NULL;
  uint8_t code;
  uint32_t u = 0;

  if (align_to (r, 8) < 0 || crt_dbus_get_byte (r, &code) < 0 || crt_dbus_get_sig (r, &sig) < 0)
    return bad (why, "a header field is cut short");
  if (code == 0 || code >= sizeof (field_type))
    {
      /* Unknown fields are to be ignored (the specification). */
      if (type_end (sig, 0) == NULL || *type_end (sig, 0) != '\0' || crt_dbus_skip (r, &sig) < 0)
        return bad (why, "an unknown header field is malformed");
      return 0;
    }
  if (sig[0] != field_type[code] || sig[1] != '\0')
    return bad (why, "a header field has the wrong type");
  if (sig[0] == 'u' ? crt_dbus_get_u32 (r, &u) < 0
      : sig[0] == 'g' ? crt_dbus_get_sig (r, &s) < 0
                      : crt_dbus_get_str (r, &s) < 0)
    return bad (why, "a header field's value is malformed");
  switch (code)
    {
    case FIELD_PATH: h->path = s; break;
    case FIELD_INTERFACE: h->interface = s; break;
    case FIELD_MEMBER: h->member = s; break;
    case FIELD_ERROR_NAME: h->error_name = s; break;
    case FIELD_REPLY_SERIAL:
      if (u == 0)
        return bad (why, "the reply serial is 0");
      h->reply_serial = u;
      break;
    case FIELD_DESTINATION: h->destination = s; break;
    case FIELD_SENDER: h->sender = s; break;
    case FIELD_SIGNATURE: h->signature = s; break;
    case FIELD_UNIX_FDS: h->unix_fds = u; break;
    }
  return 0;
}

int
crt_dbus_parse_header (const uint8_t *p, size_t len, crt_dbus_header *h, const char **why)
{
  crt_dbus_reader r;
  size_t announced, fields_end;
  uint32_t fields_len;

  memset (h, 0, sizeof (*h));
  h->signature = "";
  if (len < FIXED_HEADER || crt_dbus_msg_length (p, &announced) < 0 || announced != len)
    return bad (why, "not a D-Bus message header");
  h->big_endian = p[0] == 'B';
  h->type = p[1];
  h->flags = p[2];
  h->body_len = load_u32 (p + 4, h->big_endian);
  h->serial = load_u32 (p + 8, h->big_endian);
  if (h->serial == 0)
    return bad (why, "the serial is 0");
  fields_len = load_u32 (p + 12, h->big_endian);
  fields_end = FIXED_HEADER + fields_len;
  r = (crt_dbus_reader){ .p = p, .pos = FIXED_HEADER, .end = fields_end, .big_endian = h->big_endian };
  while (r.pos < fields_end)
    if (read_field (&r, h, why) < 0)
      return -1;
  h->body_at = align_up (fields_end, 8);
  for (size_t i = fields_end; i < h->body_at; i++)
    if (p[i] != 0)
      return bad (why, "the header's padding is not zeros");
  if (h->body_len > 0 && h->signature[0] == '\0')
    return bad (why, "a body without a signature");
  switch (h->type)
    {
    case CRT_DBUS_METHOD_CALL:
      if (h->path == NULL || h->member == NULL)
        return bad (why, "a method call without path or member");
      break;
    case CRT_DBUS_METHOD_RETURN:
      if (h->reply_serial == 0)
        return bad (why, "a method return without a reply serial");
      break;
    case CRT_DBUS_ERROR:
      if (h->reply_serial == 0 || h->error_name == NULL)
        return bad (why, "an error without a reply serial or a name");
      break;
    case CRT_DBUS_SIGNAL:
      if (h->path == NULL || h->interface == NULL || h->member == NULL)
        return bad (why, "a signal without path, interface or member");
      break;
    default:
      break;                    /* unknown types are to be ignored */
    }
  return 0;
}
