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

namespace {

// One lookup in a memo: the remembered answer for `key`, else `compute(key)`, remembered. A full
// memo is dropped whole: it is cleared at every rtnetlink datagram anyway.
template <typename Key, typename Value, typename Compute>
Value remembered(std::vector<std::pair<Key, Value>>& memo, const Key& key, size_t capacity,
                 Compute compute) {
    for (const auto& entry : memo) {
        if (entry.first == key) {
            return entry.second;
        }
    }
    if (memo.size() >= capacity) {
        memo.clear();
    }
    memo.emplace_back(key, compute(key));
    return memo.back().second;
}

}  // namespace

LocalPath NetworkWatcher::path_to(const SocketAddress& server) {
    if (!source_) {
        return local_path_to(server);  // nothing would tell the memo it is stale
    }
    return remembered(paths_, server, kMemoEntries,
                      [](const SocketAddress& s) { return local_path_to(s); });
}

int NetworkWatcher::interface_of(const IpAddress& local) {
    if (!source_) {
        return interface_holding(local);
    }
    return remembered(interfaces_, local, kMemoEntries,
                      [](const IpAddress& a) { return interface_holding(a); });
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
