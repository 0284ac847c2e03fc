// Thin RAII and nonblocking helpers over POSIX sockets.
#ifndef ROOMLINK_SOCKET_UTIL_H
#define ROOMLINK_SOCKET_UTIL_H

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace roomlink {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    // Parses an IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); nullopt for host names.
    static std::optional<SocketAddress> from_numeric(const std::string& host, uint16_t port);
    static SocketAddress from_sockaddr(const sockaddr* addr, socklen_t length);

    int family() const { return storage.ss_family; }
    const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage); }
    bool is_unspecified() const;  // 0.0.0.0 or ::
    SocketAddress with_port(uint16_t port) const;
    std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"
};

bool operator==(const SocketAddress& a, const SocketAddress& b);
inline bool operator!=(const SocketAddress& a, const SocketAddress& b) { return !(a == b); }

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Starts a nonblocking TCP connect with TCP_NODELAY. On success *in_progress tells whether
// completion must be awaited (EPOLLOUT); on failure returns an invalid fd and sets *error.
UniqueFd start_tcp_connect(const SocketAddress& to, bool* in_progress, int* error);

// Nonblocking UDP socket connected to `to` (so only that peer's datagrams are received).
UniqueFd open_connected_udp(const SocketAddress& to, int* error);

int pending_socket_error(int fd);  // SO_ERROR, 0 if none
std::string error_text(int error);

}  // namespace roomlink

#endif
