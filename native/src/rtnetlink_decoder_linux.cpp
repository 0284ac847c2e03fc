#include "rtnetlink_decoder.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace roomlink {
namespace {

// NLMSG_* / RTA_* macros do pointer arithmetic on unchecked lengths; these helpers check first.
constexpr size_t align4(size_t n) { return (n + 3u) & ~size_t{3}; }

template <typename T>
bool read_struct(const uint8_t* data, size_t length, T* out) {
    if (length < sizeof(T)) {
        return false;
    }
    std::memcpy(out, data, sizeof(T));
    return true;
}

// Calls fn(type, payload, payload_length) for each attribute; false if the framing is broken.
template <typename F>
bool for_each_attribute(const uint8_t* data, size_t length, F&& fn) {
    size_t offset = 0;
    while (offset + sizeof(rtattr) <= length) {
        rtattr attr;
        std::memcpy(&attr, data + offset, sizeof attr);
        if (attr.rta_len < sizeof(rtattr) || attr.rta_len > length - offset) {
            return false;
        }
        fn(attr.rta_type, data + offset + sizeof(rtattr), size_t{attr.rta_len} - sizeof(rtattr));
        offset += align4(attr.rta_len);
    }
    return true;
}

}  // namespace

bool RtnetlinkDecoder::decode(const uint8_t* data, size_t length, std::vector<NetworkChange>* out) {
    bool clean = true;
    size_t offset = 0;
    while (offset + sizeof(nlmsghdr) <= length) {
        nlmsghdr header;
        std::memcpy(&header, data + offset, sizeof header);
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > length - offset) {
            return false;  // framing lost: nothing after this can be trusted
        }
        const uint8_t* body = data + offset + sizeof(nlmsghdr);
        const size_t body_length = header.nlmsg_len - sizeof(nlmsghdr);
        bool ok = true;
        switch (header.nlmsg_type) {
            case RTM_NEWLINK:
            case RTM_DELLINK:
                ok = decode_link(header.nlmsg_type, header.nlmsg_flags, body, body_length, out);
                break;
            case RTM_NEWADDR:
            case RTM_DELADDR:
                ok = decode_address(header.nlmsg_type, body, body_length, out);
                break;
            case RTM_NEWROUTE:
            case RTM_DELROUTE:
                ok = decode_route(header.nlmsg_type, body, body_length, out);
                break;
            default:
                break;  // NLMSG_DONE, NLMSG_ERROR, neighbours, ...: not ours
        }
        clean = clean && ok;
        offset += align4(header.nlmsg_len);
    }
    return clean && offset >= length;
}

bool RtnetlinkDecoder::decode_link(uint16_t type, uint16_t flags, const uint8_t* body,
                                   size_t length, std::vector<NetworkChange>* out) {
    ifinfomsg info;
    if (!read_struct(body, length, &info) || info.ifi_index <= 0) {
        return false;
    }
    const int index = info.ifi_index;
    auto known = usable_.find(index);
    if (type == RTM_DELLINK) {
        if (known != usable_.end()) {
            usable_.erase(known);
        }
        out->push_back({NetworkChange::Kind::kLinkDown, index, {}});
        return true;
    }
    const bool usable = (info.ifi_flags & IFF_UP) != 0 && (info.ifi_flags & IFF_RUNNING) != 0;
    if ((flags & NLM_F_MULTI) != 0) {  // part of a dump: how things are, not a change
        if (known != usable_.end() || usable_.size() < kMaxLinks) {
            usable_[index] = usable;
        }
        return true;
    }
    if (known != usable_.end()) {
        if (known->second == usable) {
            return true;  // some other attribute changed
        }
        known->second = usable;
    } else if (usable_.size() < kMaxLinks) {
        usable_.emplace(index, usable);
    }
    out->push_back({usable ? NetworkChange::Kind::kLinkUp : NetworkChange::Kind::kLinkDown, index,
                    {}});
    return true;
}

bool RtnetlinkDecoder::decode_address(uint16_t type, const uint8_t* body, size_t length,
                                      std::vector<NetworkChange>* out) {
    ifaddrmsg info;
    if (!read_struct(body, length, &info)) {
        return false;
    }
    const size_t bytes = info.ifa_family == AF_INET ? 4 : info.ifa_family == AF_INET6 ? 16 : 0;
    if (bytes == 0) {
        return true;  // another family: not ours
    }
    // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on point-to-point links and the
    // same as IFA_LOCAL elsewhere. IPv6 sends only IFA_ADDRESS.
    IpAddress local{};
    IpAddress address{};
    bool broken = false;
    const size_t header = NLMSG_ALIGN(sizeof(ifaddrmsg));
    if (length < header ||
        !for_each_attribute(body + header, length - header,
                            [&](uint16_t attr, const uint8_t* value, size_t size) {
                                if (attr != IFA_LOCAL && attr != IFA_ADDRESS) {
                                    return;
                                }
                                if (size != bytes) {
                                    broken = true;
                                    return;
                                }
                                IpAddress& target = attr == IFA_LOCAL ? local : address;
                                target.family = info.ifa_family;
                                std::memcpy(target.bytes.data(), value, bytes);
                            }) ||
        broken) {
        return false;
    }
    const IpAddress& chosen = local.family != 0 ? local : address;
    if (chosen.family == 0) {
        return false;
    }
    out->push_back({type == RTM_NEWADDR ? NetworkChange::Kind::kAddressAdded
                                        : NetworkChange::Kind::kAddressRemoved,
                    static_cast<int>(info.ifa_index), chosen});
    return true;
}

bool RtnetlinkDecoder::decode_route(uint16_t type, const uint8_t* body, size_t length,
                                    std::vector<NetworkChange>* out) {
    rtmsg info;
    if (!read_struct(body, length, &info)) {
        return false;
    }
    uint32_t table = info.rtm_table;
    int oif = 0;
    bool broken = false;
    const size_t header = NLMSG_ALIGN(sizeof(rtmsg));
    if (length < header ||
        !for_each_attribute(body + header, length - header,
                            [&](uint16_t attr, const uint8_t* value, size_t size) {
                                if (attr != RTA_TABLE && attr != RTA_OIF) {
                                    return;
                                }
                                if (size != 4) {
                                    broken = true;
                                    return;
                                }
                                uint32_t v;
                                std::memcpy(&v, value, 4);
                                if (attr == RTA_TABLE) {
                                    table = v;
                                } else {
                                    oif = static_cast<int>(v);
                                }
                            }) ||
        broken) {
        return false;
    }
    // Only default routes of the main table: the kernel adds and removes local and connected
    // routes with every address, and those come with an address or link event already.
    if (info.rtm_dst_len != 0 || table != RT_TABLE_MAIN || info.rtm_type != RTN_UNICAST ||
        (info.rtm_family != AF_INET && info.rtm_family != AF_INET6)) {
        return true;
    }
    out->push_back({type == RTM_NEWROUTE ? NetworkChange::Kind::kRouteAdded
                                         : NetworkChange::Kind::kRouteRemoved,
                    oif, {}});
    return true;
}

}  // namespace roomlink
