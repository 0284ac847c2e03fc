// The AEAD of media datagrams (docs/PROTOCOL.md, "Media packets"): per-session keys derived with
// HKDF-SHA256 from the client's mediaSecret, AES-128-GCM per datagram with the sender's counter
// as nonce and the clear header as associated data. OpenSSL 3 does the cryptography.
#ifndef ROOMLINK_MEDIA_CIPHER_H
#define ROOMLINK_MEDIA_CIPHER_H

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "wire_codec.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace roomlink {

using AeadKey = std::array<uint8_t, 16>;

struct MediaKeys {
    AeadKey client_to_server{};  // seals BIND and PING
    AeadKey server_to_client{};  // seals BIND_ACK and PONG
};

// HKDF-SHA256(salt = mediaKey as u64, IKM = secret, info = "roomlink media c2s" / "... s2c").
MediaKeys derive_media_keys(uint64_t media_key, const wire::MediaSecret& secret);

// 16 bytes from OpenSSL's CSPRNG; false if it could not be seeded (then nothing may be keyed).
bool random_media_secret(wire::MediaSecret* out);

// One direction's key. Not thread-safe: each engine's media path (on its loop) owns its own.
class MediaCipher {
public:
    explicit MediaCipher(const AeadKey& key);
    ~MediaCipher();
    MediaCipher(const MediaCipher&) = delete;
    MediaCipher& operator=(const MediaCipher&) = delete;

    // The sealed datagram of `packet` (its counter is the nonce: never seal two with one counter).
    // False only if OpenSSL failed.
    bool seal(const wire::MediaPacket& packet, wire::MediaDatagram* out);
    // The packet, if `data` is a well-formed datagram whose tag verifies under this key.
    std::optional<wire::MediaPacket> open(const uint8_t* data, size_t size);

private:
    struct CtxFree {
        void operator()(EVP_CIPHER_CTX* ctx) const;
    };
    std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
    AeadKey key_;
};

}  // namespace roomlink

#endif
