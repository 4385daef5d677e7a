/* The systemd driver's unit properties: linux.resources converted as
 * runc's systemd driver does (so systemd, which rewrites what it manages
 * whenever it reloads, keeps the container's limits), and the
 * org.systemd.property.* annotations. */
#include "config.h"
#include "systemd.h"
#include "resources.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define USEC_INFINITY UINT64_MAX
#define DEFAULT_CPU_PERIOD 100000

static crt_sd_prop *
add (crt_sd_props *p, const char *name, const char *sig)
{
  crt_sd_prop *np;

  p->v = crt_xreallocarray (p->v, p->n + 1, sizeof (*np));
  np = &p->v[p->n++];
  memset (np, 0, sizeof (*np));
  np->name = crt_xstrdup (name);
  snprintf (np->sig, sizeof (np->sig), "%s", sig);
  return np;
}

void
crt_sd_props_add_u64 (crt_sd_props *p, const char *name, uint64_t v)
{
  add (p, name, "t")->u64 = v;
}

void
crt_sd_props_add_bool (crt_sd_props *p, const char *name, bool v)
{
  add (p, name, "b")->u64 = v;
}

void
crt_sd_props_add_str (crt_sd_props *p, const char *name, const char *v)
{
  add (p, name, "s")->str = crt_xstrdup (v);
}

const crt_sd_prop *
crt_sd_props_find (const crt_sd_props *p, const char *name)
{
  for (size_t i = p->n; i > 0; i--)
    if (strcmp (p->v[i - 1].name, name) == 0)
      return &p->v[i - 1];
  return NULL;
}

void
crt_sd_props_clear (crt_sd_props *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->v[i].name);
      free (p->v[i].str);
      free (p->v[i].bytes);
    }
  free (p->v);
  p->v = NULL;
  p->n = 0;
}

int
crt_sd_cpuset_bits (const char *list, uint8_t **bytes, size_t *n)
{
  unsigned long mask[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];
  cleanup_free char *trimmed = crt_xstrdup (list);
  int highest;
  size_t len;

  *bytes = NULL;
  *n = 0;
  trimmed[strcspn (trimmed, " \n")] = '\0';
  if (crt_parse_id_list (trimmed, mask, CRT_ID_LIST_BITS, &highest) < 0 || highest < 0)
    return -1;
  len = (size_t) highest / 8 + 1;
  *bytes = crt_xmalloc0 (len);
  for (size_t i = 0; i <= (size_t) highest; i++)
    if (mask[i / (8 * sizeof (unsigned long))] & (1UL << (i % (8 * sizeof (unsigned long)))))
      (*bytes)[i / 8] |= (uint8_t) (1u << (i % 8));
  *n = len;
  return 0;
}

static int
add_cpuset (crt_sd_props *p, const char *name, const char *list, const char *field,
            crt_error **err)
{
  crt_sd_prop *prop;
  uint8_t *bytes;
  size_t n;

  if (crt_sd_cpuset_bits (list, &bytes, &n) < 0)
    return crt_error_set (err, 0, "%s: `%s` is not a list of numbers below %d", field, list,
                          CRT_ID_LIST_BITS);
  prop = add (p, name, "ay");
  prop->bytes = bytes;
  prop->n_bytes = n;
  /* systemd knows AllowedCPUs and AllowedMemoryNodes since 244. */
  prop->min_version = 244;
  return 0;
}

/* runc's addCPUQuota: systemd takes the quota as microseconds per second
 * in whole percents, so a quota between steps is rounded up (and *quota
 * with it, for the cgroup file). A period alone keeps the quota (crt's
 * update semantics): only CPUQuotaPeriodUSec then. */
static void
add_cpu_quota (crt_sd_props *p, int64_t *quota, uint64_t period)
{
  uint64_t per_sec = USEC_INFINITY;

  if (period != 0)
    {
      crt_sd_prop *prop = add (p, "CPUQuotaPeriodUSec", "t");
      prop->u64 = period;
      prop->min_version = 242;    /* systemd knows it since 242 */
    }
  if (*quota == 0)
    return;
  if (*quota > 0)
    {
      uint64_t pd = period ? period : DEFAULT_CPU_PERIOD;
      per_sec = (uint64_t) *quota * 1000000 / pd;
      if (per_sec % 10000 != 0)
        {
          per_sec = (per_sec / 10000 + 1) * 10000;
          *quota = (int64_t) (per_sec * pd / 1000000);
        }
    }
  crt_sd_props_add_u64 (p, "CPUQuotaPerSecUSec", per_sec);
}

