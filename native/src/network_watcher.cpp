#include "network_watcher.h"

#include <netinet/in.h>

#include <cstring>

namespace roomlink {

std::optional<IpAddress> IpAddress::of(const SocketAddress& address) {
    IpAddress ip;
    if (address.family() == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address.storage);
        ip.family = AF_INET;
        std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
        return ip;
    }
    if (address.family() == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
        ip.family = AF_INET6;
        std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
        return ip;
    }
    return std::nullopt;
}

bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family == b.family && a.bytes == b.bytes;
}

const char* network_change_name(NetworkChange::Kind kind) {
    switch (kind) {
        case NetworkChange::Kind::kLinkDown: return "link down";
        case NetworkChange::Kind::kLinkUp: return "link up";
        case NetworkChange::Kind::kAddressRemoved: return "address removed";
        case NetworkChange::Kind::kAddressAdded: return "address added";
        case NetworkChange::Kind::kRouteRemoved: return "default route removed";
        case NetworkChange::Kind::kRouteAdded: return "default route added";
    }
    return "?";
}

NetworkWatcher& NetworkWatcher::of(EventLoop& loop) {
    RL_ASSERT_LOOP_THREAD(loop);
    return loop.attachment<NetworkWatcher>();
}

std::list<NetworkWatcher::Subscriber*>::iterator NetworkWatcher::subscribe(EventLoop& loop,
                                                                          Subscriber* subscriber) {
    if (!source_tried_) {
        source_tried_ = true;
        source_ = open_network_event_source(
            loop, [this](const std::vector<NetworkChange>& batch) { dispatch(batch); });
    }
    return subscribers_.insert(subscribers_.end(), subscriber);
}

void NetworkWatcher::unsubscribe(std::list<Subscriber*>::iterator entry) {
    if (dispatching_) {
        *entry = nullptr;  // the dispatch loop may hold an iterator to it or its neighbour
        has_holes_ = true;
        return;
    }
    subscribers_.erase(entry);
}

LocalPath NetworkWatcher::path_to(const SocketAddress& server) {
    if (!source_) {
        return local_path_to(server);  // nothing would tell the memo it is stale
    }
    for (const auto& entry : paths_) {
        if (entry.first == server) {
            return entry.second;
        }
    }
    if (paths_.size() >= kMemoEntries) {
        paths_.clear();
    }
    paths_.emplace_back(server, local_path_to(server));
    return paths_.back().second;
}

int NetworkWatcher::interface_of(const IpAddress& local) {
    if (!source_) {
        return interface_holding(local);
    }
    for (const auto& entry : interfaces_) {
        if (entry.first == local) {
            return entry.second;
        }
    }
    if (interfaces_.size() >= kMemoEntries) {
        interfaces_.clear();
    }
    interfaces_.emplace_back(local, interface_holding(local));
    return interfaces_.back().second;
}

void NetworkWatcher::dispatch(const std::vector<NetworkChange>& batch) {
    // Every rtnetlink datagram clears the memo, even one that names no change of ours (a
    // connected route, say): the memo is exactly as fresh as the kernel's notifications.
    paths_.clear();
    interfaces_.clear();
    if (batch.empty() || dispatching_) {
        return;
    }
    dispatching_ = true;
    // Subscribers added during the dispatch go to the end and see this batch too: harmless.
    for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
        if (*it != nullptr) {
            (*it)->on_network_changes(batch);
        }
    }
    dispatching_ = false;
    if (has_holes_) {
        has_holes_ = false;
        subscribers_.remove(nullptr);
    }
}

}  // namespace roomlink
