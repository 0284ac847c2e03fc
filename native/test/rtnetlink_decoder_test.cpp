// The rtnetlink decoder with hand-built messages (no kernel needed), and the watcher's fan-out.
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "clock.h"
#include "event_loop.h"
#include "network_watcher.h"
#include "rtnetlink_decoder.h"
#include "test_support.h"

using namespace roomlink;

namespace {

using Kind = NetworkChange::Kind;

// Builds one datagram of rtnetlink messages the way the kernel lays them out.
class Datagram {
public:
    template <typename Body>
    Datagram& message(uint16_t type, uint16_t flags, const Body& body) {
        start_ = bytes_.size();
        nlmsghdr header{};
        header.nlmsg_type = type;
        header.nlmsg_flags = flags;
        append(&header, sizeof header);
        append(&body, sizeof body);
        pad();
        finish();
        return *this;
    }
    Datagram& attribute(uint16_t type, const void* value, size_t length) {
        rtattr attr{};
        attr.rta_type = type;
        attr.rta_len = static_cast<unsigned short>(sizeof attr + length);
        append(&attr, sizeof attr);
        append(value, length);
        pad();
        finish();
        return *this;
    }
    std::vector<uint8_t>& bytes() { return bytes_; }
    std::vector<NetworkChange> decode(RtnetlinkDecoder& decoder, bool* clean = nullptr) {
        std::vector<NetworkChange> out;
        const bool ok = decoder.decode(bytes_.data(), bytes_.size(), &out);
        if (clean != nullptr) *clean = ok;
        return out;
    }

private:
    void append(const void* data, size_t length) {
        const auto* p = static_cast<const uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + length);
    }
    void pad() {
        while (bytes_.size() % 4 != 0) bytes_.push_back(0);
    }
    void finish() {  // the current message's length covers everything appended to it
        const auto length = static_cast<uint32_t>(bytes_.size() - start_);
        std::memcpy(bytes_.data() + start_, &length, sizeof length);
    }
    std::vector<uint8_t> bytes_;
    size_t start_ = 0;
};

ifinfomsg link(int index, unsigned flags) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    info.ifi_flags = flags;
    return info;
}

constexpr unsigned kUsable = IFF_UP | IFF_RUNNING;

ifaddrmsg address_header(int family, int index) {
    ifaddrmsg info{};
    info.ifa_family = static_cast<unsigned char>(family);
    info.ifa_index = static_cast<unsigned>(index);
    return info;
}

IpAddress ipv4(const char* text) {
    IpAddress ip;
    ip.family = AF_INET;
    inet_pton(AF_INET, text, ip.bytes.data());
    return ip;
}

rtmsg route(int family, unsigned char dst_len, unsigned char table = RT_TABLE_MAIN) {
    rtmsg info{};
    info.rtm_family = static_cast<unsigned char>(family);
    info.rtm_dst_len = dst_len;
    info.rtm_table = table;
    info.rtm_type = RTN_UNICAST;
    return info;
}

}  // namespace

TEST(a_dump_seeds_link_state_and_reports_nothing) {
    RtnetlinkDecoder decoder;
    Datagram d;
    d.message(RTM_NEWLINK, NLM_F_MULTI, link(1, kUsable | IFF_LOOPBACK))
        .message(RTM_NEWLINK, NLM_F_MULTI, link(7, kUsable));
    CHECK(d.decode(decoder).empty());
    CHECK_EQ(decoder.known_links(), size_t{2});
}

TEST(link_down_and_up_are_reported_as_transitions_only) {
    RtnetlinkDecoder decoder;
    Datagram seed;
    seed.message(RTM_NEWLINK, NLM_F_MULTI, link(7, kUsable));
    seed.decode(decoder);

    Datagram same;  // an MTU change, say: still up and running
    same.message(RTM_NEWLINK, 0, link(7, kUsable));
    CHECK(same.decode(decoder).empty());

    Datagram down;  // `ip link set down`: IFF_UP cleared
    down.message(RTM_NEWLINK, 0, link(7, 0));
    auto changes = down.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kLinkDown);
    CHECK_EQ(changes[0].ifindex, 7);

    Datagram no_carrier_yet;  // up but not running: still unusable, no change
    no_carrier_yet.message(RTM_NEWLINK, 0, link(7, IFF_UP));
    CHECK(no_carrier_yet.decode(decoder).empty());

    Datagram up;
    up.message(RTM_NEWLINK, 0, link(7, kUsable));
    changes = up.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kLinkUp);
}

TEST(a_deleted_link_is_down_and_forgotten) {
    RtnetlinkDecoder decoder;
    Datagram seed;
    seed.message(RTM_NEWLINK, NLM_F_MULTI, link(9, kUsable));
    seed.decode(decoder);
    Datagram del;
    del.message(RTM_DELLINK, 0, link(9, kUsable));
    auto changes = del.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kLinkDown);
    CHECK_EQ(decoder.known_links(), size_t{0});
}

TEST(ipv4_address_events_name_ifa_local_not_the_peer) {
    RtnetlinkDecoder decoder;
    const IpAddress local = ipv4("10.0.0.2");
    const IpAddress peer = ipv4("10.0.0.1");
    Datagram d;
    d.message(RTM_DELADDR, 0, address_header(AF_INET, 4))
        .attribute(IFA_ADDRESS, peer.bytes.data(), 4)
        .attribute(IFA_LOCAL, local.bytes.data(), 4);
    auto changes = d.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kAddressRemoved);
    CHECK_EQ(changes[0].ifindex, 4);
    CHECK(changes[0].address == local);
}

