/* The cost of starting a program at all, here: the same empty program
 * built three ways (and with musl-gcc -static, where installed) by
 * bench/run.sh (--segments), timed by
 * bench/segments.py next to each runtime's least command.
 *   -DRAW -nostdlib -static: no libc, _start exits at once (the kernel's
 *                            exec, exit and reap alone)
 *   -static:                 glibc's start-up (CPU features and cache
 *                            sizes by CPUID, IRELATIVE relocations, TLS)
 *   (default):               and ld.so loading and relocating libc.so */
#ifdef RAW
void
_start (void)
{
# if defined(__x86_64__)
  __asm__ volatile ("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
# elif defined(__aarch64__)
  __asm__ volatile ("mov x8, #93\n\tmov x0, #0\n\tsvc #0");
# else
#  error "RAW: no exit syscall for this architecture"
# endif
  for (;;)
    ;
}
#else
int
main (void)
{
  return 0;
}
#endif
