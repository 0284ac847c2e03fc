#include "engine.h"

#include <algorithm>
#include <condition_variable>

#include "leave_linger.h"
#include "log.h"
#include "media_address_cache.h"
#include "media_cipher.h"
#include "random_source.h"
#include "resolver.h"

#define ENGINE_LOG(level, fmt, ...) \
    RL_LOG(level, "engine %llu: " fmt, static_cast<unsigned long long>(id_), ##__VA_ARGS__)

namespace roomlink {
namespace {

std::atomic<uint64_t> g_next_engine_id{1};

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
      events_(sink),
      message_budget_(std::make_shared<MessageBudget>(options_.message_queue_limit)),
      presence_(events_, options_.max_peers),
      outbox_(*message_budget_),
      reconnect_(loop_, options_, *this, id_),
      attempt_role_(*this),
      host_network_(loop_, *this, options_.network_watcher) {}

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

int32_t Engine::renew_token(std::string token) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    const int32_t s = published_state_.load(std::memory_order_acquire);
    if (s == RL_STATE_DISCONNECTED || s == RL_STATE_FAILED) {
        return RL_ERR_NOT_JOINED;
    }
    const uint64_t generation = machine_.generation();
    // Posted under the lock, like join/leave: it belongs to the membership it was made in.
    loop_.post([self = shared_from_this(), generation, token = std::move(token)]() mutable {
        self->on_renew_command(generation, std::move(token));
    });
    return RL_OK;
}

// The bytes of one message between send_message and the queue: released unless the loop
// committed them to the queue (a task the loop never runs releases them too).
struct Engine::MessageReservation {
    std::shared_ptr<MessageBudget> budget;
    uint64_t bytes = 0;
    uint8_t target = 0;
    uint64_t to_uid = 0;
    std::vector<uint8_t> data;
    bool committed = false;
    ~MessageReservation() {
        if (!committed) {
            budget->release(bytes);
        }
    }
};

int32_t Engine::send_message(int32_t directed, int64_t to_uid, const uint8_t* data,
                             int32_t length) {
    if (shut_down_.load(std::memory_order_acquire)) {
        return RL_ERR_ENGINE_CLOSED;
    }
    auto message = std::make_shared<MessageReservation>();
    message->budget = message_budget_;
    message->target = directed == 1 ? uint8_t{1} : uint8_t{0};
    message->to_uid = directed == 1 ? static_cast<uint64_t>(to_uid) : 0;
    message->data.assign(data, data + length);  // copied before any lock is taken
    std::lock_guard<std::mutex> lock(state_mutex_);
    const int32_t s = published_state_.load(std::memory_order_acquire);
    if (s != RL_STATE_CONNECTED && s != RL_STATE_RECONNECTING) {
        return RL_ERR_NOT_JOINED;
    }
    if (!message_budget_->try_reserve(static_cast<uint64_t>(length))) {
        return RL_ERR_MESSAGE_QUEUE_FULL;
    }
    message->bytes = static_cast<uint64_t>(length);
    const uint64_t generation = machine_.generation();
    // Posted under the lock, like join/leave: a leave behind it sees it queued.
    loop_.post([self = shared_from_this(), generation, message = std::move(message)] {
        self->on_message_command(generation, message);
    });
    return RL_OK;
}

void Engine::on_message_command(uint64_t generation, std::shared_ptr<MessageReservation> message) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (closed()) {
        return;
    }
    if (!running() || generation != loop_generation_) {
        // The session it was sent in ended on the loop before the loop took it: never silent.
        ENGINE_LOG(RL_LOG_WARN, "a message sent as the session ended is undelivered");
        events_.messages_undelivered(1, last_end_code_);
        return;
    }
    message->committed = true;
    outbox_.push(message->target, message->to_uid, std::move(message->data));
    flush_messages();
}

void Engine::on_renew_command(uint64_t generation, std::string token) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (closed() || !running() || generation != loop_generation_) {
        return;  // that membership has ended (or a newer request is queued behind this one)
    }
    // A rejoin after the session is lost presents this token, not the expiring one.
    request_.token = std::move(token);
    renewal_pending_ = true;
    if (connected()) {
        send_renewal();
    } else {
        ENGINE_LOG(RL_LOG_INFO, "token renewal queued until the session is back");
    }
}

void Engine::send_renewal() {
    if (!renewal_pending_ || !attempt_ || !attempt_->signal) {
        return;
    }
    renewal_pending_ = false;
    wire::RenewToken renew;
    renew.token = request_.token;
    if (!attempt_->signal->send(renew) && !attempt_->signal->closed()) {
        signal_failed("cannot send RENEW_TOKEN");
        return;
    }
    ENGINE_LOG(RL_LOG_INFO, "token renewal sent");
}

void Engine::notify_network_changed() {
    loop_.post([self = shared_from_this()] { self->on_network_changed(); });
}

