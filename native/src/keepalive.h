// Adaptive keepalive of one path (the media UDP path, a signaling connection): when to ping and
// when the path counts as lost. Pure: the caller passes the times in and sends the pings, so the
// schedule is tested without sockets or real time (native/test/keepalive_test.cpp).
//
//   rto:     srtt + 4 x rttvar of the round trips measured from PONG echoes (RFC 6298's
//            estimator, RttEstimator), at least kRtoFloor (100 ms): how long an answer may take.
//   healthy: one ping every `healthy` interval, on the grid of the last ping sent.
//   suspect: a ping unanswered for suspect_delay() (the rto, at most a quarter of the timeout)
//            switches the path to fast pings: one at once, then one every `fast` interval (never
//            slower than `healthy`). At most kMaxFastPings per overdue episode (1 s at 25 ms: the
//            threshold's whole window unless the rto exceeds 750 ms), then `healthy` again: a
//            server that stalls for seconds is not also flooded by every one of its clients.
//   back:    anything heard from the server (a PONG, any signaling data) ends the fast pings;
//            the next ping follows `healthy` after the last one sent.
//   lost:    nothing heard for silence_threshold() since the last thing heard (or the start),
//            when the schedule judges silence (SilenceVerdict::kReport: the media path). A
//            signaling connection leaves the verdict to the engine, which counts data on any
//            connection against the configured signal timeout.
//
// The silence threshold (issue 11) waits for the pings a lossy path needs, and no longer:
//
//     threshold = min(timeout, healthy + suspect_delay + kFastProbes x fast + rto)
//
// i.e. the next healthy ping (due at most `healthy` after the last thing heard), the wait before
// the path turns suspect, kFastProbes fast pings after it, and one rto for the answer of the last
// of them. Before the first RTT sample, and without fast pings, it is the timeout. The configured
// timeout is thus the cap, reached on a slow or jittery path; on a clean one the threshold is
// healthy + 2 x kRtoFloor + kFastProbes x fast (950 ms at the media defaults 500 ms / 25 ms).
// A hard cut is detected at most `threshold` after it (silence is counted from the last answer
// before the cut), never more than the timeout: that is the worst case, reached when the rto is
// large (srtt + 4 x rttvar beyond ~ (timeout - healthy - kFastProbes x fast) / 2). A false
// verdict needs the healthy ping and every fast ping of one window lost or later than the
// threshold; on the false-outage soak's network (20 % loss each way, 0-100 ms jitter: 36 % per
// round trip) that is 1 verdict in 1,000 soaks of 20 engines x 5 minutes, against 12 per soak for
// a plain 1.0 s timeout (native/test/keepalive_model_test.cpp runs this schedule there).
//
// A slow healthy interval therefore costs little in detection, and a lost ping or PONG is retried
// quickly, so a lossy path gets many chances within the threshold.
#ifndef ROOMLINK_KEEPALIVE_H
#define ROOMLINK_KEEPALIVE_H

#include <optional>

#include "clock.h"

namespace roomlink {

struct KeepaliveTiming {
    Duration healthy{0};  // ping interval while the path answers
    Duration fast{0};     // ping interval while a ping is overdue; 0 = no fast pings
    Duration timeout{0};  // silence after which the path is lost
};

// RFC 6298's round-trip estimator (section 2: alpha 1/8, beta 1/4; the first sample R gives
// srtt R and rttvar R/2): a smoothed round trip and its mean deviation, so that one late answer
// neither swings the estimate nor goes unnoticed in the variance.
class RttEstimator {
public:
    // A measured round trip; a negative one (a clock step) is ignored.
    void sample(Duration rtt);
    bool measured() const { return measured_; }
    std::optional<Duration> srtt() const {
        return measured_ ? std::optional<Duration>(srtt_) : std::nullopt;
    }
    Duration rttvar() const { return rttvar_; }
    // srtt + 4 x rttvar, at least `floor`; `floor` before the first sample.
    Duration rto(Duration floor) const;

private:
    bool measured_ = false;
    Duration srtt_{0};
    Duration rttvar_{0};
};

// Who calls a silent path lost. kLeaveToOwner: the schedule never reports kLost and the timeout
// only bounds the suspect delay (a signaling connection: its engine judges silence across the
// connections of an attempt and a migration).
enum class SilenceVerdict { kReport, kLeaveToOwner };

// How many fast PINGs one loop thread may send: a token bucket shared by every path on the
// loop (one per EventLoop, kept as the loop's attachment: see KeepaliveDriver::fast_ping_budget). Loss on one path is independent of the others, so a few paths are fast at any time and
// never notice the budget; when hundreds are fast at once the cause is shared (the server or this
// machine is overloaded) and more PINGs would only deepen it. A fast PING refused by the budget
// is skipped, as if lost.
class FastPingBudget {
public:
    static constexpr int kPerSecond = 200;
    static constexpr int kBurst = 200;

