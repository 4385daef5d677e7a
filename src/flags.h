/* Flag parsing shared by the global flags and every command.
 *
 * A command describes its flags as a table bound to its own variables;
 * the same table drives getopt_long and the --help text, so the help can
 * never drift from what is parsed.
 */
#ifndef CRT_CLI_FLAGS_H
#define CRT_CLI_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

#include "libcrt/error.h"

typedef enum
{
  CLI_FLAG_BOOL,                /* dest: bool *, set to true */
  CLI_FLAG_STRING,              /* dest: const char **, points into argv */
  CLI_FLAG_UINT,                /* dest: int *, a decimal 0..INT_MAX */
  CLI_FLAG_STRV,                /* dest: char ***, repeatable: NULL-terminated, values
                                   point into argv, the array is the caller's to free */
} cli_flag_type;

typedef struct cli_flag
{
  const char *name;             /* long name without "--"; NULL ends a table */
  char short_name;              /* 0 when there is none */
  cli_flag_type type;
  void *dest;
  const char *metavar;          /* value name in --help ("DIR"); NULL for BOOL */
  const char *help;
} cli_flag;

/* Parse the flags of argv[1..] into their dest. With in_order, stop at
 * the first non-flag (global flags before the command); otherwise flags
 * and arguments may be mixed. Returns the index in argv of the first
 * argument, or -1 with *err set ("<who>: unknown flag '--x'", who may be
 * NULL). */
int cli_flags_parse (const char *who, const cli_flag *flags, bool in_order, int argc,
                     char **argv, crt_error **err);

/* The "  -b, --bundle DIR   help" lines for --help. */
void cli_flags_print (FILE *out, const cli_flag *flags);

#endif