void Engine::shutdown() {
    shut_down_.store(true, std::memory_order_release);
    if (loop_.in_loop_thread()) {
        // Called from a callback on this loop: waiting would deadlock. Silence the engine now
        // (we are on its loop, so no callback can be running concurrently) and tear down later.
        events_.close();
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
    RL_ASSERT_LOOP_THREAD(loop_);
    if (closed()) {
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
    renewal_pending_ = false;
    running_ = true;
    ever_reached_server_ = false;
    host_network_.start();
    reconnect_.restart(true);
    media_address_ = cached_media_address(options_.server_host, options_.server_port);
    ENGINE_LOG(RL_LOG_INFO, "joining channel '%s' as uid %lld via %s:%u%s",
               request_.channel.c_str(), static_cast<long long>(request_.uid),
               options_.server_host.c_str(), options_.server_port,
               media_address_ ? " (media address known: BIND in parallel)" : "");
    join_timer_ = loop_.schedule_at(request_.requested_at + options_.join_timeout, [this] {
        join_timer_ = 0;
        on_join_timeout();
    });
    reconnect_.resolve(weak_from_this());
}

void Engine::on_leave_command(uint64_t generation, Transition t) {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (closed()) {
        return;
    }
    loop_generation_ = generation;
    ENGINE_LOG(RL_LOG_INFO, "leaving channel '%s'", request_.channel.c_str());
    // Every queued message goes out before the LEAVE, on the same connection: the server takes
    // them first (TCP keeps the order). Without such a connection (reconnecting, or migrating
    // signaling) they are lost, and said so.
    size_t undelivered = 0;
    if (!outbox_.empty()) {
        const auto usable = [this] {
            return connected() && !migration_ && attempt_->signal &&
                   attempt_->signal->connected();
        };
        if (usable()) {
            flush_messages();
        }
        if (usable() && !outbox_.has_unsent()) {
            std::weak_ptr<Engine> weak = weak_from_this();
            leave_messages_ = LeaveMessages{
                outbox_.front_seq(), outbox_.highest_sent(), [weak](uint64_t n) {
                    auto self = weak.lock();
                    if (self && !self->closed()) {
                        RL_LOG(RL_LOG_WARN, "engine %llu: %llu messages unacknowledged when the "
                                            "leave ended",
                               static_cast<unsigned long long>(self->id_),
                               static_cast<unsigned long long>(n));
                        self->events_.messages_undelivered(static_cast<size_t>(n),
                                                           RL_ERR_SIGNAL_DISCONNECTED);
                    }
                }};
        } else {
            undelivered = outbox_.size();
        }
    }
    stop_all(true);
    if (leave_messages_) {  // no lingering LEAVE took them after all
        undelivered = static_cast<size_t>(leave_messages_->last - leave_messages_->first + 1);
        leave_messages_.reset();
    }
    emit_state(t);
    events_.leave_result(RL_OK);
    if (undelivered > 0) {
        events_.messages_undelivered(undelivered, RL_ERR_SIGNAL_DISCONNECTED);
    }
}

void Engine::on_network_changed() {
    RL_ASSERT_LOOP_THREAD(loop_);
    media_rtt_.reset();  // measured on another network: the next media path measures afresh
    if (closed() || !running()) {
        return;
    }
    if (connected()) {
        ENGINE_LOG(RL_LOG_INFO, "network changed: probing both paths now");
        if (attempt_->signal) {
            attempt_->signal->ping_now();
        }
        if (migration_) {
            migration_->ping_now();
        }
        if (attempt_->media) {
            attempt_->media->ping_now();
        }
    } else if (attempt_ && attempt_->machine.answered() && attempt_->media) {
        attempt_->media->send_bind_now();
    } else {
        ENGINE_LOG(RL_LOG_INFO, "network changed: new attempt now");
        start_attempt();
    }
}

void Engine::on_shutdown() {
    RL_ASSERT_LOOP_THREAD(loop_);
    events_.close();
    ENGINE_LOG(RL_LOG_DEBUG, "destroyed");
    stop_all(true);
}

// ---------------------------------------------------------------------------------------------
// The attempt

void Engine::on_attempt_due(std::unique_ptr<SignalConnection> reached) {
    RL_ASSERT_LOOP_THREAD(loop_);
    start_attempt(std::move(reached));
}

void Engine::on_resolve_failed(const std::string& error) { attempt_failed(error, false); }

void Engine::start_attempt(std::unique_ptr<SignalConnection> connected, bool spaced) {
    const bool was_establishing = establishing();
    reconnect_.cancel();
    loop_.cancel(attempt_timer_);
    drop_attempt();
    if (!was_establishing) {
        loop_.close_and_release(std::move(connected));
        return;
    }
    if (!connected && spaced) {
        if (const Duration wait = reconnect_.spacing_wait(); wait > Duration::zero()) {
            reconnect_.retry_in(wait);  // damping: see kMinAttemptSpacing
            return;
        }
    }
    if (!reconnect_.has_addresses()) {
        loop_.close_and_release(std::move(connected));
        if (!reconnect_.resolving()) {
            reconnect_.resolve(weak_from_this());
        }
        return;
    }
    attempt_ = std::make_unique<Attempt>();
    attempt_->barrier = SessionBarrier(options_.max_peers);
    attempt_->number = ++attempt_count_;
    attempt_->media_key = random_nonzero_u64();
    if (!random_media_secret(&attempt_->media_secret)) {
        // Media keyed from a guessable secret could be forged: this attempt fails, the next tries.
        loop_.close_and_release(std::move(connected));
        attempt_failed("no random bytes for the media secret", false);
        return;
    }
    attempt_->resume = session_.valid;
    const SocketAddress server = reconnect_.current_address();
    ENGINE_LOG(RL_LOG_INFO, "attempt %llu: %s to %s%s",
               static_cast<unsigned long long>(attempt_->number),
               attempt_->resume ? "RESUME" : "JOIN", server.to_string().c_str(),
               connected ? " (probe connection)" : "");
    if (media_address_) {
        open_media(*media_address_);  // BIND travels while TCP connects: join in two round trips
    }
    if (connected) {
        attempt_->signal = std::move(connected);
        attempt_->signal->set_listener(&attempt_role_);
        on_attempt_connected();
        return;
    }
    attempt_->signal = std::make_unique<SignalConnection>(loop_, &attempt_role_, options_.tls);
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
        return;
    }
    if (options_.probe_interval < options_.signal_timeout) {
        reconnect_.probe_while_connecting();
    }
}

void Engine::drop_attempt() {
    if (attempt_) {
        note_reach();
        if (attempt_->media && attempt_->media->keepalive().rtt().measured()) {
            media_rtt_ = MediaRtt{attempt_->media->remote(), attempt_->media->keepalive().rtt()};
        }
        // Possibly from inside a callback of either: they stop now and are freed later.
        loop_.close_and_release(std::move(attempt_->media));
        loop_.close_and_release(std::move(attempt_->signal));
        attempt_.reset();
        outbox_.connection_lost();  // what went out on it is sent again after the next answer
        loop_.cancel(stream_ack_timer_);  // the next RESUME carries what was processed
    }
}

void Engine::send_request() {
    Attempt& attempt = *attempt_;
    attempt.machine.on(AttemptEvent::kRequestSent);
    SignalConnection& connection = *attempt.signal;
    bool sent;
    if (attempt.resume) {
        wire::Resume resume;
        resume.session_id = session_.session_id;
        resume.session_secret = session_.secret;
        resume.media_key = attempt.media_key;
        resume.media_secret = attempt.media_secret;
        resume.last_received = stream_.last_processed();
        attempt.last_received = resume.last_received;
        stream_.acknowledged_by_resume();
        sent = connection.send(resume);
    } else {
        wire::Join join;
        join.app_key = options_.app_key;
        join.channel = request_.channel;
        join.uid = static_cast<uint64_t>(request_.uid);
        join.token = request_.token;
        join.media_key = attempt.media_key;
        join.media_secret = attempt.media_secret;
        sent = connection.send(join);
    }
    if (connection.closed()) {
        return;  // the socket failed under the send, and the attempt's failure was handled
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
    if (!attempt_ || !attempt_->signal || attempt_->machine.parked()) {
        return;
    }
    const TimePoint deadline = loop_.now() - attempt_->signal->silence() + options_.signal_timeout;
    attempt_timer_ = loop_.schedule_at(deadline, [this] {
        attempt_timer_ = 0;
        attempt_silence_tick();
    });
}

void Engine::attempt_silence_tick() {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (!attempt_ || !attempt_->signal || attempt_->machine.parked() || !establishing()) {
        return;
    }
    SignalConnection& connection = *attempt_->signal;
    if (connection.silence() >= options_.signal_timeout) {
        // The answer may be in the socket already, its handler not yet run (a loop behind).
        connection.read_pending();
        // What it held may have settled things: failed the attempt (its connection is closed
        // then), established the session or ended it.
        if (closed() || connection.closed() || !establishing()) {
            return;
        }
    }
    const Duration silence = connection.silence();
    if (silence < options_.signal_timeout) {
        watch_attempt();
        return;
    }
    const Duration patience = options_.signal_timeout * kBusyServerPatienceTimeouts;
    AttemptMachine& machine = attempt_->machine;
    if (machine.request_sent() && silence < patience && connection.all_acknowledged()) {
        // The server's host has our request: the server is busy (after a restart, thousands of
        // clients come back at once), not gone. Keep our place in its queue.
        const bool first_time = !machine.busy();
        machine.on(AttemptEvent::kSilentButAcknowledged);
        if (first_time) {
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
    machine.on(AttemptEvent::kSilent);
    reconnect_.attempt_parked();
}

void Engine::attempt_failed(const std::string& why, bool reached_server, bool server_closed) {
    loop_.cancel(attempt_timer_);
    if (attempt_ && attempt_->machine.parked()) {
        // Already counted as failed when it went silent; its retry is scheduled. But a close
        // that came from the server (typically its idle timeout, held in a cut and delivered at
        // the restore) shows the path is back: retry now, kMinAttemptSpacing apart, rather than
        // in a backoff slot seconds away.
        ENGINE_LOG(RL_LOG_INFO, "attempt %llu (silent) closed: %s%s",
                   static_cast<unsigned long long>(attempt_->number), why.c_str(),
                   server_closed ? ": the path is back, retrying now" : "");
        drop_attempt();
        if (server_closed && establishing()) {
            reconnect_.retry_in(reconnect_.spacing_wait());
        }
        return;
    }
    const bool was_establishing = establishing();
    const uint64_t number = attempt_ ? attempt_->number : 0;
    drop_attempt();
    if (!was_establishing) {
        return;
    }
    ENGINE_LOG(RL_LOG_INFO, "attempt %llu failed: %s", static_cast<unsigned long long>(number),
               why.c_str());
    reconnect_.attempt_failed(reached_server);
}

bool Engine::open_media(const SocketAddress& to) {
    auto media = std::make_unique<MediaPath>(
        loop_, &attempt_role_, attempt_->media_key,
        derive_media_keys(attempt_->media_key, attempt_->media_secret), options_.bind_retransmit);
    if (media_rtt_ && media_rtt_->to == to) {
        media->seed_rtt(media_rtt_->rtt);
    }
    std::string error;
    if (!media->open(to, &error, attempt_->machine.answered())) {
        ENGINE_LOG(RL_LOG_WARN, "%s", error.c_str());
        return false;
    }
    attempt_->media = std::move(media);
    return true;
}

void Engine::use_media_address(const std::string& advertised_host, uint16_t advertised_port) {
    // A relay or NAT between us and the server: the host's override wins over what it advertises.
    const bool overridden = !options_.media_host_override.empty();
    const std::string& host = overridden ? options_.media_host_override : advertised_host;
    const uint16_t port = overridden ? options_.media_port_override : advertised_port;
    if (auto literal = SocketAddress::from_numeric(host, port)) {
        if (literal->is_unspecified()) {
            // A server bound to the wildcard address advertises it; it is reachable where the
            // signal connection reached it.
            literal = attempt_->signal->remote().with_port(port);
        }
        set_media_address(*literal);
        return;
    }
    // The lookup outlives whatever happens meanwhile: its answer is for this attempt only.
    const uint64_t number = attempt_->number;
    std::weak_ptr<Engine> weak = weak_from_this();
    resolve_async(loop_, host, port,
                  [weak, number](std::vector<SocketAddress> addresses, std::string error) {
                      auto self = weak.lock();
                      if (!self || self->closed() || !self->attempt_ ||
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
    loop_.close_and_release(std::move(attempt_->media));
    if (!open_media(address)) {
        attempt_failed("cannot open media socket", true);
    }
}

void Engine::maybe_established() {
    if (!attempt_ || !attempt_->media ||
        !SessionBarrier::complete(attempt_->machine, attempt_->media->bound())) {
        return;
    }
    auto t = observe(ConnEvent::kSessionEstablished);
    if (!t) {
        return;
    }
    attempt_->machine.on(AttemptEvent::kEstablished);  // a parked attempt's retry goes below
    loop_.cancel(join_timer_);
    loop_.cancel(reconnect_timer_);
    loop_.cancel(attempt_timer_);
    reconnect_.succeeded();
    attempt_->media->start_keepalive(media_keepalive());
    // Signal silence is judged by the engine (the connections only ping): from now on across
    // the current connection and a migration's (see watch_signal).
    signal_heard_ = loop_.now();
    media_asked_ = TimePoint{};
    watch_signal();
    SessionBarrier barrier = std::move(attempt_->barrier);
    const uint64_t channel_id = session_.channel_id;
    const std::optional<SocketAddress> local = attempt_->signal->local_address();
    if (t->from == RL_STATE_CONNECTING) {
        ENGINE_LOG(RL_LOG_INFO, "connected to channel %llu in %lld ms",
                   static_cast<unsigned long long>(channel_id),
                   static_cast<long long>(elapsed_ms()));
        emit_state(*t);
        events_.join_result(RL_OK, channel_id, elapsed_ms(), request_.uid);
    } else {
        ENGINE_LOG(RL_LOG_INFO, "reconnected to channel %llu after %lld ms of outage",
                   static_cast<unsigned long long>(channel_id),
                   static_cast<long long>(to_millis(loop_.now() - outage_started_)));
        emit_state(*t);
        events_.rejoin_result(RL_OK, channel_id);
    }
    // A fresh session's snapshot is the truth (only differences reach the app); after
    // RESUME_OK(resumed=1) there is none: the replayed stream items tell every change.
    if (!barrier.resumed()) {
        presence_.reconcile(barrier.take_snapshot());
    } else if (carried_snapshot_) {
        presence_.reconcile(*carried_snapshot_);
    }
    carried_snapshot_.reset();
    for (const StreamItem& item : barrier.take_held()) {
        if (closed()) {
            return;
        }
        process_item(item);
    }
    if (held_expiry_warning_) {
        events_.token_will_expire(*held_expiry_warning_);
        held_expiry_warning_.reset();
    }
    if (!closed() && connected()) {
        flush_messages();  // queued while the session was down, numbered by its answer
    }
    if (!closed() && connected()) {
        send_renewal();  // one made while the session was down
        host_network_.on_established(local);  // the connection type, once after joining
    }
}

void Engine::on_attempt_connected() {
    ever_reached_server_ = true;
    reconnect_.stop_probing();
    reconnect_.attempt_reached_server();
    loop_.cancel(attempt_timer_);
    send_request();
}

void Engine::on_attempt_closed(SignalConnection& connection, const std::string& why,
                               bool was_connected) {
    if (connected() && migration_ && migration_->connection()) {
        // Expected once our RESUME reached the server: it replaces (closes) the old connection.
        // The migration's own deadline still bounds the wait.
        ENGINE_LOG(RL_LOG_INFO, "old signal connection closed during migration (%s): "
                                "waiting for the new one", why.c_str());
        signal_heard();  // keep what it last heard before it goes
        loop_.close_and_release(std::move(attempt_->signal));
        return;
    }
    if (connected()) {
        begin_outage(ConnEvent::kSignalLost, why);
    } else {
        attempt_failed(why, was_connected, connection.closed_by_server());
    }
}

void Engine::on_session_granted(uint64_t channel_id, uint64_t session_id,
                                const wire::SessionSecret& secret, const std::string& media_host,
                                uint16_t media_port) {
    const bool was_parked = attempt_->machine.parked();
    attempt_->machine.on(AttemptEvent::kAnswered);
    // From the answer on the server is listening: keep the connection alive (and its silence
    // judged by watch_attempt) while the media bind completes.
    attempt_->signal->start_keepalive(signal_keepalive());
    if (was_parked) {
        // A silent attempt answered after all: it is the attempt again, the retry is off.
        reconnect_.cancel();
    }
    session_.valid = true;
    session_.channel_id = channel_id;
    session_.session_id = session_id;
    session_.secret = secret;
    use_media_address(media_host, media_port);
    if (attempt_) {  // not if the media socket could not be opened
        maybe_established();
    }
}

void Engine::on_join_err(const wire::JoinErr& err) {
    if (!attempt_->machine.request_sent() || attempt_->machine.answered()) {
        signal_failed("unexpected JOIN_ERR");
        return;
    }
    if (attempt_->resume && err.code == RL_ERR_SERVER_LIMIT) {
        // A busy server or a busy address says nothing about the session: keep it and try again
        // after the usual backoff (reconnectTimeout still bounds the wait).
        attempt_failed("RESUME refused by a server limit: " + err.message, true);
        return;
    }
    if (attempt_->resume) {
        // The server no longer knows the session (restarted, or the secret is stale). The
        // original token is still ours to use: join afresh right away.
        ENGINE_LOG(RL_LOG_INFO, "RESUME of session %llu refused (%d %s): joining afresh",
                   static_cast<unsigned long long>(session_.session_id), err.code,
                   err.message.c_str());
        session_ = Session{};
        start_attempt(nullptr, false);
        return;
    }
    ENGINE_LOG(RL_LOG_WARN, "JOIN refused: %d %s", err.code, err.message.c_str());
    if (auto t = observe(ConnEvent::kSessionRejected)) {
        finish_with(*t, err.code, false);
    }
}

void Engine::on_peer(const PeerEvent& event) {
    StreamItem item;
    item.peer = event;
    on_stream_item(std::move(item));
}

// ---------------------------------------------------------------------------------------------
// Room messages: the sender queue and the receiver stream

void Engine::on_session_answer(bool resumed, uint64_t last_accepted) {
    if (resumed) {
        // The stream goes on after what the RESUME said was processed; no snapshot.
        stream_.begin_connection(attempt_->last_received + 1);
        attempt_->barrier.set_resumed();
    } else {
        stream_.reset_session();  // a fresh session: a fresh stream, after a snapshot
        stream_.begin_connection(1);
        carried_snapshot_.reset();
    }
    outbox_.restart_after(last_accepted);
}

void Engine::flush_messages() {
    if (!connected() || !attempt_->signal || !outbox_.has_unsent()) {
        return;
    }
    SignalConnection* signal = attempt_->signal.get();
    for (const wire::MessageFrame& frame : outbox_.take_unsent()) {
        const bool sent = signal->send(frame);
        if (closed() || !connected() || attempt_->signal.get() != signal) {
            return;  // the connection failed under the send and the outage began
        }
        if (!sent) {
            signal_failed("cannot send MESSAGE");
            return;
        }
    }
}

void Engine::on_message_ack(const wire::MessageAck& ack) {
    if (!attempt_->machine.answered()) {
        signal_failed("MESSAGE_ACK before the answer");
        return;
    }
    if (!outbox_.on_ack(ack.seq)) {
        ENGINE_LOG(RL_LOG_ERROR, "protocol error: MESSAGE_ACK %llu beyond the last sent (%llu)",
                   static_cast<unsigned long long>(ack.seq),
                   static_cast<unsigned long long>(outbox_.highest_sent()));
        signal_failed("MESSAGE_ACK beyond what was sent");
    }
}

void Engine::on_stream_item(StreamItem item) {
    if (!attempt_) {
        return;
    }
    if (!attempt_->machine.answered()) {
        if (item.is_message) {
            signal_failed("ROOM_MESSAGE before the answer");
            return;
        }
        attempt_->barrier.on_snapshot_peer(item.peer, attempt_->machine);
        return;
    }
    switch (stream_.on_item()) {
        case ReceiverStream::Verdict::kDuplicate:
            return;  // a replay of what an earlier connection delivered
        case ReceiverStream::Verdict::kGap:
            ENGINE_LOG(RL_LOG_ERROR, "protocol error: receiver stream gap after item %llu",
                       static_cast<unsigned long long>(stream_.last_accepted()));
            signal_failed("receiver stream gap");
            return;
        case ReceiverStream::Verdict::kAccept:
            break;
    }
    if (connected()) {
        process_item(item);
        return;
    }
    if (!attempt_->barrier.hold(std::move(item))) {
        // A flood before the BIND_ACK: nothing held is processed, the server replays it.
        ENGINE_LOG(RL_LOG_ERROR, "server sent more stream items before BIND_ACK than are held");
        signal_failed("stream items before BIND_ACK beyond the hold");
    }
}

void Engine::process_item(const StreamItem& item) {
    stream_.processed(loop_.now());
    if (item.is_message) {
        events_.message(item.message.from_uid, item.message.target, item.message.data.data(),
                        item.message.data.size());
    } else {
        presence_.deliver(item.peer);
    }
    if (!closed() && connected()) {
        schedule_stream_ack();
    }
}

void Engine::schedule_stream_ack() {
    if (stream_.ack_due_now()) {
        send_stream_ack();
        return;
    }
    if (stream_ack_timer_ != 0) {
        return;  // one timer for the oldest unacknowledged item: no ack storms
    }
    if (const std::optional<TimePoint> due = stream_.ack_deadline()) {
        stream_ack_timer_ = loop_.schedule_at(*due, [this] {
            stream_ack_timer_ = 0;
            send_stream_ack();
        });
    }
}

void Engine::send_stream_ack() {
    loop_.cancel(stream_ack_timer_);
    if (closed() || !connected() || !attempt_->signal || !stream_.ack_deadline()) {
        return;  // nothing owed, or the next RESUME carries it
    }
    SignalConnection* signal = attempt_->signal.get();
    const bool sent = signal->send(wire::StreamAck{stream_.take_ack()});
    if (!sent && connected() && attempt_->signal.get() == signal && !signal->closed()) {
        signal_failed("cannot send STREAM_ACK");
    }
}


// ---------------------------------------------------------------------------------------------
// The attempt's role: what its connection and media path report

void Engine::AttemptRole::on_signal_connected(SignalConnection&) {
    RL_ASSERT_LOOP_THREAD(engine_.loop_);
    engine_.on_attempt_connected();
}

void Engine::AttemptRole::on_signal_message(SignalConnection&, wire::Message& message) {
    RL_ASSERT_LOOP_THREAD(engine_.loop_);
    dispatch_server_message(message, *this);
}

void Engine::AttemptRole::on_signal_closed(SignalConnection& connection, const std::string& why,
                                           bool was_connected) {
    RL_ASSERT_LOOP_THREAD(engine_.loop_);
    engine_.on_attempt_closed(connection, why, was_connected);
}

void Engine::AttemptRole::on_media_bound(MediaPath& path) {
    RL_ASSERT_LOOP_THREAD(engine_.loop_);
    RL_LOG(RL_LOG_DEBUG, "engine %llu: media bound at %s",
           static_cast<unsigned long long>(engine_.id_), path.remote().to_string().c_str());
    engine_.maybe_established();
}

void Engine::AttemptRole::on_media_lost(MediaPath&, const std::string& why) {
    RL_ASSERT_LOOP_THREAD(engine_.loop_);
    if (engine_.connected()) {
        engine_.begin_outage(ConnEvent::kMediaLost, why, true);
    }
}

void Engine::AttemptRole::on_join_ok(const wire::JoinOk& ok) {
    const Attempt& attempt = *engine_.attempt_;
    if (attempt.resume || attempt.machine.answered()) {
        engine_.signal_failed("unexpected JOIN_OK");
        return;
    }
    engine_.on_session_answer(false, 0);
    engine_.on_session_granted(ok.channel_id, ok.session_id, ok.session_secret, ok.media_host,
                               ok.media_port);
}

void Engine::AttemptRole::on_resume_ok(const wire::ResumeOk& ok) {
    const Attempt& attempt = *engine_.attempt_;
    if (!attempt.resume || attempt.machine.answered()) {
        engine_.signal_failed("unexpected RESUME_OK");
        return;
    }
    if (ok.resumed == 0) {
        RL_LOG(RL_LOG_INFO, "engine %llu: session %llu had expired: server made a fresh one (%llu)",
               static_cast<unsigned long long>(engine_.id_),
               static_cast<unsigned long long>(engine_.session_.session_id),
               static_cast<unsigned long long>(ok.session_id));
    }
    engine_.on_session_answer(ok.resumed == 1, ok.last_accepted);
    engine_.on_session_granted(ok.channel_id, ok.session_id, ok.session_secret, ok.media_host,
                               ok.media_port);
}

void Engine::AttemptRole::on_join_err(const wire::JoinErr& err) { engine_.on_join_err(err); }

void Engine::AttemptRole::on_session_end(const wire::SessionEnd& end) {
    engine_.on_session_end(end);
}

void Engine::AttemptRole::on_server_error(const wire::ServerError& error) {
    RL_LOG(RL_LOG_ERROR, "engine %llu: server reported protocol error %d: %s",
           static_cast<unsigned long long>(engine_.id_), error.code, error.message.c_str());
    if (!engine_.connected() && !engine_.attempt_->machine.answered()) {
        // Our request itself was refused as malformed: repeating it cannot help.
        if (auto t = engine_.observe(ConnEvent::kSessionRejected)) {
            engine_.finish_with(*t, error.code, false);
        }
        return;
    }
    engine_.signal_failed("server error " + std::to_string(error.code) + ": " + error.message);
}

void Engine::AttemptRole::on_peer(const PeerEvent& event) { engine_.on_peer(event); }

void Engine::AttemptRole::on_message_ack(const wire::MessageAck& ack) {
    engine_.on_message_ack(ack);
}

void Engine::AttemptRole::on_room_message(const wire::RoomMessage& message) {
    StreamItem item;
    item.is_message = true;
    item.message = message;
    engine_.on_stream_item(std::move(item));
}

void Engine::AttemptRole::on_token_will_expire(const wire::TokenWillExpire& warning) {
    RL_LOG(RL_LOG_INFO, "engine %llu: the token expires at %llu: renew it",
           static_cast<unsigned long long>(engine_.id_),
           static_cast<unsigned long long>(warning.expires_at));
    if (engine_.connected()) {
        engine_.events_.token_will_expire(warning.expires_at);
    } else {
        engine_.held_expiry_warning_ = warning.expires_at;  // the app hears of the join first
    }
}

void Engine::AttemptRole::on_renew_token_result(const wire::RenewTokenResult& result) {
    RL_LOG(result.code == RL_OK ? RL_LOG_INFO : RL_LOG_WARN,
           "engine %llu: token renewal %s (%d), session expires at %llu",
           static_cast<unsigned long long>(engine_.id_),
           result.code == RL_OK ? "accepted" : "refused", result.code,
           static_cast<unsigned long long>(result.expires_at));
    engine_.events_.renew_token_result(result.code, result.expires_at);
}

void Engine::AttemptRole::on_unexpected(uint8_t type_code) {
    RL_LOG(RL_LOG_ERROR, "engine %llu: protocol error: server sent %s",
           static_cast<unsigned long long>(engine_.id_), wire::type_name(type_code));
    engine_.signal_failed(std::string("server sent ") + wire::type_name(type_code));
}

// ---------------------------------------------------------------------------------------------
// The session

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
        case RL_ERR_REPLAY_OVERFLOW:
            // The server ended the session (its replay buffer for us overflowed): join afresh
            // with the token, keeping the outgoing queue (numbered from 1 after JOIN_OK).
            ENGINE_LOG(RL_LOG_WARN, "session %llu ended by the server (%d %s): joining afresh",
                       static_cast<unsigned long long>(session_.session_id), end.code,
                       end.message.c_str());
            session_ = Session{};
            if (connected()) {
                begin_outage(ConnEvent::kSignalLost, "replay buffer overflow");
            } else if (attempt_) {
                start_attempt(nullptr, false);
            }
            return;
        case RL_ERR_TOKEN_EXPIRED:
            // The server removed us, like a kick (the reference SDK's BE_KICKED: "look at
            // onDisconnect's code"); reconnecting with the expired token could not help.
            event = ConnEvent::kKicked;
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

void Engine::signal_failed(const std::string& why) {
    if (connected()) {
        begin_outage(ConnEvent::kSignalLost, why);
    } else {
        attempt_failed(why, true);
    }
}

void Engine::begin_outage(ConnEvent cause, const std::string& why, bool silent) {
    auto t = observe(cause);
    if (!t) {
        return;  // a newer app request is queued and will stop this session
    }
    const bool was_connected = connected();
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
    drop_attempt();
    host_network_.on_outage();
    const Duration first_attempt = reconnect_.outage_began(silent);
    emit_state(*t);
    events_.reconnecting_start();
    if (closed()) {
        return;
    }
    reconnect_timer_ = loop_.schedule_after(options_.reconnect_timeout, [this] {
        reconnect_timer_ = 0;
        on_reconnect_timeout();
    });
    if (first_attempt == Duration::zero()) {
        start_attempt();  // after a stable session the first attempt goes out at once
    } else {
        reconnect_.hold_first_attempt(first_attempt);
    }
}

void Engine::note_reach() {
    // Past TCP but still in the TLS handshake, or silent after it: the server was reached.
    if (attempt_ && attempt_->signal && attempt_->signal->reached_server()) {
        ever_reached_server_ = true;
    }
}

void Engine::on_join_timeout() {
    RL_ASSERT_LOOP_THREAD(loop_);
    note_reach();
    const int32_t code = (attempt_ && attempt_->machine.answered()) ? RL_ERR_MEDIA_BIND_TIMEOUT
                         : ever_reached_server_                     ? RL_ERR_JOIN_TIMEOUT
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
    RL_ASSERT_LOOP_THREAD(loop_);
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
    // Taken before stop_all drops the queue: reported right after the result event.
    last_end_code_ = code;
    const size_t undelivered = outbox_.size();
    if (undelivered > 0) {
        ENGINE_LOG(RL_LOG_WARN, "%zu messages undelivered (%d)", undelivered, code);
    }
    stop_all(say_leave);
    emit_state(t);
    if (t.to == RL_STATE_FAILED && t.from == RL_STATE_CONNECTING) {
        events_.join_result(code, 0, elapsed, request_.uid);
    } else if (t.to == RL_STATE_FAILED && t.reason == RL_REASON_REQUEST_CHANNEL_FAILED) {
        events_.rejoin_result(code, 0);
    } else {
        events_.disconnect(code);
    }
    if (undelivered > 0) {
        events_.messages_undelivered(undelivered, code);
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
//   silence >= signal_timeout, media healthy        -> ask media: a PING out of turn. Its last
//                                                      PONG may predate a cut that took both paths
//                                                      (media pings more often than signaling, so
//                                                      it is always the younger evidence). Then:
//     media answers                                 -> migrate: a fresh TCP connection (fresh RTO
//                                                      state) RESUMEs the session with the current
//                                                      mediaKey; the old one stays open meanwhile
//     media does not                                -> nothing here: media's own timeout (its fast
//                                                      PINGs get every chance) reports the outage,
//                                                      with no migration wasted on a dead network
//   silence >= 2 x signal_timeout on all connections -> outage (the signal path really is gone)
// Data on any of the connections counts as signal liveness. A migration answered by
// RESUME_OK(resumed=1) is silent: peers and app see nothing but presence differences, if any.

TimePoint Engine::signal_heard() {
    if (attempt_ && attempt_->signal) {
        signal_heard_ = std::max(signal_heard_, attempt_->signal->last_data());
    }
    if (migration_ && migration_->connection()) {
        signal_heard_ = std::max(signal_heard_, migration_->connection()->last_data());
    }
    return signal_heard_;
}

bool Engine::media_healthy() const {
    return attempt_ && attempt_->media && attempt_->media->bound() &&
           loop_.now() - attempt_->media->last_inbound() < options_.media_timeout;
}

void Engine::watch_signal() {
    loop_.cancel(signal_watch_timer_);
    if (!connected()) {
        return;
    }
    const Duration timeout = options_.signal_timeout;
    const TimePoint heard = signal_heard();
    TimePoint wake = heard + timeout;
    if (migration_) {
        wake = std::min(heard + 2 * timeout, migration_->started() + timeout);
    }
    signal_watch_timer_ = loop_.schedule_at(wake, [this] {
        signal_watch_timer_ = 0;
        signal_watch_tick();
    });
}

void Engine::signal_watch_tick() {
    RL_ASSERT_LOOP_THREAD(loop_);
    if (closed() || !connected()) {
        return;
    }
    if (loop_.now() - signal_heard() >= options_.signal_timeout) {
        // A loop that fell behind may run this timer before the handlers of data that has
        // already arrived: read it before judging silence. What it holds may end the session.
        if (attempt_->signal) {
            attempt_->signal->read_pending();
        }
        if (!closed() && connected() && migration_) {
            migration_->read_pending();
        }
        if (closed() || !connected()) {
            return;
        }
    }
    const TimePoint now = loop_.now();
    const Duration timeout = options_.signal_timeout;
    const Duration silence = now - signal_heard();
    if (migration_ && silence >= 2 * timeout) {
        begin_outage(ConnEvent::kSignalLost,
                     "no data from server for " + std::to_string(to_millis(silence)) +
                         " ms, signal migration unanswered",
                     true);
        return;
    }
    if (migration_ && now >= migration_->started() + timeout) {
        // Unanswered, but the old connection has spoken meanwhile (else the rule above fired).
        ENGINE_LOG(RL_LOG_INFO, "signal migration unanswered after %lld ms: abandoned",
                   static_cast<long long>(to_millis(now - migration_->started())));
        drop_migration();
    }
    if (silence < timeout) {
        media_asked_ = TimePoint{};
    }
    if (!migration_ && silence >= timeout) {
        if (!media_healthy()) {
            begin_outage(ConnEvent::kSignalLost,
                         "no data from server for " + std::to_string(to_millis(silence)) +
                             " ms, media silent too",
                         true);
            return;
        }
        if (media_asked_ == TimePoint{}) {
            media_asked_ = now;
            attempt_->media->ping_now();
        }
        if (attempt_->media->last_inbound() < media_asked_) {
            // No fresh answer yet: look again about when it is due (twice the smoothed RTT,
            // within [1 ms, the fast ping interval]), and at that interval after that. If none
            // comes, media's own timeout ends this.
            const std::optional<Duration> srtt = attempt_->media->keepalive().smoothed_rtt();
            const Duration again =
                now == media_asked_ && srtt
                    ? std::clamp<Duration>(2 * *srtt, millis(1), options_.keepalive_fast)
                    : options_.keepalive_fast;
            loop_.cancel(signal_watch_timer_);
            signal_watch_timer_ = loop_.schedule_after(again, [this] {
                signal_watch_timer_ = 0;
                signal_watch_tick();
            });
            return;
        }
        media_asked_ = TimePoint{};
        start_migration(silence);
        if (closed() || !connected()) {
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
    SignalMigration::Owner& owner = *this;
    migration_ = std::make_unique<SignalMigration>(loop_, owner, id_, loop_.now(), options_.tls,
                                                   options_.max_peers);
    if (!attempt_->signal && !reconnect_.has_addresses()) {
        return;  // nowhere to go; the deadline decides
    }
    const SocketAddress server =
        attempt_->signal ? attempt_->signal->remote() : reconnect_.current_address();
    wire::Resume resume;
    resume.session_id = session_.session_id;
    resume.session_secret = session_.secret;
    // The current key: the server keeps the media binding as it is, so media never pauses.
    resume.media_key = attempt_->media_key;
    resume.media_secret = attempt_->media_secret;  // the same key names the same keys
    resume.last_received = stream_.last_processed();
    migration_last_received_ = resume.last_received;
    migration_->connect(server, resume);
}

void Engine::on_migrated(std::unique_ptr<SignalConnection> connection, const wire::ResumeOk& ok) {
    session_.secret = ok.session_secret;  // the server rotated it: the one we sent is dead now
    const TimePoint now = loop_.now();
    ENGINE_LOG(RL_LOG_INFO, "migrated in %lld ms (signal silent for %lld ms before the answer)",
               static_cast<long long>(to_millis(now - migration_->started())),
               static_cast<long long>(to_millis(now - signal_heard_)));
    std::unique_ptr<SignalConnection> old = std::move(attempt_->signal);
    attempt_->signal = std::move(connection);
    attempt_->signal->set_listener(&attempt_role_);
    loop_.close_and_release(std::move(migration_));
    signal_heard_ = now;
    attempt_->signal->start_keepalive(signal_keepalive());
    // Closed with a reset (the default): what it still held is replayed on the new connection.
    loop_.close_and_release(std::move(old));
    watch_signal();
    // The stream items the stalled connection never delivered follow on the new one (items
    // after the RESUME's lastReceived; those the old one delivered meanwhile are dropped as
    // duplicates). Messages the server did not take go again, renumbered after lastAccepted.
    stream_.begin_connection(migration_last_received_ + 1);
    outbox_.restart_after(ok.last_accepted);
    flush_messages();
    if (!closed() && connected() && attempt_->signal) {
        host_network_.on_established(attempt_->signal->local_address());  // it may leave elsewhere
    }
}

void Engine::on_migration_got_fresh_session(const wire::ResumeOk& fresh,
                                            std::vector<uint64_t> snapshot) {
    // The session had expired after all: the server admitted us afresh and peers saw us leave
    // and come back. That is an outage, reported as one; the reconnect RESUMEs the fresh session.
    ENGINE_LOG(RL_LOG_INFO, "session %llu had expired: server made a fresh one (%llu)",
               static_cast<unsigned long long>(session_.session_id),
               static_cast<unsigned long long>(fresh.session_id));
    session_.channel_id = fresh.channel_id;
    session_.session_id = fresh.session_id;
    session_.secret = fresh.session_secret;
    // A fresh session: its stream starts afresh (the reconnect RESUMEs it with lastReceived 0
    // and gets its items replayed), its snapshot is this one, and it takes messages after
    // lastAccepted.
    stream_.reset_session();
    carried_snapshot_ = std::move(snapshot);
    outbox_.restart_after(fresh.last_accepted);
    begin_outage(ConnEvent::kSignalLost, "session expired while signaling was stalled");
}

void Engine::on_migration_refused(const wire::JoinErr& err) {
    // The server no longer knows the session (restarted): a real outage; the reconnect joins
    // afresh with the original token.
    ENGINE_LOG(RL_LOG_INFO, "RESUME of session %llu refused during migration (%d %s)",
               static_cast<unsigned long long>(session_.session_id), err.code,
               err.message.c_str());
    session_ = Session{};
    begin_outage(ConnEvent::kSignalLost, "session unknown to the server");
}

void Engine::on_migration_closed(const std::string& why) {
    ENGINE_LOG(RL_LOG_INFO, "signal migration connection lost: %s", why.c_str());
    signal_heard();
    migration_->drop_connection();
    if (!attempt_->signal) {
        begin_outage(ConnEvent::kSignalLost, why);  // no connection left at all
    }
    // Otherwise the old connection may still speak; the migration deadline decides.
}

void Engine::drop_migration() {
    if (migration_) {
        signal_heard();
        loop_.close_and_release(std::move(migration_));
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

void Engine::stop_all(bool say_leave) {
    loop_.cancel(join_timer_);
    loop_.cancel(reconnect_timer_);
    loop_.cancel(attempt_timer_);
    reconnect_.stop();
    loop_.cancel(signal_watch_timer_);
    if (say_leave && migration_) {
        if (auto connection = migration_->take_connection_for_leave()) {
            linger_until_leave_acknowledged(loop_, std::move(connection), options_.leave_linger);
            say_leave = false;
        }
    }
    drop_migration();
    if (attempt_) {
        if (say_leave && attempt_->signal && attempt_->signal->connected() &&
            attempt_->machine.request_sent()) {
            LeaveMessages messages;
            if (leave_messages_) {
                messages = std::move(*leave_messages_);
                leave_messages_.reset();
            }
            linger_until_leave_acknowledged(loop_, std::move(attempt_->signal),
                                            options_.leave_linger, std::move(messages));
        }
        drop_attempt();
    }
    session_ = Session{};
    presence_.clear();
    outbox_.clear();  // reported by the caller (finish_with, on_leave_command) if it must be
    stream_.reset_session();
    loop_.cancel(stream_ack_timer_);
    carried_snapshot_.reset();
    media_address_.reset();
    held_expiry_warning_.reset();
    host_network_.stop();
    running_ = false;
}

// ---------------------------------------------------------------------------------------------
// The host's own network events (host_network.h)

void Engine::on_host_path_lost(const std::string& why) {
    if (closed() || !connected()) {
        return;
    }
    begin_outage(ConnEvent::kSignalLost, "host network: " + why);
}

void Engine::on_host_network_back() {
    if (closed() || !running()) {
        return;
    }
    if (establishing() && attempt_ && attempt_->machine.request_sent()) {
        return;  // its request is with the server already: a new attempt would only race it
    }
    ENGINE_LOG(RL_LOG_INFO, "host network changed");
    on_network_changed();
}

void Engine::on_connection_type(int32_t type) {
    ENGINE_LOG(RL_LOG_INFO, "connection type %d", type);
    events_.connection_type(type);
}

std::optional<SocketAddress> Engine::host_path_server() const {
    if (!reconnect_.has_addresses()) {
        return std::nullopt;
    }
    return reconnect_.current_address();
}

void Engine::emit_state(const Transition& t) {
    ENGINE_LOG(RL_LOG_INFO, "state %s -> %s (%s)", state_name(t.from), state_name(t.to),
               reason_name(t.reason));
    events_.state_changed(t.to, t.reason);
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
