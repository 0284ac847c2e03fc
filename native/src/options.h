// The C ABI's argument rules in one place: engine options (defaults, and validation that names
// the offending field) and join arguments.
#ifndef ROOMLINK_OPTIONS_H
#define ROOMLINK_OPTIONS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "backoff.h"
#include "clock.h"
#include "presence.h"
#include "roomlink/roomlink.h"
#include "tls_context.h"

namespace roomlink {

struct EngineOptions {
    std::string app_key;
    std::string server_host;
    uint16_t server_port = 0;
    Duration join_timeout = millis(10000);
    // Keepalive intervals while the path answers; an overdue PING switches that path to one every
    // keepalive_fast until it answers (keepalive.h).
    Duration signal_keepalive = millis(1000);
    Duration signal_timeout = millis(1500);
    Duration media_keepalive = millis(500);
    Duration media_timeout = millis(1500);
    Duration reconnect_timeout = millis(40000);
    BackoffPolicy backoff;  // initial 250 ms, max 5000 ms, x2.0, +/-20 %
    Duration probe_interval = millis(90);  // recovery within 2 RTT + 100 ms at p99 (issue 11)
    Duration bind_retransmit = millis(100);  // not configurable: protocol-level pacing
    // Not configurable; never slower than the intervals. Sets the clean-path silence threshold
    // with keepalive.h's kFastProbes (issue 11: 10 x 25 ms within 1 s at the defaults).
    Duration keepalive_fast = millis(25);
    Duration leave_linger = millis(1000);    // how long a LEAVE waits for LEAVE_OK
    bool network_watcher = true;             // react to the host's network events
    // Signaling's TLS client context, made from tls_trusted_pem for server_host; null when the
    // host chose plaintext. (Engines built in tests from EngineOptions directly are plaintext.)
    std::shared_ptr<const TlsContext> tls;
    std::string media_host_override;  // empty: the server's advertised media address
    uint16_t media_port_override = 0;
    size_t max_peers = kDefaultMaxPeers;     // the cap on known peers (presence.h)
    // Payload bytes of accepted, unacknowledged room messages (message_queue.h).
    uint64_t message_queue_limit = 1u << 20;
};

constexpr size_t kMaxTrustedPem = 4u << 20;

constexpr size_t kMaxServerHost = 255;  // a DNS name's limit

void init_c_options(rl_engine_options* options);

// Reads the fields that fit in options->struct_size, applies defaults for zeros and validates
// with the documented rules (README, "Configuration"; the Java builder checks the same early).
// On failure returns false and sets *error to "<field>: <why>".
bool parse_options(const rl_engine_options* options, EngineOptions* out, std::string* error);

// rl_engine_join's argument rules: channel 1..64 bytes and token 0..1024 bytes of UTF-8 (NULL
// token = empty), uid >= 0. On failure returns false and sets *error to "<argument>: <why>".
bool check_join_arguments(const char* token, const char* channel, int64_t uid, std::string* error);

// rl_engine_send_message's argument rules: directed 0 or 1, to_uid >= 0, data non-NULL,
// length 1..16384. On failure returns false and sets *error to "<argument>: <why>".
bool check_message_arguments(int32_t directed, int64_t to_uid, const uint8_t* data,
                             int32_t length, std::string* error);
// rl_engine_renew_token's token: not NULL, 0..1024 bytes of UTF-8.
bool check_renew_token(const char* token, std::string* error);

}  // namespace roomlink

#endif
