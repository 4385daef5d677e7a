#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <string.h>

/* Columns laid out like runc's (Go's tabwriter: minimum width 12,
 * padding 3, the last column unpadded), so scripts parsing runc's table
 * read ours. */
#define TABLE_MIN_WIDTH 12
#define TABLE_PADDING 3
#define TABLE_COLUMNS 6

typedef struct list_result
{
  crt_container_state **states;
  size_t n;
} list_result;

static void
list_result_free (list_result *r)
{
  if (r->states != NULL)
    crt_container_list_free (r->states, r->n);
}

/* The cells of one row; pid is formatted into pid_buf. */
static void
table_row (const crt_container_state *st, char *pid_buf, size_t pid_size, const char **cells)
{
  snprintf (pid_buf, pid_size, "%d", (int) st->pid);
  cells[0] = st->id;
  cells[1] = pid_buf;
  cells[2] = crt_status_name (st->status);
  cells[3] = st->bundle ? st->bundle : "";
  cells[4] = st->created ? st->created : "";
  /* The state leaves owner empty for root (like runc's state); runc's
   * table names root, so do we. */
  cells[5] = st->owner && st->owner[0] ? st->owner : "root";
}

static void
print_table (crt_container_state **states, size_t n)
{
  static const char *const header[TABLE_COLUMNS]
      = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
  size_t width[TABLE_COLUMNS];
  const char *cells[TABLE_COLUMNS];
  char pid_buf[32];

  for (size_t c = 0; c < TABLE_COLUMNS; c++)
    width[c] = strlen (header[c]);
  for (size_t i = 0; i < n; i++)
    {
      table_row (states[i], pid_buf, sizeof (pid_buf), cells);
      for (size_t c = 0; c < TABLE_COLUMNS; c++)
        if (strlen (cells[c]) > width[c])
          width[c] = strlen (cells[c]);
    }
  for (size_t c = 0; c < TABLE_COLUMNS; c++)
    width[c] = width[c] + TABLE_PADDING < TABLE_MIN_WIDTH ? TABLE_MIN_WIDTH
                                                          : width[c] + TABLE_PADDING;

  for (size_t i = 0; i <= n; i++)
    {
      if (i == 0)
        memcpy (cells, header, sizeof (cells));
      else
        table_row (states[i - 1], pid_buf, sizeof (pid_buf), cells);
      for (size_t c = 0; c + 1 < TABLE_COLUMNS; c++)
        printf ("%-*s", (int) width[c], cells[c]);
      printf ("%s\n", cells[TABLE_COLUMNS - 1]);
    }
}

static int
run_list (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const char *format = "table";
  bool quiet = false;
  const cli_flag flags[] = {
    { "format", 'f', CLI_FLAG_STRING, &format, "FORMAT", "table (default) or json" },
    { "quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL, "print only the container ids" },
    { NULL },
  };
  __attribute__ ((cleanup (list_result_free))) list_result r = { NULL, 0 };
  int first;

  first = cli_parse_command (&cli_list, flags, argc, argv, 0, 0, err);
  if (first < 0)
    return first;
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    {
      crt_error_set (err, 0, "list: invalid --format \"%s\": want table or json", format);
      return CLI_USAGE;
    }
  if (crt_container_list (ctx, &r.states, &r.n, err) < 0)
    return crt_error_prefix (err, "list");

  if (quiet)
    for (size_t i = 0; i < r.n; i++)
      printf ("%s\n", r.states[i]->id);
  else if (strcmp (format, "json") == 0)
    {
      cleanup_free char *json = crt_container_list_to_json (r.states, r.n);
      printf ("%s\n", json);
    }
  else
    print_table (r.states, r.n);
  return 0;
}

const cli_command cli_list = {
  .name = "list",
  .args = "",
  .summary = "list the containers under the --root directory",
  .description = "List the containers whose state is under the global --root directory\n"
                 "(default: " CRT_DEFAULT_ROOT ", for an unprivileged user $XDG_RUNTIME_DIR/crt),\n"
                 "sorted by id.",
  .run = run_list,
};
