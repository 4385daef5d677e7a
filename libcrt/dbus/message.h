/* The D-Bus wire format (the D-Bus specification, "Message Protocol"):
 * building the method calls crt's systemd driver sends, and reading the
 * messages a bus sends back. Pure byte work, no I/O (bus.c does that),
 * so the unit tests and the fuzzer reach all of it.
 *
 * crt writes little-endian messages and reads either byte order. Every
 * value is aligned to its size (structs, dict entries and 64-bit values
 * to 8) counting from the start of the message; the body starts 8-aligned,
 * so offsets in the buffer are offsets in the message. */
#ifndef CRT_DBUS_MESSAGE_H
#define CRT_DBUS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

enum
{
  CRT_DBUS_METHOD_CALL = 1,
  CRT_DBUS_METHOD_RETURN = 2,
  CRT_DBUS_ERROR = 3,
  CRT_DBUS_SIGNAL = 4,
};

/* Header flag: the sender will not read a reply. */
#define CRT_DBUS_NO_REPLY_EXPECTED 0x1

/* The specification's limit of a whole message (128 MiB) is far beyond
 * anything systemd or a bus daemon sends crt; 1 MiB bounds what a
 * misbehaving peer can make crt allocate. */
#define CRT_DBUS_MAX_MESSAGE (1u << 20)

/* ---- building a method call ---- */
typedef struct crt_dbus_msg
{
  crt_buf buf;
  size_t body_at;               /* where the body starts in buf */
  uint32_t serial;              /* as in the header */
  uint8_t flags;
  /* Set by the first value the bus would refuse (a string that is not
   * UTF-8, a signature too long): the message is not sent. */
  const char *bad;
} crt_dbus_msg;

/* An array being written: where its length goes, where its elements
 * start (after the padding to their alignment, which the length leaves
 * out). */
typedef struct crt_dbus_array
{
  size_t length_at, start;
} crt_dbus_array;

/* The header of a method call to member of interface at path on
 * destination, whose body will have the signature body_sig ("" for none):
 * the values follow with the crt_dbus_put_* below, then crt_dbus_msg_end. */
void crt_dbus_msg_begin (crt_dbus_msg *m, uint8_t flags, uint32_t serial,
                         const char *destination, const char *path, const char *interface,
                         const char *member, const char *body_sig);
/* Records the body's length in the header. */
void crt_dbus_msg_end (crt_dbus_msg *m);
void crt_dbus_msg_clear (crt_dbus_msg *m);
#define cleanup_dbus_msg __attribute__ ((cleanup (crt_dbus_msg_clear)))

void crt_dbus_put_byte (crt_dbus_msg *m, uint8_t v);
void crt_dbus_put_bool (crt_dbus_msg *m, bool v);
void crt_dbus_put_u16 (crt_dbus_msg *m, uint16_t v);  /* q, and n as its bits */
void crt_dbus_put_u32 (crt_dbus_msg *m, uint32_t v);  /* u, and i as its bits */
void crt_dbus_put_u64 (crt_dbus_msg *m, uint64_t v);  /* t, and x as its bits */
void crt_dbus_put_double (crt_dbus_msg *m, double v);
/* s and o (an object path is a string on the wire). */
void crt_dbus_put_str (crt_dbus_msg *m, const char *s);
void crt_dbus_put_sig (crt_dbus_msg *m, const char *sig);
/* elem_align: 8 for structs, dict entries and 64-bit values, else the
 * size of the element type (1 for y, 4 for s, u, a...). */
crt_dbus_array crt_dbus_array_begin (crt_dbus_msg *m, size_t elem_align);
void crt_dbus_array_end (crt_dbus_msg *m, crt_dbus_array a);
/* A struct or dict entry starts 8-aligned; it has no end marker. */
void crt_dbus_struct_begin (crt_dbus_msg *m);

/* Whether s is UTF-8 as the bus wants it (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool crt_dbus_valid_utf8 (const char *s, size_t len);

/* ---- reading a message ---- */
typedef struct crt_dbus_header
{
  uint8_t type, flags;
  bool big_endian;
  uint32_t serial;
  uint32_t reply_serial;        /* 0: none */
  /* Header fields, pointing into the message (NULL when absent). */
  const char *path, *interface, *member, *error_name, *destination, *sender;
  const char *signature;        /* "" when absent: no body */
  uint32_t unix_fds;
  size_t body_at, body_len;
} crt_dbus_header;

/* The length of the message that starts with these 16 bytes: 0 and *len,
 * or -1 when they are no message header or announce more than
 * CRT_DBUS_MAX_MESSAGE. */
int crt_dbus_msg_length (const uint8_t head[16], size_t *len);

/* The header of the whole message p[0..len) (len as crt_dbus_msg_length
 * said): 0, or -1 and *why when it is malformed (every field checked:
 * types, bounds, terminating NULs, the fields each message type needs). */
int crt_dbus_parse_header (const uint8_t *p, size_t len, crt_dbus_header *h, const char **why);

/* Values of a message's body, in the order of its signature. Each get
 * returns 0, or -1 (and stays failed) past the end or at a malformed
 * value; the caller checks the signature first. */
typedef struct crt_dbus_reader
{
  const uint8_t *p;
  size_t pos, end;
  bool big_endian;
  bool failed;
} crt_dbus_reader;

void crt_dbus_reader_init (crt_dbus_reader *r, const uint8_t *msg, const crt_dbus_header *h);
int crt_dbus_get_byte (crt_dbus_reader *r, uint8_t *v);
int crt_dbus_get_u32 (crt_dbus_reader *r, uint32_t *v);
int crt_dbus_get_u64 (crt_dbus_reader *r, uint64_t *v);
/* s or o: points into the message. */
int crt_dbus_get_str (crt_dbus_reader *r, const char **s);
int crt_dbus_get_sig (crt_dbus_reader *r, const char **sig);
/* Step over one value of the single complete type at *sig (advanced
 * past it): what unknown header fields and unwanted values need. */
int crt_dbus_skip (crt_dbus_reader *r, const char **sig);

#endif
