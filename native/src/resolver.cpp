#include "resolver.h"

#include <netdb.h>

#include <memory>
#include <thread>

namespace roomlink {

std::vector<SocketAddress> resolve_blocking(const std::string& host, uint16_t port,
                                            std::string* error) {
    if (auto literal = SocketAddress::from_numeric(host, port)) {
        return {*literal};
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* raw = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &raw);
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(raw, &freeaddrinfo);
    std::vector<SocketAddress> out;
    if (rc != 0) {
        *error = std::string("cannot resolve '") + host + "': " + gai_strerror(rc);
        return out;
    }
    for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        SocketAddress a = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
        bool duplicate = false;
        for (const auto& seen : out) {
            duplicate = duplicate || seen == a;
        }
        if (!duplicate) {
            out.push_back(a);
        }
    }
    if (out.empty()) {
        *error = std::string("no address for '") + host + "'";
    }
    return out;
}

void resolve_async(EventLoop& loop, const std::string& host, uint16_t port,
                   ResolveCallback callback) {
    if (auto literal = SocketAddress::from_numeric(host, port)) {
        SocketAddress address = *literal;
        loop.post([callback = std::move(callback), address] { callback({address}, {}); });
        return;
    }
    EventLoop* target = &loop;
    std::thread([target, host, port, callback = std::move(callback)]() mutable {
        std::string error;
        std::vector<SocketAddress> addresses = resolve_blocking(host, port, &error);
        target->post([callback = std::move(callback), addresses = std::move(addresses),
                      error = std::move(error)]() mutable {
            callback(std::move(addresses), std::move(error));
        });
    }).detach();
}

}  // namespace roomlink
