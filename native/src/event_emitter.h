// The typed face of rl_event_fn. This is the only C++ place that knows how each event is laid out
// in the callback's a/b/x/y/z arguments (roomlink.h documents the layout for hosts; the Java SDK
// decodes it in one place, io.roomlink.internal.NativeEventRouter). A new event type starts here.
#ifndef ROOMLINK_EVENT_EMITTER_H
#define ROOMLINK_EVENT_EMITTER_H

#include <cstddef>
#include <cstdint>

#include "clock.h"
#include "roomlink/roomlink.h"

namespace roomlink {

struct EventSink {
    rl_event_fn fn = nullptr;
    void* user = nullptr;
};

class EventEmitter {
public:
    explicit EventEmitter(EventSink sink) : sink_(sink) {}

    // From now on nothing reaches the sink (the engine is shutting down).
    void close() { closed_ = true; }
    bool closed() const { return closed_; }

    void state_changed(int32_t state, int32_t reason) {
        emit(RL_EVENT_STATE_CHANGED, state, reason);
    }
    // channel_id is 0 when the join failed.
    void join_result(int32_t result, uint64_t channel_id, int64_t elapsed_ms, int64_t uid) {
        emit(RL_EVENT_JOIN_RESULT, result, 0, static_cast<int64_t>(channel_id), elapsed_ms, uid);
    }
    void rejoin_result(int32_t result, uint64_t channel_id) {
        emit(RL_EVENT_REJOIN_RESULT, result, 0, static_cast<int64_t>(channel_id));
    }
    void leave_result(int32_t result) { emit(RL_EVENT_LEAVE_RESULT, result); }
    void reconnecting_start() { emit(RL_EVENT_RECONNECTING_START); }
    void disconnect(int32_t code) { emit(RL_EVENT_DISCONNECT, code); }
    void user_joined(uint64_t uid) {
        emit(RL_EVENT_USER_JOINED, 0, 0, static_cast<int64_t>(uid));
    }
    void user_left(uint64_t uid, int32_t reason) {
        emit(RL_EVENT_USER_LEFT, reason, 0, static_cast<int64_t>(uid));
    }
    void token_will_expire(uint64_t expires_at) {
        emit(RL_EVENT_TOKEN_WILL_EXPIRE, 0, 0, static_cast<int64_t>(expires_at));
    }
    void renew_token_result(int32_t result, uint64_t expires_at) {
        emit(RL_EVENT_RENEW_TOKEN_RESULT, result, 0, static_cast<int64_t>(expires_at));
    }
    void connection_type(int32_t type) { emit(RL_EVENT_CONNECTION_TYPE, type); }
    // `data` is valid only during the callback (the host copies it).
    void message(uint64_t from_uid, uint8_t target, const uint8_t* data, size_t length) {
        emit(RL_EVENT_MESSAGE, static_cast<int32_t>(length), target,
             static_cast<int64_t>(from_uid),
             static_cast<int64_t>(reinterpret_cast<intptr_t>(data)));
    }
    void messages_undelivered(size_t count, int32_t reason) {
        emit(RL_EVENT_MESSAGES_UNDELIVERED, static_cast<int32_t>(count), reason);
    }

private:
    void emit(int32_t type, int32_t a = 0, int32_t b = 0, int64_t x = 0, int64_t y = 0,
              int64_t z = 0) {
        if (closed_ || sink_.fn == nullptr) {
            return;
        }
        sink_.fn(sink_.user, type, a, b, x, y, z, monotonic_ns());
    }

    const EventSink sink_;
    bool closed_ = false;
};

}  // namespace roomlink

#endif
