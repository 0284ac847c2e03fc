#include "host_network.h"

#include "log.h"

namespace roomlink {

void HostNetwork::start() {
    RL_ASSERT_LOOP_THREAD(loop_);
    reporting_ = false;
    reported_type_ = -1;
    local_.reset();
    ifindex_ = 0;
    if (enabled_ && !subscribed_) {
        entry_ = NetworkWatcher::of(loop_).subscribe(loop_, this);
        subscribed_ = true;
    }
}

void HostNetwork::stop() {
    if (subscribed_) {
        RL_ASSERT_LOOP_THREAD(loop_);
        NetworkWatcher::of(loop_).unsubscribe(entry_);
        subscribed_ = false;
    }
    reporting_ = false;
    local_.reset();
    ifindex_ = 0;
}

void HostNetwork::on_established(const std::optional<SocketAddress>& local) {
    if (!subscribed_) {
        return;
    }
    NetworkWatcher& watcher = NetworkWatcher::of(loop_);
    local_ = local ? IpAddress::of(*local) : std::nullopt;
    ifindex_ = local_ ? watcher.interface_of(*local_) : 0;
    reporting_ = true;
    report_type();
}

void HostNetwork::on_outage() {
    local_.reset();
    ifindex_ = 0;
}

void HostNetwork::on_network_changes(const std::vector<NetworkChange>& batch) {
    std::string lost;
    bool back = false;
    bool route_removed = false;
    for (const NetworkChange& change : batch) {
        switch (change.kind) {
            case NetworkChange::Kind::kLinkDown:
                if (ifindex_ != 0 && change.ifindex == ifindex_ && lost.empty()) {
                    lost = "interface " + std::to_string(ifindex_) + " went down";
                }
                break;
            case NetworkChange::Kind::kAddressRemoved:
                if (local_ && change.address == *local_ && lost.empty()) {
                    lost = "local address removed from interface " + std::to_string(change.ifindex);
                }
                break;
            case NetworkChange::Kind::kRouteRemoved:
                route_removed = true;
                break;
            case NetworkChange::Kind::kLinkUp:
            case NetworkChange::Kind::kAddressAdded:
            case NetworkChange::Kind::kRouteAdded:
                back = true;
                break;
        }
    }
    if (lost.empty() && local_ && (back || route_removed)) {
        // Connected: only a change of the route to the server concerns this session. Probing on
        // every unrelated change would make each container start on the host ping the server from
        // every engine at once.
        back = false;
        const std::optional<SocketAddress> server = owner_.host_path_server();
        const LocalPath path =
            server ? NetworkWatcher::of(loop_).path_to(*server) : LocalPath{};
        if (path.type == RL_CONNECTION_TYPE_NONE) {
            lost = "no route to " + server->to_string() + " any more";
        } else if (path.ifindex != ifindex_) {
            back = true;  // the route moved: check at once that the connection still carries us
        }
    }
    if (!lost.empty()) {
        on_outage();
        owner_.on_host_path_lost(lost);
    } else if (back) {
        owner_.on_host_network_back();
    }
    if (subscribed_) {
        report_type();
    }
}

void HostNetwork::report_type() {
    if (!reporting_) {
        return;
    }
    const std::optional<SocketAddress> server = owner_.host_path_server();
    const int32_t type = server ? NetworkWatcher::of(loop_).path_to(*server).type
                                : RL_CONNECTION_TYPE_UNKNOWN;
    if (type != reported_type_) {
        reported_type_ = type;
        owner_.on_connection_type(type);
    }
}

}  // namespace roomlink
