// The server's side of one mediaKey in the C++ test servers: opens what the client sealed
// (client-to-server key, replay window) and seals answers (server-to-client key, own counter),
// exactly as docs/PROTOCOL.md has the real server do.
#ifndef ROOMLINK_TEST_MEDIA_SERVER_KEY_H
#define ROOMLINK_TEST_MEDIA_SERVER_KEY_H

#include <cstdint>
#include <optional>

#include "media_cipher.h"
#include "replay_window.h"
#include "wire_codec.h"

namespace test {

// The secret the media-only tests (no JOIN to carry one) key their paths with.
inline roomlink::wire::MediaSecret fixed_media_secret() {
    roomlink::wire::MediaSecret s{};
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(0xA0 + i);
    return s;
}

class MediaServerKey {
public:
    MediaServerKey(uint64_t media_key, const roomlink::wire::MediaSecret& secret)
        : key_(media_key),
          opener_(roomlink::derive_media_keys(media_key, secret).client_to_server),
          sealer_(roomlink::derive_media_keys(media_key, secret).server_to_client) {}

    // The client's datagram if authentic and fresh (the window then moves).
    std::optional<roomlink::wire::MediaPacket> open(const uint8_t* data, size_t size) {
        auto p = opener_.open(data, size);
        if (!p || p->media_key != key_ || !replay_.fresh(p->counter)) return std::nullopt;
        replay_.accept(p->counter);
        return p;
    }

    roomlink::wire::MediaDatagram seal(roomlink::wire::MediaType type, uint32_t seq, uint64_t echo_ns) {
        roomlink::wire::MediaPacket p{type, key_, counter_++, seq, echo_ns};
        roomlink::wire::MediaDatagram out{};
        sealer_.seal(p, &out);
        return out;
    }

private:
    uint64_t key_;
    roomlink::MediaCipher opener_;
    roomlink::MediaCipher sealer_;
    roomlink::ReplayWindow replay_;
    uint64_t counter_ = 1;
};

}  // namespace test

#endif
