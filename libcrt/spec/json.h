/* Table-driven reading of yajl trees into the structs of spec.h.
 *
 * Each struct has a jtype: a table of jfields, one per JSON key, saying
 * where the value lands (offsetof) and how it is checked. One generic
 * walker parses any table and one generic walker frees any table, so the
 * few hundred fields of config.json are data, not code, and a struct
 * half-filled by a failed parse is freed by the same walker.
 *
 * Every error names the JSON path of the bad value:
 *   "config.json: process.args[1]: expected a string".
 */
#ifndef CRT_SPEC_JSON_H
#define CRT_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "../error.h"

/* Where we are in the document, for messages. */
typedef struct jctx
{
  const char *origin;           /* "config.json" */
  crt_error **err;
  size_t len;
  char path[1024];
} jctx;

typedef enum
{
  J_BOOL,       /* bool */
  J_OPT_BOOL,   /* crt_opt_bool */
  J_STR,        /* char *; .names: allowed values */
  J_CHAR,       /* char; a one-letter string out of .chars */
  J_ENUM,       /* int: index of the string in .names */
  J_U32,        /* uint32_t */
  J_OPT_U32,    /* crt_opt_u32 */
  J_OPT_U16,    /* crt_opt_u32 holding a uint16 */
  J_I32,        /* int32_t */
  J_INT,        /* int */
  J_I64,        /* int64_t */
  J_OPT_I64,    /* crt_opt_i64 */
  J_U64,        /* uint64_t */
  J_OPT_U64,    /* crt_opt_u64 */
  J_STRV,       /* char ** (NULL-terminated) + size_t count */
  J_U32V,       /* uint32_t * + size_t count */
  J_OBJ,        /* pointer to a struct of .type, NULL when absent */
  J_EMBED,      /* a struct of .type inside this one */
  J_INLINE,     /* an object whose .type fields are offsets into THIS struct */
  J_ARRAY,      /* array of .type structs + size_t count */
  J_MAP_STR,    /* crt_kv * + size_t count */
  J_MAP_OBJ,    /* array of .type structs + count; the key goes to .key_off */
} jkind;

struct jtype;

typedef struct jfield
{
  const char *key;
  jkind kind;
  size_t off;
  size_t count_off;             /* lists and maps: the size_t count */
  bool track;                   /* set the bool at has_off when present */
  size_t has_off;
  const struct jtype *type;     /* OBJ, EMBED, INLINE, ARRAY, MAP_OBJ */
  const char *const *names;     /* NULL-terminated allowed strings */
  const char *noun;             /* "namespace": unknown namespace "x" */
  const char *chars;            /* J_CHAR: allowed letters */
  bool required;
  bool ranged;                  /* integers: [min, max] instead of the type's range */
  int64_t min, max;
  size_t key_off;               /* J_MAP_OBJ: char * field for the key */
} jfield;

typedef struct jtype
{
  const jfield *fields;         /* ends with a { NULL } entry */
  size_t size;
  /* Cross-field checks of one object once its fields are read (may be NULL). */
  int (*check) (jctx *c, yajl_val v, void *base);
} jtype;

/* Table entry helpers; T is the C struct, m its member. */
#define JF(T, k, kd, m, ...) \
  { .key = (k), .kind = (kd), .off = offsetof (T, m), __VA_ARGS__ }
/* Lists and maps: the count is the member n_<m>. */
#define JL(T, k, kd, m, ...) \
  { .key = (k), .kind = (kd), .off = offsetof (T, m), \
    .count_off = offsetof (T, n_##m), __VA_ARGS__ }
#define JEND { .key = NULL }

/* Paths: push returns a mark to pop back to. */
size_t jctx_push_key (jctx *c, const char *key);
size_t jctx_push_index (jctx *c, size_t i);
void jctx_pop (jctx *c, size_t mark);

/* "origin: path: message"; returns -1. */
int jctx_fail (jctx *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* The same for the member `key` of the current object. */
int jctx_fail_at (jctx *c, const char *key, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Read object v into base (a zeroed struct of t). */
int jparse_object (jctx *c, yajl_val v, const jtype *t, void *base);
/* Free what jparse_object stored in base (not base itself). */
void jfree_object (const jtype *t, void *base);
/* What jparse_object stored in base, as bytes (json_key.c; caller frees). */
char *jkey_object (const jtype *t, const void *base, size_t *len);

/* Parse the len bytes of text (NUL-terminated after them) into a yajl
 * tree. Malformed JSON gives "origin: path: line L, column C: <reason>",
 * naming the JSON path of the value being read when it went wrong (no
 * path at the top level); so do a NUL character or invalid UTF-8 in a
 * string, and nesting deeper than 256 levels. */
int jparse_text (const char *text, size_t len, const char *origin, yajl_val *out,
                 crt_error **err);

/* The same, the tree's nodes and strings in an arena: read it, then free
 * it all with jarena_free (never yajl_tree_free), also after a failure. */
typedef struct jarena
{
  struct jarena_chunk *head;
} jarena;
int jparse_text_arena (const char *text, size_t len, const char *origin, yajl_val *out,
                       jarena *arena, crt_error **err);
void jarena_free (jarena *arena);

/* Object v's member key as the parser reads it: its last occurrence that
 * is not null, or NULL. jhas: is there one? */
yajl_val *jmember (yajl_val v, const char *key);
bool jhas (yajl_val v, const char *key);

/* Is s in the NULL-terminated list? */
bool jname_in (const char *const *names, const char *s);

#endif
