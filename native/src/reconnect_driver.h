// When the next attempt goes out, and where to: the resolved server addresses and the cursor over
// them (an attempt that never reached the server moves it on; a round through every address
// without reaching one ends in a backoff), the retry backoff, and the cheap TCP probes that check
// reachability during a long backoff (the first probe to connect becomes the next attempt). In
// the spirit of gRPC's InternalSubchannel: an address index and its own backoff.
#ifndef ROOMLINK_RECONNECT_DRIVER_H
#define ROOMLINK_RECONNECT_DRIVER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backoff.h"
#include "event_loop.h"
#include "options.h"
#include "signal_connection.h"
#include "socket_util.h"

namespace roomlink {

// A session must stay up this long before its loss is treated as news (immediate attempt, fresh
// backoff) rather than as a server that keeps failing its sessions.
constexpr Duration kStableSession = std::chrono::seconds(5);
// The least time between two attempts that reached the server, whatever the backoff options say.
constexpr Duration kMinAttemptSpacing = std::chrono::milliseconds(100);

class ReconnectDriver final : private SignalConnection::Listener {
public:
    class Owner {
    public:
        virtual ~Owner() = default;
        // The next attempt is due. `reached`: the probe connection that got through (connected,
        // its listener still to be set), or null for a fresh connect to current_address().
        virtual void on_attempt_due(std::unique_ptr<SignalConnection> reached) = 0;
        // The server's name did not resolve; counts as an attempt that never reached the server.
        virtual void on_resolve_failed(const std::string& error) = 0;
        // A lookup result arriving after this is dropped.
        virtual bool stopped() const = 0;
    };

    ReconnectDriver(EventLoop& loop, const EngineOptions& options, Owner& owner,
                    uint64_t engine_id);
    ~ReconnectDriver() override;
    ReconnectDriver(const ReconnectDriver&) = delete;
    ReconnectDriver& operator=(const ReconnectDriver&) = delete;

    // A new join (forget_addresses: look the server up again): the schedule starts from its
    // first step and the damping below forgets the previous session.
    void restart(bool forget_addresses);
    // A new outage. Damped whatever the server does (a server that answers every request twice,
    // or accepts and then drops, must not make the engine reconnect in a tight loop): a session
    // that stayed up for kStableSession, or the first one since then (or since the join) that
    // did not, earns a fresh backoff and an attempt at once (returns 0). After the second short
    // session in a row ended by the server (EOF, reset, an error, a frame out of place) the
    // backoff goes on growing and the first attempt waits for it (hold_first_attempt). An outage detected by silence
    // (`silent`) is not damped: its detection already took a timeout, which paces any loop
    // through it, and the path may come back at any moment (a network cut).
    Duration outage_began(bool silent);
    // Holds the first attempt of a damped outage for `delay`, probing the path meanwhile. The
    // damping is against a server that keeps ending sessions, so it stands while the server is
    // reachable: a probe that connects before any has failed is parked and carries the attempt
    // at the end of the hold. But a probe refused or unanswered shows the path itself is down
    // (a restart, a cut): from then on the first probe to connect is the attempt, at once, as
    // in any outage, so recovery still starts within one probe interval of the path's return.
    void hold_first_attempt(Duration delay);
    // Retries after `delay` (the spacing below).
    void retry_in(Duration delay);
    // How long a fresh attempt must still wait: attempts that reach the server are at least
    // kMinAttemptSpacing apart, so no server makes more than a few per second; 0 if none.
    Duration spacing_wait() const;

    bool has_addresses() const { return !addresses_.empty(); }
    bool resolving() const { return resolving_; }
    // The address the next attempt (or probe, or migration) connects to.
    const SocketAddress& current_address() const;
    // Looks the server up (a literal at once) and then makes the first attempt due. `lifetime`
    // guards the asynchronous lookup against the owner being gone.
    void resolve(std::weak_ptr<void> lifetime);

    // Outcomes of the current attempt.
    void attempt_reached_server();
    // Silent too long: counted as failed, retried after the backoff.
    void attempt_parked();
    // `reached_server`: the connection was up; otherwise the next address is tried at once
    // until every address failed this round, then the backoff (with probes) applies.
    void attempt_failed(bool reached_server);

    // An attempt's TCP connect is in progress (SYN sent, nothing back yet). On a dead network its
    // SYN is lost and the kernel would resend it only 1 s, then 3 s later: probes (a fresh SYN
    // every probe interval) run meanwhile too, and the first to connect becomes the attempt.
    void probe_while_connecting();
    // The attempt's connect completed: its probes stop.
    void stop_probing();
    // Calls off the scheduled retry and the probes (an attempt is going out, or answered).
    void cancel();
    // The session is established: as cancel(). The backoff starts over only once the session
    // has stayed up for kStableSession (see outage_began).
    void succeeded();
    // As cancel(), and lookups still in flight are forgotten.
    void stop();

private:
    void schedule_retry(bool probe);
    void probe_tick();
    Duration next_probe_delay() const;

    // The probe's role.
    void on_signal_connected(SignalConnection& connection) override;
    void on_signal_message(SignalConnection&, wire::Message&) override {}
    void on_signal_closed(SignalConnection& connection, const std::string& why,
                          bool was_connected) override;

    EventLoop& loop_;
    const EngineOptions& options_;
    Owner& owner_;
    const uint64_t engine_id_;

    std::vector<SocketAddress> addresses_;
    size_t next_address_ = 0;
    size_t failures_this_round_ = 0;
    uint64_t resolve_token_ = 0;  // distinguishes the current lookup from abandoned ones
    bool resolving_ = false;

    Backoff backoff_;
    TimePoint established_at_{};  // the current session's, TimePoint{} if none since the join
    TimePoint reached_at_{};      // when the last attempt reached the server, TimePoint{} if none
    int short_sessions_ = 0;      // sessions in a row lost before kStableSession
    GrowingDelay probe_delay_;  // probe_interval, jittered; never grows
    std::unique_ptr<SignalConnection> probe_;
    // hold_first_attempt: whether one is on, whether a probe has found the path down during it,
    // and the probe that reached the server first (the attempt's connection at the hold's end).
    bool holding_ = false;
    bool hold_saw_path_down_ = false;
    std::unique_ptr<SignalConnection> parked_;
    EventLoop::TimerId retry_timer_ = 0;
    EventLoop::TimerId probe_timer_ = 0;
};

}  // namespace roomlink

#endif
