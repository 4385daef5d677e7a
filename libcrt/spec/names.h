/* The enumerated strings of runtime-spec 1.2 that the parser checks, as
 * NULL-terminated lists (shared with the modules that apply them). */
#ifndef CRT_SPEC_NAMES_H
#define CRT_SPEC_NAMES_H

extern const char *const crt_ns_type_names[];          /* indexed by crt_ns_type */
extern const char *const crt_ioprio_class_names[];
extern const char *const crt_sched_policy_names[];
extern const char *const crt_sched_flag_names[];
extern const char *const crt_personality_domain_names[];
extern const char *const crt_time_clock_names[];
extern const char *const crt_seccomp_action_names[];
extern const char *const crt_seccomp_operator_names[];
extern const char *const crt_seccomp_arch_names[];
extern const char *const crt_seccomp_flag_names[];
extern const char *const crt_mempolicy_mode_names[];
extern const char *const crt_mempolicy_flag_names[];
extern const char *const crt_propagation_names[];

#endif
