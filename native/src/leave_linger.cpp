#include "leave_linger.h"

#include "log.h"

namespace roomlink {
namespace {

class LeaveLinger final : public SignalConnection::Listener,
                          public std::enable_shared_from_this<LeaveLinger> {
public:
    LeaveLinger(EventLoop& loop, std::unique_ptr<SignalConnection> connection)
        : loop_(loop), connection_(std::move(connection)) {}

    void start(Duration max_wait) {
        connection_->set_listener(this);
        connection_->close_gracefully_on_destroy();  // the LEAVE must get out
        auto self = shared_from_this();
        deadline_ = loop_.schedule_after(max_wait, [self] {
            self->deadline_ = 0;
            RL_LOG(RL_LOG_DEBUG, "leave to %s: no LEAVE_OK in time, closing",
                   self->connection_->remote().to_string().c_str());
            self->finish();
        });
        if (!connection_->send(wire::Leave{})) {
            finish();
        }
    }

    void on_signal_connected(SignalConnection&) override {}
    void on_signal_message(SignalConnection&, wire::Message& message) override {
        if (std::holds_alternative<wire::LeaveOk>(message)) {
            finish();
        }
    }
    void on_signal_closed(SignalConnection&, const std::string&, bool) override { finish(); }

private:
    void finish() {
        // The deadline task owns the last reference; keep this alive until we are done here.
        auto keep = shared_from_this();
        // finish() may run inside the connection's own callback.
        loop_.close_and_release(std::move(connection_));
        loop_.cancel(deadline_);
    }

    EventLoop& loop_;
    std::unique_ptr<SignalConnection> connection_;
    EventLoop::TimerId deadline_ = 0;
};

}  // namespace

void linger_until_leave_acknowledged(EventLoop& loop, std::unique_ptr<SignalConnection> connection,
                                     Duration max_wait) {
    if (!connection || !connection->connected()) {
        return;
    }
    std::make_shared<LeaveLinger>(loop, std::move(connection))->start(max_wait);
}

}  // namespace roomlink
