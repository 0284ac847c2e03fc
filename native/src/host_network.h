// One engine's view of the host's network events (network_watcher.h): it knows which local
// address and interface the session's connection uses, tells the engine when that path is gone
// (declare the outage now, not after the keepalive timeout) or when a path may be back (probe
// now), and reports the connection type once after joining and on every change.
#ifndef ROOMLINK_HOST_NETWORK_H
#define ROOMLINK_HOST_NETWORK_H

#include <list>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "network_watcher.h"
#include "socket_util.h"

namespace roomlink {

class HostNetwork final : private NetworkWatcher::Subscriber {
public:
    class Owner {
    public:
        // The connection's link, address or route is gone.
        virtual void on_host_path_lost(const std::string& why) = 0;
        // A link, address or route appeared (or a route went while another remains).
        virtual void on_host_network_back() = 0;
        virtual void on_connection_type(int32_t type) = 0;
        // Where the session goes now, for the route lookup; nullopt before resolution.
        virtual std::optional<SocketAddress> host_path_server() const = 0;

    protected:
        ~Owner() = default;
    };

    HostNetwork(EventLoop& loop, Owner& owner, bool enabled)
        : loop_(loop), owner_(owner), enabled_(enabled) {}
    ~HostNetwork() { stop(); }
    HostNetwork(const HostNetwork&) = delete;
    HostNetwork& operator=(const HostNetwork&) = delete;

    // A join starts: watch, and report the type again after it succeeds. Loop thread.
    void start();
    // The session is over (leave, failure, shutdown). Loop thread.
    void stop();
    // The session is up over a connection whose own address is `local`.
    void on_established(const std::optional<SocketAddress>& local);
    // The session's connection is gone; until the next establishment only routes matter.
    void on_outage();

private:
    void on_network_changes(const std::vector<NetworkChange>& batch) override;
    void report_type();

    EventLoop& loop_;
    Owner& owner_;
    const bool enabled_;
    bool subscribed_ = false;
    std::list<NetworkWatcher::Subscriber*>::iterator entry_;
    bool reporting_ = false;          // after the first establishment of this join
    int32_t reported_type_ = -1;      // none yet
    std::optional<IpAddress> local_;  // the established connection's own address
    int ifindex_ = 0;                 // the interface that holds it; 0 if unknown
};

}  // namespace roomlink

#endif
