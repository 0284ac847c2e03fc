#include "keepalive_driver.h"

namespace roomlink {

KeepaliveDriver::KeepaliveDriver(EventLoop& loop, Path& path, SilenceHandler* silence)
    : loop_(loop), path_(path), silence_(silence) {}

KeepaliveDriver::~KeepaliveDriver() { loop_.cancel(timer_); }

void KeepaliveDriver::start(KeepaliveTiming timing, TimePoint now) {
    schedule_.start(timing, now,
                    silence_ != nullptr ? SilenceVerdict::kReport : SilenceVerdict::kLeaveToOwner);
    running_ = true;
    loop_.cancel(timer_);
    tick();
}

void KeepaliveDriver::stop() {
    running_ = false;
    loop_.cancel(timer_);
}

void KeepaliveDriver::heard(TimePoint now) {
    if (!running_) {
        return;
    }
    schedule_.heard(now);
    // The answer moved the next thing to do: later (no suspect check due any more), or, with the
    // RTT sample that came with it, the silence threshold earlier. Re-arm rather than wake up for
    // nothing or too late.
    if (timer_ != 0 && schedule_.next_wakeup() != wake_) {
        arm();
    }
}

void KeepaliveDriver::pinged_out_of_turn() {
    if (!running_) {
        return;
    }
    schedule_.pinged(loop_.now());
    arm();
}

void KeepaliveDriver::tick() {
    timer_ = 0;
    if (!running_) {
        return;
    }
    const TimePoint now = loop_.now();
    KeepaliveSchedule::Action action = schedule_.due(now);
    if (action == KeepaliveSchedule::Action::kLost) {
        // Only a schedule told SilenceVerdict::kReport says kLost, so silence_ is set.
        if (!silence_->read_pending_before_verdict() || !running_) {
            return;
        }
        action = schedule_.due(now);
    }
    switch (action) {
        case KeepaliveSchedule::Action::kLost:
            running_ = false;
            silence_->on_keepalive_silent(now);
            return;
        case KeepaliveSchedule::Action::kPing:
            // A fast PING refused by the budget is skipped, as if lost.
            if (!schedule_.pinging_fast() || fast_ping_budget(loop_).take(now)) {
                if (!path_.send_keepalive_ping()) {
                    return;
                }
            }
            schedule_.pinged(now);
            break;
        case KeepaliveSchedule::Action::kWait:
            break;
    }
    arm();
}

void KeepaliveDriver::arm() {
    loop_.cancel(timer_);
    wake_ = schedule_.next_wakeup();
    timer_ = loop_.schedule_at(wake_, [this] { tick(); });
}

}  // namespace roomlink
