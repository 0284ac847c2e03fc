// TlsContext + TlsStream against an in-process OpenSSL server over a nonblocking socket pair:
// the handshake driven through WANT_READ/WANT_WRITE, data both ways, and the certificate checks
// (chain, DNS name, IP address) the client must make.
#include "tls_stream.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "test_support.h"
#include "tls_context.h"

namespace {

// A self-signed ECDSA P-256 certificate naming localhost and 127.0.0.1, with its key.
struct Identity {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    std::string pem;

    Identity() {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name,
                                                  "DNS:localhost,IP:127.0.0.1");
        X509_add_ext(cert, san, -1);
        X509_EXTENSION_free(san);
        X509_sign(cert, key, EVP_sha256());
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(bio, cert);
        char* data = nullptr;
        long length = BIO_get_mem_data(bio, &data);
        pem.assign(data, static_cast<size_t>(length));
        BIO_free(bio);
    }
    ~Identity() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

Identity& server_identity() {
    static Identity identity;
    return identity;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Pair {
    int client = -1;
    int server = -1;
    Pair() {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        client = fds[0];
        server = fds[1];
        set_nonblocking(client);
        set_nonblocking(server);
    }
    ~Pair() {
        close(client);
        close(server);
    }
};

SSL_CTX* new_server_ctx(const Identity& identity) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate(ctx, identity.cert);
    SSL_CTX_use_PrivateKey(ctx, identity.key);
    return ctx;
}

struct Server {
    SSL_CTX* ctx;
    SSL* ssl;
    explicit Server(int fd) : Server(fd, nullptr) {}
    // On `shared` (a server's context kept across connections: its ticket keys) when not null.
    Server(int fd, SSL_CTX* shared) {
        if (shared != nullptr) {
            SSL_CTX_up_ref(shared);
            ctx = shared;
        } else {
            ctx = new_server_ctx(server_identity());
        }
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_accept_state(ssl);
    }
    ~Server() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
};

using roomlink::TlsStream;

// Steps both sides until the client's handshake settles; returns its last result.
TlsStream::Result handshake(TlsStream& client, Server& server) {
    TlsStream::Result r;
    for (int i = 0; i < 100; ++i) {
        r = client.handshake();
        if (r.status != TlsStream::Status::kWantRead && r.status != TlsStream::Status::kWantWrite) {
            return r;
        }
        SSL_do_handshake(server.ssl);
        ERR_clear_error();
    }
    return r;
}

// A client TlsStream for `host`, trusting `pem`, on one end of a socket pair, and the test's
// server on the other; members in the order they must be torn down in reverse.
struct Connection {
    std::string error;
    std::shared_ptr<const roomlink::TlsContext> context;
    Pair pair;
    Server server{pair.server};
    std::unique_ptr<TlsStream> client;

    Connection(const std::string& host, const std::string& pem) {
        context = roomlink::TlsContext::create(host, pem, &error);
        REQUIRE(context != nullptr);
        client = TlsStream::open(*context, pair.client, &error);
        REQUIRE(client != nullptr);
    }

    TlsStream::Result handshake() { return ::handshake(*client, server); }
};

TlsStream::Result connect_as(const std::string& host, const std::string& pem, std::string* sni) {
    Connection c(host, pem);
    TlsStream::Result r = c.handshake();
    if (sni != nullptr) {
        const char* name = SSL_get_servername(c.server.ssl, TLSEXT_NAMETYPE_host_name);
        *sni = name != nullptr ? name : "";
    }
    return r;
}

// One connection of `context` to a server on `server_ctx` as `peer`: the handshake, then reads
// that take the server's session tickets. Returns the handshake's result.
TlsStream::Result connect_to(const roomlink::TlsContext& context, SSL_CTX* server_ctx,
                             const std::string& peer, bool* resumed) {
    std::string error;
    Pair pair;
    Server server(pair.server, server_ctx);
    auto client = TlsStream::open(context, pair.client, &error, peer);
    REQUIRE(client != nullptr);
    TlsStream::Result r = handshake(*client, server);
    *resumed = false;
    if (r.status != TlsStream::Status::kDone) {
        return r;
    }
    *resumed = client->resumed();
    uint8_t buffer[64];
    for (int i = 0; i < 10; ++i) {
        SSL_do_handshake(server.ssl);  // reads the client's Finished, sends the tickets
        ERR_clear_error();
        CHECK(client->read(buffer, sizeof buffer).status == TlsStream::Status::kWantRead);
    }
    return r;
}

struct ServerCtx {
    SSL_CTX* ctx;
    explicit ServerCtx(const Identity& identity) : ctx(new_server_ctx(identity)) {}
    ~ServerCtx() { SSL_CTX_free(ctx); }
};

}  // namespace

