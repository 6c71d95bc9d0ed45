#ifndef LOCKSTEP_SYS_H
#define LOCKSTEP_SYS_H
#include <stdint.h>

/// Opens a system-wide hardware CPU-cycles counter on one CPU (perf_event_open, pid -1).
/// Returns the file descriptor, or -errno when the kernel or the hypervisor does not offer it.
int lockstep_perf_cycles_open(int cpu);

/// Reads a counter opened by lockstep_perf_cycles_open; -1 on error.
int64_t lockstep_perf_read(int fd);

#endif
