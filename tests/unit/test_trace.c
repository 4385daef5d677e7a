/* Unit test of util/trace.c, the trace build's recorder (compiled here
 * with CRT_TRACE, as configure --enable-trace does): the dump's format,
 * which bench/tracephases.py parses, and its bound. */
#define CRT_TRACE 1
#include "../../libcrt/util/trace.c"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

int tap_count, tap_failures;

/* The dump of what was recorded, as text. */
static char *
dump_text (void)
{
  static char buf[65536];
  int p[2], saved = dup (STDERR_FILENO);
  ssize_t n;

  if (saved < 0 || pipe (p) < 0)
    return NULL;
  dup2 (p[1], STDERR_FILENO);
  close (p[1]);
  crt_trace_dump ();
  dup2 (saved, STDERR_FILENO);
  close (saved);
  n = read (p[0], buf, sizeof (buf) - 1);
  close (p[0]);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return buf;
}

int
main (void)
{
  unsigned long long prev = 0;
  int lines = 0, ordered = 1;
  char *text, *line, *save = NULL;

  CRT_TRACE_POINT ("first");
  CRT_TRACE_POINT ("second phase");
  CRT_TRACE_POINT ("third");
  text = dump_text ();
  if (!tap_ok (text != NULL, "dump read back"))
    return tap_done ();
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      int pid;
      unsigned long long ns;
      char what[64];

      if (sscanf (line, "crt-trace %d %llu %63[^\n]", &pid, &ns, what) != 3 || pid != getpid ())
        break;
      ordered &= ns >= prev;
      prev = ns;
      lines++;
      if (lines == 2)
        tap_str_eq (what, "second phase", "a name with spaces, whole");
    }
  tap_ok (lines == 3, "one line per point: \"crt-trace PID NS WHAT\" (%d)", lines);
  tap_ok (ordered, "times in order");

  for (int i = 0; i < 500; i++)
    CRT_TRACE_POINT ("more");
  text = dump_text ();
  lines = 0;
  for (char *c = text; c && *c; c++)
    lines += *c == '\n';
  tap_ok (lines == MAX_POINTS, "at most %d points kept (%d)", MAX_POINTS, lines);
  return tap_done ();
}
