#include "config.h"
#include "json.h"
#include "spec.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* ---- paths and messages ---- */

static size_t
push (jctx *c, const char *text)
{
  size_t mark = c->len;
  size_t n = strlen (text);

  /* A path longer than the buffer is cut; it is only for messages. */
  if (c->len + n >= sizeof (c->path))
    n = sizeof (c->path) - 1 - c->len;
  memcpy (c->path + c->len, text, n);
  c->len += n;
  c->path[c->len] = '\0';
  return mark;
}

size_t
jctx_push_key (jctx *c, const char *key)
{
  size_t mark = c->len;
  if (c->len > 0)
    push (c, ".");
  push (c, key);
  return mark;
}

size_t
jctx_push_index (jctx *c, size_t i)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "[%zu]", i);
  return push (c, buf);
}

void
jctx_pop (jctx *c, size_t mark)
{
  c->len = mark;
  c->path[mark] = '\0';
}

static int
vfail (jctx *c, const char *fmt, va_list ap)
{
  cleanup_free char *what = NULL;

  if (vasprintf (&what, fmt, ap) < 0)
    what = NULL;
  if (c->len > 0)
    return crt_error_set (c->err, 0, "%s: %s: %s", c->origin, c->path, what ? what : "");
  return crt_error_set (c->err, 0, "%s: %s", c->origin, what ? what : "");
}

int
jctx_fail (jctx *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfail (c, fmt, ap);
  va_end (ap);
  return -1;
}

int
jctx_fail_at (jctx *c, const char *key, const char *fmt, ...)
{
  va_list ap;
  size_t mark = jctx_push_key (c, key);
  va_start (ap, fmt);
  vfail (c, fmt, ap);
  va_end (ap);
  jctx_pop (c, mark);
  return -1;
}

bool
jname_in (const char *const *names, const char *s)
{
  for (; *names; names++)
    if (strcmp (*names, s) == 0)
      return true;
  return false;
}

/* ---- scalars ---- */

/* JSON integers only: yajl keeps the literal text, which also covers
 * uint64 values beyond what yajl's own long long conversion accepts. */
