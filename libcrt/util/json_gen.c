#include "config.h"
#include "json_gen.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

yajl_gen
crt_gen_new (const char *indent)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    abort ();
  if (indent)
    {
      yajl_gen_config (g, yajl_gen_beautify, 1);
      yajl_gen_config (g, yajl_gen_indent_string, indent);
    }
  return g;
}

void
crt_gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

void
crt_gen_key_str (yajl_gen g, const char *key, const char *value)
{
  crt_gen_str (g, key);
  crt_gen_str (g, value);
}

char *
crt_gen_finish (yajl_gen g)
{
  const unsigned char *buf;
  size_t len;
  char *out;

  if (yajl_gen_get_buf (g, &buf, &len) != yajl_gen_status_ok)
    abort ();
  out = crt_xmalloc0 (len + 1);
  memcpy (out, buf, len);
  yajl_gen_free (g);
  return out;
}