static uint64_t
bytes_or_infinity (int64_t v)
{
  return v < 0 ? UINT64_MAX : (uint64_t) v;
}

static int
from_memory (const crt_memory *m, int64_t memory_limit, crt_sd_props *p, crt_error **err)
{
  int64_t limit = m->limit.set && m->limit.value != 0 ? m->limit.value : memory_limit;
  int64_t swap;
  bool skip;

  if (!(m->limit.set && m->limit.value != 0) && !(m->reservation.set && m->reservation.value != 0)
      && !(m->swap.set && m->swap.value != 0))
    return 0;
  if (m->limit.set && m->limit.value != 0)
    crt_sd_props_add_u64 (p, "MemoryMax", bytes_or_infinity (m->limit.value));
  if (m->reservation.set && m->reservation.value != 0)
    crt_sd_props_add_u64 (p, "MemoryLow", bytes_or_infinity (m->reservation.value));
  if (cg_swap_value (m->swap.value, m->swap.set, limit, &swap, &skip, err) < 0)
    return -1;
  if (!skip)
    crt_sd_props_add_u64 (p, "MemorySwapMax", bytes_or_infinity (swap));
  return 0;
}

static int
from_cpu (crt_cpu *c, crt_sd_props *p, crt_error **err)
{
  bool idle = c->idle.set && c->idle.value != 0;
  int64_t quota = c->quota.set ? c->quota.value : 0;

  if (c->shares.set && c->shares.value != 0 && !idle)
    crt_sd_props_add_u64 (p, "CPUWeight", cg_shares_to_weight (c->shares.value));
  add_cpu_quota (p, &quota, c->period.set ? c->period.value : 0);
  if (c->quota.set)
    c->quota.value = quota;
  if (c->cpus && c->cpus[0] && add_cpuset (p, "AllowedCPUs", c->cpus, "cpu.cpus", err) < 0)
    return -1;
  if (c->mems && c->mems[0]
      && add_cpuset (p, "AllowedMemoryNodes", c->mems, "cpu.mems", err) < 0)
    return -1;
  return 0;
}

static int
parse_u64_or_max (const char *key, const char *v, uint64_t *out, crt_error **err)
{
  char *end;

  if (strcmp (v, "max") == 0)
    {
      *out = UINT64_MAX;
      return 0;
    }
  errno = 0;
  *out = strtoull (v, &end, 10);
  if (errno || end == v || *end != '\0' || v[0] == '-')
    return crt_error_set (err, 0, "unified: %s: `%s` is not a number", key, v);
  return 0;
}

/* The unified keys systemd has a property for (runc's list); the rest
 * only go to the files. */
