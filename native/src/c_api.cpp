// The extern "C" surface. Every entry point validates its arguments, converts to the C++ core and
// catches everything: no exception may cross into the host.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "engine.h"
#include "log.h"
#include "loop_pool.h"
#include "options.h"
#include "roomlink/roomlink.h"
#include "thread_slice.h"

struct rl_engine {
    std::shared_ptr<roomlink::Engine> engine;
};

namespace {

void copy_message(const std::string& text, char* msg, int32_t msg_len) {
    if (msg == nullptr || msg_len <= 0) {
        return;
    }
    size_t n = text.size() < static_cast<size_t>(msg_len - 1) ? text.size()
                                                               : static_cast<size_t>(msg_len - 1);
    std::memcpy(msg, text.data(), n);
    msg[n] = '\0';
}

void set_error(int32_t* error, int32_t code) {
    if (error != nullptr) {
        *error = code;
    }
}

// rl_last_error_message's text. A fixed buffer: nothing to destroy when a host thread exits.
thread_local char t_last_error[256];

void set_last_error(const std::string& text) { copy_message(text, t_last_error, sizeof t_last_error); }

// The one guard of the calls on an engine: NULL is an invalid argument, and no exception crosses
// into the host.
template <typename Handle, typename Call>
int32_t on_engine(Handle* engine, Call call) {
    try {
        if (engine == nullptr) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return call(*engine->engine);
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

// As on_engine, for calls whose arguments are checked first: `check` says what is wrong, which
// becomes rl_last_error_message (empty when all is well, also after a NULL engine is named).
template <typename Check, typename Call>
int32_t on_engine_checked(rl_engine* engine, Check check, Call call) {
    try {
        std::string why;
        if (engine == nullptr) {
            why = "engine: must not be NULL";
        } else {
            check(&why);
        }
        set_last_error(why);
        if (!why.empty()) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return call(*engine->engine);
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

}  // namespace

extern "C" {

RL_API void rl_options_init(rl_engine_options* options) {
    try {
        if (options != nullptr) {
            roomlink::init_c_options(options);
        }
    } catch (...) {
    }
}

RL_API int32_t rl_options_validate(const rl_engine_options* options, char* msg, int32_t msg_len) {
    try {
        roomlink::EngineOptions parsed;
        std::string error;
        if (!roomlink::parse_options(options, &parsed, &error)) {
            copy_message(error, msg, msg_len);
            return RL_ERR_INVALID_ARGUMENT;
        }
        copy_message("", msg, msg_len);
        return RL_OK;
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_runtime_set_loop_threads(int32_t threads) {
    try {
        if (threads < 1 || threads > roomlink::LoopPool::kMaxThreads) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return roomlink::LoopPool::configure(threads) ? RL_OK : RL_ERR_INTERNAL;
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_runtime_loop_threads(void) {
    try {
        return roomlink::LoopPool::running_threads();
    } catch (...) {
        return 0;
    }
}

RL_API rl_engine* rl_engine_create(const rl_engine_options* options, rl_event_fn fn, void* user,
                                   int32_t* error) {
    try {
        roomlink::EngineOptions parsed;
        std::string why;
        if (!roomlink::parse_options(options, &parsed, &why)) {
            RL_LOG(RL_LOG_ERROR, "rl_engine_create: invalid options: %s", why.c_str());
            set_last_error(why);
            set_error(error, RL_ERR_INVALID_ARGUMENT);
            return nullptr;
        }
        if (fn == nullptr) {
            RL_LOG(RL_LOG_ERROR, "rl_engine_create: event callback is NULL");
            set_last_error("fn: event callback must not be NULL");
            set_error(error, RL_ERR_INVALID_ARGUMENT);
            return nullptr;
        }
        set_last_error("");
        roomlink::EventLoop& loop = roomlink::LoopPool::shared().next_loop();
        auto handle = std::make_unique<rl_engine>();
        handle->engine = roomlink::Engine::create(std::move(parsed), loop, {fn, user});
        set_error(error, RL_OK);
        // Ownership passes to the host until rl_engine_destroy.
        return handle.release();
    } catch (...) {
        set_error(error, RL_ERR_INTERNAL);
        return nullptr;
    }
}

RL_API int32_t rl_engine_join(rl_engine* engine, const char* token, const char* channel,
                              int64_t uid) {
    return on_engine_checked(
        engine, [&](std::string* why) { roomlink::check_join_arguments(token, channel, uid, why); },
        [&](roomlink::Engine& e) {
            // NULL token is accepted as the empty token (debug-mode servers accept any token).
            return e.join(token == nullptr ? std::string() : std::string(token), std::string(channel), uid);
        });
}

RL_API int32_t rl_engine_renew_token(rl_engine* engine, const char* token) {
    return on_engine_checked(
        engine, [&](std::string* why) { roomlink::check_renew_token(token, why); },
        [&](roomlink::Engine& e) { return e.renew_token(std::string(token)); });
}

RL_API int32_t rl_engine_send_message(rl_engine* engine, int32_t directed, int64_t to_uid,
                                      const uint8_t* data, int32_t length) {
    return on_engine_checked(
        engine,
        [&](std::string* why) {
            roomlink::check_message_arguments(directed, to_uid, data, length, why);
        },
        [&](roomlink::Engine& e) { return e.send_message(directed, to_uid, data, length); });
}

RL_API int32_t rl_engine_leave(rl_engine* engine) {
    return on_engine(engine, [](roomlink::Engine& e) { return e.leave(); });
}

RL_API int32_t rl_engine_get_state(const rl_engine* engine) {
    return on_engine(engine, [](roomlink::Engine& e) { return e.state(); });
}

RL_API int32_t rl_engine_notify_network_changed(rl_engine* engine) {
    return on_engine(engine, [](roomlink::Engine& e) {
        e.notify_network_changed();
        return int32_t{RL_OK};
    });
}

RL_API void rl_engine_destroy(rl_engine* engine) {
    try {
        if (engine == nullptr) {
            return;
        }
        std::unique_ptr<rl_engine> owned(engine);  // back from the host
        owned->engine->shutdown();
    } catch (...) {
    }
}

RL_API void rl_set_log_callback(rl_log_fn fn, int32_t min_level) {
    try {
        roomlink::set_log_sink(fn, min_level);
    } catch (...) {
    }
}

RL_API const char* rl_last_error_message(void) { return t_last_error; }

// ROOMLINK_VERSION comes from CMakeLists.txt, which takes it from the root pom.xml.
RL_API const char* rl_version(void) { return ROOMLINK_VERSION; }

RL_API int64_t rl_monotonic_ns(void) { return roomlink::monotonic_ns(); }

RL_API int32_t rl_thread_set_latency_slice(int64_t slice_ns) {
    const std::chrono::nanoseconds slice(slice_ns);
    if (slice_ns != 0 && (slice < roomlink::kMinThreadSlice || slice > roomlink::kMaxThreadSlice)) {
        return RL_ERR_INVALID_ARGUMENT;
    }
    if (int err = roomlink::set_current_thread_slice(slice)) {
        RL_LOG(RL_LOG_WARN, "could not set this thread's scheduling slice: %s", std::strerror(err));
        return RL_ERR_INTERNAL;
    }
    return RL_OK;
}

}  // extern "C"
