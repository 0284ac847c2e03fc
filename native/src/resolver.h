// Name resolution that never blocks a loop thread: literals are parsed inline by the caller
// (SocketAddress::from_numeric); names go to getaddrinfo on a short-lived worker thread whose
// result is posted back to the loop.
#ifndef ROOMLINK_RESOLVER_H
#define ROOMLINK_RESOLVER_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "socket_util.h"

namespace roomlink {

// addresses is empty on failure, and error then says why.
using ResolveCallback =
    std::function<void(std::vector<SocketAddress> addresses, std::string error)>;

// Runs getaddrinfo off-loop and invokes callback on `loop`. The loop must outlive the lookup
// (pool loops live for the process); callers guard against their own staleness in the callback.
// A literal host is answered through the loop as well, without a thread.
void resolve_async(EventLoop& loop, const std::string& host, uint16_t port,
                   ResolveCallback callback);

// The blocking part, exposed for tests.
std::vector<SocketAddress> resolve_blocking(const std::string& host, uint16_t port,
                                            std::string* error);

}  // namespace roomlink

#endif
