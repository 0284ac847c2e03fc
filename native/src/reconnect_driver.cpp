#include "reconnect_driver.h"

#include <algorithm>

#include "log.h"
#include "random_source.h"
#include "resolver.h"

#define DRIVER_LOG(level, fmt, ...)                                                          \
    RL_LOG(level, "engine %llu: " fmt, static_cast<unsigned long long>(engine_id_), \
           ##__VA_ARGS__)

namespace roomlink {

ReconnectDriver::ReconnectDriver(EventLoop& loop, const EngineOptions& options, Owner& owner,
                                 uint64_t engine_id)
    : loop_(loop),
      options_(options),
      owner_(owner),
      engine_id_(engine_id),
      backoff_(options.backoff, &random_unit),
      // Jittered within [1/2, 1] of the interval: engines cut off together (a server restart)
      // spread their connects instead of sending them in lockstep, and a restored path is still
      // noticed within one interval. It does not grow, not even while the server's host refuses
      // (RST): a refused SYN costs that host one kernel reply, and a restarting server is found
      // within one interval of listening again, not up to a second later.
      probe_delay_({options.probe_interval, options.probe_interval, 100, Jitter::below(50)},
                   &random_unit) {}

// stop() has run on the loop by then (the engine's shutdown), so nothing is left to cancel.
ReconnectDriver::~ReconnectDriver() = default;

void ReconnectDriver::restart(bool forget_addresses) {
    backoff_.reset();
    failures_this_round_ = 0;
    established_at_ = TimePoint{};
    reached_at_ = TimePoint{};
    short_sessions_ = 0;
    if (forget_addresses) {
        addresses_.clear();
        next_address_ = 0;
    }
}

Duration ReconnectDriver::outage_began(bool silent) {
    failures_this_round_ = 0;
    const bool stable =
        established_at_ != TimePoint{} && loop_.now() - established_at_ >= kStableSession;
    established_at_ = TimePoint{};
    short_sessions_ = stable ? 0 : short_sessions_ + (silent ? 0 : 1);
    if (silent || short_sessions_ <= 1) {
        backoff_.reset();
        return Duration::zero();
    }
    const Duration delay = backoff_.next_delay();
    DRIVER_LOG(RL_LOG_INFO, "%d sessions in a row lasted under %lld ms: first attempt in %lld ms",
               short_sessions_, static_cast<long long>(to_millis(kStableSession)),
               static_cast<long long>(to_millis(delay)));
    return delay;
}

void ReconnectDriver::hold_first_attempt(Duration delay) {
    cancel();
    holding_ = true;
    hold_saw_path_down_ = false;
    retry_timer_ = loop_.schedule_after(delay, [this] {
        retry_timer_ = 0;
        holding_ = false;
        loop_.cancel(probe_timer_);
        probe_timer_ = 0;
        loop_.close_and_release(std::move(probe_));
        owner_.on_attempt_due(std::move(parked_));
    });
    probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
}

void ReconnectDriver::retry_in(Duration delay) {
    loop_.cancel(retry_timer_);
    retry_timer_ = loop_.schedule_after(delay, [this] {
        retry_timer_ = 0;
        owner_.on_attempt_due(nullptr);
    });
}

Duration ReconnectDriver::spacing_wait() const {
    if (reached_at_ == TimePoint{}) {
        return Duration::zero();
    }
    const Duration since = loop_.now() - reached_at_;
    return since >= kMinAttemptSpacing ? Duration::zero() : kMinAttemptSpacing - since;
}

void ReconnectDriver::attempt_reached_server() {
    failures_this_round_ = 0;
    reached_at_ = loop_.now();
}

void ReconnectDriver::succeeded() {
    cancel();
    established_at_ = loop_.now();
}

const SocketAddress& ReconnectDriver::current_address() const {
    return addresses_[next_address_ % addresses_.size()];
}

void ReconnectDriver::resolve(std::weak_ptr<void> lifetime) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (auto literal = SocketAddress::from_numeric(options_.server_host, options_.server_port)) {
        addresses_ = {*literal};
        owner_.on_attempt_due(nullptr);
        return;
    }
    resolving_ = true;
    const uint64_t token = ++resolve_token_;
    resolve_async(loop_, options_.server_host, options_.server_port,
                  [this, lifetime, token](std::vector<SocketAddress> addresses, std::string error) {
                      auto owner_alive = lifetime.lock();
                      if (!owner_alive || owner_.stopped() || token != resolve_token_) {
                          return;
                      }
                      resolving_ = false;
                      if (addresses.empty()) {
                          owner_.on_resolve_failed(error);
                          return;
                      }
                      addresses_ = std::move(addresses);
                      next_address_ = 0;
                      owner_.on_attempt_due(nullptr);
                  });
}

void ReconnectDriver::attempt_parked() {
    failures_this_round_ = 0;
    schedule_retry(false);
}

void ReconnectDriver::attempt_failed(bool reached_server) {
    if (!reached_server && !addresses_.empty()) {
        ++next_address_;  // the next try starts with the next resolved address
        if (++failures_this_round_ < addresses_.size()) {
            owner_.on_attempt_due(nullptr);
            return;
        }
    }
    failures_this_round_ = 0;
    schedule_retry(!reached_server);
}

void ReconnectDriver::schedule_retry(bool probe) {
    // Probes of the failed attempt's connect (probe_while_connecting) give way to the schedule.
    loop_.cancel(probe_timer_);
    probe_timer_ = 0;
    if (!probe) {
        loop_.close_and_release(std::move(probe_));
    }
    const Duration delay = backoff_.next_delay();
    DRIVER_LOG(RL_LOG_DEBUG, "next attempt in %lld ms%s", static_cast<long long>(to_millis(delay)),
               probe ? ", probing the server meanwhile" : "");
    retry_timer_ = loop_.schedule_after(delay, [this] {
        retry_timer_ = 0;
        owner_.on_attempt_due(nullptr);
    });
    // The server was unreachable: a restored network should not wait out a long backoff, so
    // cheap TCP connects check reachability meanwhile; the first to connect becomes the attempt.
    if (probe && options_.probe_interval < delay) {
        probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
    }
}

// The probe delay: the one place that knows how it spreads.
Duration ReconnectDriver::next_probe_delay() const { return probe_delay_.jittered(); }

void ReconnectDriver::probe_tick() {
    RL_ASSERT_LOOP_THREAD(loop_);
    probe_timer_ = 0;
    // A probe still pending in SYN_SENT would only notice the network with the kernel's slow
    // SYN retransmissions; a fresh SYN every interval notices it at once.
    if (probe_) {
        hold_saw_path_down_ = true;  // unanswered for a whole interval
    }
    probe_.reset();
    if (addresses_.empty()) {
        return;
    }
    SignalConnection::Listener* probe_role = this;
    probe_ = std::make_unique<SignalConnection>(loop_, probe_role, options_.tls);
    std::string error;
    if (!probe_->connect(current_address(), &error)) {
        probe_.reset();
        hold_saw_path_down_ = true;
    }
    probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
}

void ReconnectDriver::probe_while_connecting() {
    loop_.cancel(probe_timer_);
    probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
}

void ReconnectDriver::stop_probing() {
    loop_.cancel(probe_timer_);
    loop_.close_and_release(std::move(probe_));
}

void ReconnectDriver::cancel() {
    loop_.cancel(retry_timer_);
    loop_.cancel(probe_timer_);
    loop_.close_and_release(std::move(probe_));
    loop_.close_and_release(std::move(parked_));
    holding_ = false;
}

void ReconnectDriver::stop() {
    cancel();
    ++resolve_token_;  // results of lookups still in flight are now stale
    resolving_ = false;
}

void ReconnectDriver::on_signal_connected(SignalConnection& connection) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (holding_ && !hold_saw_path_down_) {
        // The server is up: it is the one ending sessions, and the hold stands.
        DRIVER_LOG(RL_LOG_INFO, "probe reached %s during the hold: the attempt waits for its end",
                   connection.remote().to_string().c_str());
        loop_.cancel(probe_timer_);
        probe_timer_ = 0;
        parked_ = std::move(probe_);
        return;
    }
    DRIVER_LOG(RL_LOG_INFO, "probe reached %s: attempting now",
               connection.remote().to_string().c_str());
    owner_.on_attempt_due(std::move(probe_));
}

void ReconnectDriver::on_signal_closed(SignalConnection& connection, const std::string&, bool) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (&connection == parked_.get()) {
        loop_.close_and_release(std::move(parked_));  // the hold's end connects afresh
        return;
    }
    if (!connection.reached_server()) {
        hold_saw_path_down_ = true;  // refused, unreachable: the path is down, not the server
    }
    loop_.close_and_release(std::move(probe_));
}

}  // namespace roomlink
