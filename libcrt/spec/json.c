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
  /* "[i]" by hand: every array element of every config passes here, and
   * snprintf costs ten times as much. */
  char buf[32], *p = buf + sizeof (buf);

  *--p = '\0';
  *--p = ']';
  do
    *--p = (char) ('0' + i % 10);
  while ((i /= 10) > 0);
  *--p = '[';
  return push (c, p);
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
 * of repeated keys; so do we, by skipping a key that occurs again later.
 * For an object's fields null counts as absent, so there the last
 * occurrence that is not null wins ({"cwd":"/","cwd":null} has cwd "/"),
 * and jhas() answers by the same rule: a required field is never found
 * present while every occurrence of it was skipped. runc (Go) takes the
 * last one too, but a null there resets an object or array field; crun
 * (yajl_tree_get) takes the first.
 *
 * overridden() tells whether key i is skipped: a later occurrence of it
 * exists (with later_null, a null one counts). In a small object it
 * compares key i with the ones after it; a big one (annotations:
 * thousands of keys) gets an index first, from its keys sorted, so a
 * config cannot make the parse quadratic. */
#define PAIRWISE_MAX 32

typedef struct
{
  const char *key;
  size_t index;
} key_ref;

static int
key_ref_cmp (const void *a, const void *b)
{
  const key_ref *x = a, *y = b;
  int r = strcmp (x->key, y->key);

  if (r != 0)
    return r;
  return x->index < y->index ? -1 : x->index > y->index;
}

static bool
counts (yajl_val obj, size_t i, bool later_null)
{
  return later_null || !YAJL_IS_NULL (obj->u.object.values[i]);
}

/* The index of a big object (NULL for a small one): index[i] is
 * overridden()'s answer for key i. */
static bool *
overridden_index (yajl_val obj, bool later_null)
{
  size_t n = obj->u.object.len;
  cleanup_free key_ref *refs = NULL;
  bool *index;

  if (n <= PAIRWISE_MAX)
    return NULL;
  refs = crt_xmalloc0 (n * sizeof (*refs));
  for (size_t i = 0; i < n; i++)
    refs[i] = (key_ref) { obj->u.object.keys[i], i };
  qsort (refs, n, sizeof (*refs), key_ref_cmp);
  index = crt_xmalloc0 (n * sizeof (*index));
  /* A run of one key is in document order: each is overridden when one
   * after it counts. */
  for (size_t end = n; end > 0;)
    {
      size_t start = end - 1;
      bool later = false;

      while (start > 0 && strcmp (refs[start - 1].key, refs[end - 1].key) == 0)
        start--;
      for (size_t k = end; k-- > start;)
        {
          index[refs[k].index] = later;
          later |= counts (obj, refs[k].index, later_null);
        }
      end = start;
    }
  return index;
}

static bool
overridden (yajl_val obj, size_t i, bool later_null, const bool *index)
{
  if (index != NULL)
    return index[i];
  for (size_t j = i + 1; j < obj->u.object.len; j++)
    if (strcmp (obj->u.object.keys[i], obj->u.object.keys[j]) == 0
        && counts (obj, j, later_null))
      return true;
  return false;
}

static int
read_map_str (jctx *c, yajl_val v, crt_kv **dst, size_t *count)
{
  cleanup_free bool *index = NULL;
  size_t n = 0;

  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");
  index = overridden_index (v, true);
  *dst = crt_xmalloc0 (v->u.object.len * sizeof (crt_kv));
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      yajl_val val = v->u.object.values[i];
      if (overridden (v, i, true, index))
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
  cleanup_free bool *index = NULL;
  size_t n = 0, size = f->type->size;

  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");
  index = overridden_index (v, true);
  *dst = crt_xmalloc0 (v->u.object.len * size);
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      const char *key = v->u.object.keys[i];
      char *elem = *dst + n * size;
      size_t mark;

      if (overridden (v, i, true, index))
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

/* null counts as absent, as in Go's encoding/json (see overridden). */
yajl_val *
jmember (yajl_val obj, const char *key)
{
  for (size_t i = obj->u.object.len; i-- > 0;)
    if (strcmp (obj->u.object.keys[i], key) == 0 && !YAJL_IS_NULL (obj->u.object.values[i]))
      return &obj->u.object.values[i];
  return NULL;
}

bool
jhas (yajl_val obj, const char *key)
{
  return jmember (obj, key) != NULL;
}

int
jparse_object (jctx *c, yajl_val v, const jtype *t, void *base)
{
  cleanup_free bool *index = NULL;

  if (!YAJL_IS_OBJECT (v))
    return jctx_fail (c, "expected an object");
  index = overridden_index (v, false);

  for (size_t i = 0; i < v->u.object.len; i++)
    {
      const jfield *f = find_field (t, v->u.object.keys[i]);
      yajl_val val = v->u.object.values[i];
      size_t mark;

      /* Unknown keys are ignored: the spec lets them be extensions. */
      if (f == NULL || YAJL_IS_NULL (val) || overridden (v, i, false, index))
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
