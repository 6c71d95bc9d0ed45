#define _GNU_SOURCE
#include "lockstep_sys.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int lockstep_perf_cycles_open(int cpu) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.disabled = 0;
    long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

int64_t lockstep_perf_read(int fd) {
    uint64_t value = 0;
    return read(fd, &value, sizeof(value)) == sizeof(value) ? (int64_t)value : -1;
}

int lockstep_set_timer_slack_ns(unsigned long ns) {
    return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) == 0 ? 0 : -errno;
}

int lockstep_timerfd_create(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

int lockstep_timerfd_at(int fd, int64_t at_ns) {
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = at_ns / 1000000000;
    spec.it_value.tv_nsec = at_ns % 1000000000;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL) == 0 ? 0 : -errno;
}

int lockstep_current_cpu(void) { return sched_getcpu(); }

int lockstep_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0) == 0 ? 0 : -errno;
}

static int lockstep_cpu_set(const int *cpus, int ncpus, cpu_set_t *set) {
    CPU_ZERO(set);
    for (int i = 0; i < ncpus; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], set);
    }
    return 0;
}

int lockstep_allowed_cpus(int *out, int max) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    }
    return n;
}

int lockstep_pin_thread(const int *cpus, int ncpus) {
    cpu_set_t set;
    int err = lockstep_cpu_set(cpus, ncpus, &set);
    if (err) return -err;
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int lockstep_wait_exit(int pid, int timeout_ms) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        int e = errno;
        usleep(1000);
        return -e;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    return r < 0 ? -e : (r > 0 ? 1 : 0);
}

int lockstep_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

int lockstep_spawn(const char *path, char *const argv[], const int *cpus, int ncpus, int log_fd, int death_signal) {
    return lockstep_spawn_io(path, argv, cpus, ncpus, log_fd, log_fd, NULL, NULL, death_signal);
}

int lockstep_spawn_io(
    const char *path, char *const argv[], const int *cpus, int ncpus, int out_fd, int log_fd, const char *cwd,
    char *const envp[], int death_signal) {
    cpu_set_t set;
    if (ncpus > 0) {
        int bad = lockstep_cpu_set(cpus, ncpus, &set);
        if (bad) return -bad;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return -e;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here on.
        int err = 0;
        if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) err = errno;
        if (!err && getppid() != parent) _exit(127);
        if (!err && ncpus > 0 && sched_setaffinity(0, sizeof(set), &set) != 0) err = errno;
        if (!err) {
            setpgid(0, 0);
            int null_fd = open("/dev/null", O_RDONLY);
            if (null_fd >= 0) dup2(null_fd, 0);
            if (out_fd >= 0) dup2(out_fd, 1);
            if (log_fd >= 0) dup2(log_fd, 2);
            if (cwd != NULL && chdir(cwd) != 0) err = errno;
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            if (!err) {
                if (envp != NULL) {
                    execve(path, argv, envp);
                } else {
                    execv(path, argv);
                }
                err = errno;
            }
        }
        ssize_t ignored = write(report[1], &err, sizeof(err));
        (void)ignored;
        _exit(127);
    }
    close(report[1]);
    int child_err = 0;
    ssize_t n;
    do {
        n = read(report[0], &child_err, sizeof(child_err));
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == sizeof(child_err)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -child_err;
    }
    return pid;
}

int lockstep_accepts_direct_io(const char *folder) {
    char probe[4096];
    if (snprintf(probe, sizeof probe, "%s/.odirect-probe", folder) >= (int)sizeof probe) return 0;
    int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
    if (fd < 0) {
        unlink(probe);
        return 0;
    }
    close(fd);
    unlink(probe);
    return 1;
}

int lockstep_enable_rx_timestamps(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0 ? 0 : -errno;
}

int lockstep_enable_tx_timestamps(int fd) {
    unsigned int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY |
                         SOF_TIMESTAMPING_OPT_ID;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) == 0 ? 0 : -errno;
}

