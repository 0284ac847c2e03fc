#include "signal_migration.h"

#include "log.h"

#define MIGRATION_LOG(level, fmt, ...)                                                       \
    RL_LOG(level, "engine %llu: " fmt, static_cast<unsigned long long>(engine_id_), \
           ##__VA_ARGS__)

namespace roomlink {

SignalMigration::SignalMigration(EventLoop& loop, Owner& owner, uint64_t engine_id,
                                 TimePoint started, std::shared_ptr<const TlsContext> tls,
                                 size_t max_peers)
    : loop_(loop), owner_(owner), engine_id_(engine_id), started_(started), tls_(std::move(tls)),
      snapshot_(max_peers) {}

SignalMigration::~SignalMigration() = default;

void SignalMigration::connect(const SocketAddress& to, const wire::Resume& resume) {
    resume_ = resume;
    SignalConnection::Listener* role = this;
    auto connection = std::make_unique<SignalConnection>(loop_, role, tls_);
    std::string error;
    if (!connection->connect(to, &error)) {
        MIGRATION_LOG(RL_LOG_INFO, "signal migration: %s", error.c_str());
        return;
    }
    signal_ = std::move(connection);
}

void SignalMigration::ping_now() {
    if (signal_ && request_sent_) {
        signal_->ping_now();
    }
}

void SignalMigration::read_pending() {
    if (signal_) {
        signal_->read_pending();
    }
}

std::unique_ptr<SignalConnection> SignalMigration::take_connection_for_leave() {
    if (signal_ && signal_->connected() && request_sent_) {
        return std::move(signal_);
    }
    return nullptr;
}

void SignalMigration::drop_connection() { loop_.close_and_release(std::move(signal_)); }

void SignalMigration::on_signal_connected(SignalConnection& connection) {
    RL_ASSERT_LOOP_THREAD(loop_);
    request_sent_ = true;
    // A send that fails on the socket reports on_signal_closed itself.
    if (!connection.send(resume_) && !connection.closed()) {
        on_signal_closed(connection, "cannot send RESUME", true);
    }
    // No PING until the answer (the server answers it only after RESUME_OK); the owner starts
    // the keepalive when it takes the connection over.
}

void SignalMigration::on_signal_message(SignalConnection&, wire::Message& message) {
    RL_ASSERT_LOOP_THREAD(loop_);
    dispatch_server_message(message, *this);
}

void SignalMigration::on_signal_closed(SignalConnection&, const std::string& why, bool) {
    RL_ASSERT_LOOP_THREAD(loop_);
    owner_.on_migration_closed(why);
}

void SignalMigration::on_join_ok(const wire::JoinOk& ok) {
    on_unexpected(wire::type_code(wire::Message(ok)));
}

void SignalMigration::on_resume_ok(const wire::ResumeOk& ok) {
    if (ok.resumed == 1 && ok.session_id == resume_.session_id) {
        owner_.on_migrated(std::move(signal_), ok);
        return;
    }
    owner_.on_migration_got_fresh_session(ok, snapshot_.take());
}

void SignalMigration::on_join_err(const wire::JoinErr& err) { owner_.on_migration_refused(err); }

void SignalMigration::on_session_end(const wire::SessionEnd& end) {
    owner_.on_migration_session_end(end);
}

void SignalMigration::on_server_error(const wire::ServerError& error) {
    MIGRATION_LOG(RL_LOG_ERROR, "server reported protocol error %d: %s", error.code,
                  error.message.c_str());
    owner_.on_migration_failed("server error " + std::to_string(error.code) + ": " +
                               error.message);
}

void SignalMigration::on_unexpected(uint8_t type_code) {
    MIGRATION_LOG(RL_LOG_ERROR, "protocol error: server sent %s on the migration connection",
                  wire::type_name(type_code));
    owner_.on_migration_failed(std::string("server sent ") + wire::type_name(type_code));
}

}  // namespace roomlink
