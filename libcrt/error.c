#include "config.h"
#include "error.h"
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    return NULL;
  return s;
}

/* Fill *err with msg (taken) and errnum, unless it is already set. */
static int
fill (crt_error **err, int errnum, char *msg)
{
  if (err == NULL || *err != NULL || (*err = calloc (1, sizeof (**err))) == NULL)
    {
      free (msg);
      return -1;
    }
  (*err)->errnum = errnum;
  (*err)->msg = msg;
  return -1;
}

int
crt_error_set (crt_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *what, *msg = NULL;

  if (err == NULL || *err != NULL)
    return -1;
  va_start (ap, fmt);
  what = vformat (fmt, ap);
  va_end (ap);
  if (errnum == 0 || what == NULL)
    return fill (err, errnum, what);
  if (asprintf (&msg, "%s: %s", what, strerror (errnum)) < 0)
    msg = NULL;
  free (what);
  return fill (err, errnum, msg);
}

int
crt_error_with_code (crt_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *what;

  if (err == NULL || *err != NULL)
    return -1;
  va_start (ap, fmt);
  what = vformat (fmt, ap);
  va_end (ap);
  return fill (err, errnum, what);
}

int
crt_error_prefix (crt_error **err, const char *fmt, ...)
{
  va_list ap;
  char *prefix, *joined = NULL;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  prefix = vformat (fmt, ap);
  va_end (ap);
  if (prefix == NULL)
    return -1;
  if (asprintf (&joined, "%s: %s", prefix, (*err)->msg ? (*err)->msg : "unknown error") >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = joined;
    }
  free (prefix);
  return -1;
}

void
crt_error_free (crt_error **err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

void
crt_error_print (const crt_error *err, FILE *out, int json)
{
  const char *msg = err && err->msg ? err->msg : "unknown error";

  if (json)
    {
      char stamp[64];
      cleanup_free char *quoted = crt_json_quote (msg);
      struct timespec ts;
      struct tm tm;

      clock_gettime (CLOCK_REALTIME, &ts);
      gmtime_r (&ts.tv_sec, &tm);
      strftime (stamp, sizeof (stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
      fprintf (out, "{\"level\":\"error\",\"msg\":%s,\"time\":\"%s\"}\n",
               quoted ? quoted : "\"\"", stamp);
    }
  else
    {
      /* One error, one line: values quoted from the input (an id, a
       * config string) may hold newlines or terminal escapes. */
      fputs ("crt: ", out);
      for (const unsigned char *p = (const unsigned char *) msg; *p; p++)
        {
          if (*p == '\n')
            fputs ("\\n", out);
          else if (*p == '\t')
            fputs ("\\t", out);
          else if (*p == '\r')
            fputs ("\\r", out);
          else if (*p < 0x20 || *p == 0x7f)
            fprintf (out, "\\x%02x", *p);
          else
            fputc (*p, out);
        }
      fputc ('\n', out);
    }
  fflush (out);
}