TEST(a_reconnect_resumes_the_session_from_the_servers_ticket) {
    std::string error;
    auto context = roomlink::TlsContext::create("localhost", server_identity().pem, &error);
    REQUIRE(context != nullptr);
    ServerCtx server(server_identity());
    bool resumed = true;
    REQUIRE(connect_to(*context, server.ctx, "10.0.0.1:7000", &resumed).status == TlsStream::Status::kDone);
    CHECK(!resumed);  // the first: a full handshake
    for (int i = 0; i < 3; ++i) {
        REQUIRE(connect_to(*context, server.ctx, "10.0.0.1:7000", &resumed).status ==
                TlsStream::Status::kDone);
        CHECK(resumed);  // each on the ticket the one before received
    }
    CHECK_EQ(context->full_handshakes(), uint64_t{1});
    CHECK_EQ(context->resumed_handshakes(), uint64_t{3});
    // Another address of the context has no ticket yet.
    REQUIRE(connect_to(*context, server.ctx, "10.0.0.2:7000", &resumed).status == TlsStream::Status::kDone);
    CHECK(!resumed);
    // Without a peer (no key) nothing is offered or kept.
    REQUIRE(connect_to(*context, server.ctx, "", &resumed).status == TlsStream::Status::kDone);
    CHECK(!resumed);
}

TEST(tickets_stay_with_their_context_so_the_name_is_still_checked) {
    std::string error;
    auto good = roomlink::TlsContext::create("localhost", server_identity().pem, &error);
    auto wrong = roomlink::TlsContext::create("example.com", server_identity().pem, &error);
    REQUIRE(good && wrong);
    REQUIRE(good->shares_anchors_with(*wrong));  // one SSL_CTX, yet separate tickets
    ServerCtx server(server_identity());
    bool resumed = false;
    REQUIRE(connect_to(*good, server.ctx, "10.0.0.1:7000", &resumed).status == TlsStream::Status::kDone);
    REQUIRE(connect_to(*good, server.ctx, "10.0.0.1:7000", &resumed).status == TlsStream::Status::kDone);
    REQUIRE(resumed);
    TlsStream::Result r = connect_to(*wrong, server.ctx, "10.0.0.1:7000", &resumed);
    CHECK(r.status == TlsStream::Status::kFailed);  // full handshake: the name does not match
    CHECK(r.why.find("certificate rejected") != std::string::npos);
}

TEST(a_server_that_cannot_resume_gets_the_full_checks) {
    std::string error;
    auto context = roomlink::TlsContext::create("localhost", server_identity().pem, &error);
    REQUIRE(context != nullptr);
    bool resumed = false;
    {
        ServerCtx server(server_identity());
        REQUIRE(connect_to(*context, server.ctx, "10.0.0.1:7000", &resumed).status ==
                TlsStream::Status::kDone);
    }
    // The same address now answered by an untrusted server (other keys, other ticket keys).
    Identity other;
    ServerCtx impostor(other);
    TlsStream::Result r = connect_to(*context, impostor.ctx, "10.0.0.1:7000", &resumed);
    CHECK(r.status == TlsStream::Status::kFailed);
    CHECK(r.why.find("certificate rejected") != std::string::npos);
    // A restarted genuine server (new ticket keys): a full handshake, verified, then resumable.
    ServerCtx restarted(server_identity());
    REQUIRE(connect_to(*context, restarted.ctx, "10.0.0.1:7000", &resumed).status ==
            TlsStream::Status::kDone);
    CHECK(!resumed);
    REQUIRE(connect_to(*context, restarted.ctx, "10.0.0.1:7000", &resumed).status ==
            TlsStream::Status::kDone);
    CHECK(resumed);
}

