// The client side of TLS for signaling, shared by every connection of one engine: an OpenSSL
// SSL_CTX that speaks TLS 1.3 only and trusts exactly the anchors it was given, plus the server
// name every connection checks (SNI, and the certificate's DNS or IP subjectAltName). Engines
// given the same PEM share one SSL_CTX: the JVM's ~150 anchors cost a few hundred KiB, once per
// process rather than once per engine.
#ifndef ROOMLINK_TLS_CONTEXT_H
#define ROOMLINK_TLS_CONTEXT_H

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

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
    // allocation failure (with *error set).
    SSL* new_session(std::string* error) const;
    const std::string& server_name() const { return name_; }

private:
    TlsContext() = default;

    std::shared_ptr<Shared> shared_;  // the SSL_CTX, shared by every context with the same PEM
    std::string name_;      // without IPv6 brackets
    bool name_is_ip_ = false;
};

// The last OpenSSL errors of this thread as text (and clears them): for logs and close reasons.
std::string take_tls_errors();

}  // namespace roomlink

#endif