static bool
integer_text (yajl_val v, bool allow_minus)
{
  const char *s;

  if (!YAJL_IS_NUMBER (v))
    return false;
  s = v->u.number.r;
  if (*s == '-' && allow_minus)
    s++;
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static int
read_u64 (yajl_val v, uint64_t max, uint64_t *out)
{
  unsigned long long n;
  char *end;

  if (!integer_text (v, false))
    return -1;
  errno = 0;
  n = strtoull (v->u.number.r, &end, 10);
  if (errno != 0 || *end != '\0' || n > max)
    return -1;
  *out = n;
  return 0;
}

static int
read_i64 (yajl_val v, int64_t min, int64_t max, int64_t *out)
{
  long long n;
  char *end;

  if (!integer_text (v, true))
    return -1;
  errno = 0;
  n = strtoll (v->u.number.r, &end, 10);
  if (errno != 0 || *end != '\0' || n < min || n > max)
    return -1;
  *out = n;
  return 0;
}

/* Integers of every kind: range by kind unless the field narrows it. */
static int
read_integer (jctx *c, const jfield *f, yajl_val v, char *dst)
{
  uint64_t u = 0;
  int64_t s = 0;
  int rc;

  if (f->ranged)
    {
      rc = read_i64 (v, f->min, f->max, &s);
      if (rc < 0)
        return jctx_fail (c, "expected an integer between %" PRId64 " and %" PRId64,
                          f->min, f->max);
      u = (uint64_t) s;
    }
  else
    {
      const char *what;
      switch (f->kind)
        {
        case J_U32: case J_OPT_U32:
          rc = read_u64 (v, UINT32_MAX, &u);
          what = "an unsigned 32-bit integer";
          break;
        case J_OPT_U16:
          rc = read_u64 (v, UINT16_MAX, &u);
          what = "an unsigned 16-bit integer";
          break;
        case J_U64: case J_OPT_U64:
          rc = read_u64 (v, UINT64_MAX, &u);
          what = "an unsigned 64-bit integer";
          break;
        case J_I32: case J_INT:
          rc = read_i64 (v, INT32_MIN, INT32_MAX, &s);
          what = "a 32-bit integer";
          break;
        default:
          rc = read_i64 (v, INT64_MIN, INT64_MAX, &s);
          what = "a 64-bit integer";
          break;
        }
      if (rc < 0)
        return jctx_fail (c, "expected %s", what);
    }

  switch (f->kind)
    {
    case J_U32: *(uint32_t *) dst = (uint32_t) u; break;
    case J_OPT_U32: case J_OPT_U16:
      ((crt_opt_u32 *) dst)->set = true;
      ((crt_opt_u32 *) dst)->value = (uint32_t) u;
      break;
    case J_U64: *(uint64_t *) dst = u; break;
    case J_OPT_U64:
      ((crt_opt_u64 *) dst)->set = true;
      ((crt_opt_u64 *) dst)->value = u;
      break;
    case J_I32: *(int32_t *) dst = (int32_t) s; break;
    case J_INT: *(int *) dst = (int) s; break;
    case J_I64: *(int64_t *) dst = s; break;
    default:
      ((crt_opt_i64 *) dst)->set = true;
      ((crt_opt_i64 *) dst)->value = s;
      break;
    }
  return 0;
}

static int
read_string (jctx *c, const jfield *f, yajl_val v, char **dst)
{
  if (!YAJL_IS_STRING (v))
    return jctx_fail (c, "expected a string");
  if (f->names && !jname_in (f->names, v->u.string))
    return jctx_fail (c, "unknown %s \"%s\"", f->noun, v->u.string);
  *dst = crt_xstrdup (v->u.string);
  return 0;
}

static int
read_char (jctx *c, const jfield *f, yajl_val v, char *dst)
{
  const char *s;

  if (!YAJL_IS_STRING (v))
    return jctx_fail (c, "expected a string");
  s = v->u.string;
  if (s[0] == '\0' || s[1] != '\0' || strchr (f->chars, s[0]) == NULL)
    return jctx_fail (c, "unknown %s \"%s\"", f->noun, s);
  *dst = s[0];
  return 0;
}

static int
read_enum (jctx *c, const jfield *f, yajl_val v, int *dst)
{
  if (!YAJL_IS_STRING (v))
    return jctx_fail (c, "expected a string");
  for (int i = 0; f->names[i]; i++)
    if (strcmp (f->names[i], v->u.string) == 0)
      {
        *dst = i;
        return 0;
      }
  return jctx_fail (c, "unknown %s \"%s\"", f->noun, v->u.string);
}

static int
read_bool (jctx *c, yajl_val v, bool *dst)
{
  if (!YAJL_IS_TRUE (v) && !YAJL_IS_FALSE (v))
    return jctx_fail (c, "expected a boolean");
  *dst = YAJL_IS_TRUE (v);
  return 0;
}

/* ---- lists ---- */

static int
read_strv (jctx *c, const jfield *f, yajl_val v, char ***dst, size_t *count)
{
  size_t n;
  char **list;

  if (!YAJL_IS_ARRAY (v))
    return jctx_fail (c, "expected an array of strings");
  n = v->u.array.len;
  /* Attach before filling: a failure midway leaves a list the free
   * walker can release (unfilled slots are the NULL terminator). */
  list = crt_xmalloc0 ((n + 1) * sizeof (char *));
  *dst = list;
  *count = n;
  for (size_t i = 0; i < n; i++)
    {
      size_t mark = jctx_push_index (c, i);
      if (read_string (c, f, v->u.array.values[i], &list[i]) < 0)
        return -1;
      jctx_pop (c, mark);
    }
  return 0;
}

static int
read_u32v (jctx *c, yajl_val v, uint32_t **dst, size_t *count)
{
  size_t n;

  if (!YAJL_IS_ARRAY (v))
    return jctx_fail (c, "expected an array of unsigned 32-bit integers");
  n = v->u.array.len;
  *dst = crt_xmalloc0 (n * sizeof (uint32_t));
  *count = n;
  for (size_t i = 0; i < n; i++)
    {
      jfield elem = { .kind = J_U32 };
      size_t mark = jctx_push_index (c, i);
      if (read_integer (c, &elem, v->u.array.values[i], (char *) &(*dst)[i]) < 0)
        return -1;
      jctx_pop (c, mark);
    }
  return 0;
}

static int
read_array (jctx *c, const jfield *f, yajl_val v, char **dst, size_t *count)
{
  size_t n, size = f->type->size;

  if (!YAJL_IS_ARRAY (v))
    return jctx_fail (c, "expected an array");
  n = v->u.array.len;
  *dst = crt_xmalloc0 (n * size);
  *count = n;
  for (size_t i = 0; i < n; i++)
    {
      size_t mark = jctx_push_index (c, i);
      if (jparse_object (c, v->u.array.values[i], f->type, *dst + i * size) < 0)
        return -1;
      jctx_pop (c, mark);
    }
  return 0;
}

/* Go's encoding/json, which wrote most configs in the wild, keeps the last
 * of repeated keys; so do we, by skipping a key that occurs again later. */
static bool
repeated_later (yajl_val obj, size_t i)
{
  for (size_t j = i + 1; j < obj->u.object.len; j++)
    if (strcmp (obj->u.object.keys[i], obj->u.object.keys[j]) == 0)
      return true;
  return false;
}

static int
read_map_str (jctx *c, yajl_val v, crt_kv **dst, size_t *count)
{
  size_t n = 0;

  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");
  *dst = crt_xmalloc0 (v->u.object.len * sizeof (crt_kv));
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      yajl_val val = v->u.object.values[i];
      if (repeated_later (v, i))
        continue;
      if (!YAJL_IS_STRING (val))
        return jctx_fail_at (c, v->u.object.keys[i], "expected a string");
      (*dst)[n].key = crt_xstrdup (v->u.object.keys[i]);
      (*dst)[n].value = crt_xstrdup (val->u.string);
      *count = ++n;
    }
  return 0;
}

