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

    // Null (and *error set) if no session could be made. `peer` (the server's address as text)
    // keys session resumption: the context offers the ticket `peer` gave last, and keeps the
    // ones this connection receives; empty: no resumption. `context` must outlive the stream.
    static std::unique_ptr<TlsStream> open(const TlsContext& context, int fd, std::string* error,
                                           const std::string& peer = std::string());
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    Result handshake();
    Result read(uint8_t* buffer, size_t capacity);
    Result write(const uint8_t* data, size_t length);
    // Decrypted bytes already held in the session: readable without the socket signalling.
    bool pending() const;
    // Whether the completed handshake resumed a session (no certificate was sent).
    bool resumed() const;

    // For the context's new-session callback (tls_context.cpp): keeps a ticket of this peer.
    void on_new_session(SSL_SESSION* session);

private:
    TlsStream(SSL* ssl, const TlsContext& context, const std::string& peer)
        : ssl_(ssl), context_(context), peer_(peer) {}
    Result outcome(int rc, size_t bytes, const char* what) const;
    Result finish_handshake();

    SSL* ssl_;
    const TlsContext& context_;
    std::string peer_;
};

}  // namespace roomlink

#endif
