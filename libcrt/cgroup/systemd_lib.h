/* libsystemd, loaded on first use. Only the systemd cgroup driver needs
 * sd-bus, and linking libsystemd (with libgcrypt, liblzma, libzstd,
 * liblz4 behind it) cost every crt command about 0.5 ms of loading and
 * relocation, so it is dlopen'ed when the driver first opens the bus. */
#ifndef CRT_CGROUP_SYSTEMD_LIB_H
#define CRT_CGROUP_SYSTEMD_LIB_H

#include <systemd/sd-bus.h>

#include "../error.h"

/* Every sd-bus function crt calls: one list, for the table and its
 * loader. */
#define CRT_SD_BUS_FUNCTIONS(X)                                                          \
  X (sd_bus_open_system)                                                                 \
  X (sd_bus_open_user)                                                                   \
  X (sd_bus_flush_close_unref)                                                           \
  X (sd_bus_get_property)                                                                \
  X (sd_bus_match_signal)                                                                \
  X (sd_bus_call_method)                                                                 \
  X (sd_bus_call)                                                                        \
  X (sd_bus_process)                                                                     \
  X (sd_bus_wait)                                                                        \
  X (sd_bus_message_new_method_call)                                                     \
  X (sd_bus_message_append)                                                              \
  X (sd_bus_message_append_array)                                                        \
  X (sd_bus_message_open_container)                                                      \
  X (sd_bus_message_close_container)                                                     \
  X (sd_bus_message_read)                                                                \
  X (sd_bus_message_unref)                                                               \
  X (sd_bus_error_is_set)                                                                \
  X (sd_bus_error_has_name)                                                              \
  X (sd_bus_error_free)

/* The functions, each member named as the function it points to. */
typedef struct crt_sd_api
{
#define CRT_SD_MEMBER(f) __typeof__ (f) *f;
  CRT_SD_BUS_FUNCTIONS (CRT_SD_MEMBER)
#undef CRT_SD_MEMBER
} crt_sd_api;

/* libsystemd.so.0 and all of the functions above, loaded once per
 * process; the error names the library and what the loader said.
 * What libsystemd allocates is released only through libsystemd (unref,
 * sd_bus_error_free), never with free(): in a static crt libsystemd runs
 * on a libc of its own, with a heap of its own. */
int crt_sd_api_load (const crt_sd_api **out, crt_error **err);

#endif
