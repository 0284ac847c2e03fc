#include "media_cipher.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <string>

namespace roomlink {

namespace {

using Nonce = std::array<uint8_t, 12>;

Nonce nonce_of(uint64_t counter) {
    Nonce n{};
    for (int i = 0; i < 8; ++i) {
        n[4 + i] = static_cast<uint8_t>(counter >> (56 - 8 * i));
    }
    return n;
}

AeadKey hkdf(const std::array<uint8_t, 8>& salt, const wire::MediaSecret& ikm, const char* info) {
    AeadKey out{};
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) {
        return out;
    }
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == nullptr) {
        return out;
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest, 0),
        OSSL_PARAM_construct_octet_string("salt", const_cast<uint8_t*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_octet_string("key", const_cast<uint8_t*>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string("info", const_cast<char*>(info), std::strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(ctx, out.data(), out.size(), params) != 1) {
        out.fill(0);
    }
    EVP_KDF_CTX_free(ctx);
    return out;
}

}  // namespace

MediaKeys derive_media_keys(uint64_t media_key, const wire::MediaSecret& secret) {
    std::array<uint8_t, 8> salt{};
    for (int i = 0; i < 8; ++i) {
        salt[i] = static_cast<uint8_t>(media_key >> (56 - 8 * i));
    }
    MediaKeys keys;
    keys.client_to_server = hkdf(salt, secret, "roomlink media c2s");
    keys.server_to_client = hkdf(salt, secret, "roomlink media s2c");
    return keys;
}

bool random_media_secret(wire::MediaSecret* out) {
    return RAND_bytes(out->data(), static_cast<int>(out->size())) == 1;
}

void MediaCipher::CtxFree::operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }

MediaCipher::MediaCipher(const AeadKey& key) : ctx_(EVP_CIPHER_CTX_new()), key_(key) {
    // The key schedule is set once; each datagram only sets its nonce.
    if (ctx_ && EVP_CipherInit_ex(ctx_.get(), EVP_aes_128_gcm(), nullptr, key_.data(), nullptr,
                                  1) != 1) {
        ctx_.reset();
    }
}

MediaCipher::~MediaCipher() = default;

bool MediaCipher::seal(const wire::MediaPacket& packet, wire::MediaDatagram* out) {
    if (!ctx_) {
        return false;
    }
    wire::encode_media_layout(packet, *out);
    const Nonce nonce = nonce_of(packet.counter);
    uint8_t* header = out->data();
    uint8_t* payload = header + wire::kMediaHeaderSize;
    int len = 0;
    int tail = 0;
    EVP_CIPHER_CTX* c = ctx_.get();
    return EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce.data(), 1) == 1 &&
           EVP_CipherUpdate(c, nullptr, &len, header, static_cast<int>(wire::kMediaHeaderSize)) == 1 &&
           EVP_CipherUpdate(c, payload, &len, payload, static_cast<int>(wire::kMediaPayloadSize)) == 1 &&
           EVP_CipherFinal_ex(c, payload + len, &tail) == 1 &&
           EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(wire::kMediaTagSize),
                               payload + wire::kMediaPayloadSize) == 1;
}

std::optional<wire::MediaPacket> MediaCipher::open(const uint8_t* data, size_t size) {
    auto packet = wire::decode_media_header(data, size);
    if (!packet || !ctx_) {
        return std::nullopt;
    }
    const Nonce nonce = nonce_of(packet->counter);
    uint8_t plain[wire::kMediaPayloadSize];
    uint8_t tag[wire::kMediaTagSize];
    std::memcpy(tag, data + wire::kMediaHeaderSize + wire::kMediaPayloadSize, sizeof tag);
    int len = 0;
    int tail = 0;
    EVP_CIPHER_CTX* c = ctx_.get();
    // GCM's final step compares the tag in constant time.
    const bool ok =
        EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce.data(), 0) == 1 &&
        EVP_CipherUpdate(c, nullptr, &len, data, static_cast<int>(wire::kMediaHeaderSize)) == 1 &&
        EVP_CipherUpdate(c, plain, &len, data + wire::kMediaHeaderSize,
                         static_cast<int>(wire::kMediaPayloadSize)) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, static_cast<int>(sizeof tag), tag) == 1 &&
        EVP_CipherFinal_ex(c, plain + len, &tail) == 1;
    if (!ok) {
        return std::nullopt;
    }
    wire::decode_media_payload(plain, *packet);
    return packet;
}

}  // namespace roomlink
