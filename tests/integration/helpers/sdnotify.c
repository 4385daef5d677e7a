/* sdnotify MESSAGE: send MESSAGE to $NOTIFY_SOCKET, as sd_notify(3) does.
 * Built statically by the tests and copied into busybox rootfs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int
main (int argc, char **argv)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (path == NULL || argc != 2 || strlen (path) >= sizeof (addr.sun_path))
    return 2;
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || sendto (fd, argv[1], strlen (argv[1]), 0, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      perror ("sdnotify");
      return 1;
    }
  return 0;
}
