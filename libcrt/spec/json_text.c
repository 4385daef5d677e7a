/* The text of a JSON document to a yajl tree, in one pass of yajl's
 * callback parser that checks what a tree would hide (NULs, invalid
 * UTF-8, nesting), names the JSON path of an error, and builds the tree
 * in an arena (freed at once: no walk of the tree, no malloc per node).
 * jparse_text copies the result into a tree of yajl_tree_parse's kind,
 * for the callers that edit trees and free them with yajl_tree_free. */
#include "config.h"
#include "json.h"
#include "spec.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>


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
  char *key;                    /* objects: the member being read, or NULL (arena) */
  yajl_val node;                /* the object or array being built */
  /* Its members so far; kept (and reused) when the frame closes. */
  yajl_val *vals;
  const char **keys;
  size_t n, cap;
} jscan_frame;

typedef struct jscan
{
  yajl_handle h;
  const char *text;
  const char *origin;
  crt_error **err;
  jarena *arena;
  yajl_val root;
  size_t depth;
  jscan_frame frames[JSCAN_MAX_DEPTH];
} jscan;

/* ---- the arena ---- */

struct jarena_chunk
{
  struct jarena_chunk *next;
  size_t used, cap;
  alignas (max_align_t) char data[];
};

static void *
jarena_alloc (jarena *a, size_t n)
{
  struct jarena_chunk *c = a->head;

  n = (n + alignof (max_align_t) - 1) & ~(alignof (max_align_t) - 1);
  if (c == NULL || c->cap - c->used < n)
    {
      /* A config.json fits in one or two chunks. */
      size_t cap = n > 16384 ? n : 16384;
      c = crt_xreallocarray (NULL, 1, sizeof (*c) + cap);
      c->next = a->head;
      c->used = 0;
      c->cap = cap;
      a->head = c;
    }
  c->used += n;
  return c->data + c->used - n;
}

void
jarena_free (jarena *a)
{
  while (a->head)
    {
      struct jarena_chunk *next = a->head->next;
      free (a->head);
      a->head = next;
    }
}

static char *
jarena_strndup (jarena *a, const void *p, size_t n)
{
  char *s = jarena_alloc (a, n + 1);

  memcpy (s, p, n);
  s[n] = '\0';
  return s;
}

static yajl_val
jnode (jscan *s, yajl_type type)
{
  yajl_val v = jarena_alloc (s->arena, sizeof (*v));

  memset (v, 0, sizeof (*v));
  v->type = type;
  return v;
}

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

/* A value is complete: it goes to its parent (or is the document). */
static void
jscan_add (jscan *s, yajl_val v)
{
  jscan_frame *f;

  if (s->depth == 0)
    {
      s->root = v;
      return;
    }
  f = &s->frames[s->depth - 1];
  if (f->n == f->cap)
    {
      f->cap = f->cap ? f->cap * 2 : 16;
      f->vals = crt_xreallocarray (f->vals, f->cap, sizeof (*f->vals));
      f->keys = crt_xreallocarray (f->keys, f->cap, sizeof (*f->keys));
    }
  f->keys[f->n] = f->key;
  f->vals[f->n++] = v;
  if (f->array)
    f->index++;
  else
    f->key = NULL;
}

static int
jscan_null (void *ctx)
{
  jscan *s = ctx;

  jscan_add (s, jnode (s, yajl_t_null));
  return 1;
}

static int
jscan_bool (void *ctx, int b)
{
  jscan *s = ctx;

  jscan_add (s, jnode (s, b ? yajl_t_true : yajl_t_false));
  return 1;
}

/* As yajl_tree_parse: the text, the integer when it is one that fits a
 * long long, the double when strtod takes all of it. */
