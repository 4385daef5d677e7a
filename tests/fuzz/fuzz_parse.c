/* The small parsers of the command line, all on the same string:
 * crt_signal_parse (crt kill), crt_id_validate (every command's
 * CONTAINER), crt_parse_decimal (--preserve-fds, RTMIN+n) and
 * crt_parse_size (crt update --memory...). Each result is checked
 * against what the function promises. */
#include "config.h"
#include "fuzz.h"
#include "crt.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>

static void
check_signal (const char *s)
{
  crt_error *err = NULL;
  int sig = 0;
  int rc = crt_signal_parse (s, &sig, &err);

  fuzz_check_error (rc, &err, "crt_signal_parse");
  if (rc == 0 && (sig < 1 || sig >= _NSIG))
    abort ();
}

static void
check_id (const char *s)
{
  crt_error *err = NULL;
  int rc = crt_id_validate (s, &err);
  size_t n = strlen (s);

  fuzz_check_error (rc, &err, "crt_id_validate");
  if (rc < 0)
    return;
  /* An accepted id is a safe single path component. */
  if (n == 0 || n > 1024 || strchr (s, '/') || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
    abort ();
}

static void
check_decimal (const char *s, int max)
{
  int v = crt_parse_decimal (s, max);
  char back[32];

  if (v < -1 || v > max)
    abort ();
  if (v < 0)
    return;
  /* Only digits are accepted, and they mean v (leading zeros aside). */
  while (s[0] == '0' && s[1] != '\0')
    s++;
  snprintf (back, sizeof (back), "%d", v);
  if (strcmp (back, s) != 0)
    abort ();
}

static void
check_size (const char *s)
{
  int64_t v = 0;

  if (crt_parse_size (s, &v) == 0 && v < -1)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);

  check_signal (text);
  check_id (text);
  check_decimal (text, INT_MAX);
  check_decimal (text, 64);
  check_decimal (text, 0);
  /* A bound from the input, so every max is tried. */
  check_decimal (text, size >= 4 ? (int) ((uint32_t) data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3]) & INT_MAX : 1024);
  check_size (text);
  return 0;
}
