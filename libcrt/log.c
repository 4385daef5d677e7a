#include "config.h"
#include "crt.h"
#include "util/clock.h"
#include "util/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void
crt_log (const crt_context *ctx, crt_log_level level, const char *fmt, ...)
{
  va_list ap;
  FILE *out;
  cleanup_free char *msg = NULL;

  if (ctx == NULL || (level == CRT_LOG_DEBUG && !ctx->debug))
    return;
  out = ctx->log ? ctx->log : stderr;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;

  if (ctx->log_json)
    {
      char stamp[CRT_UTC_STAMP_MAX];
      cleanup_free char *quoted = crt_json_quote (msg);

      crt_utc_now (stamp, false);
      fprintf (out, "{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n", level_names[level],
               quoted ? quoted : "\"\"", stamp);
    }
  else
    fprintf (out, "crt: %s: %s\n", level_names[level], msg);
  fflush (out);
}
