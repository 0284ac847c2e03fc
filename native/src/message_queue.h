// The sender queue of reliable room messages (docs/PROTOCOL.md, "Room messages"): what the app
// handed to rl_engine_send_message and the server has not acknowledged yet. Pure (no I/O).
//
// MessageBudget is the only part touched by app threads: the queue's payload bytes, reserved in
// the caller's thread before the message is posted to the loop (so RL_ERR_MESSAGE_QUEUE_FULL is
// exact whatever the threads do) and released on the loop when an ack or a clear drops it.
// MessageQueue itself is loop-only: it numbers the messages of the session (1, 2, 3, ...), keeps
// each until a cumulative MESSAGE_ACK covers it, and renumbers what is left when the server
// says where the session stands (RESUME_OK.lastAccepted; JOIN_OK: from 1).
#ifndef ROOMLINK_MESSAGE_QUEUE_H
#define ROOMLINK_MESSAGE_QUEUE_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "wire_codec.h"

namespace roomlink {

class MessageBudget {
public:
    explicit MessageBudget(uint64_t limit) : limit_(limit) {}
    // Any thread. False (nothing reserved) if used + bytes would exceed the limit.
    bool try_reserve(uint64_t bytes);
    // Any thread; releases what try_reserve reserved.
    void release(uint64_t bytes);
    uint64_t used() const { return used_.load(std::memory_order_acquire); }
    uint64_t limit() const { return limit_; }

private:
    const uint64_t limit_;
    std::atomic<uint64_t> used_{0};
};

class MessageQueue {
public:
    // Takes a message whose bytes are reserved in `budget`; numbers it (the next seq). The
    // budget must outlive the queue.
    explicit MessageQueue(MessageBudget& budget) : budget_(budget) {}
    ~MessageQueue() { clear(); }
    MessageQueue(const MessageQueue&) = delete;
    MessageQueue& operator=(const MessageQueue&) = delete;

    // Returns the seq given to it.
    uint64_t push(uint8_t target, uint64_t to_uid, std::vector<uint8_t> data);

    // The messages not yet sent on the current connection, in order, as frames; marks them sent.
    std::vector<wire::MessageFrame> take_unsent();
    bool has_unsent() const { return sent_ < queue_.size(); }

    // A cumulative MESSAGE_ACK. False if it covers a seq that was never sent (a hostile or
    // broken server); then nothing changes. Releases the acknowledged bytes.
    bool on_ack(uint64_t seq);

    // The server's word on where the session stands: every message numbered <= last_accepted
    // is taken (dropped, bytes released), the rest is numbered last_accepted + 1, ... and counts
    // as unsent (a new connection). RESUME_OK: its lastAccepted; JOIN_OK: 0 (a fresh session).
    void restart_after(uint64_t last_accepted);

    // Every message is unsent again, numbers kept (a connection is gone; the next answer
    // renumbers).
    void connection_lost() { sent_ = 0; }

    // Drops everything (the session ended); returns how many messages were dropped.
    size_t clear();

    size_t size() const { return queue_.size(); }
    bool empty() const { return queue_.empty(); }
    uint64_t bytes() const { return bytes_; }
    // The seq of the oldest message kept (0 if none).
    uint64_t front_seq() const { return queue_.empty() ? 0 : queue_.front().seq; }
    // The seq the next push gets.
    uint64_t next_seq() const { return next_seq_; }
    // The highest seq sent on this connection (or taken by the server), 0 if none.
    uint64_t highest_sent() const { return highest_sent_; }

private:
    struct Entry {
        uint64_t seq;
        wire::MessageFrame frame;  // frame.seq == seq
    };
    void pop_front();

    MessageBudget& budget_;
    std::deque<Entry> queue_;
    size_t sent_ = 0;  // queue_[0, sent_) went out on the current connection
    uint64_t next_seq_ = 1;
    uint64_t highest_sent_ = 0;
    uint64_t bytes_ = 0;
};

}  // namespace roomlink

#endif
