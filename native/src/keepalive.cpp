#include "keepalive.h"

#include <algorithm>

namespace roomlink {

bool FastPingBudget::take(TimePoint now) {
    if (now > refilled_) {
        const double seconds = std::chrono::duration<double>(now - refilled_).count();
        tokens_ = std::min<double>(kBurst, tokens_ + seconds * kPerSecond);
        refilled_ = now;
    }
    if (tokens_ < 1.0) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

void KeepaliveSchedule::start(KeepaliveTiming timing, TimePoint now, SilenceVerdict verdict) {
    timing_ = timing;
    verdict_ = verdict;
    last_heard_ = now;
    last_ping_ = now;
    next_ping_ = now + timing_.healthy;
    awaiting_ = false;
    fast_ = false;
}

void KeepaliveSchedule::heard(TimePoint now) {
    last_heard_ = std::max(last_heard_, now);
    awaiting_ = false;
    if (fast_) {
        fast_ = false;
        next_ping_ = last_ping_ + timing_.healthy;
    }
}

void KeepaliveSchedule::rtt_sample(Duration rtt) {
    if (rtt < Duration::zero()) {
        return;
    }
    // RFC 6298's smoothing (alpha 1/8): one late PONG does not swing the suspect delay.
    srtt_ = srtt_ ? Duration(srtt_->count() - srtt_->count() / 8 + rtt.count() / 8) : rtt;
}

void KeepaliveSchedule::pinged(TimePoint now) {
    if (fast_) {
        ++fast_pings_;
    }
    last_ping_ = now;
    awaiting_ = true;
    next_ping_ = now + ping_interval();
}

Duration KeepaliveSchedule::fast_interval() const {
    return std::min(timing_.fast, timing_.healthy);
}

Duration KeepaliveSchedule::suspect_delay() const {
    Duration delay = kSuspectFloor;
    if (srtt_) {
        delay = std::max(delay, *srtt_ * kSuspectRttFactor);
    }
    if (timing_.timeout > Duration::zero()) {
        // However slow the path, leave most of the timeout for the fast pings.
        delay = std::min(delay, timing_.timeout / 4);
    }
    return delay;
}

KeepaliveSchedule::Action KeepaliveSchedule::due(TimePoint now) {
    if (judges_silence() && now >= last_heard_ + timing_.timeout) {
        return Action::kLost;
    }
    if (adaptive() && !fast_ && awaiting_ && now >= last_ping_ + suspect_delay()) {
        fast_ = true;
        fast_pings_ = 0;
        next_ping_ = now;  // the first fast ping goes out at once
    }
    return now >= next_ping_ ? Action::kPing : Action::kWait;
}

TimePoint KeepaliveSchedule::next_wakeup() const {
    TimePoint wake = next_ping_;
    if (judges_silence()) {
        wake = std::min(wake, last_heard_ + timing_.timeout);
    }
    if (adaptive() && !fast_ && awaiting_) {
        wake = std::min(wake, last_ping_ + suspect_delay());
    }
    return wake;
}

}  // namespace roomlink
