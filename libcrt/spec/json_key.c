/* A struct read by jparse_object, back to bytes: the same walk over the
 * same jtype tables as jfree_object, so a field added to a table is in
 * the key without anyone remembering to add it (the seccomp cache's key,
 * libcrt/linux/seccomp_cache.c). Every value is tagged with its kind and
 * every string and list carries its length: two different structs never
 * give the same bytes. */
#include "config.h"
#include "json.h"
#include "parse.h"
#include "spec.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static void
put_str (crt_buf *b, const char *s)
{
  crt_buf_put_u64 (b, s ? strlen (s) + 1 : 0);
  if (s)
    crt_buf_put (b, s, strlen (s));
}

static void
put_object (crt_buf *b, const jtype *t, const char *base)
{
  for (const jfield *f = t->fields; f->key; f++)
    {
      const char *src = base + f->off;
      size_t count = f->count_off ? *(const size_t *) (base + f->count_off) : 0;

      crt_buf_put_u64 (b, (uint64_t) f->kind);
      if (f->track)
        crt_buf_put_u64 (b, *(const bool *) (base + f->has_off));
      switch (f->kind)
        {
        case J_BOOL:
          crt_buf_put_u64 (b, *(const bool *) src);
          break;
        case J_OPT_BOOL:
          crt_buf_put_u64 (b, ((const crt_opt_bool *) src)->set);
          crt_buf_put_u64 (b, ((const crt_opt_bool *) src)->value);
          break;
        case J_STR:
          put_str (b, *(char *const *) src);
          break;
        case J_CHAR:
          crt_buf_put_u64 (b, (unsigned char) *src);
          break;
        case J_ENUM:
        case J_INT:
          crt_buf_put_u64 (b, (uint64_t) (int64_t) * (const int *) src);
          break;
        case J_U32:
          crt_buf_put_u64 (b, *(const uint32_t *) src);
          break;
        case J_I32:
          crt_buf_put_u64 (b, (uint64_t) (int64_t) * (const int32_t *) src);
          break;
        case J_OPT_U32:
        case J_OPT_U16:
          crt_buf_put_u64 (b, ((const crt_opt_u32 *) src)->set);
          crt_buf_put_u64 (b, ((const crt_opt_u32 *) src)->value);
          break;
        case J_I64:
          crt_buf_put_u64 (b, (uint64_t) * (const int64_t *) src);
          break;
        case J_OPT_I64:
          crt_buf_put_u64 (b, ((const crt_opt_i64 *) src)->set);
          crt_buf_put_u64 (b, (uint64_t) ((const crt_opt_i64 *) src)->value);
          break;
        case J_U64:
          crt_buf_put_u64 (b, *(const uint64_t *) src);
          break;
        case J_OPT_U64:
          crt_buf_put_u64 (b, ((const crt_opt_u64 *) src)->set);
          crt_buf_put_u64 (b, ((const crt_opt_u64 *) src)->value);
          break;
        case J_STRV:
          crt_buf_put_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            put_str (b, (*(char **const *) src)[i]);
          break;
        case J_U32V:
          crt_buf_put_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            crt_buf_put_u64 (b, (*(uint32_t *const *) src)[i]);
          break;
        case J_OBJ:
          crt_buf_put_u64 (b, *(void *const *) src != NULL);
          if (*(void *const *) src)
            put_object (b, f->type, *(char *const *) src);
          break;
        case J_EMBED:
          put_object (b, f->type, src);
          break;
        case J_INLINE:
          put_object (b, f->type, base);
          break;
        case J_ARRAY:
        case J_MAP_OBJ:
          crt_buf_put_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            {
              const char *elem = *(char *const *) src + i * f->type->size;
              if (f->kind == J_MAP_OBJ)
                put_str (b, *(char *const *) (elem + f->key_off));
              put_object (b, f->type, elem);
            }
          break;
        case J_MAP_STR:
          crt_buf_put_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            {
              put_str (b, (*(crt_kv *const *) src)[i].key);
              put_str (b, (*(crt_kv *const *) src)[i].value);
            }
          break;
        }
    }
}

char *
jkey_object (const jtype *t, const void *base, size_t *len)
{
  crt_buf b = { 0 };

  put_object (&b, t, base);
  *len = b.len;
  return (char *) b.data;
}

char *
crt_seccomp_key (const crt_seccomp *s, size_t *len)
{
  return jkey_object (&crt_jt_seccomp, s, len);
}
