// The UDP media path of one connection attempt: binds the socket to the session by sending BIND
// (retransmitted until BIND_ACK), then keeps it alive with PING/PONG, measuring RTT and reporting
// loss after a silence. Every datagram is sealed and opened with the attempt's media keys
// (media_cipher.h); only authentic, fresh answers to what it sent count as liveness, and each
// wakeup reads at most kMediaDatagramsPerWakeup (read_budget.h). Reports to a Listener. It may not be destroyed
// from inside its own callback: an owner drops it there with EventLoop::close_and_release.
#ifndef ROOMLINK_MEDIA_PATH_H
#define ROOMLINK_MEDIA_PATH_H

#include <cstdint>
#include <memory>
#include <string>

#include "backoff.h"
#include "event_loop.h"
#include "keepalive.h"
#include "keepalive_driver.h"
#include "media_cipher.h"
#include "replay_window.h"
#include "socket_util.h"
#include "wire_codec.h"

namespace roomlink {

class MediaPath : private KeepaliveDriver::Path, private KeepaliveDriver::SilenceHandler {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_media_bound(MediaPath& path) = 0;
        virtual void on_media_lost(MediaPath& path, const std::string& why) = 0;
    };

    MediaPath(EventLoop& loop, Listener* listener, uint64_t media_key, const MediaKeys& keys,
              Duration bind_retransmit);
    ~MediaPath();
    MediaPath(const MediaPath&) = delete;
    MediaPath& operator=(const MediaPath&) = delete;

    // Opens the socket and starts sending BIND. False (with *error) if the socket failed.
    // `eager`: retransmit every bind_retransmit (the session is granted, BIND_ACK is due);
    // otherwise (BIND sent early, alongside a JOIN/RESUME the server has not answered yet) the
    // retransmissions back off, doubling up to 1 s, until send_bind_now().
    bool open(const SocketAddress& to, std::string* error, bool eager);
    // Sends BIND at once (if not bound yet) and retransmits it eagerly from now on.
    void send_bind_now();
    // After the bind: the adaptive keepalive (keepalive.h): PING every `timing.healthy`, every
    // `timing.fast` while a PING is overdue; report loss after the schedule's silence threshold
    // (at most `timing.timeout`) without PONG/ACK.
    void start_keepalive(KeepaliveTiming timing);
    // What an earlier path to the same address measured (KeepaliveSchedule::seed_rtt).
    void seed_rtt(const RttEstimator& rtt) { keepalive_.seed_rtt(rtt); }
    void ping_now();
    // Closes the socket (as destruction does): it sends and reports nothing more.
    void close();

    bool bound() const { return bound_; }
    const SocketAddress& remote() const { return remote_; }
    const KeepaliveSchedule& keepalive() const { return keepalive_.schedule(); }
    // When the last PONG / BIND_ACK arrived (or the keepalive started, if later).
    TimePoint last_inbound() const { return last_inbound_; }
    // Datagrams dropped because their tag did not verify, or because they were replays.
    uint64_t unauthenticated() const { return unauthenticated_; }
    uint64_t replayed() const { return replayed_; }

private:
    void on_readable();
    bool expected(const wire::MediaPacket& packet) const;
    std::optional<wire::MediaPacket> authentic(const uint8_t* data, size_t size);
    void handle(const wire::MediaPacket& packet);
    void send_packet(wire::MediaType type);
    void bind_tick();
    bool send_keepalive_ping() override;
    bool read_pending_before_verdict() override;
    void on_keepalive_silent(TimePoint now) override;

    EventLoop& loop_;
    Listener* listener_;
    const uint64_t media_key_;
    MediaCipher sealer_;  // client to server
    MediaCipher opener_;  // server to client
    ReplayWindow replay_;
    uint64_t next_counter_ = 1;
    uint64_t unauthenticated_ = 0;
    uint64_t replayed_ = 0;
    const Duration bind_retransmit_;
    GrowingDelay early_bind_;  // the retransmit interval of BINDs sent ahead of the answer
    bool bind_eager_ = false;
    UniqueFd fd_;
    EventLoop::WatchId watch_ = 0;
    SocketAddress remote_;
    bool bound_ = false;
    uint32_t next_seq_ = 0;
    uint64_t first_sent_ns_ = 0;  // echo_ns of the first and the latest datagram sent
    uint64_t last_sent_ns_ = 0;

    EventLoop::TimerId bind_timer_ = 0;
    KeepaliveDriver keepalive_;
    TimePoint last_inbound_{};
};

}  // namespace roomlink

#endif
