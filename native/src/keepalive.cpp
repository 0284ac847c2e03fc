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

void RttEstimator::sample(Duration rtt) {
    if (rtt < Duration::zero()) {
        return;
    }
    if (!measured_) {
        measured_ = true;
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        return;
    }
    // rttvar first, from the old srtt (RFC 6298, 2.3).
    const Duration deviation = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = rttvar_ - rttvar_ / 4 + deviation / 4;
    srtt_ = srtt_ - srtt_ / 8 + rtt / 8;
}

Duration RttEstimator::rto(Duration floor) const {
    return measured_ ? std::max(floor, srtt_ + 4 * rttvar_) : floor;
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

void KeepaliveSchedule::rtt_sample(Duration rtt) { rtt_.sample(rtt); }

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
    // An answer later than the rto is unlikely to come: ask again, as TCP retransmits.
    Duration delay = rto();
    if (timing_.timeout > Duration::zero()) {
        // However slow the path, leave most of the timeout for the fast pings.
        delay = std::min(delay, timing_.timeout / 4);
    }
    return delay;
}

Duration KeepaliveSchedule::silence_threshold() const {
    if (!adaptive() || !rtt_.measured() || timing_.timeout <= Duration::zero()) {
        // Nothing measured to adapt to (or no fast pings to fill the window): the configured value.
        return timing_.timeout;
    }
    const Duration window =
        timing_.healthy + suspect_delay() + kFastProbes * fast_interval() + rto();
    return std::min(timing_.timeout, window);
}

KeepaliveSchedule::Action KeepaliveSchedule::due(TimePoint now) {
    if (judges_silence() && now >= last_heard_ + silence_threshold()) {
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
        wake = std::min(wake, last_heard_ + silence_threshold());
    }
    if (adaptive() && !fast_ && awaiting_) {
        wake = std::min(wake, last_ping_ + suspect_delay());
    }
    return wake;
}

}  // namespace roomlink
