/* linux.netDevices: move host interfaces into the container's network
 * namespace with rtnetlink (a raw NETLINK_ROUTE socket, no libnl).
 *
 * The move and the rename are one RTM_NEWLINK (IFLA_NET_NS_FD and
 * IFLA_IFNAME together), so the interface never exists under its host
 * name in the container, nor under its new name on the host. The kernel
 * drops an interface's addresses when it leaves a namespace; the spec
 * wants the permanent global ones kept, so they are read before the move
 * and added back inside, after the interface is set up. */
#include "config.h"
#include "netdev.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELD "linux.netDevices[\"%s\"]"

/* One request: header, fixed part, attributes. */
typedef struct nl_req
{
  union
  {
    struct nlmsghdr hdr;
    char buf[512];
  } u;
} nl_req;

/* A permanent global address, saved as RTM_NEWADDR attributes to send
 * back once the interface is in the container. */
typedef struct saved_addr
{
  struct ifaddrmsg ifa;
  char attrs[256];
  size_t attrs_len;
} saved_addr;

/* The kernel's rule for interface names (dev_valid_name), and a '%'
 * only as the "%d" template the spec allows. */
static bool
valid_ifname (const char *name)
{
  const char *pct;

  if (name[0] == '\0' || strlen (name) >= IFNAMSIZ || strcmp (name, ".") == 0
      || strcmp (name, "..") == 0)
    return false;
  for (const char *c = name; *c; c++)
    if (*c == '/' || *c == ':' || isspace ((unsigned char) *c))
      return false;
  pct = strchr (name, '%');
  return pct == NULL || (pct[1] == 'd' && strchr (pct + 1, '%') == NULL);
}

static const char *
target_name (const crt_net_device *d)
{
  return d->name && d->name[0] ? d->name : d->host_name;
}

/* Same network namespace as crt's own? (st_dev/st_ino of nsfs files) */
static int
is_host_netns (const char *path, bool *same, crt_error **err)
{
  struct stat mine, theirs;

  if (stat ("/proc/self/ns/net", &mine) < 0)
    return crt_error_errno (err, "stat /proc/self/ns/net");
  if (stat (path, &theirs) < 0)
    return crt_error_errno (err, "stat `%s`", path);
  *same = mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
  return 0;
}

static const crt_namespace *
net_namespace (const crt_linux *linux_)
{
  for (size_t i = 0; i < linux_->n_namespaces; i++)
    if (linux_->namespaces[i].type == CRT_NS_NETWORK)
      return &linux_->namespaces[i];
  return NULL;
}

int
crt_netdev_validate (const crt_linux *linux_, crt_error **err)
{
  cleanup_error crt_error *ignored = NULL;
  const crt_namespace *net;
  bool same = false;

  if (linux_ == NULL || linux_->n_net_devices == 0)
    return 0;
  net = net_namespace (linux_);
  if (net == NULL)
    return crt_error_set (err, 0, "config.json: " FIELD ": needs a network namespace of the "
                          "container's own (linux.namespaces has none)",
                          linux_->net_devices[0].host_name);
  /* A path that cannot be read is reported by the namespace code. */
  if (net->path && net->path[0] && is_host_netns (net->path, &same, &ignored) == 0 && same)
    return crt_error_set (err, 0, "config.json: " FIELD ": the network namespace `%s` is "
                          "the host's", linux_->net_devices[0].host_name, net->path);
  for (size_t i = 0; i < linux_->n_net_devices; i++)
    {
      const crt_net_device *d = &linux_->net_devices[i];

      if (!valid_ifname (d->host_name))
        return crt_error_set (err, 0, "config.json: " FIELD ": not a valid interface name",
                              d->host_name);
      if (d->name && d->name[0] && !valid_ifname (d->name))
        return crt_error_set (err, 0, "config.json: " FIELD ".name: `%s` is not a valid "
                              "interface name (1 to %d characters, no '/', ':' or spaces)",
                              d->host_name, d->name, IFNAMSIZ - 1);
      if (if_nametoindex (d->host_name) == 0)
        return crt_error_errno (err, "config.json: " FIELD ": no such interface on the host",
                                d->host_name);
      for (size_t j = 0; j < i; j++)
        if (strcmp (target_name (d), target_name (&linux_->net_devices[j])) == 0
            && strchr (target_name (d), '%') == NULL)
          return crt_error_set (err, 0, "config.json: " FIELD ": the name `%s` is already "
                                "taken by linux.netDevices[\"%s\"]", d->host_name,
                                target_name (d), linux_->net_devices[j].host_name);
    }
  return 0;
}

