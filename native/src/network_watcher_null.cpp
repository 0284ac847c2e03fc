// Platforms without rtnetlink: no events (outages are found by keepalive silence alone) and the
// path's type is UNKNOWN.
#include "network_watcher.h"

namespace roomlink {

std::unique_ptr<NetworkEventSource> open_network_event_source(EventLoop&, NetworkBatchFn) {
    return nullptr;
}

int interface_holding(const IpAddress&) { return 0; }

LocalPath local_path_to(const SocketAddress&) { return LocalPath{}; }

}  // namespace roomlink
