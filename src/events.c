#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A Go duration as runc takes it: "5s", "500ms", "1m30s". */
static int
parse_duration_ms (const char *s, unsigned *out, crt_error **err)
{
  static const struct { const char *unit; double ms; } units[] = {
    { "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 }, { "s", 1e3 }, { "m", 6e4 },
    { "h", 3.6e6 },
  };
  double total = 0;
  const char *p = s;

  if (*p == '\0')
    return crt_error_set (err, 0, "events: invalid --interval \"%s\"", s);
  while (*p)
    {
      char *end;
      double v;
      size_t best = 0, best_len = 0;
      if (!isdigit ((unsigned char) *p) && *p != '.')
        return crt_error_set (err, 0, "events: invalid --interval \"%s\"", s);
      v = strtod (p, &end);
      /* The longest unit that matches: "ms" before "m". */
      for (size_t i = 0; i < CRT_ARRAY_SIZE (units); i++)
        if (strncmp (end, units[i].unit, strlen (units[i].unit)) == 0
            && strlen (units[i].unit) > best_len)
          {
            best = i;
            best_len = strlen (units[i].unit);
          }
      if (best_len == 0)
        return crt_error_set (err, 0, "events: invalid --interval \"%s\": missing unit", s);
      total += v * units[best].ms;
      p = end + best_len;
    }
  if (total < 1 || total > 86400e3)
    return crt_error_set (err, 0, "events: --interval \"%s\" is out of range (1ms to 24h)", s);
  *out = (unsigned) total;
  return 0;
}

static int
print_event (const char *json, void *data, crt_error **err)
{
  (void) data;
  /* One line per event, flushed: a reader acts on each as it comes. */
  if (printf ("%s\n", json) < 0 || fflush (stdout) != 0)
    return crt_error_errno (err, "write to stdout");
  return 0;
}

static int
run_events (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  bool stats = false;
  const char *interval = "5s";
  const cli_flag flags[] = {
    { "stats", 0, CLI_FLAG_BOOL, &stats, NULL, "print the container's stats once and exit" },
    { "interval", 0, CLI_FLAG_STRING, &interval, "DURATION",
      "time between stats events (default: 5s)" },
    { NULL },
  };
  cleanup_free char *json = NULL;
  unsigned interval_ms = 0;
  const char *id;
  int first;

  first = cli_parse_command (&cli_events, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (parse_duration_ms (interval, &interval_ms, err) < 0)
    return CLI_USAGE;
  if (stats)
    {
      if (crt_container_stats (ctx, id, &json, err) < 0)
        return crt_error_prefix (err, "events %s", id);
      return print_event (json, NULL, err) < 0 ? CLI_ERROR : 0;
    }
  if (crt_container_events (ctx, id, interval_ms, print_event, NULL, err) < 0)
    return crt_error_prefix (err, "events %s", id);
  return 0;
}

const cli_command cli_events = {
  .name = "events",
  .args = "ID",
  .summary = "print a container's resource usage and OOM events as JSON",
  .description = "Print events of the container ID, one JSON object per line, until it\n"
                 "stops: {\"type\":\"stats\",\"id\":ID,\"data\":{...}} every --interval, and\n"
                 "{\"type\":\"oom\",\"id\":ID} when the kernel kills one of its processes for\n"
                 "lack of memory. With --stats, print one stats event and exit.",
  .run = run_events,
};
