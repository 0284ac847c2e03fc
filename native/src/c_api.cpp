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
    try {
        std::string why;
        if (engine == nullptr) {
            why = "engine: must not be NULL";
        } else {
            roomlink::check_join_arguments(token, channel, uid, &why);
        }
        set_last_error(why);
        if (!why.empty()) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        // NULL token is accepted as the empty token (debug-mode servers accept any token).
        return engine->engine->join(token == nullptr ? std::string() : std::string(token),
                                    std::string(channel), uid);
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_engine_renew_token(rl_engine* engine, const char* token) {
    try {
        std::string why;
        if (engine == nullptr) {
            why = "engine: must not be NULL";
        } else {
            roomlink::check_renew_token(token, &why);
        }
        set_last_error(why);
        if (!why.empty()) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return engine->engine->renew_token(std::string(token));
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_engine_leave(rl_engine* engine) {
    try {
        if (engine == nullptr) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return engine->engine->leave();
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_engine_get_state(const rl_engine* engine) {
    try {
        if (engine == nullptr) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        return engine->engine->state();
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
}

RL_API int32_t rl_engine_notify_network_changed(rl_engine* engine) {
    try {
        if (engine == nullptr) {
            return RL_ERR_INVALID_ARGUMENT;
        }
        engine->engine->notify_network_changed();
        return RL_OK;
    } catch (...) {
        return RL_ERR_INTERNAL;
    }
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
