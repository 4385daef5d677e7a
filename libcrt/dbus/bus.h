/* A D-Bus client connection, just what crt's systemd driver needs: the
 * system or the user's bus by its address, SASL EXTERNAL, Hello, method
 * calls and their replies, signals. With message.c about 1,100 lines in
 * place of libsystemd's sd-bus: a static crt (glibc or musl) has the
 * systemd driver too, and no command loads libsystemd, libgcrypt,
 * liblzma, libzstd and liblz4 to talk to systemd.
 *
 * The connection is synchronous: a call writes its message and reads
 * until its reply, handing every signal read meanwhile to the signal
 * handler; crt_dbus_wait reads for signals alone. */
#ifndef CRT_DBUS_BUS_H
#define CRT_DBUS_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "../error.h"
#include "message.h"

typedef struct crt_dbus crt_dbus;

/* Called with every signal read (msg: the whole message, h its header). */
typedef void crt_dbus_signal_fn (void *data, const uint8_t *msg, const crt_dbus_header *h);

/* Where the system bus (user_bus false) or the user's bus is, as sd-bus
 * and libdbus look: $DBUS_SYSTEM_BUS_ADDRESS or
 * unix:path=/run/dbus/system_bus_socket; $DBUS_SESSION_BUS_ADDRESS or
 * unix:path=$XDG_RUNTIME_DIR/bus. Never NULL. */
char *crt_dbus_default_address (bool user_bus);

/* The socket a D-Bus address names, for messages ("/run/dbus/system_bus_socket",
 * "@abstract"), or the address as it is. */
char *crt_dbus_address_label (const char *address);

/* Connect to address (its first unix:path= or unix:abstract= entry that
 * answers), authenticate as the effective uid and say Hello; signals go
 * to on_signal. The error's errnum is the socket's errno where that is
 * what failed (ENOENT: no bus there). */
int crt_dbus_open (const char *address, crt_dbus_signal_fn *on_signal, void *data, crt_dbus **out,
                   crt_error **err);
void crt_dbus_close (crt_dbus *b);
void crt_dbus_closep (crt_dbus **b);
#define cleanup_dbus __attribute__ ((cleanup (crt_dbus_closep)))

/* The next serial, for crt_dbus_msg_begin. */
uint32_t crt_dbus_next_serial (crt_dbus *b);

/* A method's reply: the message and its header; an error reply has
 * h.error_name and, when its body starts with a string, error_message. */
typedef struct crt_dbus_reply
{
  uint8_t *msg;
  crt_dbus_header h;
  const char *error_message;
} crt_dbus_reply;
void crt_dbus_reply_clear (crt_dbus_reply *r);
#define cleanup_dbus_reply __attribute__ ((cleanup (crt_dbus_reply_clear)))

/* Send m (ended); without CRT_DBUS_NO_REPLY_EXPECTED in its flags, read
 * until its reply (or timeout_ms) into *reply. 0 whatever the reply (an
 * error reply too), -1 when the message could not be sent or no reply
 * came. */
int crt_dbus_call (crt_dbus *b, crt_dbus_msg *m, int timeout_ms, crt_dbus_reply *reply,
                   crt_error **err);

/* Read what arrives for up to timeout_ms, handing signals to the
 * handler: 0 when something was read, 1 at the timeout, -1 when the
 * connection failed. */
int crt_dbus_wait (crt_dbus *b, int timeout_ms, crt_error **err);

#endif
