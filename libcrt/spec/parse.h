/* The jtype tables of config.json's parts, shared between the parse_*.c
 * files (internal to libcrt/spec). */
#ifndef CRT_SPEC_PARSE_H
#define CRT_SPEC_PARSE_H

#include "json.h"

extern const jtype crt_jt_process;      /* crt_process */
extern const jtype crt_jt_id_mapping;   /* crt_id_mapping */
extern const jtype crt_jt_linux;        /* crt_linux */
extern const jtype crt_jt_resources;    /* crt_resources */
extern const jtype crt_jt_seccomp;      /* crt_seccomp */

#endif
