// One client TLS session over a connected nonblocking socket the caller owns and polls. Every
// call returns at once: kWantRead / kWantWrite say what the socket must become before the same
// call can make progress (OpenSSL's WANT_READ / WANT_WRITE), so the owner's event loop drives it.
#ifndef ROOMLINK_TLS_STREAM_H
#define ROOMLINK_TLS_STREAM_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tls_context.h"

namespace roomlink {

class TlsStream {
public:
    enum class Status {
        kDone,       // handshake complete, or `bytes` were read / written
        kWantRead,   // retry once the socket is readable
        kWantWrite,  // retry once the socket is writable
        kClosed,     // the peer closed the connection (close_notify or TCP EOF)
        kFailed,     // `why` says what: a certificate check, a protocol alert, a socket error
    };
    struct Result {
        Status status = Status::kFailed;
        size_t bytes = 0;
        std::string why;
    };

    // Null (and *error set) if no session could be made.
    static std::unique_ptr<TlsStream> open(const TlsContext& context, int fd, std::string* error);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    Result handshake();
    Result read(uint8_t* buffer, size_t capacity);
    Result write(const uint8_t* data, size_t length);
    // Decrypted bytes already held in the session: readable without the socket signalling.
    bool pending() const;

private:
    explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
    Result outcome(int rc, size_t bytes, const char* what) const;

    SSL* ssl_;
};

}  // namespace roomlink

#endif
