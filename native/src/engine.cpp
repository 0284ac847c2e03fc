#include "engine.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>

#include "leave_linger.h"
#include "log.h"
#include "media_address_cache.h"
#include "random_source.h"
#include "resolver.h"

#define ENGINE_LOG(level, fmt, ...) \
    RL_LOG(level, "engine %llu: " fmt, static_cast<unsigned long long>(id_), ##__VA_ARGS__)

namespace roomlink {
namespace {

std::atomic<uint64_t> g_next_engine_id{1};

// Probes refused by the server's host (nothing listens: the server is restarting) slow down,
// doubling per refusal up to this; a network that merely drops SYNs keeps the probe interval.
constexpr Duration kRefusedProbeMax = std::chrono::seconds(1);
// A request the server's TCP has acknowledged but the server has not answered yet (a busy
// server working through a queue of requests) is waited for this many signal timeouts, counted
// from the last data, before the attempt counts as failed: replacing it would only queue it again
// at the end. Not longer: what acknowledged it may be a proxy whose server is gone.
constexpr int kBusyServerPatienceTimeouts = 2;

}  // namespace

std::shared_ptr<Engine> Engine::create(EngineOptions options, EventLoop& loop, EventSink sink) {
    return std::make_shared<Engine>(std::move(options), loop, sink);
}

Engine::Engine(EngineOptions options, EventLoop& loop, EventSink sink)
    : id_(g_next_engine_id.fetch_add(1)),
      options_(std::move(options)),
      loop_(loop),
      sink_(sink),
      backoff_(options_.backoff, &random_unit) {}

// By the time the last reference goes, on_shutdown() has released every socket and timer on the
// loop, so destruction may happen on any thread.
Engine::~Engine() = default;

// ---------------------------------------------------------------------------------------------
// App-thread API

int32_t Engine::join(std::string token, std::string channel, int64_t uid) {
    JoinRequest request{std::move(token), std::move(channel), uid, loop_.now()};
    std::lock_guard<std::mutex> lock(state_mutex_);
    auto t = machine_.request(ConnEvent::kJoinRequested);
    if (!t) {
        return RL_ERR_ALREADY_JOINED;
    }
    published_state_.store(t->to, std::memory_order_release);
    const uint64_t generation = machine_.generation();
    // Posted under the lock: the loop must see requests in the order the machine accepted them.
    loop_.post([self = shared_from_this(), generation, t = *t,
                request = std::move(request)]() mutable {
        self->on_join_command(generation, t, std::move(request));
    });
    return RL_OK;
}

int32_t Engine::leave() {
    std::lock_guard<std::mutex> lock(state_mutex_);
    auto t = machine_.request(ConnEvent::kLeaveRequested);
    if (!t) {
        return RL_ERR_NOT_JOINED;
    }
    published_state_.store(t->to, std::memory_order_release);
    const uint64_t generation = machine_.generation();
    loop_.post([self = shared_from_this(), generation, t = *t] {
        self->on_leave_command(generation, t);
    });
    return RL_OK;
}

void Engine::notify_network_changed() {
    loop_.post([self = shared_from_this()] { self->on_network_changed(); });
}

void Engine::shutdown() {
    if (loop_.in_loop_thread()) {
        // Called from a callback on this loop: waiting would deadlock. Silence the engine now
        // (we are on its loop, so no callback can be running concurrently) and tear down later.
        closed_ = true;
        loop_.post([self = shared_from_this()] { self->on_shutdown(); });
        return;
    }
    struct Completion {
        std::mutex mutex;
        std::condition_variable done_cv;
        bool done = false;
    };
    auto completion = std::make_shared<Completion>();
    loop_.post([self = shared_from_this(), completion] {
        self->on_shutdown();
        std::lock_guard<std::mutex> lock(completion->mutex);
        completion->done = true;
        completion->done_cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(completion->mutex);
    completion->done_cv.wait(lock, [&] { return completion->done; });
}

// ---------------------------------------------------------------------------------------------
// Commands on the loop

void Engine::on_join_command(uint64_t generation, Transition t, JoinRequest request) {
    if (closed_) {
        return;
    }
    loop_generation_ = generation;
    emit_state(t);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (machine_.generation() != generation) {
            return;  // the app has already left again; that request is queued behind this one
        }
    }
    stop_all(false);
    request_ = std::move(request);
    phase_ = Phase::kJoining;
    ever_reached_server_ = false;
    backoff_.reset();
    probe_delay_ = options_.probe_interval;
    failures_this_round_ = 0;
    media_address_ = cached_media_address(options_.server_host, options_.server_port);
    ENGINE_LOG(RL_LOG_INFO, "joining channel '%s' as uid %lld via %s:%u%s",
               request_.channel.c_str(), static_cast<long long>(request_.uid),
               options_.server_host.c_str(), options_.server_port,
               media_address_ ? " (media address known: BIND in parallel)" : "");
    join_timer_ = loop_.schedule_at(request_.requested_at + options_.join_timeout, [this] {
        join_timer_ = 0;
        on_join_timeout();
    });
    server_addresses_.clear();
    next_address_ = 0;
    resolve_server();
}

void Engine::on_leave_command(uint64_t generation, Transition t) {
    if (closed_) {
        return;
    }
    loop_generation_ = generation;
    ENGINE_LOG(RL_LOG_INFO, "leaving channel '%s'", request_.channel.c_str());
    stop_all(true);
    emit_state(t);
    emit(RL_EVENT_LEAVE_RESULT, RL_OK);
}

void Engine::on_network_changed() {
    if (closed_) {
        return;
    }
    switch (phase_) {
        case Phase::kConnected:
            ENGINE_LOG(RL_LOG_INFO, "network changed: probing both paths now");
            if (attempt_ && attempt_->signal) {
                attempt_->signal->ping_now();
            }
            if (migration_ && migration_->signal && migration_->request_sent) {
                migration_->signal->ping_now();
            }
            if (attempt_ && attempt_->media) {
                attempt_->media->ping_now();
            }
            break;
        case Phase::kJoining:
        case Phase::kReconnecting:
            if (attempt_ && attempt_->answered && attempt_->media) {
                attempt_->media->send_bind_now();
            } else {
                ENGINE_LOG(RL_LOG_INFO, "network changed: new attempt now");
                probe_delay_ = options_.probe_interval;
                start_attempt();
            }
            break;
        case Phase::kIdle:
            break;
    }
}

void Engine::on_shutdown() {
    closed_ = true;
    ENGINE_LOG(RL_LOG_DEBUG, "destroyed");
    stop_all(true);
}

// ---------------------------------------------------------------------------------------------
// The attempt loop

void Engine::resolve_server() {
    if (auto literal = SocketAddress::from_numeric(options_.server_host, options_.server_port)) {
        server_addresses_ = {*literal};
        start_attempt();
        return;
    }
    resolving_ = true;
    const uint64_t token = ++resolve_token_;
    std::weak_ptr<Engine> weak = weak_from_this();
    resolve_async(loop_, options_.server_host, options_.server_port,
                  [weak, token](std::vector<SocketAddress> addresses, std::string error) {
                      auto self = weak.lock();
                      if (!self || self->closed_ || token != self->resolve_token_) {
                          return;
                      }
                      self->resolving_ = false;
                      if (addresses.empty()) {
                          self->attempt_failed(error, false);
                          return;
                      }
                      self->server_addresses_ = std::move(addresses);
                      self->next_address_ = 0;
                      self->start_attempt();
                  });
}

void Engine::start_attempt(std::unique_ptr<SignalConnection> connected) {
    loop_.cancel(retry_timer_);
    loop_.cancel(probe_timer_);
    loop_.cancel(attempt_timer_);
    if (!connected) {
        probe_.reset();
    }
    attempt_.reset();
    if (phase_ != Phase::kJoining && phase_ != Phase::kReconnecting) {
        return;
    }
    if (server_addresses_.empty()) {
        if (!resolving_) {
            resolve_server();
        }
        return;
    }
    attempt_ = std::make_unique<Attempt>();
    attempt_->number = ++attempt_count_;
    attempt_->media_key = random_nonzero_u64();
    attempt_->resume = session_.valid;
    const SocketAddress server = server_addresses_[next_address_ % server_addresses_.size()];
    ENGINE_LOG(RL_LOG_INFO, "attempt %llu: %s to %s%s",
               static_cast<unsigned long long>(attempt_->number),
               attempt_->resume ? "RESUME" : "JOIN", server.to_string().c_str(),
               connected ? " (probe connection)" : "");
    if (media_address_) {
        open_media(*media_address_);  // BIND travels while TCP connects: join in two round trips
    }
    if (connected) {
        attempt_->signal = std::move(connected);
        attempt_->signal->set_listener(this);
        on_signal_connected(*attempt_->signal);
        return;
    }
    attempt_->signal = std::make_unique<SignalConnection>(loop_, this);
    // A connect that neither completes nor fails (packets black-holed) is abandoned after the
    // signal silence threshold, like a silent established connection.
    attempt_timer_ = loop_.schedule_after(options_.signal_timeout, [this] {
        attempt_timer_ = 0;
        attempt_failed("connect timed out after " +
                           std::to_string(to_millis(options_.signal_timeout)) + " ms",
                       false);
    });
    std::string error;
    if (!attempt_->signal->connect(server, &error)) {
        note_connect_error(attempt_->signal->connect_error());
        attempt_failed(error, false);
    }
}

void Engine::send_request() {
    Attempt& attempt = *attempt_;
    const uint64_t number = attempt.number;
    attempt.request_sent = true;
    bool sent;
    if (attempt.resume) {
        wire::Resume resume;
        resume.session_id = session_.session_id;
        resume.session_secret = session_.secret;
        resume.media_key = attempt.media_key;
        sent = attempt.signal->send(resume);
    } else {
        wire::Join join;
        join.app_key = options_.app_key;
        join.channel = request_.channel;
        join.uid = static_cast<uint64_t>(request_.uid);
        join.token = request_.token;
        join.media_key = attempt.media_key;
        sent = attempt.signal->send(join);
    }
    if (!attempt_ || attempt_->number != number) {
        return;  // the send failed and the failure was already handled
    }
    if (!sent) {
        attempt_failed("cannot send request", true);
        return;
    }
    // No PING before the answer: the server answers it only after JOIN_OK / RESUME_OK, so it
    // could not show liveness any sooner, and thousands of reconnecting clients would only queue
    // more work behind their requests. The keepalive starts with the answer.
    watch_attempt();
}

void Engine::watch_attempt() {
    loop_.cancel(attempt_timer_);
    if (!attempt_ || !attempt_->signal || attempt_->parked) {
        return;
    }
    const TimePoint deadline = loop_.now() - attempt_->signal->silence() + options_.signal_timeout;
    attempt_timer_ = loop_.schedule_at(deadline, [this] {
        attempt_timer_ = 0;
        attempt_silence_tick();
    });
}

void Engine::attempt_silence_tick() {
    if (!attempt_ || !attempt_->signal || attempt_->parked ||
        (phase_ != Phase::kJoining && phase_ != Phase::kReconnecting)) {
        return;
    }
    if (attempt_->signal->silence() >= options_.signal_timeout) {
        // The answer may be in the socket already, its handler not yet run (a loop behind).
        const uint64_t number = attempt_->number;
        attempt_->signal->read_pending();
        if (closed_ || !attempt_ || attempt_->number != number || !attempt_->signal ||
            attempt_->parked || (phase_ != Phase::kJoining && phase_ != Phase::kReconnecting)) {
            return;
        }
    }
    const Duration silence = attempt_->signal->silence();
    if (silence < options_.signal_timeout) {
        watch_attempt();
        return;
    }
    const Duration patience = options_.signal_timeout * kBusyServerPatienceTimeouts;
    if (attempt_->request_sent && silence < patience && attempt_->signal->all_acknowledged()) {
        // The server's host has our request: the server is busy (after a restart, thousands of
        // clients come back at once), not gone. Keep our place in its queue.
        if (!attempt_->waiting_for_busy_server) {
            attempt_->waiting_for_busy_server = true;
            ENGINE_LOG(RL_LOG_INFO, "attempt %llu: request acknowledged but unanswered for %lld "
                                    "ms: the server is busy, waiting",
                       static_cast<unsigned long long>(attempt_->number),
                       static_cast<long long>(to_millis(silence)));
        }
        attempt_timer_ = loop_.schedule_after(patience - silence, [this] {
            attempt_timer_ = 0;
            attempt_silence_tick();
        });
        return;
    }
    // The attempt has failed and the next one goes out after the backoff, but its connection
    // stays open until then: if the path comes back meanwhile, its request gets through (TCP
    // retransmits it) and the answer is taken, instead of waiting out the backoff.
    ENGINE_LOG(RL_LOG_INFO, "attempt %llu: no data from server for %lld ms (kept open until the "
                            "next attempt)",
               static_cast<unsigned long long>(attempt_->number),
               static_cast<long long>(to_millis(silence)));
    attempt_->parked = true;
    failures_this_round_ = 0;
    schedule_retry(false);
}

void Engine::attempt_failed(const std::string& why, bool reached_server) {
    loop_.cancel(attempt_timer_);
    if (attempt_ && attempt_->parked) {
        // Already counted as failed when it went silent; its retry is scheduled.
        ENGINE_LOG(RL_LOG_DEBUG, "attempt %llu (silent) closed: %s",
                   static_cast<unsigned long long>(attempt_->number), why.c_str());
        attempt_.reset();
        return;
    }
    const uint64_t number = attempt_ ? attempt_->number : 0;
    attempt_.reset();
    if (phase_ != Phase::kJoining && phase_ != Phase::kReconnecting) {
        return;
    }
    ENGINE_LOG(RL_LOG_INFO, "attempt %llu failed: %s", static_cast<unsigned long long>(number),
               why.c_str());
    if (!reached_server && !server_addresses_.empty()) {
        ++next_address_;  // the next try starts with the next resolved address
        if (++failures_this_round_ < server_addresses_.size()) {
            start_attempt();
            return;
        }
    }
    failures_this_round_ = 0;
    schedule_retry(!reached_server);
}

void Engine::schedule_retry(bool probe) {
    const Duration delay = backoff_.next_delay();
    ENGINE_LOG(RL_LOG_DEBUG, "next attempt in %lld ms%s", static_cast<long long>(to_millis(delay)),
               probe ? ", probing the server meanwhile" : "");
    retry_timer_ = loop_.schedule_after(delay, [this] {
        retry_timer_ = 0;
        start_attempt();
    });
    // The server was unreachable: a restored network should not wait out a long backoff, so
    // cheap TCP connects check reachability meanwhile; the first to connect becomes the attempt.
    if (probe && options_.probe_interval < delay) {
        probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
    }
}

Duration Engine::next_probe_delay() const {
    // Jittered within [1/2, 1] of the current interval: engines cut off together (a server
    // restart) spread their connects instead of sending them in lockstep, and a restored path is
    // still noticed within one interval.
    const double factor = 0.5 + 0.5 * random_unit();
    return Duration(static_cast<Duration::rep>(static_cast<double>(probe_delay_.count()) * factor));
}

void Engine::note_connect_error(int error) {
    if (error != ECONNREFUSED) {
        return;
    }
    // The server's host answered that nothing listens: the server is down or restarting, and
    // will not be back within milliseconds. Probing it slower spares a restarting server (and
    // the machine) the connects of thousands of engines.
    const Duration cap = std::max(options_.probe_interval, kRefusedProbeMax);
    probe_delay_ = std::min(cap, probe_delay_ * 2);
}

void Engine::probe_tick() {
    probe_timer_ = 0;
    // A probe still pending in SYN_SENT would only notice the network with the kernel's slow
    // SYN retransmissions; a fresh SYN every interval notices it at once.
    probe_.reset();
    if (server_addresses_.empty()) {
        return;
    }
    probe_ = std::make_unique<SignalConnection>(loop_, this);
    std::string error;
    if (!probe_->connect(server_addresses_[next_address_ % server_addresses_.size()], &error)) {
        note_connect_error(probe_->connect_error());
        probe_.reset();
    }
    probe_timer_ = loop_.schedule_after(next_probe_delay(), [this] { probe_tick(); });
}

bool Engine::open_media(const SocketAddress& to) {
    auto media = std::make_unique<MediaPath>(loop_, this, attempt_->media_key,
                                             options_.bind_retransmit);
    std::string error;
    if (!media->open(to, &error, attempt_->answered)) {
        ENGINE_LOG(RL_LOG_WARN, "%s", error.c_str());
        return false;
    }
    attempt_->media = std::move(media);
    return true;
}

void Engine::use_media_address(const std::string& host, uint16_t port) {
    if (auto literal = SocketAddress::from_numeric(host, port)) {
        if (literal->is_unspecified()) {
            // A server bound to the wildcard address advertises it; it is reachable where the
            // signal connection reached it.
            literal = attempt_->signal->remote().with_port(port);
        }
        set_media_address(*literal);
        return;
    }
    const uint64_t number = attempt_->number;
    std::weak_ptr<Engine> weak = weak_from_this();
    resolve_async(loop_, host, port,
                  [weak, number](std::vector<SocketAddress> addresses, std::string error) {
                      auto self = weak.lock();
                      if (!self || self->closed_ || !self->attempt_ ||
                          self->attempt_->number != number) {
                          return;
                      }
                      if (addresses.empty()) {
                          self->attempt_failed("media host: " + error, true);
                          return;
                      }
                      self->set_media_address(addresses.front());
                  });
}

void Engine::set_media_address(const SocketAddress& address) {
    media_address_ = address;
    remember_media_address(options_.server_host, options_.server_port, address);
    if (attempt_->media && attempt_->media->remote() == address) {
        // The early BIND went to the right place and may be acked already; if not, the server
        // knows its key now: BIND again at once rather than at the next (backed-off) retransmit.
        attempt_->media->send_bind_now();
        maybe_established();
        return;
    }
    ENGINE_LOG(RL_LOG_DEBUG, "binding media at %s", address.to_string().c_str());
    attempt_->media.reset();
    if (!open_media(address)) {
        attempt_failed("cannot open media socket", true);
    }
}

void Engine::maybe_established() {
    if (!attempt_ || !attempt_->answered || !attempt_->media || !attempt_->media->bound()) {
        return;
    }
    auto t = observe(ConnEvent::kSessionEstablished);
    if (!t) {
        return;
    }
    phase_ = Phase::kConnected;
    attempt_->parked = false;  // its retry is cancelled below
    loop_.cancel(join_timer_);
    loop_.cancel(reconnect_timer_);
    cancel_attempt_timers();
    probe_.reset();
    backoff_.reset();
    attempt_->media->start_keepalive(media_keepalive());
    // Signal silence is judged by the engine (the connections only ping): from now on across
    // the current connection and a migration's (see watch_signal).
    signal_heard_ = loop_.now();
    watch_signal();
    const std::vector<uint64_t> snapshot = std::move(attempt_->snapshot);
    const std::vector<PeerEvent> peers = std::move(attempt_->pending_peers);
    const uint64_t channel_id = session_.channel_id;
    if (t->from == RL_STATE_CONNECTING) {
        ENGINE_LOG(RL_LOG_INFO, "connected to channel %llu in %lld ms",
                   static_cast<unsigned long long>(channel_id),
                   static_cast<long long>(elapsed_ms()));
        emit_state(*t);
        emit(RL_EVENT_JOIN_RESULT, RL_OK, 0, static_cast<int64_t>(channel_id), elapsed_ms(),
             request_.uid);
    } else {
        ENGINE_LOG(RL_LOG_INFO, "reconnected to channel %llu after %lld ms of outage",
                   static_cast<unsigned long long>(channel_id),
                   static_cast<long long>(to_millis(loop_.now() - outage_started_)));
        emit_state(*t);
        emit(RL_EVENT_REJOIN_RESULT, RL_OK, 0, static_cast<int64_t>(channel_id));
    }
    reconcile_presence(snapshot);
    for (const auto& peer : peers) {
        deliver_peer(peer);
    }
}

// ---------------------------------------------------------------------------------------------
// Network observations

void Engine::on_signal_connected(SignalConnection& connection) {
    if (probe_ && &connection == probe_.get()) {
        ENGINE_LOG(RL_LOG_INFO, "probe reached %s: attempting now",
                   connection.remote().to_string().c_str());
        std::unique_ptr<SignalConnection> reached = std::move(probe_);
        start_attempt(std::move(reached));
        return;
    }
    if (migration_ && &connection == migration_->signal.get()) {
        on_migration_connected();
        return;
    }
    if (!attempt_ || &connection != attempt_->signal.get()) {
        return;
    }
    ever_reached_server_ = true;
    failures_this_round_ = 0;
    loop_.cancel(attempt_timer_);
    send_request();
}

void Engine::on_signal_message(SignalConnection& connection, wire::Message& message) {
    if (migration_ && &connection == migration_->signal.get()) {
        on_migration_message(message);
        return;
    }
    if (!attempt_ || &connection != attempt_->signal.get()) {
        return;  // probes never send anything, so never legitimately receive anything
    }
    Attempt& attempt = *attempt_;
    if (auto* ok = std::get_if<wire::JoinOk>(&message)) {
        if (attempt.resume || attempt.answered) {
            signal_failed("unexpected JOIN_OK");
            return;
        }
        on_session_granted(ok->channel_id, ok->session_id, ok->session_secret, ok->media_host,
                           ok->media_port);
    } else if (auto* resumed = std::get_if<wire::ResumeOk>(&message)) {
        if (!attempt.resume || attempt.answered) {
            signal_failed("unexpected RESUME_OK");
            return;
        }
        if (resumed->resumed == 0) {
            ENGINE_LOG(RL_LOG_INFO, "session %llu had expired: server made a fresh one (%llu)",
                       static_cast<unsigned long long>(session_.session_id),
                       static_cast<unsigned long long>(resumed->session_id));
        }
        on_session_granted(resumed->channel_id, resumed->session_id, resumed->session_secret,
                           resumed->media_host, resumed->media_port);
    } else if (auto* err = std::get_if<wire::JoinErr>(&message)) {
        on_join_err(*err);
    } else if (auto* end = std::get_if<wire::SessionEnd>(&message)) {
        on_session_end(*end);
    } else if (auto* error = std::get_if<wire::ServerError>(&message)) {
        ENGINE_LOG(RL_LOG_ERROR, "server reported protocol error %d: %s", error->code,
                   error->message.c_str());
        if (phase_ != Phase::kConnected && !attempt.answered) {
            // Our request itself was refused as malformed: repeating it cannot help.
            if (auto t = observe(ConnEvent::kSessionRejected)) {
                finish_with(*t, error->code, false);
            }
            return;
        }
        signal_failed("server error " + std::to_string(error->code) + ": " + error->message);
    } else if (auto* joined = std::get_if<wire::PeerJoined>(&message)) {
        on_peer(PeerEvent{true, joined->uid, 0});
    } else if (auto* left = std::get_if<wire::PeerLeft>(&message)) {
        on_peer(PeerEvent{false, left->uid, left->reason});
    } else if (std::holds_alternative<wire::Pong>(message) ||
               std::holds_alternative<wire::LeaveOk>(message)) {
        // PONG only matters as inbound data (silence detection); LEAVE_OK is for lingerers.
    } else {
        ENGINE_LOG(RL_LOG_ERROR, "protocol error: server sent %s",
                   wire::type_name(wire::type_code(message)));
        signal_failed(std::string("server sent ") + wire::type_name(wire::type_code(message)));
    }
}

void Engine::on_signal_closed(SignalConnection& connection, const std::string& why,
                              bool was_connected) {
    if (probe_ && &connection == probe_.get()) {
        note_connect_error(connection.connect_error());
        probe_.reset();
        return;
    }
    if (migration_ && &connection == migration_->signal.get()) {
        on_migration_closed(why);
        return;
    }
    if (!attempt_ || &connection != attempt_->signal.get()) {
        return;
    }
    if (phase_ == Phase::kConnected && migration_ && migration_->signal) {
        // Expected once our RESUME reached the server: it replaces (closes) the old connection.
        // The migration's own deadline still bounds the wait.
        ENGINE_LOG(RL_LOG_INFO, "old signal connection closed during migration (%s): "
                                "waiting for the new one", why.c_str());
        signal_heard();  // keep what it last heard before it goes
        attempt_->signal.reset();
        return;
    }
    if (phase_ == Phase::kConnected) {
        begin_outage(ConnEvent::kSignalLost, why);
    } else {
        note_connect_error(connection.connect_error());
        attempt_failed(why, was_connected);
    }
}

void Engine::on_media_bound(MediaPath& path) {
    if (!attempt_ || &path != attempt_->media.get()) {
        return;
    }
    ENGINE_LOG(RL_LOG_DEBUG, "media bound at %s", path.remote().to_string().c_str());
    maybe_established();
}

void Engine::on_media_lost(MediaPath& path, const std::string& why) {
    if (!attempt_ || &path != attempt_->media.get() || phase_ != Phase::kConnected) {
        return;
    }
    begin_outage(ConnEvent::kMediaLost, why);
}

void Engine::on_session_granted(uint64_t channel_id, uint64_t session_id,
                                const wire::SessionSecret& secret, const std::string& media_host,
                                uint16_t media_port) {
    attempt_->answered = true;
    // From the answer on the server is listening: keep the connection alive (and its silence
    // judged by watch_attempt) while the media bind completes.
    attempt_->signal->start_keepalive(signal_keepalive());
    if (attempt_->parked) {
        // A silent attempt answered after all: it is the attempt again, the retry is off.
        attempt_->parked = false;
        loop_.cancel(retry_timer_);
        loop_.cancel(probe_timer_);
        probe_.reset();
    }
    session_.valid = true;
    session_.channel_id = channel_id;
    session_.session_id = session_id;
    session_.secret = secret;
    use_media_address(media_host, media_port);
    if (attempt_) {
        maybe_established();
    }
}

void Engine::on_join_err(const wire::JoinErr& err) {
    if (!attempt_->request_sent || attempt_->answered) {
        signal_failed("unexpected JOIN_ERR");
        return;
    }
    if (attempt_->resume) {
        // The server no longer knows the session (restarted, or the secret is stale). The
        // original token is still ours to use: join afresh right away.
        ENGINE_LOG(RL_LOG_INFO, "RESUME of session %llu refused (%d %s): joining afresh",
                   static_cast<unsigned long long>(session_.session_id), err.code,
                   err.message.c_str());
        session_ = Session{};
        start_attempt();
        return;
    }
    ENGINE_LOG(RL_LOG_WARN, "JOIN refused: %d %s", err.code, err.message.c_str());
    if (auto t = observe(ConnEvent::kSessionRejected)) {
        finish_with(*t, err.code, false);
    }
}

void Engine::on_session_end(const wire::SessionEnd& end) {
    ConnEvent event;
    switch (end.code) {
        case RL_ERR_SERVER_KICKED:
            event = ConnEvent::kKicked;
            break;
        case RL_ERR_CHANNEL_CLOSED:
            event = ConnEvent::kChannelClosed;
            break;
        case RL_ERR_SAME_UID_LOGIN:
            event = ConnEvent::kReplacedBySameUid;
            break;
        default:
            // 31009 (server shutting down) and anything unknown: the session may live on
            // elsewhere, so treat it as losing the signal path and reconnect.
            signal_failed("server ended the connection: " + std::to_string(end.code) + " " +
                          end.message);
            return;
    }
    ENGINE_LOG(RL_LOG_WARN, "session ended by server: %d %s", end.code, end.message.c_str());
    if (auto t = observe(event)) {
        finish_with(*t, end.code, false);
    }
}

void Engine::on_peer(PeerEvent event) {
    if (phase_ == Phase::kConnected) {
        deliver_peer(event);
    } else if (attempt_ && attempt_->answered) {
        attempt_->pending_peers.push_back(event);
    } else if (attempt_ && attempt_->request_sent) {
        // Before the answer: the presence snapshot. Only PEER_JOINED belongs there; a PEER_LEFT
        // is taken as a correction rather than rejected.
        auto& snapshot = attempt_->snapshot;
        if (event.joined) {
            snapshot.push_back(event.uid);  // duplicates collapse on delivery
        } else {
            snapshot.erase(std::remove(snapshot.begin(), snapshot.end(), event.uid), snapshot.end());
        }
    }
}

void Engine::signal_failed(const std::string& why) {
    if (phase_ == Phase::kConnected) {
        begin_outage(ConnEvent::kSignalLost, why);
    } else {
        attempt_failed(why, true);
    }
}

void Engine::begin_outage(ConnEvent cause, const std::string& why) {
    auto t = observe(cause);
    if (!t) {
        return;  // a newer app request is queued and will stop this session
    }
    const bool was_connected = phase_ == Phase::kConnected;
    phase_ = Phase::kReconnecting;
    outage_started_ = loop_.now();
    if (log_enabled(RL_LOG_WARN)) {
        const bool signal = cause == ConnEvent::kSignalLost;
        const long long silent_ms =
            signal && was_connected ? static_cast<long long>(to_millis(loop_.now() - signal_heard()))
                                    : -1;
        ENGINE_LOG(RL_LOG_WARN, "%s path lost (%s%s%s): reconnecting", signal ? "signal" : "media",
                   why.c_str(), silent_ms >= 0 ? ", last data " : "",
                   silent_ms >= 0 ? (std::to_string(silent_ms) + " ms ago").c_str() : "");
    }
    drop_migration();
    loop_.cancel(signal_watch_timer_);
    attempt_.reset();
    backoff_.reset();
    probe_delay_ = options_.probe_interval;
    failures_this_round_ = 0;
    emit_state(*t);
    emit(RL_EVENT_RECONNECTING_START);
    if (closed_) {
        return;
    }
    reconnect_timer_ = loop_.schedule_after(options_.reconnect_timeout, [this] {
        reconnect_timer_ = 0;
        on_reconnect_timeout();
    });
    start_attempt();  // the first attempt goes out at once
}

void Engine::on_join_timeout() {
    const int32_t code = (attempt_ && attempt_->answered) ? RL_ERR_MEDIA_BIND_TIMEOUT
                         : ever_reached_server_           ? RL_ERR_JOIN_TIMEOUT
                                                          : RL_ERR_CONNECT_FAILED;
    auto t = observe(ConnEvent::kGaveUp);
    if (!t) {
        return;
    }
    ENGINE_LOG(RL_LOG_WARN, "join timed out after %lld ms (%d)",
               static_cast<long long>(elapsed_ms()), code);
    // A session the server may already hold is left politely, so peers see a NORMAL leave.
    finish_with(*t, code, true);
}

void Engine::on_reconnect_timeout() {
    auto t = observe(ConnEvent::kGaveUp);
    if (!t) {
        return;
    }
    ENGINE_LOG(RL_LOG_WARN, "gave up reconnecting after %lld ms",
               static_cast<long long>(to_millis(loop_.now() - outage_started_)));
    finish_with(*t, RL_ERR_RECONNECT_TIMEOUT, false);
}

void Engine::finish_with(Transition t, int32_t code, bool say_leave) {
    const int64_t elapsed = elapsed_ms();
    stop_all(say_leave);
    emit_state(t);
    if (t.to == RL_STATE_FAILED && t.from == RL_STATE_CONNECTING) {
        emit(RL_EVENT_JOIN_RESULT, code, 0, 0, elapsed, request_.uid);
    } else if (t.to == RL_STATE_FAILED && t.reason == RL_REASON_REQUEST_CHANNEL_FAILED) {
        emit(RL_EVENT_REJOIN_RESULT, code, 0, 0);
    } else {
        emit(RL_EVENT_DISCONNECT, code);
    }
}

// ---------------------------------------------------------------------------------------------
// Signal liveness while CONNECTED, and migration
//
// TCP hides loss as delay: a lost segment is retransmitted after an RTO that doubles each time,
// and everything behind it waits (head-of-line blocking). At 20 % loss a healthy connection can
// thus go silent for longer than signal_timeout while the UDP media path, which loses single
// datagrams instead, stays perfectly healthy. So silence alone is judged like this:
//   silence >= signal_timeout, media silent too     -> outage at once (a real cut)
//   silence >= signal_timeout, media healthy        -> migrate: a fresh TCP connection (fresh RTO
//                                                      state) RESUMEs the session with the current
//                                                      mediaKey; the old one stays open meanwhile
//   silence >= 2 x signal_timeout on all connections -> outage (the signal path really is gone)
// Data on any of the connections counts as signal liveness. A migration answered by
// RESUME_OK(resumed=1) is silent: peers and app see nothing but presence differences, if any.

TimePoint Engine::signal_heard() {
    if (attempt_ && attempt_->signal) {
        signal_heard_ = std::max(signal_heard_, attempt_->signal->last_data());
    }
    if (migration_ && migration_->signal) {
        signal_heard_ = std::max(signal_heard_, migration_->signal->last_data());
    }
    return signal_heard_;
}

bool Engine::media_healthy() const {
    return attempt_ && attempt_->media && attempt_->media->bound() &&
           loop_.now() - attempt_->media->last_inbound() < options_.media_timeout;
}

void Engine::watch_signal() {
    loop_.cancel(signal_watch_timer_);
    if (phase_ != Phase::kConnected) {
        return;
    }
    const Duration timeout = options_.signal_timeout;
    const TimePoint heard = signal_heard();
    TimePoint wake = heard + timeout;
    if (migration_) {
        wake = std::min(heard + 2 * timeout, migration_->started + timeout);
    }
    signal_watch_timer_ = loop_.schedule_at(wake, [this] {
        signal_watch_timer_ = 0;
        signal_watch_tick();
    });
}

void Engine::signal_watch_tick() {
    if (closed_ || phase_ != Phase::kConnected || !attempt_) {
        return;
    }
    if (loop_.now() - signal_heard() >= options_.signal_timeout) {
        // A loop that fell behind may run this timer before the handlers of data that has
        // already arrived: read it before judging silence.
        const uint64_t generation = loop_generation_;
        if (attempt_->signal) {
            attempt_->signal->read_pending();
        }
        if (!closed_ && loop_generation_ == generation && phase_ == Phase::kConnected &&
            migration_ && migration_->signal) {
            migration_->signal->read_pending();
        }
        if (closed_ || loop_generation_ != generation || phase_ != Phase::kConnected ||
            !attempt_) {
            return;
        }
    }
    const TimePoint now = loop_.now();
    const Duration timeout = options_.signal_timeout;
    const Duration silence = now - signal_heard();
    if (migration_ && silence >= 2 * timeout) {
        begin_outage(ConnEvent::kSignalLost,
                     "no data from server for " + std::to_string(to_millis(silence)) +
                         " ms, signal migration unanswered");
        return;
    }
    if (migration_ && now >= migration_->started + timeout) {
        // Unanswered, but the old connection has spoken meanwhile (else the rule above fired).
        ENGINE_LOG(RL_LOG_INFO, "signal migration unanswered after %lld ms: abandoned",
                   static_cast<long long>(to_millis(now - migration_->started)));
        drop_migration();
    }
    if (!migration_ && silence >= timeout) {
        if (!media_healthy()) {
            begin_outage(ConnEvent::kSignalLost,
                         "no data from server for " + std::to_string(to_millis(silence)) +
                             " ms, media silent too");
            return;
        }
        start_migration(silence);
        if (closed_ || phase_ != Phase::kConnected) {
            return;
        }
    }
    watch_signal();
}

void Engine::start_migration(Duration silence) {
    ENGINE_LOG(RL_LOG_INFO,
               "signal stalled for %lld ms while media healthy: migrating signaling to a new "
               "connection",
               static_cast<long long>(to_millis(silence)));
    migration_ = std::make_unique<Migration>();
    migration_->started = loop_.now();
    if (!attempt_->signal && server_addresses_.empty()) {
        return;  // nowhere to go; the deadline decides
    }
    const SocketAddress server = attempt_->signal
                                     ? attempt_->signal->remote()
                                     : server_addresses_[next_address_ % server_addresses_.size()];
    auto connection = std::make_unique<SignalConnection>(loop_, this);
    std::string error;
    if (!connection->connect(server, &error)) {
        ENGINE_LOG(RL_LOG_INFO, "signal migration: %s", error.c_str());
        return;  // migration_ stays (without a connection) so the deadlines still apply
    }
    migration_->signal = std::move(connection);
}

void Engine::on_migration_connected() {
    Migration& migration = *migration_;
    wire::Resume resume;
    resume.session_id = session_.session_id;
    resume.session_secret = session_.secret;
    // The current key: the server keeps the media binding as it is, so media never pauses.
    resume.media_key = attempt_->media_key;
    migration.request_sent = true;
    SignalConnection* connection = migration.signal.get();
    if (!connection->send(resume)) {
        if (migration_ && migration_->signal.get() == connection) {
            on_migration_closed("cannot send RESUME");
        }
        return;
    }
    // No PING until the answer (see send_request); complete_migration starts the keepalive.
}

void Engine::on_migration_message(wire::Message& message) {
    if (auto* resumed = std::get_if<wire::ResumeOk>(&message)) {
        if (resumed->resumed == 1 && resumed->session_id == session_.session_id) {
            complete_migration();
            return;
        }
        // The session had expired after all: the server admitted us afresh and peers saw us
        // leave and come back. That is an outage, reported as one; the reconnect RESUMEs the
        // fresh session.
        ENGINE_LOG(RL_LOG_INFO, "session %llu had expired: server made a fresh one (%llu)",
                   static_cast<unsigned long long>(session_.session_id),
                   static_cast<unsigned long long>(resumed->session_id));
        session_.channel_id = resumed->channel_id;
        session_.session_id = resumed->session_id;
        session_.secret = resumed->session_secret;
        begin_outage(ConnEvent::kSignalLost, "session expired while signaling was stalled");
    } else if (auto* joined = std::get_if<wire::PeerJoined>(&message)) {
        migration_->snapshot.push_back(joined->uid);
    } else if (auto* left = std::get_if<wire::PeerLeft>(&message)) {
        auto& snapshot = migration_->snapshot;
        snapshot.erase(std::remove(snapshot.begin(), snapshot.end(), left->uid), snapshot.end());
    } else if (auto* err = std::get_if<wire::JoinErr>(&message)) {
        // The server no longer knows the session (restarted): a real outage; the reconnect
        // joins afresh with the original token.
        ENGINE_LOG(RL_LOG_INFO, "RESUME of session %llu refused during migration (%d %s)",
                   static_cast<unsigned long long>(session_.session_id), err->code,
                   err->message.c_str());
        session_ = Session{};
        begin_outage(ConnEvent::kSignalLost, "session unknown to the server");
    } else if (auto* end = std::get_if<wire::SessionEnd>(&message)) {
        on_session_end(*end);
    } else if (auto* error = std::get_if<wire::ServerError>(&message)) {
        ENGINE_LOG(RL_LOG_ERROR, "server reported protocol error %d: %s", error->code,
                   error->message.c_str());
        signal_failed("server error " + std::to_string(error->code) + ": " + error->message);
    } else if (std::holds_alternative<wire::Pong>(message) ||
               std::holds_alternative<wire::LeaveOk>(message)) {
        // Liveness only (counted through signal_heard()).
    } else {
        ENGINE_LOG(RL_LOG_ERROR, "protocol error: server sent %s on the migration connection",
                   wire::type_name(wire::type_code(message)));
        signal_failed(std::string("server sent ") + wire::type_name(wire::type_code(message)));
    }
}

void Engine::on_migration_closed(const std::string& why) {
    ENGINE_LOG(RL_LOG_INFO, "signal migration connection lost: %s", why.c_str());
    signal_heard();
    migration_->signal.reset();
    if (!attempt_->signal) {
        begin_outage(ConnEvent::kSignalLost, why);  // no connection left at all
    }
    // Otherwise the old connection may still speak; the migration deadline decides.
}

void Engine::complete_migration() {
    const TimePoint now = loop_.now();
    ENGINE_LOG(RL_LOG_INFO, "migrated in %lld ms (signal silent for %lld ms before the answer)",
               static_cast<long long>(to_millis(now - migration_->started)),
               static_cast<long long>(to_millis(now - signal_heard_)));
    std::unique_ptr<SignalConnection> old = std::move(attempt_->signal);
    attempt_->signal = std::move(migration_->signal);
    const std::vector<uint64_t> snapshot = std::move(migration_->snapshot);
    migration_.reset();
    signal_heard_ = now;
    attempt_->signal->start_keepalive(signal_keepalive());
    // Closed with a reset (the default): anything still queued on it is older than the snapshot.
    old.reset();
    watch_signal();
    // Peers that came or went while the signal was stalled (their events were stuck on the old
    // connection): the snapshot is the truth, report only the difference.
    reconcile_presence(snapshot);
}

void Engine::drop_migration() {
    if (migration_) {
        signal_heard();
        migration_.reset();  // with a reset, so the kernel never retransmits its RESUME later
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::optional<Transition> Engine::observe(ConnEvent event) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    auto t = machine_.observe(event, loop_generation_);
    if (t) {
        published_state_.store(t->to, std::memory_order_release);
    }
    return t;
}

void Engine::cancel_attempt_timers() {
    loop_.cancel(retry_timer_);
    loop_.cancel(probe_timer_);
    loop_.cancel(attempt_timer_);
}

void Engine::stop_all(bool say_leave) {
    loop_.cancel(join_timer_);
    loop_.cancel(reconnect_timer_);
    cancel_attempt_timers();
    probe_.reset();
    loop_.cancel(signal_watch_timer_);
    if (say_leave && migration_ && migration_->signal && migration_->signal->connected() &&
        migration_->request_sent) {
        // Our RESUME is on its way there: a LEAVE behind it on the same stream is processed after
        // it, whereas one on the stalled old connection may never arrive (or be replaced).
        linger_until_leave_acknowledged(loop_, std::move(migration_->signal),
                                        options_.leave_linger);
        say_leave = false;
    }
    drop_migration();
    if (attempt_) {
        if (say_leave && attempt_->signal && attempt_->signal->connected() &&
            attempt_->request_sent) {
            linger_until_leave_acknowledged(loop_, std::move(attempt_->signal),
                                            options_.leave_linger);
        }
        attempt_.reset();
    }
    ++resolve_token_;  // results of lookups still in flight are now stale
    resolving_ = false;
    session_ = Session{};
    known_peers_.clear();
    media_address_.reset();
    phase_ = Phase::kIdle;
}

void Engine::emit(int32_t type, int32_t a, int32_t b, int64_t x, int64_t y, int64_t z) {
    if (closed_ || sink_.fn == nullptr) {
        return;
    }
    sink_.fn(sink_.user, type, a, b, x, y, z, monotonic_ns());
}

void Engine::emit_state(const Transition& t) {
    ENGINE_LOG(RL_LOG_INFO, "state %s -> %s (%s)", state_name(t.from), state_name(t.to),
               reason_name(t.reason));
    emit(RL_EVENT_STATE_CHANGED, t.to, t.reason);
}

void Engine::deliver_peer(const PeerEvent& event) {
    // Report changes only: a uid already known is not announced twice, an unknown one not left.
    if (event.joined) {
        if (known_peers_.insert(event.uid).second) {
            emit(RL_EVENT_USER_JOINED, 0, 0, static_cast<int64_t>(event.uid));
        }
    } else if (known_peers_.erase(event.uid) > 0) {
        emit(RL_EVENT_USER_LEFT, event.reason, 0, static_cast<int64_t>(event.uid));
    }
}

void Engine::reconcile_presence(const std::vector<uint64_t>& snapshot) {
    // The snapshot is the complete membership: after an outage, report only the difference from
    // what the app already knows, so peers that stayed never flap. Why a missing peer left is
    // unknown (we were away when it happened); it is reported as NORMAL.
    const std::unordered_set<uint64_t> present(snapshot.begin(), snapshot.end());
    std::vector<uint64_t> gone;
    for (uint64_t uid : known_peers_) {
        if (present.count(uid) == 0) {
            gone.push_back(uid);
        }
    }
    std::sort(gone.begin(), gone.end());
    for (uint64_t uid : gone) {
        deliver_peer(PeerEvent{false, uid, RL_USER_LEAVE_NORMAL});
    }
    for (uint64_t uid : snapshot) {
        deliver_peer(PeerEvent{true, uid, 0});
    }
}

KeepaliveTiming Engine::media_keepalive() const {
    return KeepaliveTiming{options_.media_keepalive, options_.keepalive_fast,
                           options_.media_timeout};
}

KeepaliveTiming Engine::signal_keepalive() const {
    // The engine judges signal silence across connections (watch_signal, watch_attempt).
    return KeepaliveTiming{options_.signal_keepalive, options_.keepalive_fast,
                           options_.signal_timeout};
}

int64_t Engine::elapsed_ms() const { return to_millis(loop_.now() - request_.requested_at); }

}  // namespace roomlink