static int
read_map_obj (jctx *c, const jfield *f, yajl_val v, char **dst, size_t *count)
{
  size_t n = 0, size = f->type->size;

  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");
  *dst = crt_xmalloc0 (v->u.object.len * size);
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      const char *key = v->u.object.keys[i];
      char *elem = *dst + n * size;
      size_t mark;

      if (repeated_later (v, i))
        continue;
      if (f->names && !jname_in (f->names, key))
        return jctx_fail_at (c, key, "unknown %s \"%s\"", f->noun, key);
      *(char **) (elem + f->key_off) = crt_xstrdup (key);
      *count = ++n;
      mark = jctx_push_key (c, key);
      if (jparse_object (c, v->u.object.values[i], f->type, elem) < 0)
        return -1;
      jctx_pop (c, mark);
    }
  return 0;
}

/* ---- objects ---- */

static int
read_field (jctx *c, const jfield *f, yajl_val v, char *base)
{
  char *dst = base + f->off;
  size_t *count = (size_t *) (base + f->count_off);

  switch (f->kind)
    {
    case J_BOOL:
      return read_bool (c, v, (bool *) dst);
    case J_OPT_BOOL:
      ((crt_opt_bool *) dst)->set = true;
      return read_bool (c, v, &((crt_opt_bool *) dst)->value);
    case J_STR:
      return read_string (c, f, v, (char **) dst);
    case J_CHAR:
      return read_char (c, f, v, dst);
    case J_ENUM:
      return read_enum (c, f, v, (int *) dst);
    case J_U32: case J_OPT_U32: case J_OPT_U16: case J_I32: case J_INT:
    case J_I64: case J_OPT_I64: case J_U64: case J_OPT_U64:
      return read_integer (c, f, v, dst);
    case J_STRV:
      return read_strv (c, f, v, (char ***) dst, count);
    case J_U32V:
      return read_u32v (c, v, (uint32_t **) dst, count);
    case J_OBJ:
      *(void **) dst = crt_xmalloc0 (f->type->size);
      return jparse_object (c, v, f->type, *(void **) dst);
    case J_EMBED:
      return jparse_object (c, v, f->type, dst);
    case J_INLINE:
      return jparse_object (c, v, f->type, base);
    case J_ARRAY:
      return read_array (c, f, v, (char **) dst, count);
    case J_MAP_STR:
      return read_map_str (c, v, (crt_kv **) dst, count);
    case J_MAP_OBJ:
      return read_map_obj (c, f, v, (char **) dst, count);
    }
  return jctx_fail (c, "internal error: unknown field kind");
}

