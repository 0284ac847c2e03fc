#include "options.h"

#include <cstddef>
#include <cstring>

#include "wire_codec.h"

namespace roomlink {
namespace {

constexpr int32_t kMaxMillis = 24 * 3600 * 1000;

// True if the host's struct is large enough to contain `field`.
#define RL_HAS_FIELD(opts, field) \
    ((opts)->struct_size >= offsetof(rl_engine_options, field) + sizeof((opts)->field))

bool read_millis(const rl_engine_options* o, size_t offset, size_t size, const char* name,
                 Duration* out, std::string* error) {
    if (o->struct_size < offset + size) {
        return true;  // older host: keep the default
    }
    int32_t value;
    std::memcpy(&value, reinterpret_cast<const char*>(o) + offset, sizeof value);
    if (value < 0 || value > kMaxMillis) {
        *error = std::string(name) + ": must be 0 (default) or 1.." + std::to_string(kMaxMillis) +
                 " ms, got " + std::to_string(value);
        return false;
    }
    if (value > 0) {
        *out = millis(value);
    }
    return true;
}

#define RL_READ_MILLIS(opts, field, target) \
    read_millis(opts, offsetof(rl_engine_options, field), sizeof((opts)->field), #field, target, error)

}  // namespace

void init_c_options(rl_engine_options* options) {
    std::memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    EngineOptions d;
    options->join_timeout_ms = static_cast<int32_t>(to_millis(d.join_timeout));
    options->signal_keepalive_ms = static_cast<int32_t>(to_millis(d.signal_keepalive));
    options->signal_timeout_ms = static_cast<int32_t>(to_millis(d.signal_timeout));
    options->media_keepalive_ms = static_cast<int32_t>(to_millis(d.media_keepalive));
    options->media_timeout_ms = static_cast<int32_t>(to_millis(d.media_timeout));
    options->reconnect_timeout_ms = static_cast<int32_t>(to_millis(d.reconnect_timeout));
    options->backoff_initial_ms = static_cast<int32_t>(to_millis(d.backoff.initial));
    options->backoff_max_ms = static_cast<int32_t>(to_millis(d.backoff.max));
    options->backoff_multiplier_pct = d.backoff.multiplier_pct;
    options->backoff_jitter_pct = d.backoff.jitter_pct;
    options->probe_interval_ms = static_cast<int32_t>(to_millis(d.probe_interval));
}

bool parse_options(const rl_engine_options* o, EngineOptions* out, std::string* error) {
    if (o == nullptr) {
        *error = "options: must not be NULL";
        return false;
    }
    if (!RL_HAS_FIELD(o, server_port)) {
        *error = "struct_size: " + std::to_string(o->struct_size) +
                 " is too small to hold app_key, server_host and server_port";
        return false;
    }
    EngineOptions r;
    if (o->app_key == nullptr) {
        *error = "app_key: required";
        return false;
    }
    r.app_key = o->app_key;
    if (r.app_key.empty() || r.app_key.size() > wire::kMaxAppKey ||
        !wire::is_valid_utf8(r.app_key)) {
        *error = "app_key: must be 1..64 bytes of UTF-8, got " + std::to_string(r.app_key.size()) +
                 " bytes";
        return false;
    }
    if (o->server_host == nullptr || o->server_host[0] == '\0') {
        *error = "server_host: required";
        return false;
    }
    r.server_host = o->server_host;
    if (r.server_host.size() > 255) {
        *error = "server_host: longer than 255 bytes";
        return false;
    }
    if (o->server_port < 1 || o->server_port > 65535) {
        *error = "server_port: must be 1..65535, got " + std::to_string(o->server_port);
        return false;
    }
    r.server_port = static_cast<uint16_t>(o->server_port);

    if (!RL_READ_MILLIS(o, join_timeout_ms, &r.join_timeout) ||
        !RL_READ_MILLIS(o, signal_keepalive_ms, &r.signal_keepalive) ||
        !RL_READ_MILLIS(o, signal_timeout_ms, &r.signal_timeout) ||
        !RL_READ_MILLIS(o, media_keepalive_ms, &r.media_keepalive) ||
        !RL_READ_MILLIS(o, media_timeout_ms, &r.media_timeout) ||
        !RL_READ_MILLIS(o, reconnect_timeout_ms, &r.reconnect_timeout) ||
        !RL_READ_MILLIS(o, backoff_initial_ms, &r.backoff.initial) ||
        !RL_READ_MILLIS(o, backoff_max_ms, &r.backoff.max) ||
        !RL_READ_MILLIS(o, probe_interval_ms, &r.probe_interval)) {
        return false;
    }
    if (RL_HAS_FIELD(o, backoff_multiplier_pct) && o->backoff_multiplier_pct != 0) {
        if (o->backoff_multiplier_pct < 100 || o->backoff_multiplier_pct > 1000) {
            *error = "backoff_multiplier_pct: must be 0 (default) or 100..1000, got " +
                     std::to_string(o->backoff_multiplier_pct);
            return false;
        }
        r.backoff.multiplier_pct = o->backoff_multiplier_pct;
    }
    if (RL_HAS_FIELD(o, backoff_jitter_pct) && o->backoff_jitter_pct != 0) {
        if (o->backoff_jitter_pct < 0 || o->backoff_jitter_pct > 100) {
            *error = "backoff_jitter_pct: must be 0 (default) or 1..100, got " +
                     std::to_string(o->backoff_jitter_pct);
            return false;
        }
        r.backoff.jitter_pct = o->backoff_jitter_pct;
    }
    // Cross-field rules: a silence threshold at or below the ping interval would declare an
    // outage between two healthy pings.
    if (r.signal_timeout <= r.signal_keepalive) {
        *error = "signal_timeout_ms: must be greater than signal_keepalive_ms (" +
                 std::to_string(to_millis(r.signal_timeout)) + " <= " +
                 std::to_string(to_millis(r.signal_keepalive)) + ")";
        return false;
    }
    if (r.media_timeout <= r.media_keepalive) {
        *error = "media_timeout_ms: must be greater than media_keepalive_ms (" +
                 std::to_string(to_millis(r.media_timeout)) + " <= " +
                 std::to_string(to_millis(r.media_keepalive)) + ")";
        return false;
    }
    if (r.backoff.max < r.backoff.initial) {
        *error = "backoff_max_ms: must be >= backoff_initial_ms (" +
                 std::to_string(to_millis(r.backoff.max)) + " < " +
                 std::to_string(to_millis(r.backoff.initial)) + ")";
        return false;
    }
    *out = std::move(r);
    return true;
}

}  // namespace roomlink
