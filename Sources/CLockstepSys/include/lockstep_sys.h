#ifndef LOCKSTEP_SYS_H
#define LOCKSTEP_SYS_H
#include <stdint.h>
#include <sys/epoll.h>

/// Opens a system-wide hardware CPU-cycles counter on one CPU (perf_event_open, pid -1).
/// Returns the file descriptor, or -errno when the kernel or the hypervisor does not offer it.
int lockstep_perf_cycles_open(int cpu);

/// Reads a counter opened by lockstep_perf_cycles_open; -1 on error.
int64_t lockstep_perf_read(int fd);

/// Sets the calling thread's timer slack (PR_SET_TIMERSLACK) so its sleeps end within a few
/// microseconds instead of the default 50 us. Returns 0 or -errno.
int lockstep_set_timer_slack_ns(unsigned long ns);

/// A nonblocking, close-on-exec timerfd on CLOCK_MONOTONIC; the descriptor or -errno.
int lockstep_timerfd_create(void);

/// Arms `fd` to fire once at `at_ns` on CLOCK_MONOTONIC (absolute); 0 or -errno.
int lockstep_timerfd_at(int fd, int64_t at_ns);

/* The CPU the calling thread runs on now (sched_getcpu, through the vDSO), or -1. */
int lockstep_current_cpu(void);

/// Names the calling thread (PR_SET_NAME; the kernel keeps the first 15 bytes) so that `top -H`
/// and `ps -L` show what each thread does. Returns 0 or -errno.
int lockstep_set_thread_name(const char *name);

/// Starts `path` (an absolute or relative file name, not searched on PATH) with `argv` (NULL-terminated)
/// as a child that cannot outlive the calling thread: the child gets `death_signal` when that
/// thread ends (PR_SET_PDEATHSIG), so call it from a thread that lives as long as the process.
/// The child runs in its own process group, pinned to the `ncpus` CPUs in `cpus` when `ncpus` > 0,
/// with stdin from /dev/null and stdout and stderr on `log_fd`. Returns the child's PID, or -errno
/// when the program could not be started (exec or affinity failed in the child, fork failed here).
int lockstep_spawn(const char *path, char *const argv[], const int *cpus, int ncpus, int log_fd, int death_signal);

/// `lockstep_spawn` with stdout on `out_fd` (a pipe the agent counts) and stderr on `log_fd`, in the
/// working directory `cwd` when it is not NULL, with the environment `envp` (NULL-terminated) when it
/// is not NULL (else this process's).
int lockstep_spawn_io(
    const char *path, char *const argv[], const int *cpus, int ncpus, int out_fd, int log_fd, const char *cwd,
    char *const envp[], int death_signal);

/// Waits at most `timeout_ms` for the child `pid` to exit (pidfd_open and poll; a 1 ms sleep where the
/// kernel has no pidfd). Returns 1 when it has exited, 0 on timeout, -errno on error. Does not reap it.
int lockstep_wait_exit(int pid, int timeout_ms);

/// A pipe whose both ends close on exec (pipe2 with O_CLOEXEC): `fds[0]` reads, `fds[1]` writes.
/// Returns 0 or -errno.
int lockstep_pipe_cloexec(int fds[2]);

/// Writes the CPUs this process may run on (sched_getaffinity) into `out`, at most `max` of them.
/// Returns how many, or -errno.
int lockstep_allowed_cpus(int *out, int max);

/// Turns on kernel receive timestamps (SO_TIMESTAMPNS, CLOCK_REALTIME) on a datagram socket.
/// Returns 0 or -errno.
int lockstep_enable_rx_timestamps(int fd);

/// Receives one datagram into `buf`; `*rx_ns` gets the kernel's receive timestamp converted to
/// CLOCK_MONOTONIC (the realtime stamp minus realtime-minus-monotonic read right after the call),
/// or the monotonic time after the call when the kernel gave none (`*kernel` is then 0, else 1).
/// Returns the byte count, or -errno.
/// `from`/`fromlen` (may be NULL) get the sender's address.
long lockstep_recv_stamped(int fd, void *buf, unsigned long len, int64_t *rx_ns, int *kernel, void *from,
                           unsigned int *fromlen);

/// Turns on kernel software transmit timestamps (SO_TIMESTAMPING: TX_SOFTWARE, OPT_TSONLY, OPT_ID) on a
/// datagram socket; each datagram sent gets an id counting from 0. Returns 0 or -errno.
int lockstep_enable_tx_timestamps(int fd);

/// Sends one datagram (the `id`-th since lockstep_enable_tx_timestamps) to `to` (NULL: the connected
/// peer); `*tx_ns` gets the kernel's transmit timestamp on CLOCK_MONOTONIC when it comes within 2 ms
/// (`*kernel` 1), else the monotonic time read just before the send (`*kernel` 0). Either precedes
/// the datagram's departure. Returns the byte count, or -errno.
long lockstep_send_stamped(int fd, const void *buf, unsigned long len, const void *to, unsigned int tolen, uint32_t id,
                           int64_t *tx_ns, int *kernel);

/// What the interface `ifname` offers for timestamping (ETHTOOL_GET_TS_INFO): the SOF_TIMESTAMPING_*
/// capability bits and the index of its PTP hardware clock (-1: none). Returns 0 or -errno.
int lockstep_timestamping_info(const char *ifname, unsigned int *capabilities, int *phc_index);

/// Raises the calling thread to SCHED_FIFO priority 1 (`on` 1) or back to SCHED_OTHER (`on` 0).
/// Returns 0, or -errno when the process lacks the right.
int lockstep_realtime(int on);

/// Pins the calling thread to the `ncpus` CPUs in `cpus` (sched_setaffinity). Returns 0 or -errno.
int lockstep_pin_thread(const int *cpus, int ncpus);
/// Whether files in `folder` can be opened with O_DIRECT (tmpfs refuses it before Linux 6.6): creates and
/// removes a probe file. Returns 1 or 0.
int lockstep_accepts_direct_io(const char *folder);

/// libFuzzer's driver (in clang's fuzzer runtime); declared here so the fuzz build's entry point
/// can call it. Only a declaration: nothing links it unless built with -sanitize=fuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