static int
jscan_number (void *ctx, const char *n, size_t len)
{
  jscan *s = ctx;
  yajl_val v = jnode (s, yajl_t_number);
  char *end;

  v->u.number.r = jarena_strndup (s->arena, n, len);
  errno = 0;
  v->u.number.i = strtoll (v->u.number.r, &end, 10);
  if (errno == 0 && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_INT_VALID;
  errno = 0;
  v->u.number.d = strtod (v->u.number.r, &end);
  if (errno == 0 && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
  jscan_add (s, v);
  return 1;
}

static int
jscan_string (void *ctx, const unsigned char *str, size_t len)
{
  jscan *s = ctx;
  yajl_val v;

  if (!jscan_check_text (s, str, len, false))
    return 0;
  v = jnode (s, yajl_t_string);
  v->u.string = jarena_strndup (s->arena, str, len);
  jscan_add (s, v);
  return 1;
}

static int
jscan_key (void *ctx, const unsigned char *key, size_t len)
{
  jscan *s = ctx;
  jscan_frame *f = &s->frames[s->depth - 1];

  if (!jscan_check_text (s, key, len, true))
    return 0;
  f->key = jarena_strndup (s->arena, key, len);
  return 1;
}

static int
jscan_open (jscan *s, bool array)
{
  char what[64];
  jscan_frame *f;

  if (s->depth == JSCAN_MAX_DEPTH)
    {
      snprintf (what, sizeof (what), "nesting deeper than %d levels", JSCAN_MAX_DEPTH);
      return jscan_cancel (s, what);
    }
  f = &s->frames[s->depth++];
  f->array = array;
  f->index = 0;
  f->key = NULL;
  f->n = 0;
  f->node = jnode (s, array ? yajl_t_array : yajl_t_object);
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
  jscan_frame *f = &s->frames[--s->depth];
  yajl_val v = f->node;

  if (f->n > 0)
    {
      yajl_val *vals = jarena_alloc (s->arena, f->n * sizeof (*vals));

      memcpy (vals, f->vals, f->n * sizeof (*vals));
      if (f->array)
        {
          v->u.array.values = vals;
          v->u.array.len = f->n;
        }
      else
        {
          const char **keys = jarena_alloc (s->arena, f->n * sizeof (*keys));

          memcpy (keys, f->keys, f->n * sizeof (*keys));
          v->u.object.keys = keys;
          v->u.object.values = vals;
          v->u.object.len = f->n;
        }
    }
  jscan_add (s, v);
  return 1;
}

static const yajl_callbacks jscan_callbacks = {
  .yajl_null = jscan_null,
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
jparse_text_arena (const char *text, size_t len, const char *origin, yajl_val *out,
                   jarena *arena, crt_error **err)
{
  jscan *s = crt_xmalloc0 (sizeof (*s));
  int rc;

  *out = NULL;
  s->text = text;
  s->origin = origin;
  s->err = err;
  s->arena = arena;
  s->h = yajl_alloc (&jscan_callbacks, NULL, s);
  if (s->h == NULL)
    rc = crt_error_set (err, ENOMEM, "%s: parse JSON", origin);
  else
    {
      rc = jscan_run (s, len);
      yajl_free (s->h);
    }
  for (size_t i = 0; i < JSCAN_MAX_DEPTH; i++)
    {
      free (s->frames[i].vals);
      free (s->frames[i].keys);
    }
  if (rc == 0)
    *out = s->root;
  free (s);
  return rc;
}

/* v again, each part from malloc, as yajl_tree_free frees it. */
static yajl_val
copy_tree (yajl_val v)
{
  yajl_val c = crt_xmalloc0 (sizeof (*c));

  c->type = v->type;
  switch (v->type)
    {
    case yajl_t_string:
      c->u.string = crt_xstrdup (v->u.string);
      break;
    case yajl_t_number:
      c->u.number = v->u.number;
      c->u.number.r = crt_xstrdup (v->u.number.r);
      break;
    case yajl_t_object:
      c->u.object.len = v->u.object.len;
      if (v->u.object.len)
        {
          c->u.object.keys = crt_xmalloc0 (v->u.object.len * sizeof (char *));
          c->u.object.values = crt_xmalloc0 (v->u.object.len * sizeof (yajl_val));
        }
      for (size_t i = 0; i < v->u.object.len; i++)
        {
          c->u.object.keys[i] = crt_xstrdup (v->u.object.keys[i]);
          c->u.object.values[i] = copy_tree (v->u.object.values[i]);
        }
      break;
    case yajl_t_array:
      c->u.array.len = v->u.array.len;
      if (v->u.array.len)
        c->u.array.values = crt_xmalloc0 (v->u.array.len * sizeof (yajl_val));
      for (size_t i = 0; i < v->u.array.len; i++)
        c->u.array.values[i] = copy_tree (v->u.array.values[i]);
      break;
    default:
      break;
    }
  return c;
}

int
jparse_text (const char *text, size_t len, const char *origin, yajl_val *out, crt_error **err)
{
  jarena arena = { 0 };
  yajl_val v;

  *out = NULL;
  if (jparse_text_arena (text, len, origin, &v, &arena, err) < 0)
    {
      jarena_free (&arena);
      return -1;
    }
  *out = copy_tree (v);
  jarena_free (&arena);
  return 0;
}
