/* Phase timestamps of a trace build (configure --enable-trace), for
 * bench/run.sh --phases: where a `run` spends its time, measured without
 * a tracer's cost per syscall (strace multiplies the time forty-fold).
 *
 * CRT_TRACE_POINT ("what just finished") records CLOCK_MONOTONIC (the
 * vDSO: no syscall) in a fixed array, no allocation; CRT_TRACE_DUMP ()
 * writes what was recorded to stderr in one write, one line per point:
 * "crt-trace PID NANOSECONDS WHAT". The init is a fork of crt: its dump
 * holds crt's points up to the clone, then its own, and is written just
 * before it execs the program. A default build has no trace code. */
#ifndef CRT_TRACE_H
#define CRT_TRACE_H

#ifdef CRT_TRACE
void crt_trace_point (const char *what);
void crt_trace_dump (void);
#define CRT_TRACE_POINT(what) crt_trace_point (what)
#define CRT_TRACE_DUMP() crt_trace_dump ()
#else
#define CRT_TRACE_POINT(what) ((void) 0)
#define CRT_TRACE_DUMP() ((void) 0)
#endif

#endif
