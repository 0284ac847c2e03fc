// The media AEAD (media_cipher.h) beyond the golden vectors: direction keys differ, a datagram
// opens only under its own key, sealing is deterministic per counter, and the cost per datagram.
// With ROOMLINK_CIPHER_BENCH=<n> set, `cost_per_datagram` seals and opens n datagrams and prints
// "seal_ns=<x> open_ns=<y>" (the bench's "AEAD cost" row runs it so).
#include "media_cipher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_support.h"

using namespace roomlink;

namespace {

wire::MediaSecret secret_of(uint8_t seed) {
    wire::MediaSecret s{};
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(seed + i);
    return s;
}

}  // namespace

TEST(the_two_directions_and_two_keys_never_share_a_key) {
    MediaKeys a = derive_media_keys(1, secret_of(0));
    MediaKeys b = derive_media_keys(2, secret_of(0));  // same secret, another mediaKey
    MediaKeys c = derive_media_keys(1, secret_of(1));
    CHECK(a.client_to_server != a.server_to_client);
    CHECK(a.client_to_server != b.client_to_server);
    CHECK(a.client_to_server != c.client_to_server);
}

TEST(a_datagram_opens_only_under_its_own_key_and_header) {
    MediaKeys keys = derive_media_keys(7, secret_of(3));
    MediaCipher sealer(keys.client_to_server);
    MediaCipher opener(keys.client_to_server);
    MediaCipher other(derive_media_keys(7, secret_of(4)).client_to_server);
    wire::MediaDatagram d{};
    REQUIRE(sealer.seal(wire::MediaPacket{wire::MediaType::kBind, 7, 1, 2, 3}, &d));
    CHECK(opener.open(d.data(), d.size()).has_value());
    CHECK(!other.open(d.data(), d.size()).has_value());
    // The clear header is authenticated: another type, key or counter in it breaks the tag.
    for (size_t i : {size_t{3}, size_t{11}, size_t{19}}) {
        wire::MediaDatagram e = d;
        e[i] ^= 1;
        if (i == 3) e[i] = static_cast<uint8_t>(wire::MediaType::kPing);
        CHECK(!opener.open(e.data(), e.size()).has_value());
    }
    CHECK(!opener.open(d.data(), d.size() - 1).has_value());
}

TEST(the_same_counter_seals_the_same_bytes_and_another_counter_other_bytes) {
    MediaCipher c(derive_media_keys(9, secret_of(5)).client_to_server);
    wire::MediaDatagram x{};
    wire::MediaDatagram y{};
    wire::MediaDatagram z{};
    REQUIRE(c.seal(wire::MediaPacket{wire::MediaType::kPing, 9, 5, 1, 1}, &x));
    REQUIRE(c.seal(wire::MediaPacket{wire::MediaType::kPing, 9, 5, 1, 1}, &y));
    REQUIRE(c.seal(wire::MediaPacket{wire::MediaType::kPing, 9, 6, 1, 1}, &z));
    CHECK(x == y);  // which is why a sender never reuses a counter
    CHECK(!std::equal(x.begin() + 20, x.end(), z.begin() + 20));
}

TEST(cost_per_datagram) {
    const char* env = std::getenv("ROOMLINK_CIPHER_BENCH");
    const long n = env ? std::atol(env) : 20000;
    MediaKeys keys = derive_media_keys(11, secret_of(6));
    MediaCipher sealer(keys.client_to_server);
    MediaCipher opener(keys.client_to_server);
    wire::MediaDatagram d{};
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    for (long i = 1; i <= n; ++i) {
        sealer.seal(wire::MediaPacket{wire::MediaType::kPing, 11, static_cast<uint64_t>(i), 1, 2}, &d);
    }
    auto t1 = Clock::now();
    long opened = 0;
    for (long i = 1; i <= n; ++i) {
        opened += opener.open(d.data(), d.size()).has_value() ? 1 : 0;
    }
    auto t2 = Clock::now();
    CHECK_EQ(opened, n);
    const double seal_ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
    const double open_ns = std::chrono::duration<double, std::nano>(t2 - t1).count() / static_cast<double>(n);
    std::printf("seal_ns=%.1f open_ns=%.1f n=%ld\n", seal_ns, open_ns, n);
    CHECK(seal_ns < 50000 && open_ns < 50000);  // a sanity bound even for sanitizer builds; the bench has the figure
}

TEST_MAIN()
