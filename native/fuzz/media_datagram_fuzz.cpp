// One UDP datagram as a media receiver gets it: header check, then AEAD open under the golden
// vectors' keys (docs/vectors/protocol.txt, mediaSecret 10..1f), so the seeds are authentic
// datagrams and their mutations probe the tag check; then the replay window.
//
// Invariants: only a 48-byte datagram opens; what opens re-seals to exactly the same bytes (so no
// bit of it went unauthenticated); the replay window accepts an authentic counter at most once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_check.h"
#include "media_cipher.h"
#include "replay_window.h"
#include "wire_codec.h"

using namespace roomlink;
using namespace roomlink::wire;

namespace {

constexpr uint64_t kVectorMediaKey = 0x0123456789abcdefULL;

MediaKeys vector_keys() {
    MediaSecret secret{};
    for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0x10 + i);
    return derive_media_keys(kVectorMediaKey, secret);
}

void check_direction(MediaCipher& cipher, ReplayWindow& window, const uint8_t* data, size_t size) {
    std::optional<MediaPacket> packet = cipher.open(data, size);
    if (!packet) {
        return;
    }
    RL_FUZZ_CHECK(size == kMediaPacketSize);
    RL_FUZZ_CHECK(decode_media_header(data, size).has_value());
    const uint8_t type = static_cast<uint8_t>(packet->type);
    RL_FUZZ_CHECK(type >= 1 && type <= 4);
    MediaDatagram again{};
    RL_FUZZ_CHECK(cipher.seal(*packet, &again));
    RL_FUZZ_CHECK(std::equal(again.begin(), again.end(), data));
    if (window.fresh(packet->counter)) {
        window.accept(packet->counter);
        RL_FUZZ_CHECK(!window.fresh(packet->counter));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxDatagram) {
        return 0;  // the socket reads at most kMaxDatagram bytes
    }
    static const MediaKeys keys = vector_keys();
    static MediaCipher c2s(keys.client_to_server);
    static MediaCipher s2c(keys.server_to_client);
    ReplayWindow window;  // per input: the invariant holds whatever came before
    check_direction(c2s, window, data, size);
    check_direction(s2c, window, data, size);
    if (!decode_media_header(data, size)) {
        RL_FUZZ_CHECK(!c2s.open(data, size).has_value());
    }
    return 0;
}
