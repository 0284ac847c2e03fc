// Runs a KeepaliveSchedule (keepalive.h) on a loop for one path: owns its timer, sends the PINGs
// the schedule asks for through the path (fast ones only within the loop's FastPingBudget), and,
// for a path whose silence it judges, tells the path when it fell silent. The media path and a
// signaling connection each compose one; neither has keepalive timing code of its own.
#ifndef ROOMLINK_KEEPALIVE_DRIVER_H
#define ROOMLINK_KEEPALIVE_DRIVER_H

#include "clock.h"
#include "event_loop.h"
#include "keepalive.h"

namespace roomlink {

class KeepaliveDriver {
public:
    class Path {
    public:
        virtual ~Path() = default;
        // Sends one PING now. False if sending closed the path (its owner releases a closed path
        // only after the current dispatch, EventLoop::close_and_release): the driver then stops.
        virtual bool send_keepalive_ping() = 0;
    };

    // What a path whose silence the driver judges (SilenceVerdict::kReport) is asked.
    class SilenceHandler {
    public:
        virtual ~SilenceHandler() = default;
        // The timeout ran out, but a loop thread that fell behind (hundreds of sockets ready at
        // once, a stalled process) may run the timer before the handler of an answer that has
        // already arrived: read what the socket holds (reporting it to heard()) before the
        // verdict. False if that closed the path (as for send_keepalive_ping).
        virtual bool read_pending_before_verdict() = 0;
        // Nothing heard for the timeout: the keepalive has stopped; the path reports itself lost.
        virtual void on_keepalive_silent(TimePoint now) = 0;
    };

    // `silence` null: the owner judges silence (a signaling connection, whose engine counts data
    // on any connection); the timeout then only bounds the suspect delay.
    KeepaliveDriver(EventLoop& loop, Path& path, SilenceHandler* silence);
    ~KeepaliveDriver();
    KeepaliveDriver(const KeepaliveDriver&) = delete;
    KeepaliveDriver& operator=(const KeepaliveDriver&) = delete;

    // Counts as hearing from the path at `now` and runs the schedule from there.
    void start(KeepaliveTiming timing, TimePoint now);
    // No more PINGs or verdicts (the path closed).
    void stop();
    bool running() const { return running_; }

    // Something arrived from the server. Ignored unless running.
    void heard(TimePoint now);
    // A round-trip time measured from a PONG; kept even before the start.
    void rtt_sample(Duration rtt) { schedule_.rtt_sample(rtt); }
    // An earlier path's estimate (KeepaliveSchedule::seed_rtt); kept even before the start.
    void seed_rtt(const RttEstimator& rtt) { schedule_.seed_rtt(rtt); }
    // The path sent a PING out of turn (a network change): unanswered, it makes the path suspect
    // sooner than the timer armed. Ignored unless running.
    void pinged_out_of_turn();

    const KeepaliveSchedule& schedule() const { return schedule_; }

    // One budget per loop, which is per loop thread: a loop is run by one thread, and all of a
    // thread's paths share its fate when it falls behind. Kept as the loop's attachment so that
    // the loop knows nothing of keepalives, and each test loop (a manual clock of its own) gets
    // a bucket of its own rather than one refilled by another clock's times.
    static FastPingBudget& fast_ping_budget(EventLoop& loop) {
        return loop.attachment<FastPingBudget>();
    }

private:
    void tick();
    void arm();

    EventLoop& loop_;
    Path& path_;
    SilenceHandler* const silence_;
    KeepaliveSchedule schedule_;
    bool running_ = false;
    EventLoop::TimerId timer_ = 0;
    TimePoint wake_{};  // when timer_ fires
};

}  // namespace roomlink

#endif
