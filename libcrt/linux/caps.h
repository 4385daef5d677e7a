/* process.capabilities: names resolved to bit sets, then applied in two
 * steps around the user switch (the bounding set needs CAP_SETPCAP, which
 * a non-root user no longer has in its effective set). */
#ifndef CRT_CAPS_H
#define CRT_CAPS_H

#include <stdint.h>

#include "../spec/spec.h"

/* One bit per capability number (the kernel has fewer than 64). */
typedef struct
{
  uint64_t bounding;
  uint64_t effective;
  uint64_t permitted;
  uint64_t inheritable;
  uint64_t ambient;
} crt_cap_sets;

/* Resolve the names of `caps` (NULL = absent = every set empty, as runc).
 * A name libcap does not know is an error naming the field
 * ("process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"");
 * a known name the running kernel lacks is skipped, and so is an ambient
 * capability that is not also permitted and inheritable (the kernel would
 * refuse it). Effective must be within permitted. */
int crt_caps_resolve (const crt_capabilities *caps, crt_cap_sets *out, crt_error **err);

/* Drop from the bounding set every capability not in sets->bounding.
 * Call before the user switch. */
int crt_caps_drop_bounding (const crt_cap_sets *sets, crt_error **err);

/* Set the effective, permitted and inheritable sets exactly, then the
 * ambient set. Call after the user switch. */
int crt_caps_apply (const crt_cap_sets *sets, crt_error **err);

#endif