static const jfield *
find_field (const jtype *t, const char *key)
{
  for (const jfield *f = t->fields; f->key; f++)
    if (strcmp (f->key, key) == 0)
      return f;
  return NULL;
}

/* null counts as absent, as in Go's encoding/json. */
bool
jhas (yajl_val obj, const char *key)
{
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp (obj->u.object.keys[i], key) == 0 && !YAJL_IS_NULL (obj->u.object.values[i]))
      return true;
  return false;
}

int
jparse_object (jctx *c, yajl_val v, const jtype *t, void *base)
{
  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");

  for (size_t i = 0; i < v->u.object.len; i++)
    {
      const jfield *f = find_field (t, v->u.object.keys[i]);
      yajl_val val = v->u.object.values[i];
      size_t mark;

      /* Unknown keys are ignored: the spec lets them be extensions. */
      if (f == NULL || YAJL_IS_NULL (val) || repeated_later (v, i))
        continue;
      mark = jctx_push_key (c, f->key);
      if (read_field (c, f, val, base) < 0)
        return -1;
      jctx_pop (c, mark);
      if (f->track)
        *(bool *) ((char *) base + f->has_off) = true;
    }

  for (const jfield *f = t->fields; f->key; f++)
    if (f->required && !jhas (v, f->key))
      return jctx_fail_at (c, f->key, "required field is missing");

  return t->check ? t->check (c, v, base) : 0;
}

void
jfree_object (const jtype *t, void *base_)
{
  char *base = base_;

  for (const jfield *f = t->fields; f->key; f++)
    {
      char *dst = base + f->off;
      size_t count = f->count_off ? *(size_t *) (base + f->count_off) : 0;

      switch (f->kind)
        {
        case J_STR:
          free (*(char **) dst);
          break;
        case J_STRV:
          crt_strv_free (*(char ***) dst);
          break;
        case J_U32V:
          free (*(void **) dst);
          break;
        case J_OBJ:
          if (*(void **) dst)
            jfree_object (f->type, *(void **) dst);
          free (*(void **) dst);
          break;
        case J_EMBED:
          jfree_object (f->type, dst);
          break;
        case J_INLINE:
          jfree_object (f->type, base);
          break;
        case J_ARRAY:
        case J_MAP_OBJ:
          for (size_t i = 0; i < count && *(char **) dst; i++)
            {
              char *elem = *(char **) dst + i * f->type->size;
              if (f->kind == J_MAP_OBJ)
                free (*(char **) (elem + f->key_off));
              jfree_object (f->type, elem);
            }
          free (*(void **) dst);
          break;
        case J_MAP_STR:
          for (size_t i = 0; i < count && *(crt_kv **) dst; i++)
            {
              free ((*(crt_kv **) dst)[i].key);
              free ((*(crt_kv **) dst)[i].value);
            }
          free (*(void **) dst);
          break;
        default:
          break;
        }
    }
}

/* ---- text ---- */

/* yajl reports how far it read in the failing chunk; the offending token
 * ends there. Lines and columns count from 1, columns in bytes. */
static void
line_column (const char *text, size_t offset, size_t *line, size_t *column)
{
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && text[i]; i++)
    {
      if (text[i] == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else
        (*column)++;
    }
}

/* The first pass over the text: yajl's callback parser, configured like
 * yajl_tree_parse, checking what the tree would hide and keeping the JSON
 * path of the value being read, for messages. The tree parser's message
 * has neither position nor path, and its strings end at the first NUL.
 *
 * Nesting is limited: no config.json needs more than a few levels, and
 * yajl_tree_free recurses once per level. */
