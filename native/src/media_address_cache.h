// Process-wide memory of the media address each signal server advertised last time. Knowing it
// before JOIN_OK lets a join send BIND in parallel with JOIN and finish in two round trips.
#ifndef ROOMLINK_MEDIA_ADDRESS_CACHE_H
#define ROOMLINK_MEDIA_ADDRESS_CACHE_H

#include <cstdint>
#include <optional>
#include <string>

#include "socket_util.h"

namespace roomlink {

std::optional<SocketAddress> cached_media_address(const std::string& server_host,
                                                  uint16_t server_port);
void remember_media_address(const std::string& server_host, uint16_t server_port,
                            const SocketAddress& media);

}  // namespace roomlink

#endif
