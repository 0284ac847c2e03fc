// One signaling TCP connection on a loop: nonblocking connect, a TLS handshake unless the engine
// runs plaintext (tls_stream.h), frame reassembly, a write queue, and (once started) keepalive
// PINGs. It counts as connected only once the handshake is done. Its silence is judged by its
// owner (the engine counts valid frames on any of its connections: see last_data() and
// silence()). Each wakeup reads at most kSignalReadBytesPerWakeup (read_budget.h). Reports to a Listener; after it
// reports on_signal_closed, or after close(), the connection is inert. It may not be destroyed
// from inside its own callback: an owner drops it there with EventLoop::close_and_release.
#ifndef ROOMLINK_SIGNAL_CONNECTION_H
#define ROOMLINK_SIGNAL_CONNECTION_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "keepalive.h"
#include "keepalive_driver.h"
#include "socket_util.h"
#include "tls_context.h"
#include "tls_stream.h"
#include "wire_codec.h"

namespace roomlink {

class SignalConnection : private KeepaliveDriver::Path {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_signal_connected(SignalConnection& connection) = 0;
        virtual void on_signal_message(SignalConnection& connection, wire::Message& message) = 0;
        // `why` is human readable; `was_connected` tells a failed connect from a lost connection.
        virtual void on_signal_closed(SignalConnection& connection, const std::string& why,
                                      bool was_connected) = 0;
    };

    // tls: the engine's TLS client context; null speaks plaintext.
    SignalConnection(EventLoop& loop, Listener* listener,
                     std::shared_ptr<const TlsContext> tls = nullptr);
    ~SignalConnection();
    SignalConnection(const SignalConnection&) = delete;
    SignalConnection& operator=(const SignalConnection&) = delete;

    // Starts connecting. Returns false (and sets *error) if it failed at once; no callback then.
    bool connect(const SocketAddress& to, std::string* error);
    // Queues a frame. Returns false if the connection is not usable or the message is invalid.
    bool send(const wire::Message& message);
    void set_listener(Listener* listener) { listener_ = listener; }
    // By default destruction resets the connection (RST): an abandoned attempt must not have its
    // RESUME retransmitted by the kernel and delivered after a newer one. A connection whose
    // queued bytes must still arrive (a LEAVE) asks for a graceful FIN instead.
    void close_gracefully_on_destroy() { graceful_close_ = true; }
    // Closes the socket (as destruction does) without reporting anything.
    void close();

    // The adaptive keepalive (keepalive.h): PING every `timing.healthy`, every `timing.fast` while
    // a PING is overdue (any valid frame answers it). `timing.timeout` only bounds the suspect
    // delay: the owner judges silence itself (see last_data()).
    void start_keepalive(KeepaliveTiming timing);
    void ping_now();
    // Reads (and reports) whatever the socket holds now, without waiting for the loop to get to
    // it: for silence judged by a timer that may run before a late I/O handler.
    void read_pending();

    bool connected() const { return connected_; }
    // TCP reached the server and no TLS handshake was refused: a server that accepts and then
    // says nothing counts as reached (join timeout 31003), one whose certificate we reject or
    // that rejects our handshake does not (31004).
    bool reached_server() const { return tcp_connected_ && !handshake_failed_; }
    // Failed, lost or close()d: it will report nothing more.
    bool closed() const { return closed_; }
    // The errno that failed the connect (ECONNREFUSED: the server's host said nothing listens;
    // ETIMEDOUT, EHOSTUNREACH, ...); 0 if none.
    int connect_error() const { return connect_error_; }
    // The connection ended by the server's own FIN or RST (not a local timeout or error): so the
    // path carried a packet from the server just now.
    bool closed_by_server() const { return closed_by_server_; }
    // Everything queued so far was sent and acknowledged by the peer's TCP: the server's host
    // holds our request even if the server has not answered it yet.
    bool all_acknowledged() const;
    const SocketAddress& remote() const { return remote_; }
    // The socket's own address (getsockname); nullopt before connect or after close.
    std::optional<SocketAddress> local_address() const;
    Duration silence() const { return loop_.now() - last_inbound_; }
    // When the last valid frame the server may send arrived (bytes alone do not count: see
    // counts_as_liveness); TimePoint{} if none ever did.
    TimePoint last_data() const { return last_data_; }
    const KeepaliveSchedule& keepalive() const { return keepalive_.schedule(); }

private:
    void on_io(uint32_t events);
    void finish_connect();
    void continue_handshake();
    void become_connected();
    // Through TLS or straight on the socket: >0 bytes moved, 0 would block, -1 failed (reported).
    ssize_t receive(uint8_t* buffer, size_t capacity);
    ssize_t transmit(const uint8_t* data, size_t length);
    void read_available();
    bool counts_as_liveness(const wire::Message& message);
    void heard_valid_frame();
    void flush();
    bool send_ping();
    bool send_keepalive_ping() override;
    void update_interest();
    // Closes the socket and reports.
    void fail(const std::string& why);

    EventLoop& loop_;
    Listener* listener_;
    UniqueFd fd_;
    EventLoop::WatchId watch_ = 0;
    SocketAddress remote_;
    bool connected_ = false;
    bool closed_ = false;
    bool want_write_ = false;
    bool graceful_close_ = false;
    int connect_error_ = 0;
    bool closed_by_server_ = false;

    std::shared_ptr<const TlsContext> tls_;
    std::unique_ptr<TlsStream> stream_;
    bool handshaking_ = false;
    bool tcp_connected_ = false;
    bool handshake_failed_ = false;
    bool tls_wants_write_ = false;  // the session needs the socket writable to go on

    wire::FrameReader reader_;
    std::vector<uint8_t> out_;
    size_t out_start_ = 0;

    TimePoint last_inbound_{};  // last valid frame, or the start of the connection
    TimePoint last_data_{};     // last valid frame only
    uint64_t next_nonce_ = 1;
    uint64_t last_answered_nonce_ = 0;  // the newest PING a PONG has answered
    uint64_t rtt_nonce_ = 0;    // the last PING sent, timed by its PONG
    TimePoint rtt_sent_{};
    KeepaliveDriver keepalive_;
};

}  // namespace roomlink

#endif
