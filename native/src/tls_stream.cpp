#include "tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include "socket_util.h"

namespace roomlink {
namespace {

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE on a reset connection and
// would kill a host that does not ignore it. This one sends with MSG_NOSIGNAL, as the plaintext
// path does.
int socket_of(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int bio_write(BIO* bio, const char* data, size_t length, size_t* written) {
    BIO_clear_retry_flags(bio);
    ssize_t n;
    do {
        n = ::send(socket_of(bio), data, length, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_write(bio);
        }
        return 0;
    }
    *written = static_cast<size_t>(n);
    return 1;
}

int bio_read(BIO* bio, char* buffer, size_t capacity, size_t* read_bytes) {
    BIO_clear_retry_flags(bio);
    ssize_t n;
    do {
        n = ::recv(socket_of(bio), buffer, capacity, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_read(bio);
        }
        return 0;
    }
    if (n == 0) {
        errno = 0;  // EOF: SSL_ERROR_SYSCALL with errno 0
        return 0;
    }
    *read_bytes = static_cast<size_t>(n);
    return 1;
}

long bio_ctrl(BIO*, int command, long, void*) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* socket_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "roomlink socket");
        if (m != nullptr) {
            BIO_meth_set_write_ex(m, bio_write);
            BIO_meth_set_read_ex(m, bio_read);
            BIO_meth_set_ctrl(m, bio_ctrl);
            BIO_meth_set_create(m, bio_create);
        }
        return m;
    }();
    return method;
}

}  // namespace

int tls_stream_ex_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// SSL_CTX_sess_set_new_cb: a TLS 1.3 NewSessionTicket arrived (during a read after the handshake).
int tls_stream_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* stream = static_cast<TlsStream*>(SSL_get_ex_data(ssl, tls_stream_ex_index()));
    if (stream == nullptr) {
        return 0;  // not ours to keep: OpenSSL frees it
    }
    stream->on_new_session(session);
    return 0;  // OpenSSL keeps (and frees) its own
}

void TlsStream::on_new_session(SSL_SESSION* session) {
    // A copy: OpenSSL marks the connection's own session unresumable when the connection ends
    // without close_notify (SSL_free of an unshut session), which is how a reconnect begins.
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    if (copy != nullptr) {
        context_.store_session(peer_, copy);
    }
}

std::unique_ptr<TlsStream> TlsStream::open(const TlsContext& context, int fd, std::string* error,
                                           const std::string& peer) {
    SSL* ssl = context.new_session(peer, error);
    if (ssl == nullptr) {
        return nullptr;
    }
    std::unique_ptr<TlsStream> stream(new TlsStream(ssl, context, peer));
    if (tls_stream_ex_index() < 0 || SSL_set_ex_data(ssl, tls_stream_ex_index(), stream.get()) != 1) {
        *error = "cannot create a TLS session: " + take_tls_errors();
        return nullptr;
    }
    const BIO_METHOD* method = socket_method();
    BIO* bio = method == nullptr ? nullptr : BIO_new(method);
    if (bio == nullptr) {
        *error = "cannot attach TLS to the socket: " + take_tls_errors();
        return nullptr;
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
    SSL_set_bio(ssl, bio, bio);  // the session owns it now
    SSL_set_connect_state(ssl);
    return stream;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream::Result TlsStream::outcome(int rc, size_t bytes, const char* what) const {
    Result r;
    if (rc == 1) {
        r.status = Status::kDone;
        r.bytes = bytes;
        return r;
    }
    const int saved_errno = errno;
    switch (SSL_get_error(ssl_, rc)) {
        case SSL_ERROR_WANT_READ:
            r.status = Status::kWantRead;
            return r;
        case SSL_ERROR_WANT_WRITE:
            r.status = Status::kWantWrite;
            return r;
        case SSL_ERROR_ZERO_RETURN:
            r.status = Status::kClosed;
            return r;
        case SSL_ERROR_SYSCALL:
            ERR_clear_error();
            if (saved_errno == 0 || saved_errno == EPIPE) {
                r.status = Status::kClosed;  // TCP EOF without close_notify
                return r;
            }
            r.status = Status::kFailed;
            r.why = std::string(what) + ": " + error_text(saved_errno);
            return r;
        default: {
            r.status = Status::kFailed;
            const long verify = SSL_get_verify_result(ssl_);
            if (verify != X509_V_OK) {
                // The chain or the name check failed: say which, it is what an operator needs.
                r.why = std::string(what) + ": certificate rejected: " +
                        X509_verify_cert_error_string(verify);
                ERR_clear_error();
            } else {
                const std::string errors = take_tls_errors();
                r.why = std::string(what) + ": " + (errors.empty() ? "TLS error" : errors);
            }
            return r;
        }
    }
}

TlsStream::Result TlsStream::handshake() {
    ERR_clear_error();
    errno = 0;
    Result r = outcome(SSL_do_handshake(ssl_), 0, "TLS handshake");
    if (r.status == Status::kDone) {
        return finish_handshake();
    }
    if (r.status == Status::kFailed || r.status == Status::kClosed) {
        if (SSL_get_session(ssl_) != nullptr && SSL_session_reused(ssl_) == 0 && !peer_.empty()) {
            context_.forget_session(peer_);  // whatever was offered did not lead to a session
        }
    }
    return r;
}

TlsStream::Result TlsStream::finish_handshake() {
    Result r;
    r.status = Status::kDone;
    const bool resumed = SSL_session_reused(ssl_) == 1;
    if (resumed) {
        // A resumed session carries the certificate its full handshake verified; it was only offered
        // through this context (same anchors, same name), but check the name again all the same:
        // resumption must never be a way around the certificate checks.
        X509* cert = SSL_get0_peer_certificate(ssl_);
        const std::string& name = context_.server_name();
        const bool named =
            cert != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK &&
            (context_.name_is_ip() ? X509_check_ip_asc(cert, name.c_str(), 0) == 1
                                   : X509_check_host(cert, name.c_str(), name.size(),
                                                     X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1);
        if (!named) {
            context_.forget_session(peer_);
            r.status = Status::kFailed;
            r.why = "TLS handshake: resumed session's certificate does not name " + name;
            ERR_clear_error();
            return r;
        }
    }
    context_.count_handshake(resumed);
    return r;
}

bool TlsStream::resumed() const { return SSL_session_reused(ssl_) == 1; }

TlsStream::Result TlsStream::read(uint8_t* buffer, size_t capacity) {
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    const int rc = SSL_read_ex(ssl_, buffer, capacity, &n);  // before n is read
    return outcome(rc, n, "TLS read");
}

TlsStream::Result TlsStream::write(const uint8_t* data, size_t length) {
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    const int rc = SSL_write_ex(ssl_, data, length, &n);  // before n is read
    return outcome(rc, n, "TLS write");
}

bool TlsStream::pending() const { return SSL_pending(ssl_) > 0; }

}  // namespace roomlink
