/* Signal names and numbers as `crt kill` and runc accept them. */
#include "config.h"
#include "crt.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Highest signal number the kernel knows (_NSIG is 65 on Linux). */
#define MAX_SIGNAL (_NSIG - 1)

static const struct
{
  const char *name;
  int num;
} signal_names[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },     { "CLD", SIGCHLD },    { "CONT", SIGCONT },
  { "STOP", SIGSTOP },     { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
  { "URG", SIGURG },       { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
  { "PROF", SIGPROF },     { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },
  { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (name without SIG); -1 if not. */
static int
parse_realtime (const char *name)
{
  /* SIGRTMIN/SIGRTMAX are libc calls: glibc keeps a few RT signals. */
  int lo = SIGRTMIN, hi = SIGRTMAX, off = 0;

  if (strncasecmp (name, "RTMIN", 5) == 0)
    {
      if (name[5] != '\0' && (name[5] != '+' || (off = crt_parse_decimal (name + 6, hi - lo)) < 0))
        return -1;
      return lo + off;
    }
  if (strncasecmp (name, "RTMAX", 5) == 0)
    {
      if (name[5] != '\0' && (name[5] != '-' || (off = crt_parse_decimal (name + 6, hi - lo)) < 0))
        return -1;
      return hi - off;
    }
  return -1;
}

int
crt_signal_parse (const char *s, int *sig, crt_error **err)
{
  const char *name = s;
  int num;

  num = crt_parse_decimal (s, MAX_SIGNAL);
  if (num >= 1)
    {
      *sig = num;
      return 0;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < CRT_ARRAY_SIZE (signal_names); i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      {
        *sig = signal_names[i].num;
        return 0;
      }
  num = parse_realtime (name);
  if (num > 0)
    {
      *sig = num;
      return 0;
    }
  return crt_error_set (err, 0, "unknown signal \"%s\"", s);
}
