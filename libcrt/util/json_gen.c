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

void
crt_gen_value (yajl_gen g, yajl_val v)
{
  if (v == NULL)
    {
      yajl_gen_null (g);
      return;
    }
  switch (v->type)
    {
    case yajl_t_string:
      crt_gen_str (g, v->u.string);
      break;
    case yajl_t_number:
      yajl_gen_number (g, v->u.number.r, strlen (v->u.number.r));
      break;
    case yajl_t_object:
      yajl_gen_map_open (g);
      for (size_t i = 0; i < v->u.object.len; i++)
        {
          crt_gen_str (g, v->u.object.keys[i]);
          crt_gen_value (g, v->u.object.values[i]);
        }
      yajl_gen_map_close (g);
      break;
    case yajl_t_array:
      yajl_gen_array_open (g);
      for (size_t i = 0; i < v->u.array.len; i++)
        crt_gen_value (g, v->u.array.values[i]);
      yajl_gen_array_close (g);
      break;
    case yajl_t_true:
    case yajl_t_false:
      yajl_gen_bool (g, v->type == yajl_t_true);
      break;
    case yajl_t_null:
    case yajl_t_any:
    default:
      yajl_gen_null (g);
      break;
    }
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