#define JSCAN_MAX_DEPTH 256

typedef struct jscan_frame
{
  bool array;
  size_t index;                 /* arrays: the element being read */
  char *key;                    /* objects: the member being read, or NULL */
} jscan_frame;

typedef struct jscan
{
  yajl_handle h;
  const char *text;
  const char *origin;
  crt_error **err;
  size_t depth;
  jscan_frame frames[JSCAN_MAX_DEPTH];
} jscan;

/* "process.args[1]": where the scan stands. */
static void
jscan_path (const jscan *s, jctx *c)
{
  c->len = 0;
  c->path[0] = '\0';
  for (size_t i = 0; i < s->depth; i++)
    {
      if (s->frames[i].array)
        jctx_push_index (c, s->frames[i].index);
      else if (s->frames[i].key)
        jctx_push_key (c, s->frames[i].key);
    }
}

/* "origin: path: line L, column C: what" (no path at the top level). */
static int
jscan_fail (const jscan *s, size_t offset, const char *what)
{
  jctx c = { .origin = s->origin, .err = s->err };
  size_t line, column;

  line_column (s->text, offset, &line, &column);
  jscan_path (s, &c);
  if (c.len > 0)
    return crt_error_set (s->err, 0, "%s: %s: line %zu, column %zu: %s", s->origin, c.path, line,
                          column, what);
  return crt_error_set (s->err, 0, "%s: line %zu, column %zu: %s", s->origin, line, column,
                        what);
}

/* In a callback the token just read ends before this offset. */
static int
jscan_cancel (jscan *s, const char *what)
{
  size_t used = yajl_get_bytes_consumed (s->h);

  jscan_fail (s, used > 0 ? used - 1 : 0, what);
  return 0;
}

/* Strict UTF-8 (RFC 3629): yajl checks only the shape of the sequences,
 * and lets overlong forms, surrogates and code points above U+10FFFF
 * through. */
static bool
utf8_valid (const unsigned char *p, size_t len)
{
  size_t i = 0;

  while (i < len)
    {
      unsigned char c = p[i];
      size_t n;
      uint32_t cp, min;

      if (c < 0x80)
        {
          i++;
          continue;
        }
      if ((c & 0xe0) == 0xc0)
        n = 1, cp = c & 0x1f, min = 0x80;
      else if ((c & 0xf0) == 0xe0)
        n = 2, cp = c & 0x0f, min = 0x800;
      else if ((c & 0xf8) == 0xf0)
        n = 3, cp = c & 0x07, min = 0x10000;
      else
        return false;
      if (i + n >= len)
        return false;
      for (size_t k = 1; k <= n; k++)
        {
          if ((p[i + k] & 0xc0) != 0x80)
            return false;
          cp = (cp << 6) | (p[i + k] & 0x3f);
        }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
      i += n + 1;
    }
  return true;
}

/* Strings and keys reach C as NUL-terminated: a NUL inside one would cut
 * it silently ("sh\u0000x" would run "sh"). */
static int
jscan_check_text (jscan *s, const unsigned char *str, size_t len, bool key)
{
  if (memchr (str, '\0', len) != NULL)
    return jscan_cancel (s, key ? "a key contains a NUL character (\\u0000)"
                                : "contains a NUL character (\\u0000)");
  if (!utf8_valid (str, len))
    return jscan_cancel (s, key ? "a key is not valid UTF-8" : "invalid UTF-8");
  return 1;
}

static void
jscan_value_done (jscan *s)
{
  jscan_frame *f;

  if (s->depth == 0)
    return;
  f = &s->frames[s->depth - 1];
  if (f->array)
    f->index++;
  else
    {
      free (f->key);
      f->key = NULL;
    }
}

static int
jscan_scalar (void *ctx)
{
  jscan_value_done (ctx);
  return 1;
}

static int
jscan_bool (void *ctx, int b)
{
  (void) b;
  return jscan_scalar (ctx);
}