/* --- rtnetlink ------------------------------------------------------- */

static void *
req_begin (nl_req *r, int type, int flags, size_t fixed_len)
{
  memset (r, 0, sizeof (*r));
  r->u.hdr.nlmsg_len = NLMSG_LENGTH (fixed_len);
  r->u.hdr.nlmsg_type = (unsigned short) type;
  r->u.hdr.nlmsg_flags = (unsigned short) (NLM_F_REQUEST | flags);
  return NLMSG_DATA (&r->u.hdr);
}

static void
req_put (nl_req *r, int type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *) (r->u.buf + NLMSG_ALIGN (r->u.hdr.nlmsg_len));

  /* Sizes are fixed by this file: a name, a u32, a saved address. */
  if (NLMSG_ALIGN (r->u.hdr.nlmsg_len) + RTA_SPACE (len) > sizeof (r->u.buf))
    abort ();
  a->rta_type = (unsigned short) type;
  a->rta_len = (unsigned short) RTA_LENGTH (len);
  memcpy (RTA_DATA (a), data, len);
  r->u.hdr.nlmsg_len = (unsigned) (NLMSG_ALIGN (r->u.hdr.nlmsg_len) + RTA_SPACE (len));
}

static int
nl_open (crt_error **err)
{
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

  if (fd < 0)
    return crt_error_errno (err, "netlink socket");
  if (bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0)
    {
      crt_error_errno (err, "bind netlink socket");
      close (fd);
      return -1;
    }
  return fd;
}

/* Send r and read the answers to it. Each answer that is not an ack
 * goes to on_msg (when given); returns 0 or -errno from the kernel. */
static int
nl_call (int fd, nl_req *r, int (*on_msg) (const struct nlmsghdr *, void *), void *data)
{
  static unsigned seq;
  char buf[16384] __attribute__ ((aligned (NLMSG_ALIGNTO)));

  r->u.hdr.nlmsg_seq = ++seq;
  while (send (fd, r->u.buf, r->u.hdr.nlmsg_len, 0) < 0)
    if (errno != EINTR)
      return -errno;
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof (buf), 0);
      int len;

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      len = (int) n;
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, len);
           h = NLMSG_NEXT (h, len))
        {
          if (h->nlmsg_seq != seq)
            continue;
          if (h->nlmsg_type == NLMSG_DONE)
            return 0;
          if (h->nlmsg_type == NLMSG_ERROR)
            return ((struct nlmsgerr *) NLMSG_DATA (h))->error;
          if (on_msg && on_msg (h, data) < 0)
            return -ENOBUFS;
          if (!(h->nlmsg_flags & NLM_F_MULTI) && !(r->u.hdr.nlmsg_flags & NLM_F_ACK))
            return 0;
        }
    }
}

/* --- addresses kept across the move ---------------------------------- */

typedef struct addr_list
{
  int ifindex;
  saved_addr *v;
  size_t n;
} addr_list;

static void
addr_list_free (addr_list *l)
{
  free (l->v);
}

static int
collect_addr (const struct nlmsghdr *h, void *data)
{
  static const int kept[] = { IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_FLAGS };
  addr_list *l = data;
  const struct ifaddrmsg *ifa = NLMSG_DATA (h);
  int len = (int) IFA_PAYLOAD (h);
  unsigned flags = ifa->ifa_flags;
  saved_addr s;

  if (h->nlmsg_type != RTM_NEWADDR || (int) ifa->ifa_index != l->ifindex
      || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
    return 0;
  memset (&s, 0, sizeof (s));
  for (struct rtattr *a = IFA_RTA (ifa); RTA_OK (a, len); a = RTA_NEXT (a, len))
    {
      if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD (a) >= sizeof (uint32_t))
        memcpy (&flags, RTA_DATA (a), sizeof (uint32_t));
      for (size_t k = 0; k < CRT_ARRAY_SIZE (kept); k++)
        if (a->rta_type == kept[k] && s.attrs_len + RTA_ALIGN (a->rta_len) <= sizeof (s.attrs))
          {
            memcpy (s.attrs + s.attrs_len, a, a->rta_len);
            s.attrs_len += RTA_ALIGN (a->rta_len);
          }
    }
  if (!(flags & IFA_F_PERMANENT))
    return 0;
  s.ifa = *ifa;
  l->v = crt_xreallocarray (l->v, l->n + 1, sizeof (*l->v));
  l->v[l->n++] = s;
  return 0;
}

