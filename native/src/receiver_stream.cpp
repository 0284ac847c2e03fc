#include "receiver_stream.h"

namespace roomlink {

void ReceiverStream::reset_session() {
    last_processed_ = 0;
    last_accepted_ = 0;
    next_item_ = 1;
    acked_ = 0;
    first_unacked_at_ = TimePoint{};
}

void ReceiverStream::begin_connection(uint64_t first_item) {
    next_item_ = first_item;
    last_accepted_ = last_processed_;
}

ReceiverStream::Verdict ReceiverStream::on_item() {
    const uint64_t number = next_item_++;
    if (number <= last_accepted_) {
        return Verdict::kDuplicate;
    }
    if (number != last_accepted_ + 1) {
        return Verdict::kGap;
    }
    last_accepted_ = number;
    return Verdict::kAccept;
}

void ReceiverStream::processed(TimePoint now) {
    if (last_processed_ >= last_accepted_) {
        return;
    }
    if (last_processed_ == acked_) {
        first_unacked_at_ = now;
    }
    ++last_processed_;
}

std::optional<TimePoint> ReceiverStream::ack_deadline() const {
    if (last_processed_ == acked_) {
        return std::nullopt;
    }
    return first_unacked_at_ + millis(kAckDelayMs);
}

uint64_t ReceiverStream::take_ack() {
    acked_ = last_processed_;
    return acked_;
}

}  // namespace roomlink
