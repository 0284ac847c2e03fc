// Adaptive keepalive of one path (the media UDP path, a signaling connection): when to ping and
// when the path counts as lost. Pure: the caller passes the times in and sends the pings, so the
// schedule is tested without sockets or real time (native/test/keepalive_test.cpp).
//
//   healthy: one ping every `healthy` interval, on the grid of the last ping sent.
//   suspect: a ping unanswered for suspect_delay() (3 x smoothed RTT, at least 200 ms, at most a
//            quarter of the timeout) switches the path to fast pings: one at once, then one
//            every `fast` interval (never slower than `healthy`).
//            At most kMaxFastPings per overdue episode (1 s at 50 ms, more than the window a
//            1.5 s timeout leaves), then `healthy` again: a server that stalls for seconds is
//            not also flooded by every one of its clients.
//   back:    anything heard from the server (a PONG, any signaling data) ends the fast pings;
//            the next ping follows `healthy` after the last one sent.
//   lost:    nothing heard for `timeout` since the last thing heard (or the start), when the
//            schedule judges silence (SilenceVerdict::kReport: the media path). A signaling
//            connection leaves the verdict to the engine, which counts data on any connection.
//
// A slow healthy interval therefore costs nothing in detection (silence is measured from the
// last thing heard, whatever the ping rate), and a lost ping or PONG is retried quickly, so a
// lossy path gets many chances within the timeout (docs/STATES.md, "Keepalive").
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

    static constexpr Duration kSuspectFloor = std::chrono::milliseconds(200);
    static constexpr int kSuspectRttFactor = 3;
    static constexpr int kMaxFastPings = 20;

    // Counts as hearing from the path at `now`; the first ping goes out one healthy interval later.
    void start(KeepaliveTiming timing, TimePoint now,
               SilenceVerdict verdict = SilenceVerdict::kReport);
    // Something arrived from the server (PONG, BIND_ACK, any signaling data).
    void heard(TimePoint now);
    // A round-trip time measured from a PONG.
    void rtt_sample(Duration rtt);
    // A ping went out (scheduled, or out of turn after a network change).
    void pinged(TimePoint now);
    // What is due at `now`: kLost once silent for the timeout, kPing when a ping is due (the caller
    // sends it and calls pinged()), else kWait. Switches to fast pings when a ping is overdue.
    Action due(TimePoint now);
    // When due() next has something to do.
    TimePoint next_wakeup() const;

    bool fast() const { return fast_; }
    // The next PING is a fast one (within the episode's budget of kMaxFastPings).
    bool pinging_fast() const { return fast_ && fast_pings_ < kMaxFastPings; }
    Duration suspect_delay() const;
    std::optional<Duration> smoothed_rtt() const { return srtt_; }
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
    std::optional<Duration> srtt_;
};

}  // namespace roomlink

#endif
