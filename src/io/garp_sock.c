/* AF_PACKET sender for gratuitous ARP / unsolicited NA frames (see garp_sock.h).
 *
 * The socket is opened with protocol 0, so the kernel queues no received frames on it; it is
 * bound to one interface and each frame is handed over whole (SOCK_RAW: the caller's Ethernet
 * header goes on the wire as built). */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "garp_sock.h"

#define IO_ETH_HLEN 14

int io_garp_open(int ifindex)
{
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};

    if (ifindex <= 0)
        return -EINVAL;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int io_garp_send(int fd, int ifindex, const uint8_t *frame, size_t len)
{
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};

    if (frame == NULL || len < IO_ETH_HLEN)
        return -EINVAL;
    memcpy(sll.sll_addr, frame, 6);
    memcpy(&sll.sll_protocol, frame + 12, 2); /* EtherType, already in network order */
    ssize_t n;
    do
        n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return (size_t)n == len ? 0 : -EIO;
}
