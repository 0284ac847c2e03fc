// The client side of TLS for signaling, shared by every connection of one engine: an OpenSSL
// SSL_CTX that speaks TLS 1.3 only and trusts exactly the anchors it was given, plus the server
// name every connection checks (SNI, and the certificate's DNS or IP subjectAltName). Engines
// given the same PEM share one SSL_CTX: the JVM's ~150 anchors cost a few hundred KiB, once per
// process rather than once per engine.
//
// Session resumption: each context (one per engine) keeps the last TLS 1.3 session ticket each
// server address gave it, and offers it on the next connection to that address: a reconnect or
// re-join then skips the server's certificate and signature (the key exchange still runs, so
// forward secrecy holds). Tickets are never shared between contexts, so a ticket is only offered
// for the same server name and trust anchors its full handshake verified; a resumed session's
// certificate is checked against the name again all the same (tls_stream.cpp).
#ifndef ROOMLINK_TLS_CONTEXT_H
#define ROOMLINK_TLS_CONTEXT_H

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace roomlink {

class TlsContext {
public:
    // trusted_pem: one or more PEM certificates (trust anchors); empty uses OpenSSL's default
    // verify paths (the system store), for hosts that drive the C ABI without a PEM.
    // server_host: what the certificate must name, a DNS name or an IP literal ("[::1]" too).
    // Returns null and sets *error ("<why>", no field name) if the PEM holds no usable certificate.
    static std::shared_ptr<const TlsContext> create(const std::string& server_host,
                                                    const std::string& trusted_pem,
                                                    std::string* error);
    ~TlsContext();
    struct Shared;  // one SSL_CTX and its trust store (tls_context.cpp)
    // For tests: whether two contexts share one SSL_CTX.
    bool shares_anchors_with(const TlsContext& other) const { return shared_ == other.shared_; }
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // A fresh client SSL for one connection, with SNI and hostname/IP verification set; null on
    // allocation failure (with *error set). Offers the session last stored for `peer` (an
    // address as text; empty: none).
    SSL* new_session(const std::string& peer, std::string* error) const;
    const std::string& server_name() const { return name_; }
    bool name_is_ip() const { return name_is_ip_; }

    // Keeps `session` (ownership taken) as the one to offer `peer` next; at most kMaxPeers peers.
    void store_session(const std::string& peer, SSL_SESSION* session) const;
    // Drops what `peer` gave (after a failed handshake that offered it).
    void forget_session(const std::string& peer) const;

    // Handshakes completed through this context, and of those, the resumed ones (tests, logs).
    uint64_t full_handshakes() const { return full_handshakes_.load(std::memory_order_relaxed); }
    uint64_t resumed_handshakes() const { return resumed_handshakes_.load(std::memory_order_relaxed); }
    void count_handshake(bool resumed) const {
        (resumed ? resumed_handshakes_ : full_handshakes_).fetch_add(1, std::memory_order_relaxed);
    }

    static constexpr size_t kMaxPeers = 8;

private:
    TlsContext() = default;
    struct SessionFree {
        void operator()(SSL_SESSION* session) const;
    };
    using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

    std::shared_ptr<Shared> shared_;  // the SSL_CTX, shared by every context with the same PEM
    std::string name_;      // without IPv6 brackets
    bool name_is_ip_ = false;
    mutable std::mutex sessions_mutex_;
    mutable std::map<std::string, SessionPtr> sessions_;  // by peer address
    mutable std::atomic<uint64_t> full_handshakes_{0};
    mutable std::atomic<uint64_t> resumed_handshakes_{0};
};

// The ex_data slot of an SSL that points at its owner (a TlsStream), for the new-session callback.
int tls_stream_ex_index();

// The last OpenSSL errors of this thread as text (and clears them): for logs and close reasons.
std::string take_tls_errors();

}  // namespace roomlink

#endif
