#include "engine.h"

#include <algorithm>
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
    // Keepalive from the start: a connected attempt is abandoned only when the server goes
    // silent; how long the answer may take is bounded by the join / reconnect timeout.
    attempt_->signal->start_keepalive(options_.signal_keepalive, options_.signal_timeout);
}

void Engine::attempt_failed(const std::string& why, bool reached_server) {
    loop_.cancel(attempt_timer_);
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
        probe_timer_ = loop_.schedule_after(options_.probe_interval, [this] { probe_tick(); });
    }
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
        probe_.reset();
    }
    probe_timer_ = loop_.schedule_after(options_.probe_interval, [this] { probe_tick(); });
}

bool Engine::open_media(const SocketAddress& to) {
    auto media = std::make_unique<MediaPath>(loop_, this, attempt_->media_key,
                                             options_.bind_retransmit);
    std::string error;
    if (!media->open(to, &error)) {
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
        maybe_established();  // the early BIND went to the right place and may be acked already
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
    loop_.cancel(join_timer_);
    loop_.cancel(reconnect_timer_);
    cancel_attempt_timers();
    probe_.reset();
    backoff_.reset();
    attempt_->media->start_keepalive(options_.media_keepalive, options_.media_timeout);
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
    if (!attempt_ || &connection != attempt_->signal.get()) {
        return;
    }
    ever_reached_server_ = true;
    failures_this_round_ = 0;
    loop_.cancel(attempt_timer_);
    send_request();
}

void Engine::on_signal_message(SignalConnection& connection, wire::Message& message) {
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
        probe_.reset();
        return;
    }
    if (!attempt_ || &connection != attempt_->signal.get()) {
        return;
    }
    if (phase_ == Phase::kConnected) {
        begin_outage(ConnEvent::kSignalLost, why);
    } else {
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
    phase_ = Phase::kReconnecting;
    outage_started_ = loop_.now();
    if (log_enabled(RL_LOG_WARN)) {
        const bool signal = cause == ConnEvent::kSignalLost;
        const SignalConnection* connection = attempt_ ? attempt_->signal.get() : nullptr;
        const long long silent_ms =
            signal && connection != nullptr ? static_cast<long long>(to_millis(connection->silence()))
                                            : -1;
        ENGINE_LOG(RL_LOG_WARN, "%s path lost (%s%s%s): reconnecting", signal ? "signal" : "media",
                   why.c_str(), silent_ms >= 0 ? ", last data " : "",
                   silent_ms >= 0 ? (std::to_string(silent_ms) + " ms ago").c_str() : "");
    }
    attempt_.reset();
    backoff_.reset();
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

int64_t Engine::elapsed_ms() const { return to_millis(loop_.now() - request_.requested_at); }

}  // namespace roomlink
