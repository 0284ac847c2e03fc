// Strict decoding of rtnetlink (NETLINK_ROUTE) datagrams into NetworkChanges, with no I/O so it
// can be tested with hand-built messages. Linux only (network_watcher_linux.cpp is its user).
//
// Link messages say how an interface is now, not what changed, and the kernel sends one for any
// attribute change (MTU, statistics flags, ...). The decoder therefore remembers whether each
// interface was usable (IFF_UP and IFF_RUNNING) and reports only transitions; a dump (the
// RTM_GETLINK answer at start) seeds that memory without reporting anything.
#ifndef ROOMLINK_RTNETLINK_DECODER_H
#define ROOMLINK_RTNETLINK_DECODER_H

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "network_watcher.h"

namespace roomlink {

class RtnetlinkDecoder {
public:
    // Bound on remembered interfaces: a host creating and deleting interfaces (containers) must
    // not grow it without limit. Past it, unknown interfaces are reported as if new.
    static constexpr size_t kMaxLinks = 4096;

    // Decodes one datagram; appends what changed to *out. Malformed or truncated messages are
    // skipped (the rest of the datagram still counts when its framing is intact); returns false if
    // anything was skipped.
    bool decode(const uint8_t* data, size_t length, std::vector<NetworkChange>* out);

    size_t known_links() const { return usable_.size(); }

private:
    bool decode_link(uint16_t type, uint16_t flags, const uint8_t* body, size_t length,
                     std::vector<NetworkChange>* out);
    bool decode_address(uint16_t type, const uint8_t* body, size_t length,
                        std::vector<NetworkChange>* out);
    bool decode_route(uint16_t type, const uint8_t* body, size_t length,
                      std::vector<NetworkChange>* out);

    std::unordered_map<int, bool> usable_;  // ifindex -> IFF_UP && IFF_RUNNING when last seen
};

}  // namespace roomlink

#endif
