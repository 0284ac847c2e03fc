#include "message_queue.h"

namespace roomlink {

bool MessageBudget::try_reserve(uint64_t bytes) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (bytes > limit_ || used > limit_ - bytes) {
            return false;
        }
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
    return true;
}

void MessageBudget::release(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_acq_rel); }

uint64_t MessageQueue::push(uint8_t target, uint64_t to_uid, std::vector<uint8_t> data) {
    const uint64_t seq = next_seq_++;
    bytes_ += data.size();
    queue_.push_back(Entry{seq, wire::MessageFrame{seq, target, to_uid, std::move(data)}});
    return seq;
}

std::vector<wire::MessageFrame> MessageQueue::take_unsent() {
    std::vector<wire::MessageFrame> out;
    out.reserve(queue_.size() - sent_);
    for (; sent_ < queue_.size(); ++sent_) {
        out.push_back(queue_[sent_].frame);
        highest_sent_ = queue_[sent_].seq;
    }
    return out;
}

bool MessageQueue::on_ack(uint64_t seq) {
    if (seq > highest_sent_) {
        return false;
    }
    while (!queue_.empty() && queue_.front().seq <= seq) {
        pop_front();
    }
    return true;
}

void MessageQueue::restart_after(uint64_t last_accepted) {
    sent_ = 0;
    while (!queue_.empty() && queue_.front().seq <= last_accepted) {
        pop_front();
    }
    uint64_t seq = last_accepted;
    for (auto& entry : queue_) {
        entry.seq = ++seq;
        entry.frame.seq = seq;
    }
    next_seq_ = seq + 1;
    highest_sent_ = last_accepted;
}

size_t MessageQueue::clear() {
    const size_t n = queue_.size();
    budget_.release(bytes_);
    bytes_ = 0;
    queue_.clear();
    sent_ = 0;
    return n;
}

void MessageQueue::pop_front() {
    const uint64_t size = queue_.front().frame.data.size();
    budget_.release(size);
    bytes_ -= size;
    queue_.pop_front();
    if (sent_ > 0) {
        --sent_;
    }
}

}  // namespace roomlink