static int64_t lockstep_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// Moves a kernel timestamp from CLOCK_REALTIME onto CLOCK_MONOTONIC. realtime - monotonic is read
/// as a realtime reading between two monotonic ones (the tightest of a few such brackets); the true
/// difference lies within the bracket. `later` picks the end that moves the stamp later (for receive
/// stamps, which must never precede the arrival), else the end that moves it earlier (for send
/// stamps, which must never follow the departure). A preemption between the reads then only widens
/// that exchange's round trip, and the minimum-round-trip estimator passes it over, instead of
/// breaking its error bound.
static int64_t lockstep_real_to_mono(int64_t stamp, int later) {
    int64_t best = INT64_MAX, shift = 0;
    for (int i = 0; i < 4 && best > 200; i++) {
        int64_t before = lockstep_ns(CLOCK_MONOTONIC);
        int64_t real = lockstep_ns(CLOCK_REALTIME);
        int64_t after = lockstep_ns(CLOCK_MONOTONIC);
        if (after - before < best) {
            best = after - before;
            shift = later ? real - after : real - before;
        }
    }
    return stamp - shift;
}

long lockstep_recv_stamped(int fd, void *buf, unsigned long len, int64_t *rx_ns, int *kernel, void *from,
                           unsigned int *fromlen) {
    char control[256];
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    msg.msg_name = from;
    msg.msg_namelen = fromlen ? *fromlen : 0;
    ssize_t n = recvmsg(fd, &msg, 0);
    if (fromlen) *fromlen = msg.msg_namelen;
    int64_t mono = lockstep_ns(CLOCK_MONOTONIC);
    if (n < 0) return -errno;
    *kernel = 0;
    *rx_ns = mono;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            int64_t converted = lockstep_real_to_mono((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, 1);
            // Never later than the reading taken after the receive returned.
            *rx_ns = converted < mono ? converted : mono;
            *kernel = 1;
        }
    }
    return (long)n;
}

/// Reads the error queue's transmit timestamp of datagram `id`; 1 when found (in *stamp, realtime),
/// 0 when none is queued yet. Older datagrams' stamps are dropped on the way.
static int lockstep_tx_stamp(int fd, uint32_t id, int64_t *stamp) {
    for (;;) {
        char control[512];
        char data[64];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
        int64_t found = -1;
        int matches = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
                struct scm_timestamping ts;
                memcpy(&ts, CMSG_DATA(c), sizeof(ts));
                found = (int64_t)ts.ts[0].tv_sec * 1000000000LL + ts.ts[0].tv_nsec;
            } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                       (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err err;
                memcpy(&err, CMSG_DATA(c), sizeof(err));
                matches = err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && err.ee_data == id;
            }
        }
        if (matches && found > 0) {
            *stamp = found;
            return 1;
        }
    }
}

long lockstep_send_stamped(int fd, const void *buf, unsigned long len, const void *to, unsigned int tolen, uint32_t id,
                           int64_t *tx_ns, int *kernel) {
    int64_t before = lockstep_ns(CLOCK_MONOTONIC);
    ssize_t n = to ? sendto(fd, buf, len, 0, (const struct sockaddr *)to, tolen) : send(fd, buf, len, 0);
    if (n < 0) return -errno;
    *tx_ns = before;
    *kernel = 0;
    // The stamp is queued when the driver hands the datagram on: at once on loopback and veth,
    // within microseconds on a NIC. Wait at most 2 ms for it.
    int64_t stamp = 0;
    int found = lockstep_tx_stamp(fd, id, &stamp);
    for (int i = 0; !found && i < 2; i++) {
        struct pollfd p = {.fd = fd, .events = 0};
        if (poll(&p, 1, 1) > 0 && (p.revents & POLLERR)) found = lockstep_tx_stamp(fd, id, &stamp);
    }
    if (found) {
        int64_t converted = lockstep_real_to_mono(stamp, 0);
        // Never earlier than the reading taken before the send: both precede the departure.
        if (converted > before) *tx_ns = converted;
        *kernel = 1;
    }
    return (long)n;
}

int lockstep_timestamping_info(const char *ifname, unsigned int *capabilities, int *phc_index) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ethtool_ts_info info;
    memset(&info, 0, sizeof(info));
    info.cmd = ETHTOOL_GET_TS_INFO;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = (void *)&info;
    int rc = ioctl(fd, SIOCETHTOOL, &ifr);
    int saved = errno;
    close(fd);
    if (rc < 0) return -saved;
    *capabilities = info.so_timestamping;
    *phc_index = info.phc_index;
    return 0;
}

int lockstep_realtime(int on) {
    struct sched_param p = {.sched_priority = on ? 1 : 0};
    int rc = pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &p);
    return rc == 0 ? 0 : -rc;
}
