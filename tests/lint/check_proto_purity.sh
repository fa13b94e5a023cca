#!/bin/sh
# Fails when the pure protocol library references a forbidden symbol: sockets, clocks, epoll,
# the allocator, rand, stdio, or anything else from the OS. Sanitizer hooks are ignored.
set -eu
lib=$1
forbidden='^(socket|bind|connect|send|sendto|sendmsg|recv|recvfrom|recvmsg|setsockopt|getsockopt|close|read|write|open|openat|ioctl|epoll_.*|poll|select|clock_gettime|gettimeofday|time|nanosleep|usleep|sleep|malloc|calloc|realloc|free|strdup|rand|random|srand|printf|fprintf|puts|syslog|getpid|fork|exec.*|abort)$'
bad=$(nm -u "$lib" | awk '{print $NF}' | grep -v -E '^__(asan|ubsan|sanitizer|lsan)' | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
    echo "libproto references forbidden symbols:"; echo "$bad"; exit 1
fi
echo "libproto is pure ($(nm -u "$lib" | wc -l) undefined symbols, none forbidden)"
