// The host's own network events (link down/up, address removed/added, default route removed/added)
// and what the path to a server runs over. One NetworkWatcher per EventLoop (a loop attachment)
// owns the one platform event source of that loop and fans each batch of changes out to the
// engines subscribed on it: an engine costs one list entry, never a file descriptor.
//
// The platform part is behind open_network_event_source() and the path functions below:
// network_watcher_linux.cpp (rtnetlink, /sys/class/net) and network_watcher_null.cpp (no events,
// UNKNOWN type) where netlink does not exist.
#ifndef ROOMLINK_NETWORK_WATCHER_H
#define ROOMLINK_NETWORK_WATCHER_H

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include "event_loop.h"
#include "roomlink/roomlink.h"
#include "socket_util.h"

namespace roomlink {

// An interface address without a port: what an address event names and what a socket is bound to.
struct IpAddress {
    int family = 0;  // AF_INET or AF_INET6; 0 is "none"
    std::array<uint8_t, 16> bytes{};

    static std::optional<IpAddress> of(const SocketAddress& address);
};
bool operator==(const IpAddress& a, const IpAddress& b);

struct NetworkChange {
    enum class Kind : uint8_t {
        kLinkDown,        // an interface stopped being up and running, or was deleted
        kLinkUp,          // an interface became up and running
        kAddressRemoved,
        kAddressAdded,
        kRouteRemoved,    // a default route of the main table
        kRouteAdded,
    };
    Kind kind = Kind::kLinkDown;
    int ifindex = 0;      // 0 if the message named none
    IpAddress address{};  // address kinds only
};

const char* network_change_name(NetworkChange::Kind kind);

// What the path to a server runs over, as far as this host can tell.
struct LocalPath {
    int32_t type = RL_CONNECTION_TYPE_UNKNOWN;  // rl_connection_type
    int ifindex = 0;                            // 0: unknown, or no route (type NONE)
};

// The interface the kernel would send to `server` through now (a route lookup, no packet sent):
// NONE if there is no route. Platform code.
LocalPath local_path_to(const SocketAddress& server);
// The interface that holds `local` (a connected socket's own address); 0 if none does.
int interface_holding(const IpAddress& local);

// A platform source of change batches for one loop; destroying it stops it.
class NetworkEventSource {
public:
    virtual ~NetworkEventSource() = default;
};
using NetworkBatchFn = std::function<void(const std::vector<NetworkChange>& batch)>;
// nullptr where the platform has no such events (or the kernel refused): engines then work as
// before, with outages found by keepalive silence alone. Platform code.
std::unique_ptr<NetworkEventSource> open_network_event_source(EventLoop& loop, NetworkBatchFn fn);

class NetworkWatcher {
public:
    class Subscriber {
    public:
        virtual void on_network_changes(const std::vector<NetworkChange>& batch) = 0;

    protected:
        ~Subscriber() = default;
    };

    // The loop's watcher (created on first use, lives as long as the loop). Loop thread only.
    static NetworkWatcher& of(EventLoop& loop);

    // The event source opens with the first subscriber and then stays open for the loop's life
    // (one fd per loop). Returns the handle to pass to unsubscribe().
    std::list<Subscriber*>::iterator subscribe(EventLoop& loop, Subscriber* subscriber);
    void unsubscribe(std::list<Subscriber*>::iterator entry);
    bool has_source() const { return source_ != nullptr; }
    size_t subscribers() const { return subscribers_.size(); }

    // local_path_to() and interface_holding() through a memo that every read of the source clears: thousands
    // of engines on a loop ask the same question after each change, and ask the kernel once.
    LocalPath path_to(const SocketAddress& server);
    int interface_of(const IpAddress& local);

    // Delivers a batch to every subscriber (the source calls it after every read, even one that
    // decoded to nothing; tests may call it too). A subscriber may
    // unsubscribe itself or others while it runs.
    void dispatch(const std::vector<NetworkChange>& batch);

private:
    static constexpr size_t kMemoEntries = 64;

    std::unique_ptr<NetworkEventSource> source_;
    std::vector<std::pair<SocketAddress, LocalPath>> paths_;
    std::vector<std::pair<IpAddress, int>> interfaces_;
    bool source_tried_ = false;
    std::list<Subscriber*> subscribers_;
    bool dispatching_ = false;
    bool has_holes_ = false;  // entries cleared during a dispatch, erased after it
};

}  // namespace roomlink

#endif
