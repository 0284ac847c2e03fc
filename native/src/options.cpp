#include "options.h"

#include <cstddef>
#include <cstring>

#include "wire_codec.h"

namespace roomlink {
namespace {

// True if the host's struct is large enough to contain `field`.
#define RL_HAS_FIELD(opts, field) \
    ((opts)->struct_size >= offsetof(rl_engine_options, field) + sizeof((opts)->field))

// A numeric field's documented range, inclusive (README, "Configuration"); 0 outside it selects
// the default.
struct Range {
    int32_t min;
    int32_t max;
};

bool in_range(int32_t value, Range range) { return value >= range.min && value <= range.max; }

std::string range_text(Range range, const char* unit) {
    return std::to_string(range.min) + ".." + std::to_string(range.max) + unit;
}

// Reads an int32 field at `offset` if the host's struct holds it; false leaves *value alone.
bool read_field(const rl_engine_options* o, size_t offset, int32_t* value) {
    if (o->struct_size < offset + sizeof(int32_t)) {
        return false;  // older host: keep the default
    }
    std::memcpy(value, reinterpret_cast<const char*>(o) + offset, sizeof *value);
    return true;
}

bool read_millis(const rl_engine_options* o, size_t offset, const char* name, Range range,
                 Duration* out, std::string* error) {
    int32_t value = 0;
    if (!read_field(o, offset, &value) || value == 0) {
        return true;
    }
    if (!in_range(value, range)) {
        *error = std::string(name) + ": must be 0 (default) or " + range_text(range, " ms") +
                 ", got " + std::to_string(value);
        return false;
    }
    *out = millis(value);
    return true;
}

#define RL_READ_MILLIS(opts, field, range, target) \
    read_millis(opts, offsetof(rl_engine_options, field), #field, range, target, error)

// After the last answer the next healthy PING goes out up to one interval later; the rest of the
// timeout is left for fast PINGs should that one go unanswered.
bool check_timeout(const char* timeout_name, Duration timeout, const char* interval_name,
                   Duration interval, std::string* error) {
    if (to_millis(timeout) * 2 >= to_millis(interval) * 3) {
        return true;
    }
    *error = std::string(timeout_name) + ": must be at least 1.5 x " + interval_name + " (" +
             std::to_string(to_millis(timeout)) + " ms < 1.5 x " +
             std::to_string(to_millis(interval)) + " ms)";
    return false;
}

std::string utf8_problem(const char* name, const std::string& text, size_t min, size_t max) {
    if (text.size() < min || text.size() > max || !wire::is_valid_utf8(text)) {
        return std::string(name) + ": must be " + std::to_string(min) + ".." +
               std::to_string(max) + " bytes of UTF-8, got " + std::to_string(text.size()) +
               " bytes";
    }
    return std::string();
}

// The fields after backoff_jitter_explicit: TLS, plaintext and the media address override.
bool parse_transport_options(const rl_engine_options* o, EngineOptions* r, std::string* error) {
    int32_t plaintext = 0;
    read_field(o, offsetof(rl_engine_options, plaintext), &plaintext);
    if (plaintext != 0 && plaintext != 1) {
        *error = "plaintext: must be 0 (TLS) or 1, got " + std::to_string(plaintext);
        return false;
    }
    if (plaintext == 0) {
        std::string pem;
        if (RL_HAS_FIELD(o, tls_trusted_pem) && o->tls_trusted_pem != nullptr) {
            const size_t length = ::strnlen(o->tls_trusted_pem, kMaxTrustedPem + 1);
            if (length > kMaxTrustedPem) {
                *error = "tls_trusted_pem: longer than " + std::to_string(kMaxTrustedPem) + " bytes";
                return false;
            }
            pem.assign(o->tls_trusted_pem, length);
        }
        std::string why;
        r->tls = TlsContext::create(r->server_host, pem, &why);
        if (!r->tls) {
            *error = "tls_trusted_pem: " + why;
            return false;
        }
    }
    const char* host = RL_HAS_FIELD(o, media_host_override) ? o->media_host_override : nullptr;
    int32_t port = 0;
    read_field(o, offsetof(rl_engine_options, media_port_override), &port);
    if (host != nullptr) {
        const size_t length = ::strnlen(host, wire::kMaxMediaHost + 1);
        if (length == 0 || length > wire::kMaxMediaHost) {
            *error = "media_host_override: must be NULL (none) or 1.." +
                     std::to_string(wire::kMaxMediaHost) + " bytes";
            return false;
        }
        if (!in_range(port, {1, 65535})) {
            *error = "media_port_override: must be 1..65535 with media_host_override, got " +
                     std::to_string(port);
            return false;
        }
        r->media_host_override.assign(host, length);
        r->media_port_override = static_cast<uint16_t>(port);
    } else if (port != 0) {
        *error = "media_port_override: must be 0 without media_host_override, got " +
                 std::to_string(port);
        return false;
    }
    return true;
}

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
    options->backoff_jitter_explicit = 0;  // 0 in backoff_jitter_pct keeps meaning "default"
    options->max_peers = static_cast<int32_t>(d.max_peers);
    options->message_queue_limit = static_cast<int32_t>(d.message_queue_limit);
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
    *error = utf8_problem("app_key", r.app_key, 1, wire::kMaxAppKey);
    if (!error->empty()) {
        return false;
    }
    if (o->server_host == nullptr || o->server_host[0] == '\0') {
        *error = "server_host: required";
        return false;
    }
    r.server_host = o->server_host;
    if (r.server_host.size() > kMaxServerHost) {
        *error = "server_host: longer than " + std::to_string(kMaxServerHost) + " bytes";
        return false;
    }
    if (!in_range(o->server_port, {1, 65535})) {
        *error = "server_port: must be 1..65535, got " + std::to_string(o->server_port);
        return false;
    }
    r.server_port = static_cast<uint16_t>(o->server_port);

    constexpr Range keepalive{20, 10'000};
    constexpr Range silence{100, 60'000};
    if (!RL_READ_MILLIS(o, join_timeout_ms, (Range{100, 120'000}), &r.join_timeout) ||
        !RL_READ_MILLIS(o, signal_keepalive_ms, keepalive, &r.signal_keepalive) ||
        !RL_READ_MILLIS(o, signal_timeout_ms, silence, &r.signal_timeout) ||
        !RL_READ_MILLIS(o, media_keepalive_ms, keepalive, &r.media_keepalive) ||
        !RL_READ_MILLIS(o, media_timeout_ms, silence, &r.media_timeout) ||
        !RL_READ_MILLIS(o, reconnect_timeout_ms, (Range{1'000, 600'000}), &r.reconnect_timeout) ||
        !RL_READ_MILLIS(o, backoff_initial_ms, (Range{10, 60'000}), &r.backoff.initial) ||
        !RL_READ_MILLIS(o, backoff_max_ms, (Range{10, 300'000}), &r.backoff.max) ||
        !RL_READ_MILLIS(o, probe_interval_ms, (Range{20, 5'000}), &r.probe_interval)) {
        return false;
    }
    constexpr Range multiplier{100, 1000};
    int32_t value = 0;
    if (read_field(o, offsetof(rl_engine_options, backoff_multiplier_pct), &value) && value != 0) {
        if (!in_range(value, multiplier)) {
            *error = "backoff_multiplier_pct: must be 0 (default) or " + range_text(multiplier, "") +
                     ", got " + std::to_string(value);
            return false;
        }
        r.backoff.multiplier_pct = value;
    }
    // 0 % jitter is a real value, so a host says when its 0 means 0 rather than "default".
    constexpr Range jitter{0, 100};
    int32_t jitter_explicit = 0;
    read_field(o, offsetof(rl_engine_options, backoff_jitter_explicit), &jitter_explicit);
    if (read_field(o, offsetof(rl_engine_options, backoff_jitter_pct), &value) &&
        (value != 0 || jitter_explicit != 0)) {
        if (!in_range(value, jitter)) {
            *error = std::string("backoff_jitter_pct: must be ") +
                     (jitter_explicit != 0 ? "" : "0 (default) or ") + range_text(jitter, "") +
                     ", got " + std::to_string(value);
            return false;
        }
        r.backoff.jitter_pct = value;
    }
    if (read_field(o, offsetof(rl_engine_options, network_watcher_off), &value)) {
        if (value != 0 && value != 1) {
            *error = "network_watcher_off: must be 0 or 1, got " + std::to_string(value);
            return false;
        }
        r.network_watcher = value == 0;
    }
    constexpr Range peers{1, 1'000'000};
    if (read_field(o, offsetof(rl_engine_options, max_peers), &value) && value != 0) {
        if (!in_range(value, peers)) {
            *error = "max_peers: must be 0 (default) or " + range_text(peers, "") + ", got " +
                     std::to_string(value);
            return false;
        }
        r.max_peers = static_cast<size_t>(value);
    }
    constexpr Range queue_limit{16'384, 1'073'741'824};
    if (read_field(o, offsetof(rl_engine_options, message_queue_limit), &value) && value != 0) {
        if (!in_range(value, queue_limit)) {
            *error = "message_queue_limit: must be 0 (default) or " + range_text(queue_limit, "") +
                     ", got " + std::to_string(value);
            return false;
        }
        r.message_queue_limit = static_cast<uint64_t>(value);
    }
    if (!check_timeout("signal_timeout_ms", r.signal_timeout, "signal_keepalive_ms",
                       r.signal_keepalive, error) ||
        !check_timeout("media_timeout_ms", r.media_timeout, "media_keepalive_ms",
                       r.media_keepalive, error)) {
        return false;
    }
    if (r.backoff.max < r.backoff.initial) {
        *error = "backoff_max_ms: must be >= backoff_initial_ms (" +
                 std::to_string(to_millis(r.backoff.max)) + " < " +
                 std::to_string(to_millis(r.backoff.initial)) + ")";
        return false;
    }
    if (!parse_transport_options(o, &r, error)) {
        return false;
    }
    *out = std::move(r);
    return true;
}

bool check_join_arguments(const char* token, const char* channel, int64_t uid, std::string* error) {
    if (channel == nullptr) {
        *error = "channel: must not be NULL";
        return false;
    }
    *error = utf8_problem("channel", channel, 1, wire::kMaxChannel);
    if (error->empty() && token != nullptr) {
        *error = utf8_problem("token", token, 0, wire::kMaxToken);
    }
    if (error->empty() && uid < 0) {
        *error = "uid: must be >= 0, got " + std::to_string(uid);
    }
    return error->empty();
}

bool check_message_arguments(int32_t directed, int64_t to_uid, const uint8_t* data,
                             int32_t length, std::string* error) {
    if (directed != 0 && directed != 1) {
        *error = "directed: must be 0 or 1, got " + std::to_string(directed);
    } else if (to_uid < 0) {
        *error = "to_uid: must be >= 0, got " + std::to_string(to_uid);
    } else if (data == nullptr) {
        *error = "data: must not be NULL";
    } else if (length < 1 || static_cast<size_t>(length) > wire::kMaxMessageData) {
        *error = "length: must be 1.." + std::to_string(wire::kMaxMessageData) + ", got " +
                 std::to_string(length);
    } else {
        error->clear();
    }
    return error->empty();
}

bool check_renew_token(const char* token, std::string* error) {
    if (token == nullptr) {
        *error = "token: must not be NULL";
        return false;
    }
    *error = utf8_problem("token", token, 0, wire::kMaxToken);
    return error->empty();
}

}  // namespace roomlink
