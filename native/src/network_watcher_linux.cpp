// Linux: rtnetlink for the events, a route lookup and /sys/class/net for the path's type.
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "log.h"
#include "network_watcher.h"
#include "rtnetlink_decoder.h"

namespace roomlink {
namespace {

// Datagrams read per wakeup: an address storm (a container host) must not hold the loop.
constexpr int kMaxDatagramsPerWakeup = 64;
// Enough for any single rtnetlink notification; a dump is split into datagrams of this size.
constexpr size_t kReceiveBuffer = 32 * 1024;

bool request_link_dump(int fd) {
    struct {
        nlmsghdr header;
        ifinfomsg body;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_GETLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 1;
    request.body.ifi_family = AF_UNSPEC;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    return sendto(fd, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
                  sizeof kernel) == static_cast<ssize_t>(sizeof request);
}

class RtnetlinkSource final : public NetworkEventSource {
public:
    RtnetlinkSource(EventLoop& loop, UniqueFd fd, NetworkBatchFn fn)
        : loop_(loop), fd_(std::move(fd)), fn_(std::move(fn)), buffer_(kReceiveBuffer) {
        watch_ = loop_.watch(fd_.get(), EPOLLIN, [this](uint32_t) { read_available(); });
    }
    ~RtnetlinkSource() override { loop_.unwatch(watch_); }
    RtnetlinkSource(const RtnetlinkSource&) = delete;
    RtnetlinkSource& operator=(const RtnetlinkSource&) = delete;

    bool watching() const { return watch_ != 0; }

private:
    void read_available() {
        std::vector<NetworkChange> batch;
        bool read_any = false;
        for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
            sockaddr_nl from{};
            socklen_t from_length = sizeof from;
            const ssize_t n = recvfrom(fd_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT,
                                       reinterpret_cast<sockaddr*>(&from), &from_length);
            if (n < 0) {
                if (errno == ENOBUFS) {
                    // The kernel dropped notifications: something changed that we cannot name.
                    // A probe is the safe answer to "maybe".
                    RL_LOG(RL_LOG_WARN, "network watcher: rtnetlink overrun, probing");
                    batch.push_back({NetworkChange::Kind::kRouteAdded, 0, {}});
                    request_link_dump(fd_.get());  // relearn which links are up (may be busy)
                    continue;
                }
                break;  // EAGAIN: drained (level-triggered: anything left wakes us again)
            }
            read_any = true;
            if (from.nl_pid != 0) {
                continue;  // only the kernel speaks here
            }
            if (!decoder_.decode(buffer_.data(), static_cast<size_t>(n), &batch)) {
                RL_LOG(RL_LOG_DEBUG, "network watcher: skipped a malformed rtnetlink message");
            }
        }
        if (log_enabled(RL_LOG_INFO)) {
            for (const NetworkChange& change : batch) {
                RL_LOG(RL_LOG_INFO, "network watcher: %s (interface %d)",
                       network_change_name(change.kind), change.ifindex);
            }
        }
        if (read_any || !batch.empty()) {
            fn_(batch);
        }
    }

    EventLoop& loop_;
    UniqueFd fd_;
    NetworkBatchFn fn_;
    std::vector<uint8_t> buffer_;
    RtnetlinkDecoder decoder_;
    EventLoop::WatchId watch_ = 0;
};

std::string read_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

int32_t classify_interface(int ifindex) {
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
        return RL_CONNECTION_TYPE_UNKNOWN;
    }
    const std::string dir = std::string("/sys/class/net/") + name;
    if (exists(dir + "/wireless") || exists(dir + "/phy80211")) {
        return RL_CONNECTION_TYPE_WIFI;
    }
    std::ifstream uevent(dir + "/uevent");
    for (std::string line; std::getline(uevent, line);) {
        if (line == "DEVTYPE=wwan") {
            return RL_CONNECTION_TYPE_MOBILE;
        }
    }
    const std::string type = read_line(dir + "/type");
    if (type.empty()) {
        return RL_CONNECTION_TYPE_UNKNOWN;
    }
    switch (std::atoi(type.c_str())) {
        case ARPHRD_ETHER:
        case ARPHRD_LOOPBACK:  // wired and unmetered, which is what apps ask the type for
            return RL_CONNECTION_TYPE_ETHERNET;
        case ARPHRD_IEEE80211:
        case ARPHRD_IEEE80211_PRISM:
        case ARPHRD_IEEE80211_RADIOTAP:
            return RL_CONNECTION_TYPE_WIFI;
#ifdef ARPHRD_RAWIP
        case ARPHRD_RAWIP:  // cellular modems (rmnet, qmi_wwan raw-ip)
            return RL_CONNECTION_TYPE_MOBILE;
#endif
        default:
            return RL_CONNECTION_TYPE_UNKNOWN;  // tunnels, PPP (DSL or modem), ...
    }
}

}  // namespace

std::unique_ptr<NetworkEventSource> open_network_event_source(EventLoop& loop, NetworkBatchFn fn) {
    UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
        RL_LOG(RL_LOG_WARN, "network watcher: no rtnetlink socket (%s): keepalives only",
               error_text(errno).c_str());
        return nullptr;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                      RTMGRP_IPV6_ROUTE;
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        !request_link_dump(fd.get())) {
        RL_LOG(RL_LOG_WARN, "network watcher: rtnetlink refused (%s): keepalives only",
               error_text(errno).c_str());
        return nullptr;
    }
    auto source = std::make_unique<RtnetlinkSource>(loop, std::move(fd), std::move(fn));
    if (!source->watching()) {
        return nullptr;
    }
    return source;
}

int interface_holding(const IpAddress& local) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return 0;
    }
    int index = 0;
    for (ifaddrs* entry = list; entry != nullptr && index == 0; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr) {
            continue;
        }
        const auto family = entry->ifa_addr->sa_family;
        const socklen_t length = family == AF_INET    ? sizeof(sockaddr_in)
                                 : family == AF_INET6 ? sizeof(sockaddr_in6)
                                                      : 0;
        if (length == 0) {
            continue;
        }
        auto ip = IpAddress::of(SocketAddress::from_sockaddr(entry->ifa_addr, length));
        if (ip && *ip == local) {
            index = static_cast<int>(if_nametoindex(entry->ifa_name));
        }
    }
    freeifaddrs(list);
    return index;
}

LocalPath local_path_to(const SocketAddress& server) {
    LocalPath path;
    // connect() on a UDP socket is the kernel's route lookup, without sending anything.
    UniqueFd fd(socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return path;
    }
    if (connect(fd.get(), server.sockaddr_ptr(), server.length) != 0) {
        if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == EADDRNOTAVAIL) {
            path.type = RL_CONNECTION_TYPE_NONE;
        }
        return path;
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
        return path;
    }
    auto ip = IpAddress::of(SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length));
    path.ifindex = ip ? interface_holding(*ip) : 0;
    path.type = path.ifindex != 0 ? classify_interface(path.ifindex) : RL_CONNECTION_TYPE_UNKNOWN;
    return path;
}

}  // namespace roomlink
