#include "media_address_cache.h"

#include <memory>
#include <mutex>
#include <unordered_map>

namespace roomlink {
namespace {

struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, SocketAddress> by_server;
};

// Leaked on purpose, like the loop pool: loop threads may still use it while the process exits.
Cache& cache() {
    static Cache* const instance = std::make_unique<Cache>().release();
    return *instance;
}

std::string key(const std::string& host, uint16_t port) {
    return host + "|" + std::to_string(port);
}

}  // namespace

std::optional<SocketAddress> cached_media_address(const std::string& server_host,
                                                  uint16_t server_port) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.by_server.find(key(server_host, server_port));
    if (it == c.by_server.end()) {
        return std::nullopt;
    }
    return it->second;
}

void remember_media_address(const std::string& server_host, uint16_t server_port,
                            const SocketAddress& media) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.by_server[key(server_host, server_port)] = media;
}

}  // namespace roomlink
