/* Process-wide system settings for the daemon: real-time priority, memory locking, pidfile. */
#ifndef NOSPOF_IO_SYS_H
#define NOSPOF_IO_SYS_H

#include <sys/types.h>

/* Sets SCHED_RR with priority prio (1..99) on the calling thread; prio 0 restores
 * SCHED_OTHER. 0 or -errno (-EINVAL out of range, -EPERM without CAP_SYS_NICE). */
int io_rt_priority(int prio);

/* mlockall(MCL_CURRENT | MCL_FUTURE). 0 or -errno. */
int io_lock_memory(void);

/* Writes "PID\n" to path (mode 0644). Refuses with -EEXIST when path names another live
 * process with our process name (/proc/PID/comm), i.e. another daemon instance, unless it is
 * takeover (the process a binary upgrade replaces; 0 for none); a stale or foreign pid is
 * overwritten. 0 or -errno. */
int io_pidfile_write(const char *path, pid_t takeover);

/* Removes path if it holds our pid. 0, or -errno (-ESRCH when it names another pid, -ENOENT
 * when absent). */
int io_pidfile_remove(const char *path);

#endif
