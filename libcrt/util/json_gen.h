/* Writing JSON with yajl_gen: the few calls every producer of JSON in
 * crt needs (state, list, hooks' stdin, features, the default spec). */
#ifndef CRT_JSON_GEN_H
#define CRT_JSON_GEN_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* A generator; indent NULL gives compact JSON, else pretty-printed with
 * that indent. Aborts on ENOMEM, like crt_xmalloc0. */
yajl_gen crt_gen_new (const char *indent);

void crt_gen_str (yajl_gen g, const char *s);
/* "key": "value" inside an open map. */
void crt_gen_key_str (yajl_gen g, const char *key, const char *value);

/* A parsed yajl tree value, whole; numbers keep the text they were
 * parsed from, so 64-bit values and their spelling survive a round trip. */
void crt_gen_value (yajl_gen g, yajl_val v);

/* The text made so far, NUL-terminated and malloc'ed; frees g. */
char *crt_gen_finish (yajl_gen g);

#endif