static int
from_unified (const crt_kv *kv, crt_sd_props *p, crt_error **err)
{
  static const struct { const char *key, *prop; } direct[] = {
    { "memory.high", "MemoryHigh" }, { "memory.low", "MemoryLow" },
    { "memory.min", "MemoryMin" },   { "memory.max", "MemoryMax" },
    { "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
    { "cpu.weight", "CPUWeight" },
  };
  cleanup_free char *v = crt_xstrdup (kv->value);
  size_t len = strlen (v);
  uint64_t num;

  while (len && (v[len - 1] == ' ' || v[len - 1] == '\n' || v[len - 1] == '\t'))
    v[--len] = '\0';
  for (size_t i = 0; i < CRT_ARRAY_SIZE (direct); i++)
    if (strcmp (kv->key, direct[i].key) == 0)
      {
        if (parse_u64_or_max (kv->key, v, &num, err) < 0)
          return -1;
        if (strcmp (kv->key, "cpu.weight") == 0 && num == UINT64_MAX)
          return crt_error_set (err, 0, "unified: cpu.weight: `%s` is not a number", v);
        /* systemd refuses TasksMax=0. */
        if (strcmp (kv->key, "pids.max") == 0 && num == 0)
          num = 1;
        crt_sd_props_add_u64 (p, direct[i].prop, num);
        return 0;
      }
  if (strcmp (kv->key, "cpuset.cpus") == 0 || strcmp (kv->key, "cpuset.mems") == 0)
    return add_cpuset (p, kv->key[7] == 'c' ? "AllowedCPUs" : "AllowedMemoryNodes", v,
                       kv->key[7] == 'c' ? "unified: cpuset.cpus" : "unified: cpuset.mems", err);
  if (strcmp (kv->key, "cpu.max") == 0)
    {
      size_t quota_len = 0, period_len = 0;
      const char *quota_w = crt_word (v, 0, &quota_len), *period_w = crt_word (v, 1, &period_len);
      cleanup_free char *quota_s = quota_w ? crt_xstrndup (quota_w, quota_len) : NULL;
      cleanup_free char *period_s = period_w ? crt_xstrndup (period_w, period_len) : NULL;
      uint64_t period = DEFAULT_CPU_PERIOD, q;
      int64_t quota = 0;
      if (quota_s == NULL || parse_u64_or_max (kv->key, quota_s, &q, err) < 0
          || (period_s && (parse_u64_or_max (kv->key, period_s, &period, err) < 0
                           || period == UINT64_MAX)))
        return crt_error_set (err, 0, "unified: cpu.max: `%s` is not \"QUOTA [PERIOD]\"", v);
      quota = q == UINT64_MAX ? -1 : (int64_t) q;
      add_cpu_quota (p, &quota, period);
    }
  return 0;
}

int
crt_sd_props_from_resources (crt_resources *r, int64_t memory_limit, crt_sd_props *out,
                             crt_error **err)
{
  if (r == NULL)
    return 0;
  if (r->memory && from_memory (r->memory, memory_limit, out, err) < 0)
    return crt_error_prefix (err, "linux.resources.memory");
  if (r->cpu && from_cpu (r->cpu, out, err) < 0)
    return crt_error_prefix (err, "linux.resources");
  if (r->has_pids && r->pids_limit.set)
    {
      int64_t l = r->pids_limit.value;
      /* systemd refuses TasksMax=0: 1 is as close (pids.max gets 0). */
      crt_sd_props_add_u64 (out, "TasksMax", l < 0 ? UINT64_MAX : l == 0 ? 1 : (uint64_t) l);
    }
  if (r->block_io && r->block_io->weight.set && r->block_io->weight.value >= 10
      && r->block_io->weight.value <= 1000)
    crt_sd_props_add_u64 (out, "IOWeight", cg_blkio_to_io_weight (r->block_io->weight.value));
  for (size_t i = 0; i < r->n_unified; i++)
    if (from_unified (&r->unified[i], out, err) < 0)
      return crt_error_prefix (err, "linux.resources");
  return 0;
}

/* ---- annotations ---- */
#define PROPERTY_PREFIX "org.systemd.property."

static bool
valid_property_name (const char *s)
{
  if (strlen (s) < 3)
    return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
      return false;
  return true;
}

static int
parse_integer (const char *s, bool is_signed, int64_t min, uint64_t max, crt_sd_prop *p)
{
  char *end;

  errno = 0;
  if (is_signed)
    {
      long long v = strtoll (s, &end, 0);
      if (errno || end == s || *end || v < min || (v > 0 && (uint64_t) v > max))
        return -1;
      p->i64 = v;
      p->u64 = (uint64_t) v;
    }
  else
    {
      unsigned long long v;
      if (s[0] == '-')
        return -1;
      v = strtoull (s, &end, 0);
      if (errno || end == s || *end || v > max)
        return -1;
      p->u64 = v;
      p->i64 = (int64_t) v;
    }
  return 0;
}

static int
parse_double (const char *s, crt_sd_prop *p)
{
  char *end;
  errno = 0;
  p->dbl = strtod (s, &end);
  return errno || end == s || *end ? -1 : 0;
}

/* A quoted string, '...' or "...", with \-escapes of the quote and \\. */
static int
parse_string (const char *s, crt_sd_prop *p)
{
  size_t len = strlen (s);
  char *out, *o;

  if (len < 2 || (s[0] != '\'' && s[0] != '"') || s[len - 1] != s[0])
    return -1;
  o = out = crt_xmalloc0 (len);
  for (size_t i = 1; i < len - 1; i++)
    {
      if (s[i] == '\\' && i + 1 < len - 1)
        i++;
      else if (s[i] == s[0])
        {
          free (out);
          return -1;
        }
      *o++ = s[i];
    }
  p->str = out;
  return 0;
}

/* One value in GVariant text (what godbus's ParseVariant reads for the
 * types runc documents). */
static int
parse_value (const char *text, crt_sd_prop *p)
{
  static const struct { const char *word, *sig; bool is_signed; int64_t min; uint64_t max; } ints[] = {
    { "byte", "y", false, 0, UINT8_MAX },     { "int16", "n", true, INT16_MIN, INT16_MAX },
    { "uint16", "q", false, 0, UINT16_MAX },  { "int32", "i", true, INT32_MIN, INT32_MAX },
    { "uint32", "u", false, 0, UINT32_MAX },  { "int64", "x", true, INT64_MIN, INT64_MAX },
    { "uint64", "t", false, 0, UINT64_MAX },
  };
  const char *sp = strchr (text, ' ');

  if (sp)
    {
      size_t wl = (size_t) (sp - text);
      const char *rest = sp + 1;
      while (*rest == ' ')
        rest++;
      for (size_t i = 0; i < CRT_ARRAY_SIZE (ints); i++)
        if (strlen (ints[i].word) == wl && strncmp (text, ints[i].word, wl) == 0)
          {
            snprintf (p->sig, sizeof (p->sig), "%s", ints[i].sig);
            return parse_integer (rest, ints[i].is_signed, ints[i].min, ints[i].max, p);
          }
      if (wl == 6 && strncmp (text, "double", 6) == 0)
        {
          snprintf (p->sig, sizeof (p->sig), "d");
          return parse_double (rest, p);
        }
      if (wl == 7 && strncmp (text, "boolean", 7) == 0)
        text = rest;
      else if (wl == 6 && strncmp (text, "string", 6) == 0)
        {
          snprintf (p->sig, sizeof (p->sig), "s");
          return parse_string (rest, p);
        }
    }
  if (strcmp (text, "true") == 0 || strcmp (text, "false") == 0)
    {
      snprintf (p->sig, sizeof (p->sig), "b");
      p->u64 = text[0] == 't';
      return 0;
    }
  if (text[0] == '\'' || text[0] == '"')
    {
      snprintf (p->sig, sizeof (p->sig), "s");
      return parse_string (text, p);
    }
  /* A bare integer is an int32 (int64 when it does not fit), a decimal
   * a double, as godbus reads them. */
  snprintf (p->sig, sizeof (p->sig), "i");
  if (parse_integer (text, true, INT32_MIN, INT32_MAX, p) == 0)
    return 0;
  snprintf (p->sig, sizeof (p->sig), "x");
  if (parse_integer (text, true, INT64_MIN, INT64_MAX, p) == 0)
    return 0;
  snprintf (p->sig, sizeof (p->sig), "d");
  return parse_double (text, p);
}

/* runc's convertSecToUSec: the value as a whole number of microseconds. */
static int
sec_to_usec (crt_sd_prop *p)
{
  const double M = 1000000;

  switch (p->sig[0])
    {
    case 'y': case 'q': case 'u': case 't':
      p->u64 = p->u64 * 1000000;
      break;
    case 'n': case 'i': case 'x':
      p->u64 = (uint64_t) p->i64 * 1000000;
      break;
    case 'd':
      p->u64 = (uint64_t) (p->dbl * M);
      break;
    default:
      return -1;
    }
  snprintf (p->sig, sizeof (p->sig), "t");
  return 0;
}

int
crt_sd_props_from_annotations (const crt_kv *kv, size_t n, crt_sd_props *out, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *name = kv[i].key + strlen (PROPERTY_PREFIX);
      size_t nl = strlen (name);
      crt_sd_prop *p;

      if (!crt_str_has_prefix (kv[i].key, PROPERTY_PREFIX))
        continue;
      if (!valid_property_name (name))
        return crt_error_set (err, 0,
                              "config.json: annotations: %s: the property name must be 3 or "
                              "more letters",
                              kv[i].key);
      p = add (out, name, "");
      if (parse_value (kv[i].value, p) < 0)
        return crt_error_set (err, 0,
                              "config.json: annotations: %s: `%s` is not a D-Bus value "
                              "(\"uint64 5\", 5, 1.5, true, 'text')",
                              kv[i].key, kv[i].value);
      /* TimeoutStopSec, as documented, is TimeoutStopUSec on the bus. */
      if (nl > 3 && strcmp (name + nl - 3, "Sec") == 0 && name[nl - 4] >= 'a'
          && name[nl - 4] <= 'z')
        {
          char *usec = crt_fmt ("%.*sUSec", (int) (nl - 3), name);
          free (p->name);
          p->name = usec;
          if (sec_to_usec (p) < 0)
            return crt_error_set (err, 0,
                                  "config.json: annotations: %s: `%s` is not a number of "
                                  "seconds",
                                  kv[i].key, kv[i].value);
        }
    }
  return 0;
}
