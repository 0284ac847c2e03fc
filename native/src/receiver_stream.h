// The receiver stream of one session (docs/PROTOCOL.md, "Room messages"): every PEER_JOINED,
// PEER_LEFT and ROOM_MESSAGE after a JOIN_OK / RESUME_OK is the next item, numbered implicitly
// per connection from the answer (1 after JOIN_OK and RESUME_OK(resumed=0), the RESUME's
// lastReceived + 1 after RESUME_OK(resumed=1)). This unit numbers the items, tells duplicates (a
// migration's replay of what the stalled connection delivered) and gaps (a server protocol error)
// apart, keeps last_processed across the connections of the session, and decides when a
// STREAM_ACK is due: within kAckDelay of the first unacknowledged item, or at once after
// kAckEvery of them. Pure: the engine owns the timer and the sending.
#ifndef ROOMLINK_RECEIVER_STREAM_H
#define ROOMLINK_RECEIVER_STREAM_H

#include <cstdint>
#include <optional>

#include "clock.h"

namespace roomlink {

class ReceiverStream {
public:
    static constexpr int64_t kAckDelayMs = 20;
    static constexpr uint64_t kAckEvery = 32;

    enum class Verdict { kAccept, kDuplicate, kGap };

    // A fresh session (JOIN_OK, RESUME_OK(resumed=0), or none at all): nothing processed yet.
    void reset_session();
    // A connection's answer: its first item is numbered first_item. Items accepted on an earlier
    // connection but not processed (held, then dropped with it) are forgotten.
    void begin_connection(uint64_t first_item);
    // The next item on the connection. kAccept: the item is numbered last_accepted()+1 and must
    // be processed, in order, with processed(). kDuplicate: already processed, drop it. kGap:
    // items are missing (the server broke the protocol).
    Verdict on_item();
    // The oldest accepted, unprocessed item has been processed at `now`.
    void processed(TimePoint now);

    uint64_t last_processed() const { return last_processed_; }
    uint64_t last_accepted() const { return last_accepted_; }
    // The server learnt last_processed another way (RESUME.lastReceived): no ack owed for it.
    void acknowledged_by_resume() { acked_ = last_processed_; }

    // A STREAM_ACK must go now (kAckEvery items unacknowledged).
    bool ack_due_now() const { return last_processed_ - acked_ >= kAckEvery; }
    // When the STREAM_ACK for what is processed falls due; nullopt if nothing is owed.
    std::optional<TimePoint> ack_deadline() const;
    // The value of the STREAM_ACK to send now (last_processed); the rest is acknowledged.
    uint64_t take_ack();

private:
    uint64_t last_processed_ = 0;
    uint64_t last_accepted_ = 0;  // processed or held for processing
    uint64_t next_item_ = 1;      // the number of the next item on the connection
    uint64_t acked_ = 0;
    TimePoint first_unacked_at_{};
};

}  // namespace roomlink

#endif
