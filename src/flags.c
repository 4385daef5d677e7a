#include "config.h"
#include "flags.h"
#include "libcrt/util/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long value of a flag without a short form: above any char. */
#define LONG_ONLY_BASE 256

static size_t
flags_count (const cli_flag *flags)
{
  size_t n = 0;
  while (flags[n].name != NULL)
    n++;
  return n;
}

static int
flag_value (const cli_flag *flags, size_t i)
{
  return flags[i].short_name ? (unsigned char) flags[i].short_name : LONG_ONLY_BASE + (int) i;
}

static const cli_flag *
flag_by_value (const cli_flag *flags, int val)
{
  for (size_t i = 0; flags[i].name != NULL; i++)
    if (flag_value (flags, i) == val)
      return &flags[i];
  return NULL;
}

static int
flag_error (crt_error **err, const char *who, const char *what)
{
  if (who != NULL)
    return crt_error_set (err, 0, "%s: %s", who, what);
  return crt_error_set (err, 0, "%s", what);
}

/* The message for a '?' from getopt_long: which argument was wrong. */
static int
unknown_flag_error (crt_error **err, const char *who, const cli_flag *flags, const char *arg)
{
  cleanup_free char *what = NULL;
  const cli_flag *known = optopt != 0 ? flag_by_value (flags, optopt) : NULL;

  if (known != NULL)
    what = crt_fmt ("flag '--%s' does not take a value", known->name);
  else if (optopt != 0 && optopt < LONG_ONLY_BASE)
    what = crt_fmt ("unknown flag '-%c'", optopt);
  else
    what = crt_fmt ("unknown flag '%.*s'", (int) strcspn (arg, "="), arg);
  return flag_error (err, who, what);
}

int
cli_flags_parse (const char *who, const cli_flag *flags, bool in_order, int argc, char **argv,
                 crt_error **err)
{
  size_t n = flags_count (flags);
  cleanup_free struct option *longopts = crt_xmalloc0 ((n + 1) * sizeof (*longopts));
  /* "+" stops at the first argument; ":" makes a missing value return ':'. */
  cleanup_free char *shortopts = crt_xmalloc0 (3 + 2 * n + 1);
  size_t s = 0;
  int c;

  if (in_order)
    shortopts[s++] = '+';
  shortopts[s++] = ':';
  for (size_t i = 0; i < n; i++)
    {
      bool takes_value = flags[i].type != CLI_FLAG_BOOL;

      longopts[i].name = flags[i].name;
      longopts[i].has_arg = takes_value ? required_argument : no_argument;
      longopts[i].val = flag_value (flags, i);
      if (flags[i].short_name)
        {
          shortopts[s++] = flags[i].short_name;
          if (takes_value)
            shortopts[s++] = ':';
        }
    }

  /* 0, not 1: glibc then also forgets its state from a previous parse. */
  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, shortopts, longopts, NULL)) != -1)
    {
      const cli_flag *f;

      if (c == '?')
        return unknown_flag_error (err, who, flags, argv[optind - 1]);
      if (c == ':')
        {
          cleanup_free char *what = NULL;

          f = flag_by_value (flags, optopt);
          what = crt_fmt ("flag '--%s' requires a value", f ? f->name : "?");
          return flag_error (err, who, what);
        }
      f = flag_by_value (flags, c);
      if (f == NULL)
        return flag_error (err, who, "internal error: flag table");
      switch (f->type)
        {
        case CLI_FLAG_BOOL:
          *(bool *) f->dest = true;
          break;
        case CLI_FLAG_STRING:
          *(const char **) f->dest = optarg;
          break;
        case CLI_FLAG_STRV:
          {
            char ***list = f->dest;
            size_t len = crt_strv_len (*list);
            *list = realloc (*list, (len + 2) * sizeof (char *));
            if (*list == NULL)
              abort ();
            (*list)[len] = optarg;
            (*list)[len + 1] = NULL;
          }
          break;
        case CLI_FLAG_UINT:
          if ((*(int *) f->dest = crt_parse_decimal (optarg, INT_MAX)) < 0)
            {
              cleanup_free char *what
                  = crt_fmt ("invalid value \"%s\" for flag '--%s': want a number >= 0", optarg,
                             f->name);
              return flag_error (err, who, what);
            }
          break;
        }
    }
  return optind;
}

/* "-b, --bundle DIR", or "    --pid-file PATH" to line up with it. */
static char *
flag_synopsis (const cli_flag *f)
{
  const char *sep = f->metavar ? " " : "";
  const char *metavar = f->metavar ? f->metavar : "";

  if (f->short_name)
    return crt_fmt ("-%c, --%s%s%s", f->short_name, f->name, sep, metavar);
  return crt_fmt ("    --%s%s%s", f->name, sep, metavar);
}

void
cli_flags_print (FILE *out, const cli_flag *flags)
{
  size_t width = 0;

  for (size_t i = 0; flags[i].name != NULL; i++)
    {
      cleanup_free char *syn = flag_synopsis (&flags[i]);
      if (strlen (syn) > width)
        width = strlen (syn);
    }
  for (size_t i = 0; flags[i].name != NULL; i++)
    {
      cleanup_free char *syn = flag_synopsis (&flags[i]);
      fprintf (out, "  %-*s  %s\n", (int) width, syn, flags[i].help);
    }
}