TEST(ipv6_address_events_use_ifa_address) {
    RtnetlinkDecoder decoder;
    IpAddress six;
    six.family = AF_INET6;
    inet_pton(AF_INET6, "fd00::2", six.bytes.data());
    Datagram d;
    d.message(RTM_NEWADDR, 0, address_header(AF_INET6, 3)).attribute(IFA_ADDRESS, six.bytes.data(), 16);
    auto changes = d.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kAddressAdded);
    CHECK(changes[0].address == six);
}

TEST(only_default_routes_of_the_main_table_count) {
    RtnetlinkDecoder decoder;
    const uint32_t oif = 5;
    Datagram d;
    d.message(RTM_NEWROUTE, 0, route(AF_INET, 24))  // a connected route: comes with its address
        .message(RTM_NEWROUTE, 0, route(AF_INET, 0, RT_TABLE_LOCAL))
        .message(RTM_DELROUTE, 0, route(AF_INET6, 0))
        .attribute(RTA_OIF, &oif, 4);
    auto changes = d.decode(decoder);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].kind == Kind::kRouteRemoved);
    CHECK_EQ(changes[0].ifindex, 5);
}

TEST(hostile_or_truncated_messages_are_skipped_not_trusted) {
    RtnetlinkDecoder decoder;
    bool clean = true;
    // A length that runs past the datagram.
    Datagram overlong;
    overlong.message(RTM_NEWLINK, 0, link(7, 0));
    overlong.bytes()[0] = 0xFF;
    CHECK(overlong.decode(decoder, &clean).empty());
    CHECK(!clean);
    // A header shorter than nlmsghdr.
    Datagram tiny;
    tiny.message(RTM_NEWLINK, 0, link(7, 0));
    const uint32_t four = 4;
    std::memcpy(tiny.bytes().data(), &four, 4);
    CHECK(tiny.decode(decoder, &clean).empty());
    CHECK(!clean);
    // An address attribute of the wrong size, then a good message in the same datagram.
    const IpAddress ok = ipv4("10.0.0.9");
    Datagram mixed;
    mixed.message(RTM_DELADDR, 0, address_header(AF_INET, 2)).attribute(IFA_LOCAL, ok.bytes.data(), 3);
    mixed.message(RTM_DELADDR, 0, address_header(AF_INET, 2)).attribute(IFA_LOCAL, ok.bytes.data(), 4);
    auto changes = mixed.decode(decoder, &clean);
    CHECK(!clean);
    REQUIRE_EQ(changes.size(), size_t{1});
    CHECK(changes[0].address == ok);
    // An attribute whose length overruns its message.
    Datagram bad_attr;
    bad_attr.message(RTM_NEWADDR, 0, address_header(AF_INET, 2)).attribute(IFA_LOCAL, ok.bytes.data(), 4);
    bad_attr.bytes()[sizeof(nlmsghdr) + NLMSG_ALIGN(sizeof(ifaddrmsg))] = 200;
    CHECK(bad_attr.decode(decoder, &clean).empty());
    CHECK(!clean);
    // A body too short for its struct, and an empty datagram.
    std::vector<uint8_t> short_body(sizeof(nlmsghdr) + 2, 0);
    nlmsghdr header{};
    header.nlmsg_len = static_cast<uint32_t>(short_body.size());
    header.nlmsg_type = RTM_NEWROUTE;
    std::memcpy(short_body.data(), &header, sizeof header);
    std::vector<NetworkChange> out;
    CHECK(!decoder.decode(short_body.data(), short_body.size(), &out));
    CHECK(decoder.decode(nullptr, 0, &out));
    CHECK(out.empty());
}

TEST(the_link_table_is_bounded) {
    RtnetlinkDecoder decoder;
    for (int i = 1; i <= static_cast<int>(RtnetlinkDecoder::kMaxLinks) + 100; ++i) {
        Datagram d;
        d.message(RTM_NEWLINK, 0, link(i, kUsable));
        d.decode(decoder);
    }
    CHECK_EQ(decoder.known_links(), RtnetlinkDecoder::kMaxLinks);
}

namespace {
struct Counting final : NetworkWatcher::Subscriber {
    virtual ~Counting() = default;
    int batches = 0;
    std::function<void()> during;
    void on_network_changes(const std::vector<NetworkChange>&) override {
        ++batches;
        if (during) during();
    }
};
}  // namespace

TEST(the_watcher_fans_out_and_survives_unsubscribing_during_a_dispatch) {
    MonotonicClock clock;
    EventLoop loop(clock);
    loop.run_once(Duration::zero());
    NetworkWatcher& watcher = NetworkWatcher::of(loop);
    Counting a, b, c;
    auto ea = watcher.subscribe(loop, &a);
    auto eb = watcher.subscribe(loop, &b);
    auto ec = watcher.subscribe(loop, &c);
    // a removes b (its neighbour) and itself while the batch is being delivered.
    a.during = [&] {
        watcher.unsubscribe(eb);
        watcher.unsubscribe(ea);
    };
    const std::vector<NetworkChange> batch{{Kind::kLinkUp, 3, {}}};
    watcher.dispatch(batch);
    CHECK_EQ(a.batches, 1);
    CHECK_EQ(b.batches, 0);
    CHECK_EQ(c.batches, 1);
    CHECK_EQ(watcher.subscribers(), size_t{1});
    watcher.dispatch(batch);
    CHECK_EQ(c.batches, 2);
    watcher.unsubscribe(ec);
    CHECK_EQ(watcher.subscribers(), size_t{0});
}

TEST(the_route_to_loopback_is_found_and_typed) {
    auto lo = SocketAddress::from_numeric("127.0.0.1", 9);
    REQUIRE(lo.has_value());
    const LocalPath path = local_path_to(*lo);
    CHECK(path.ifindex > 0);
    CHECK_EQ(path.type, int32_t{RL_CONNECTION_TYPE_ETHERNET});
}

TEST_MAIN()