static int
save_addresses (int fd, int ifindex, addr_list *out)
{
  nl_req r;
  struct ifaddrmsg *ifa = req_begin (&r, RTM_GETADDR, NLM_F_DUMP, sizeof (*ifa));

  ifa->ifa_family = AF_UNSPEC;
  out->ifindex = ifindex;
  return nl_call (fd, &r, collect_addr, out);
}

static int
restore_address (int fd, const saved_addr *s, int ifindex)
{
  nl_req r;
  struct ifaddrmsg *ifa = req_begin (&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
                                     sizeof (*ifa));
  *ifa = s->ifa;
  ifa->ifa_index = (unsigned) ifindex;
  memcpy (r.u.buf + NLMSG_ALIGN (r.u.hdr.nlmsg_len), s->attrs, s->attrs_len);
  r.u.hdr.nlmsg_len = (unsigned) (NLMSG_ALIGN (r.u.hdr.nlmsg_len) + s->attrs_len);
  return nl_call (fd, &r, NULL, NULL);
}

/* --- links ----------------------------------------------------------- */

/* By the namespace's fd rather than the pid: the namespace checked in
 * open_netlink_in is the one the interface goes to. */
static int
move_link (int fd, int ifindex, const char *new_name, int netns_fd)
{
  nl_req r;
  struct ifinfomsg *ifi = req_begin (&r, RTM_NEWLINK, NLM_F_ACK, sizeof (*ifi));
  uint32_t target = (uint32_t) netns_fd;

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  req_put (&r, IFLA_NET_NS_FD, &target, sizeof (target));
  req_put (&r, IFLA_IFNAME, new_name, strlen (new_name) + 1);
  return nl_call (fd, &r, NULL, NULL);
}

static int
take_ifindex (const struct nlmsghdr *h, void *data)
{
  if (h->nlmsg_type == RTM_NEWLINK)
    *(int *) data = ((const struct ifinfomsg *) NLMSG_DATA (h))->ifi_index;
  return 0;
}

/* The interface's index in the container: looked up by its name, since
 * the kernel gives it a new index when its old one is taken there; by
 * the old index when the name was a template the kernel filled in. */
static int
find_link (int fd, const char *name, int old_index, int *ifindex)
{
  nl_req r;
  struct ifinfomsg *ifi = req_begin (&r, RTM_GETLINK, 0, sizeof (*ifi));

  ifi->ifi_family = AF_UNSPEC;
  if (strchr (name, '%'))
    ifi->ifi_index = old_index;
  else
    req_put (&r, IFLA_IFNAME, name, strlen (name) + 1);
  *ifindex = 0;
  return nl_call (fd, &r, take_ifindex, ifindex);
}

static int
set_link_up (int fd, int ifindex)
{
  nl_req r;
  struct ifinfomsg *ifi = req_begin (&r, RTM_NEWLINK, NLM_F_ACK, sizeof (*ifi));

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return nl_call (fd, &r, NULL, NULL);
}

/* A NETLINK_ROUTE socket made in the network namespace of ns_fd (an
 * nsfs fd, or a pidfd: that process's), usable from here once we are
 * back in own_fd's (ours). */
static int
nl_open_in (int ns_fd, int own_fd, crt_error **err)
{
  int fd;

  if (setns (ns_fd, CLONE_NEWNET) < 0)
    return crt_error_errno (err, "join the container's network namespace");
  fd = nl_open (err);
  if (setns (own_fd, CLONE_NEWNET) < 0)
    {
      /* (Only a kernel out of memory refuses the way back.) */
      if (fd >= 0)
        close (fd);
      crt_error_free (err);
      return crt_error_errno (err, "go back to crt's network namespace");
    }
  return fd;
}

/* The container's network namespace (*netns_fd) and a netlink socket
 * that lives there: made there, and usable from here once we are back.
 * A namespace given by path is opened by it: the init joins it only
 * later in its setup, so its /proc/<pid>/ns/net may still be ours. */