    bool take(TimePoint now);

private:
    double tokens_ = kBurst;
    TimePoint refilled_{};
};

class KeepaliveSchedule {
public:
    enum class Action { kWait, kPing, kLost };

    // RFC 6298 asks for a 1 s floor on TCP's retransmission timer, which also covers delayed
    // ACKs; a PING is answered at once, and 100 ms is above the usual scheduling hiccups of a
    // loop thread while still leaving room for the fast pings within 1 s at the defaults.
    static constexpr Duration kRtoFloor = std::chrono::milliseconds(100);
    // Fast pings the threshold waits for after the path turns suspect (see the header comment).
    static constexpr int kFastProbes = 10;
    static constexpr int kMaxFastPings = 40;

    // Counts as hearing from the path at `now`; the first ping goes out one healthy interval later.
    void start(KeepaliveTiming timing, TimePoint now,
               SilenceVerdict verdict = SilenceVerdict::kReport);
    // Something arrived from the server (PONG, BIND_ACK, any signaling data).
    void heard(TimePoint now);
    // A round-trip time measured from a PONG.
    void rtt_sample(Duration rtt);
    // Starts from what an earlier path to the same server measured (Engine: a reconnect), as
    // Linux's TCP seeds a new connection from its per-destination metrics: otherwise a fresh path
    // would judge silence by the timeout until its first PONG, half a healthy interval or more.
    void seed_rtt(const RttEstimator& rtt) { rtt_ = rtt; }
    // A ping went out (scheduled, or out of turn after a network change).
    void pinged(TimePoint now);
    // What is due at `now`: kLost once silent for the threshold, kPing when a ping is due (the
    // caller sends it and calls pinged()), else kWait. Switches to fast pings when overdue.
    Action due(TimePoint now);
    // When due() next has something to do.
    TimePoint next_wakeup() const;

    bool fast() const { return fast_; }
    // The next PING is a fast one (within the episode's budget of kMaxFastPings).
    bool pinging_fast() const { return fast_ && fast_pings_ < kMaxFastPings; }
    Duration suspect_delay() const;
    // The retransmission timeout of the measured round trips (kRtoFloor before any).
    Duration rto() const { return rtt_.rto(kRtoFloor); }
    // How long the path may be silent before it is lost (the header comment); the timeout before
    // the first RTT sample or without fast pings, never more than the timeout.
    Duration silence_threshold() const;
    std::optional<Duration> smoothed_rtt() const { return rtt_.srtt(); }
    const RttEstimator& rtt() const { return rtt_; }
    Duration ping_interval() const {
        return fast_ && fast_pings_ < kMaxFastPings ? fast_interval() : timing_.healthy;
    }

private:
    Duration fast_interval() const;
    bool adaptive() const { return timing_.fast > Duration::zero(); }
    bool judges_silence() const {
        return verdict_ == SilenceVerdict::kReport && timing_.timeout > Duration::zero();
    }

    KeepaliveTiming timing_;
    SilenceVerdict verdict_ = SilenceVerdict::kReport;
    TimePoint last_heard_{};
    TimePoint last_ping_{};
    TimePoint next_ping_{};
    bool awaiting_ = false;  // a ping went out after the last thing heard
    bool fast_ = false;
    int fast_pings_ = 0;  // sent in the current overdue episode
    RttEstimator rtt_;
};

}  // namespace roomlink

#endif
