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

typedef struct kbuf
{
  char *data;
  size_t len, cap;
} kbuf;

static void
kput (kbuf *b, const void *p, size_t n)
{
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap : 256;
      while (cap < b->len + n)
        cap *= 2;
      b->data = realloc (b->data, cap);
      if (b->data == NULL)
        abort ();
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
}

static void
kput_u64 (kbuf *b, uint64_t v)
{
  kput (b, &v, sizeof (v));
}

static void
kput_str (kbuf *b, const char *s)
{
  kput_u64 (b, s ? strlen (s) + 1 : 0);
  if (s)
    kput (b, s, strlen (s));
}

static void
kput_object (kbuf *b, const jtype *t, const char *base)
{
  for (const jfield *f = t->fields; f->key; f++)
    {
      const char *src = base + f->off;
      size_t count = f->count_off ? *(const size_t *) (base + f->count_off) : 0;

      kput_u64 (b, (uint64_t) f->kind);
      if (f->track)
        kput_u64 (b, *(const bool *) (base + f->has_off));
      switch (f->kind)
        {
        case J_BOOL:
          kput_u64 (b, *(const bool *) src);
          break;
        case J_OPT_BOOL:
          kput_u64 (b, ((const crt_opt_bool *) src)->set);
          kput_u64 (b, ((const crt_opt_bool *) src)->value);
          break;
        case J_STR:
          kput_str (b, *(char *const *) src);
          break;
        case J_CHAR:
          kput_u64 (b, (unsigned char) *src);
          break;
        case J_ENUM:
        case J_INT:
          kput_u64 (b, (uint64_t) (int64_t) * (const int *) src);
          break;
        case J_U32:
          kput_u64 (b, *(const uint32_t *) src);
          break;
        case J_I32:
          kput_u64 (b, (uint64_t) (int64_t) * (const int32_t *) src);
          break;
        case J_OPT_U32:
        case J_OPT_U16:
          kput_u64 (b, ((const crt_opt_u32 *) src)->set);
          kput_u64 (b, ((const crt_opt_u32 *) src)->value);
          break;
        case J_I64:
          kput_u64 (b, (uint64_t) * (const int64_t *) src);
          break;
        case J_OPT_I64:
          kput_u64 (b, ((const crt_opt_i64 *) src)->set);
          kput_u64 (b, (uint64_t) ((const crt_opt_i64 *) src)->value);
          break;
        case J_U64:
          kput_u64 (b, *(const uint64_t *) src);
          break;
        case J_OPT_U64:
          kput_u64 (b, ((const crt_opt_u64 *) src)->set);
          kput_u64 (b, ((const crt_opt_u64 *) src)->value);
          break;
        case J_STRV:
          kput_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            kput_str (b, (*(char **const *) src)[i]);
          break;
        case J_U32V:
          kput_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            kput_u64 (b, (*(uint32_t *const *) src)[i]);
          break;
        case J_OBJ:
          kput_u64 (b, *(void *const *) src != NULL);
          if (*(void *const *) src)
            kput_object (b, f->type, *(char *const *) src);
          break;
        case J_EMBED:
          kput_object (b, f->type, src);
          break;
        case J_INLINE:
          kput_object (b, f->type, base);
          break;
        case J_ARRAY:
        case J_MAP_OBJ:
          kput_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            {
              const char *elem = *(char *const *) src + i * f->type->size;
              if (f->kind == J_MAP_OBJ)
                kput_str (b, *(char *const *) (elem + f->key_off));
              kput_object (b, f->type, elem);
            }
          break;
        case J_MAP_STR:
          kput_u64 (b, count);
          for (size_t i = 0; i < count; i++)
            {
              kput_str (b, (*(crt_kv *const *) src)[i].key);
              kput_str (b, (*(crt_kv *const *) src)[i].value);
            }
          break;
        }
    }
}

char *
jkey_object (const jtype *t, const void *base, size_t *len)
{
  kbuf b = { 0 };

  kput_object (&b, t, base);
  *len = b.len;
  return b.data;
}

char *
crt_seccomp_key (const crt_seccomp *s, size_t *len)
{
  return jkey_object (&crt_jt_seccomp, s, len);
}
