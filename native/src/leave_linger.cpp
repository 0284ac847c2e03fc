#include "leave_linger.h"

#include <algorithm>

#include "log.h"

namespace roomlink {
namespace {

class LeaveLinger final : public SignalConnection::Listener,
                          public std::enable_shared_from_this<LeaveLinger> {
public:
    LeaveLinger(EventLoop& loop, std::unique_ptr<SignalConnection> connection,
                LeaveMessages messages)
        : loop_(loop), connection_(std::move(connection)), messages_(std::move(messages)),
          acked_(messages_.first > 0 ? messages_.first - 1 : 0) {}

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
            acked_ = std::max(acked_, messages_.last);
            finish();
        } else if (const auto* ack = std::get_if<wire::MessageAck>(&message)) {
            acked_ = std::max(acked_, ack->seq);
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
        if (messages_.undelivered && messages_.last > acked_) {
            auto report = std::move(messages_.undelivered);
            messages_.undelivered = nullptr;
            report(messages_.last - acked_);
        }
    }

    EventLoop& loop_;
    std::unique_ptr<SignalConnection> connection_;
    LeaveMessages messages_;
    uint64_t acked_;
    EventLoop::TimerId deadline_ = 0;
};

}  // namespace

void linger_until_leave_acknowledged(EventLoop& loop, std::unique_ptr<SignalConnection> connection,
                                     Duration max_wait, LeaveMessages messages) {
    if (!connection || !connection->connected()) {
        if (messages.undelivered && messages.last >= messages.first && messages.first > 0) {
            messages.undelivered(messages.last - messages.first + 1);
        }
        return;
    }
    std::make_shared<LeaveLinger>(loop, std::move(connection), std::move(messages))
        ->start(max_wait);
}

}  // namespace roomlink
