/* The text of a JSON document to a yajl tree: a first pass with yajl's
 * callback parser that checks what the tree would hide (NULs, invalid
 * UTF-8, nesting) and names the JSON path of an error, then the tree. */
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
