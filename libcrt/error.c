#include "config.h"
#include "error.h"
#include "util/clock.h"
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef __GLIBC__
/* The texts of errnos whose glibc strerror differs from musl's: crt's
 * messages read the same whichever libc it is linked with (the musl
 * build, contrib/musl-build.sh), and as runc's and crun's do (Go's
 * texts are glibc's). */
static const char *const glibc_texts[] = {
  [EIO] = "Input/output error",
  [ECHILD] = "No child processes",
  [ENOMEM] = "Cannot allocate memory",
  [EBUSY] = "Device or resource busy",
  [EXDEV] = "Invalid cross-device link",
  [EMFILE] = "Too many open files",
  [ENOTTY] = "Inappropriate ioctl for device",
  [ESPIPE] = "Illegal seek",
  [EDOM] = "Numerical argument out of domain",
  [ERANGE] = "Numerical result out of range",
  [EDEADLK] = "Resource deadlock avoided",
  [ENAMETOOLONG] = "File name too long",
  [ELOOP] = "Too many levels of symbolic links",
  [ECHRNG] = "Channel number out of range",
  [EL2NSYNC] = "Level 2 not synchronized",
  [EL3HLT] = "Level 3 halted",
  [EL3RST] = "Level 3 reset",
  [ELNRNG] = "Link number out of range",
  [EUNATCH] = "Protocol driver not attached",
  [ENOCSI] = "No CSI structure available",
  [EL2HLT] = "Level 2 halted",
  [EBADE] = "Invalid exchange",
  [EBADR] = "Invalid request descriptor",
  [EXFULL] = "Exchange full",
  [ENOANO] = "No anode",
  [EBADRQC] = "Invalid request code",
  [EBADSLT] = "Invalid slot",
  [EBFONT] = "Bad font file format",
  [ETIME] = "Timer expired",
  [ENONET] = "Machine is not on the network",
  [ENOPKG] = "Package not installed",
  [EREMOTE] = "Object is remote",
  [EADV] = "Advertise error",
  [ESRMNT] = "Srmount error",
  [ECOMM] = "Communication error on send",
  [EDOTDOT] = "RFS specific error",
  [EOVERFLOW] = "Value too large for defined data type",
  [ENOTUNIQ] = "Name not unique on network",
  [EREMCHG] = "Remote address changed",
  [ELIBACC] = "Can not access a needed shared library",
  [ELIBBAD] = "Accessing a corrupted shared library",
  [ELIBSCN] = ".lib section in a.out corrupted",
  [ELIBMAX] = "Attempting to link in too many shared libraries",
  [ELIBEXEC] = "Cannot exec a shared library directly",
  [EILSEQ] = "Invalid or incomplete multibyte or wide character",
  [ERESTART] = "Interrupted system call should be restarted",
  [ESTRPIPE] = "Streams pipe error",
  [EUSERS] = "Too many users",
  [ENOTSOCK] = "Socket operation on non-socket",
  [EMSGSIZE] = "Message too long",
  [ENOTSUP] = "Operation not supported",
  [EADDRINUSE] = "Address already in use",
  [EADDRNOTAVAIL] = "Cannot assign requested address",
  [ENETUNREACH] = "Network is unreachable",
  [ENETRESET] = "Network dropped connection on reset",
  [ECONNABORTED] = "Software caused connection abort",
  [EISCONN] = "Transport endpoint is already connected",
  [ENOTCONN] = "Transport endpoint is not connected",
  [ESHUTDOWN] = "Cannot send after transport endpoint shutdown",
  [ETOOMANYREFS] = "Too many references: cannot splice",
  [ETIMEDOUT] = "Connection timed out",
  [EHOSTUNREACH] = "No route to host",
  [EINPROGRESS] = "Operation now in progress",
  [EUCLEAN] = "Structure needs cleaning",
  [ENOTNAM] = "Not a XENIX named type file",
  [ENAVAIL] = "No XENIX semaphores available",
  [EISNAM] = "Is a named type file",
  [EDQUOT] = "Disk quota exceeded",
  [EOWNERDEAD] = "Owner died",
  [ERFKILL] = "Operation not possible due to RF-kill",
  [EHWPOISON] = "Memory page has hardware error",
};
#endif

const char *
crt_strerror (int errnum)
{
#ifndef __GLIBC__
  if (errnum > 0 && (size_t) errnum < CRT_ARRAY_SIZE (glibc_texts) && glibc_texts[errnum])
    return glibc_texts[errnum];
#endif
  return strerror (errnum);
}

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
  if (asprintf (&msg, "%s: %s", what, crt_strerror (errnum)) < 0)
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
      char stamp[CRT_UTC_STAMP_MAX];
      cleanup_free char *quoted = crt_json_quote (msg);

      crt_utc_now (stamp, false);
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
