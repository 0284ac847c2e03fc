// One UDP datagram as the media path receives it. open_datagram is the single place that turns
// received bytes into a packet; when media datagrams gain AEAD, the open (authenticate and
// decrypt) step goes there, and the invariants below keep holding for what it returns.
//
// Invariants: only a well-formed datagram decodes; a decoded packet re-encodes to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_check.h"
#include "wire_codec.h"

using namespace roomlink::wire;

namespace {

std::optional<MediaPacket> open_datagram(const uint8_t* data, size_t size) {
    return decode_media(data, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxDatagram) {
        return 0;  // the socket reads at most kMaxDatagram bytes
    }
    std::optional<MediaPacket> packet = open_datagram(data, size);
    if (!packet) {
        return 0;
    }
    RL_FUZZ_CHECK(size == kMediaPacketSize);
    const uint8_t type = static_cast<uint8_t>(packet->type);
    RL_FUZZ_CHECK(type >= 1 && type <= 4);
    const auto again = encode_media(*packet);
    RL_FUZZ_CHECK(std::equal(again.begin(), again.end(), data));
    return 0;
}