static int
jscan_number (void *ctx, const char *n, size_t len)
{
  (void) n;
  (void) len;
  return jscan_scalar (ctx);
}

static int
jscan_string (void *ctx, const unsigned char *str, size_t len)
{
  if (!jscan_check_text (ctx, str, len, false))
    return 0;
  return jscan_scalar (ctx);
}

static int
jscan_key (void *ctx, const unsigned char *key, size_t len)
{
  jscan *s = ctx;
  jscan_frame *f = &s->frames[s->depth - 1];

  if (!jscan_check_text (s, key, len, true))
    return 0;
  free (f->key);
  f->key = crt_xmalloc0 (len + 1);
  memcpy (f->key, key, len);
  return 1;
}

static int
jscan_open (jscan *s, bool array)
{
  char what[64];

  if (s->depth == JSCAN_MAX_DEPTH)
    {
      snprintf (what, sizeof (what), "nesting deeper than %d levels", JSCAN_MAX_DEPTH);
      return jscan_cancel (s, what);
    }
  s->frames[s->depth++] = (jscan_frame){ .array = array };
  return 1;
}

static int
jscan_start_map (void *ctx)
{
  return jscan_open (ctx, false);
}

static int
jscan_start_array (void *ctx)
{
  return jscan_open (ctx, true);
}

static int
jscan_close (void *ctx)
{
  jscan *s = ctx;

  free (s->frames[--s->depth].key);
  jscan_value_done (s);
  return 1;
}

static const yajl_callbacks jscan_callbacks = {
  .yajl_null = jscan_scalar,
  .yajl_boolean = jscan_bool,
  .yajl_number = jscan_number,
  .yajl_string = jscan_string,
  .yajl_start_map = jscan_start_map,
  .yajl_map_key = jscan_key,
  .yajl_end_map = jscan_close,
  .yajl_start_array = jscan_start_array,
  .yajl_end_array = jscan_close,
};

/* yajl's own complaint ("parse error: premature EOF"), without its
 * trailing newline. */
static int
jscan_syntax_error (jscan *s, size_t len, size_t offset)
{
  unsigned char *reason = yajl_get_error (s->h, 0, (const unsigned char *) s->text, len);
  size_t n = reason ? strlen ((char *) reason) : 0;

  while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
    reason[--n] = '\0';
  jscan_fail (s, offset, reason ? (char *) reason : "malformed JSON");
  if (reason)
    yajl_free_error (s->h, reason);
  return -1;
}

static int
jscan_run (jscan *s, size_t len)
{
  yajl_status st;

  yajl_config (s->h, yajl_allow_comments, 1);
  st = yajl_parse (s->h, (const unsigned char *) s->text, len);
  if (st == yajl_status_client_canceled)
    return -1;
  if (st != yajl_status_ok)
    {
      /* yajl reports how far it read: the offending token ends there. */
      size_t used = yajl_get_bytes_consumed (s->h);
      return jscan_syntax_error (s, len, used > 0 ? used - 1 : 0);
    }
  st = yajl_complete_parse (s->h);
  if (st == yajl_status_client_canceled)
    return -1;
  /* Only premature EOF gets here: the position is the end. */
  if (st != yajl_status_ok)
    return jscan_syntax_error (s, len, len);
  return 0;
}

int
jparse_text (const char *text, size_t len, const char *origin, yajl_val *out, crt_error **err)
{
  jscan s = { .text = text, .origin = origin, .err = err };
  char why[256] = "";
  int rc;

  *out = NULL;
  s.h = yajl_alloc (&jscan_callbacks, NULL, &s);
  if (s.h == NULL)
    return crt_error_set (err, ENOMEM, "%s: parse JSON", origin);
  rc = jscan_run (&s, len);
  yajl_free (s.h);
  while (s.depth > 0)
    free (s.frames[--s.depth].key);
  if (rc < 0)
    return -1;

  /* The text is known good, and has no NUL before len. */
  *out = yajl_tree_parse (text, why, sizeof (why));
  if (*out == NULL)
    return crt_error_set (err, 0, "%s: %s", origin, why[0] ? why : "malformed JSON");
  return 0;
}
