#include "socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roomlink {

std::optional<SocketAddress> SocketAddress::from_numeric(const std::string& host, uint16_t port) {
    SocketAddress a;
    std::string literal = host;
    if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
        literal = literal.substr(1, literal.size() - 2);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    if (inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.length = sizeof(sockaddr_in);
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.length = sizeof(sockaddr_in6);
        return a;
    }
    return std::nullopt;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* addr, socklen_t length) {
    SocketAddress a;
    if (length > sizeof a.storage) {
        length = sizeof a.storage;
    }
    std::memcpy(&a.storage, addr, length);
    a.length = length;
    return a;
}

bool SocketAddress::is_unspecified() const {
    if (family() == AF_INET) {
        return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    if (family() == AF_INET6) {
        return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
    }
    return false;
}

SocketAddress SocketAddress::with_port(uint16_t port) const {
    SocketAddress a = *this;
    if (family() == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
    } else if (family() == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
    }
    return a;
}

std::string SocketAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = "?";
    if (family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    if (family() == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
    }
    return "<unknown address>";
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
    if (a.family() != b.family()) {
        return false;
    }
    if (a.family() == AF_INET) {
        const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage);
        const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a.family() == AF_INET6) {
        const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
        const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
        return x->sin6_port == y->sin6_port &&
               std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
               x->sin6_scope_id == y->sin6_scope_id;
    }
    return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset(other.release());
    }
    return *this;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

UniqueFd start_tcp_connect(const SocketAddress& to, bool* in_progress, int* error) {
    UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd.valid()) {
        *error = errno;
        return UniqueFd();
    }
    int one = 1;
    // Signaling frames are small and latency-bound: never let Nagle hold them back.
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc;
    do {
        rc = ::connect(fd.get(), to.sockaddr_ptr(), to.length);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
        *in_progress = false;
        return fd;
    }
    if (errno == EINPROGRESS) {
        *in_progress = true;
        return fd;
    }
    *error = errno;
    return UniqueFd();
}

UniqueFd open_connected_udp(const SocketAddress& to, int* error) {
    UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
    if (!fd.valid()) {
        *error = errno;
        return UniqueFd();
    }
    if (::connect(fd.get(), to.sockaddr_ptr(), to.length) != 0) {
        *error = errno;
        return UniqueFd();
    }
    return fd;
}

int pending_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

std::string error_text(int error) {
    char buffer[128];
    // GNU strerror_r returns the message pointer (which may or may not be buffer).
    return std::string(strerror_r(error, buffer, sizeof buffer));
}

}  // namespace roomlink