static int
open_netlink_in (const crt_linux *linux_, pid_t pid, int *netns_fd, crt_error **err)
{
  const crt_namespace *net = net_namespace (linux_);
  cleanup_free char *path = net && net->path && net->path[0]
                                ? crt_xstrdup (net->path)
                                : crt_fmt ("/proc/%d/ns/net", (int) pid);
  cleanup_close int target = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_close int own = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  bool same = false;
  int fd;

  if (target < 0 || own < 0)
    return crt_error_errno (err, "open `%s`", target < 0 ? path : "/proc/self/ns/net");
  if (is_host_netns (path, &same, err) < 0)
    return -1;
  if (same)
    return crt_error_set (err, 0, "the container has no network namespace of its own");
  fd = nl_open_in (target, own, err);
  if (fd >= 0)
    *netns_fd = crt_steal_fd (&target);
  return fd;
}

static int
move_one (int host_nl, int cont_nl, const crt_net_device *d, int netns_fd, crt_error **err)
{
  __attribute__ ((cleanup (addr_list_free))) addr_list addrs = { 0 };
  const char *name = target_name (d);
  int index = (int) if_nametoindex (d->host_name), new_index, r;

  if (index == 0)
    return crt_error_errno (err, FIELD ": no such interface on the host", d->host_name);
  r = save_addresses (host_nl, index, &addrs);
  if (r < 0)
    return crt_error_set (err, -r, FIELD ": read its addresses", d->host_name);
  r = move_link (host_nl, index, name, netns_fd);
  if (r < 0)
    return crt_error_set (err, -r, FIELD ": move into the container's network namespace as `%s`",
                          d->host_name, name);
  r = find_link (cont_nl, name, index, &new_index);
  if (r == 0 && new_index == 0)
    r = -ENODEV;
  if (r < 0)
    return crt_error_set (err, -r, FIELD ": find `%s` in the container", d->host_name, name);
  /* Up first: an IPv6 address added to a down link would be dropped. */
  r = set_link_up (cont_nl, new_index);
  if (r < 0)
    return crt_error_set (err, -r, FIELD ": set `%s` up", d->host_name, name);
  for (size_t i = 0; i < addrs.n; i++)
    {
      r = restore_address (cont_nl, &addrs.v[i], new_index);
      if (r < 0 && r != -EEXIST)
        return crt_error_set (err, -r, FIELD ": add back its address", d->host_name);
    }
  return 0;
}

static int
loopback_up_on (int nl_fd, crt_error **err)
{
  /* A new network namespace's loopback is always index 1 (the kernel's
   * LOOPBACK_IFINDEX): no need to ask for it by name. */
  int r = set_link_up (nl_fd, 1);

  if (r < 0)
    return crt_error_set (err, -r, "set the loopback interface `lo` up");
  return 0;
}

int
crt_netdev_loopback_up_in (int pidfd, crt_error **err)
{
  cleanup_close int own = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1;

  if (own < 0)
    return crt_error_errno (err, "open `/proc/self/ns/net`");
  fd = nl_open_in (pidfd, own, err);
  if (fd < 0)
    return -1;
  return loopback_up_on (fd, err);
}

int
crt_netdev_loopback_up (crt_error **err)
{
  cleanup_close int fd = nl_open (err);

  if (fd < 0)
    return -1;
  return loopback_up_on (fd, err);
}

int
crt_netdev_move_all (const crt_linux *linux_, pid_t pid, crt_error **err)
{
  cleanup_close int host_nl = -1, cont_nl = -1, netns_fd = -1;

  if (linux_ == NULL || linux_->n_net_devices == 0)
    return 0;
  /* All of them checked before the first one moves. */
  if (crt_netdev_validate (linux_, err) < 0)
    return -1;
  host_nl = nl_open (err);
  if (host_nl < 0)
    return -1;
  cont_nl = open_netlink_in (linux_, pid, &netns_fd, err);
  if (cont_nl < 0)
    return crt_error_prefix (err, FIELD, linux_->net_devices[0].host_name);
  /* The kernel renames after the move: a name taken in the container
   * would fail only once the interface is in (where a virtual one dies
   * with the namespace), so make sure first. */
  for (size_t i = 0; i < linux_->n_net_devices; i++)
    {
      const crt_net_device *d = &linux_->net_devices[i];
      int index = 0;

      if (strchr (target_name (d), '%') == NULL
          && find_link (cont_nl, target_name (d), 0, &index) == 0 && index > 0)
        return crt_error_set (err, 0, FIELD ": `%s` already exists in the container", d->host_name,
                              target_name (d));
    }
  for (size_t i = 0; i < linux_->n_net_devices; i++)
    if (move_one (host_nl, cont_nl, &linux_->net_devices[i], netns_fd, err) < 0)
      return -1;
  return 0;
}
