#include "tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <ctime>

#include <map>
#include <memory>
#include <mutex>

namespace roomlink {
namespace {

bool is_ip_literal(const std::string& host) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};

// Adds every certificate of `pem` to `store`; returns how many.
int add_pem_certificates(X509_STORE* store, const std::string& pem) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        return 0;
    }
    int added = 0;
    for (;;) {
        std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) {
            break;
        }
        // A duplicate anchor is harmless (the JVM's store may name one twice).
        if (X509_STORE_add_cert(store, cert.get()) == 1) {
            ++added;
        }
    }
    ERR_clear_error();  // the loop ends on "no start line"
    return added;
}

}  // namespace

// Defined in tls_stream.cpp: hands a new session ticket to the stream's context.
int tls_stream_new_session(SSL* ssl, SSL_SESSION* session);

struct TlsContext::Shared {
    SSL_CTX* ctx = nullptr;
    ~Shared() { SSL_CTX_free(ctx); }
};

namespace {

// Live SSL_CTXs by their PEM; entries whose contexts are gone are swept on each lookup.
std::mutex cache_mutex;
std::map<std::string, std::weak_ptr<TlsContext::Shared>>& cache() {
    static auto* contexts = new std::map<std::string, std::weak_ptr<TlsContext::Shared>>();
    return *contexts;
}

}  // namespace

std::string take_tls_errors() {
    std::string text;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.empty()) {
            text += "; ";
        }
        text += buffer;
    }
    return text;
}

std::shared_ptr<const TlsContext> TlsContext::create(const std::string& server_host,
                                                     const std::string& trusted_pem,
                                                     std::string* error) {
    // The library never reads openssl.cnf: behaviour must not depend on the host's configuration.
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    std::shared_ptr<TlsContext> context(new TlsContext());
    {
        std::lock_guard<std::mutex> lock(cache_mutex);
        for (auto it = cache().begin(); it != cache().end();) {
            it = it->second.expired() ? cache().erase(it) : std::next(it);
        }
        auto found = cache().find(trusted_pem);
        if (found != cache().end()) {
            context->shared_ = found->second.lock();
        }
        if (!context->shared_) {
            auto shared = std::make_shared<Shared>();
            shared->ctx = SSL_CTX_new(TLS_client_method());
            if (shared->ctx == nullptr) {
                *error = "cannot create a TLS context: " + take_tls_errors();
                return nullptr;
            }
            SSL_CTX* ctx = shared->ctx;
            SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
            // Writes come from a queue that may move between calls; a partial write resumes later.
            // An idle session (keepalive only) keeps no 16 KiB read and write buffers: they are
            // allocated per record and freed once it is through (idle session cost).
            SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                      SSL_MODE_RELEASE_BUFFERS);
            // Tickets go to the owning context (new_session_ticket below), not OpenSSL's cache: the
            // SSL_CTX is shared by engines, tickets are not.
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
            SSL_CTX_sess_set_new_cb(ctx, tls_stream_new_session);
            if (trusted_pem.empty()) {
                SSL_CTX_set_default_verify_paths(ctx);
            } else if (add_pem_certificates(SSL_CTX_get_cert_store(ctx), trusted_pem) == 0) {
                *error = "holds no PEM certificate";
                return nullptr;
            }
            cache()[trusted_pem] = shared;
            context->shared_ = std::move(shared);
        }
    }
    std::string name = server_host;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    context->name_ = name;
    context->name_is_ip_ = is_ip_literal(name);
    return context;
}

TlsContext::~TlsContext() = default;

void TlsContext::SessionFree::operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }

void TlsContext::store_session(const std::string& peer, SSL_SESSION* session) const {
    SessionPtr owned(session);
    if (peer.empty() || !SSL_SESSION_is_resumable(session)) {
        return;
    }
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    auto found = sessions_.find(peer);
    if (found != sessions_.end()) {
        found->second = std::move(owned);
        return;
    }
    if (sessions_.size() >= kMaxPeers) {
        sessions_.erase(sessions_.begin());
    }
    sessions_.emplace(peer, std::move(owned));
}

void TlsContext::forget_session(const std::string& peer) const {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    sessions_.erase(peer);
}

SSL* TlsContext::new_session(const std::string& peer, std::string* error) const {
    SSL* ssl = SSL_new(shared_->ctx);
    if (ssl == nullptr) {
        *error = "cannot create a TLS session: " + take_tls_errors();
        return nullptr;
    }
    if (!peer.empty()) {
        std::lock_guard<std::mutex> lock(sessions_mutex_);
        auto found = sessions_.find(peer);
        if (found != sessions_.end()) {
            if (SSL_SESSION_is_resumable(found->second.get()) &&
                SSL_SESSION_get_time(found->second.get()) + SSL_SESSION_get_timeout(found->second.get()) >
                    static_cast<long>(time(nullptr))) {
                SSL_set_session(ssl, found->second.get());  // takes its own reference
            } else {
                sessions_.erase(found);
            }
        }
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    bool ok;
    if (name_is_ip_) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, name_.c_str()) == 1;  // no SNI for literals
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = X509_VERIFY_PARAM_set1_host(param, name_.c_str(), name_.size()) == 1 &&
             SSL_set_tlsext_host_name(ssl, name_.c_str()) == 1;
    }
    if (!ok) {
        *error = "cannot set the TLS server name '" + name_ + "': " + take_tls_errors();
        SSL_free(ssl);
        return nullptr;
    }
    return ssl;
}

}  // namespace roomlink