TEST(handshake_then_data_both_ways) {
    Connection c("localhost", server_identity().pem);
    TlsStream::Result r = c.handshake();
    REQUIRE(r.status == TlsStream::Status::kDone);
    CHECK_EQ(std::string(SSL_get_version(c.server.ssl)), std::string("TLSv1.3"));

    const char hello[] = "JOIN frame bytes";
    r = c.client->write(reinterpret_cast<const uint8_t*>(hello), sizeof hello);
    REQUIRE(r.status == TlsStream::Status::kDone);
    CHECK_EQ(r.bytes, sizeof hello);  // the count is the call's, not a stale one
    char got[64] = {};
    int n = 0;
    for (int i = 0; i < 100 && n <= 0; ++i) {
        n = SSL_read(c.server.ssl, got, sizeof got);
    }
    REQUIRE_EQ(n, static_cast<int>(sizeof hello));
    CHECK(std::memcmp(got, hello, sizeof hello) == 0);

    uint8_t buffer[64];
    r = c.client->read(buffer, sizeof buffer);
    CHECK(r.status == TlsStream::Status::kWantRead);  // nothing sent yet (session tickets only)
    const char answer[] = "JOIN_OK";
    REQUIRE(SSL_write(c.server.ssl, answer, sizeof answer) == static_cast<int>(sizeof answer));
    for (int i = 0; i < 10; ++i) {
        r = c.client->read(buffer, sizeof buffer);
        if (r.status != TlsStream::Status::kWantRead) break;
    }
    REQUIRE(r.status == TlsStream::Status::kDone);
    REQUIRE_EQ(r.bytes, sizeof answer);
    CHECK(std::memcmp(buffer, answer, sizeof answer) == 0);

    SSL_shutdown(c.server.ssl);
    for (int i = 0; i < 10; ++i) {
        r = c.client->read(buffer, sizeof buffer);
        if (r.status != TlsStream::Status::kWantRead) break;
    }
    CHECK(r.status == TlsStream::Status::kClosed);
}

TEST(sends_sni_for_names_only) {
    std::string sni;
    CHECK(connect_as("localhost", server_identity().pem, &sni).status == TlsStream::Status::kDone);
    CHECK_EQ(sni, std::string("localhost"));
    CHECK(connect_as("127.0.0.1", server_identity().pem, &sni).status == TlsStream::Status::kDone);
    CHECK_EQ(sni, std::string(""));
}

TEST(a_certificate_for_another_name_or_address_is_rejected) {
    TlsStream::Result r = connect_as("example.com", server_identity().pem, nullptr);
    CHECK(r.status == TlsStream::Status::kFailed);
    CHECK(r.why.find("certificate rejected") != std::string::npos);
    r = connect_as("127.0.0.2", server_identity().pem, nullptr);
    CHECK(r.status == TlsStream::Status::kFailed);
    CHECK(r.why.find("certificate rejected") != std::string::npos);
}

TEST(a_certificate_outside_the_trust_anchors_is_rejected) {
    Identity other;
    TlsStream::Result r = connect_as("localhost", other.pem, nullptr);
    CHECK(r.status == TlsStream::Status::kFailed);
    CHECK(r.why.find("certificate rejected") != std::string::npos);
}

TEST(a_pem_without_certificates_is_refused) {
    std::string error;
    CHECK(roomlink::TlsContext::create("localhost", "garbage", &error) == nullptr);
    CHECK_EQ(error, std::string("holds no PEM certificate"));
}

TEST(engines_with_the_same_anchors_share_one_ssl_ctx) {
    std::string error;
    auto a = roomlink::TlsContext::create("localhost", server_identity().pem, &error);
    auto b = roomlink::TlsContext::create("127.0.0.1", server_identity().pem, &error);
    Identity other;
    auto c = roomlink::TlsContext::create("localhost", other.pem, &error);
    REQUIRE(a && b && c);
    CHECK(a->shares_anchors_with(*b));
    CHECK(!a->shares_anchors_with(*c));
    CHECK_EQ(b->server_name(), std::string("127.0.0.1"));  // the name stays each one's own
    // b still checks its own name against the shared anchors.
    TlsStream::Result r = connect_as("127.0.0.1", server_identity().pem, nullptr);
    CHECK(r.status == TlsStream::Status::kDone);
}

TEST_MAIN()
