// The adaptive keepalive, on a manual clock: the pure schedule (keepalive.h) step by step; the
// KeepaliveDriver (keepalive_driver.h) on an EventLoop with a ManualClock and a fake path; then
// both paths that compose the driver, MediaPath over a real loopback UDP socket and
// SignalConnection over a real loopback TCP connection.
#include "keepalive.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event_loop.h"
#include "keepalive_driver.h"
#include "media_path.h"
#include "media_server_key.h"
#include "signal_connection.h"
#include "socket_util.h"
#include "test_support.h"
#include "wire_codec.h"

using namespace roomlink;

namespace {

using Action = KeepaliveSchedule::Action;

// Media defaults: healthy 500 ms, fast 25 ms, timeout 1500 ms.
KeepaliveTiming media_defaults() { return KeepaliveTiming{millis(500), millis(25), millis(1500)}; }

// `from`, `from + step`, ... while below `to`.
std::vector<int64_t> every(int64_t from, int64_t step, int64_t to) {
    std::vector<int64_t> v;
    for (int64_t ms = from; ms < to; ms += step) v.push_back(ms);
    return v;
}
std::vector<int64_t> operator+(std::vector<int64_t> a, const std::vector<int64_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Runs the schedule from `from` to `to` in 1 ms steps as a caller would, sending every ping it
// asks for; returns the ping times (ms after t0) and stops early if the path is lost.
struct Run {
    std::vector<int64_t> pings;
    int64_t lost_at = -1;
};

Run drive(KeepaliveSchedule& k, TimePoint t0, int64_t from, int64_t to) {
    Run run;
    for (int64_t ms = from; ms <= to; ++ms) {
        const TimePoint now = t0 + millis(ms);
        Action a = k.due(now);
        if (a == Action::kLost) {
            run.lost_at = ms;
            return run;
        }
        if (a == Action::kPing) {
            run.pings.push_back(ms);
            k.pinged(now);
        }
    }
    return run;
}

const TimePoint kT0 = TimePoint(std::chrono::seconds(100));

}  // namespace

TEST(healthy_path_pings_at_the_healthy_interval) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    // Each PING answered 1 ms later: pings every 500 ms, never fast, never lost.
    std::vector<int64_t> pings;
    for (int64_t ms = 0; ms <= 3001; ++ms) {  // the last PING answered at 3001
        const TimePoint now = kT0 + millis(ms);
        if (!pings.empty() && ms == pings.back() + 1) {
            k.rtt_sample(millis(1));
            k.heard(now);
        }
        Action a = k.due(now);
        REQUIRE(a != Action::kLost);
        if (a == Action::kPing) {
            pings.push_back(ms);
            k.pinged(now);
        }
        CHECK(!k.fast());
    }
    CHECK((pings == std::vector<int64_t>{500, 1000, 1500, 2000, 2500, 3000}));
    CHECK_EQ(to_millis(k.next_wakeup() - kT0), int64_t{3500});
}

TEST(overdue_ping_switches_to_fast_pings_after_the_suspect_delay) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    // No RTT measured yet: the suspect delay is the rto's 100 ms floor.
    CHECK_EQ(to_millis(k.suspect_delay()), int64_t{100});
    Run run = drive(k, kT0, 0, 1000);
    // The 500 ms PING is unanswered: at 600 ms a fast PING at once, then every 25 ms.
    REQUIRE(run.pings.size() >= 4);
    CHECK_EQ(run.pings[0], int64_t{500});
    CHECK_EQ(run.pings[1], int64_t{600});
    CHECK_EQ(run.pings[2], int64_t{625});
    CHECK_EQ(run.pings[3], int64_t{650});
    CHECK(k.fast());
    CHECK_EQ(run.lost_at, int64_t{-1});
}

TEST(rtt_estimator_follows_rfc_6298) {
    RttEstimator e;
    CHECK(!e.measured());
    CHECK(!e.srtt().has_value());
    CHECK_EQ(to_millis(e.rto(millis(100))), int64_t{100});  // the floor before any sample
    e.sample(millis(-5));                                    // a clock step: ignored
    CHECK(!e.measured());
    e.sample(millis(100));  // the first: srtt R, rttvar R/2
    CHECK_EQ(to_millis(*e.srtt()), int64_t{100});
    CHECK_EQ(to_millis(e.rttvar()), int64_t{50});
    CHECK_EQ(to_millis(e.rto(millis(100))), int64_t{300});  // 100 + 4 x 50
    e.sample(millis(900));  // rttvar from the old srtt: 50 - 12.5 + 800/4; srtt 100 + 800/8
    CHECK_EQ(e.rttvar().count(), int64_t{237500000});  // ns
    CHECK_EQ(to_millis(*e.srtt()), int64_t{200});
    CHECK_EQ(to_millis(e.rto(millis(100))), int64_t{1150});
    // Steady samples shrink the variance by a quarter each: the rto closes in on the srtt.
    RttEstimator steady;
    steady.sample(millis(40));
    for (int i = 0; i < 40; ++i) steady.sample(millis(40));
    CHECK_EQ(to_millis(*steady.srtt()), int64_t{40});
    CHECK(steady.rttvar() < millis(1));
    CHECK_EQ(to_millis(steady.rto(millis(100))), int64_t{100});  // below the floor
    CHECK_EQ(to_millis(steady.rto(millis(10))), int64_t{40});
}

TEST(suspect_delay_is_the_rto_within_bounds) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    k.rtt_sample(millis(10));
    CHECK_EQ(to_millis(k.suspect_delay()), int64_t{100});  // 10 + 4 x 5 ms is below the floor
    KeepaliveSchedule slow;
    slow.start(media_defaults(), kT0);
    slow.rtt_sample(millis(100));
    CHECK_EQ(to_millis(slow.suspect_delay()), int64_t{300});  // srtt + 4 x rttvar
    CHECK_EQ(to_millis(*slow.smoothed_rtt()), int64_t{100});
    KeepaliveSchedule capped;
    capped.start(media_defaults(), kT0);
    capped.rtt_sample(millis(400));
    CHECK_EQ(to_millis(capped.suspect_delay()), int64_t{375});  // at most a quarter of 1500 ms
}

TEST(silence_threshold_is_short_on_a_clean_path) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    CHECK_EQ(to_millis(k.silence_threshold()), int64_t{1500});  // nothing measured: the timeout
    Run first = drive(k, kT0, 0, 500);
    REQUIRE((first.pings == std::vector<int64_t>{500}));
    k.rtt_sample(millis(1));
    k.heard(kT0 + millis(501));  // the last PONG, 1 ms after its PING
    // 500 healthy + 100 suspect + 10 x 25 fast + 100 for the last answer.
    CHECK_EQ(to_millis(k.silence_threshold()), int64_t{950});
    CHECK_EQ(to_millis(k.rto()), int64_t{100});
    Run run = drive(k, kT0, 502, 5000);
    CHECK_EQ(run.lost_at, int64_t{1451});  // 501 + 950
    // The healthy PING at 1000, fast from 1100 every 25 ms: 10 of them and the rto's worth more.
    CHECK(run.pings == std::vector<int64_t>{1000} + every(1100, 25, 1451));
}

TEST(silence_threshold_stretches_with_the_rtt_variance) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    k.rtt_sample(millis(100));  // srtt 100, rttvar 50: rto 300
    k.heard(kT0);
    // 500 + 300 suspect + 10 x 25 + 300.
    CHECK_EQ(to_millis(k.silence_threshold()), int64_t{1350});
    Run run = drive(k, kT0, 1, 5000);
    CHECK_EQ(run.lost_at, int64_t{1350});
    CHECK(run.pings == std::vector<int64_t>{500} + every(800, 25, 1350));
    // Jitter: samples of 10 and 190 ms, turn about. The variance, not the mean, sets the window.
    KeepaliveSchedule jittery;
    jittery.start(media_defaults(), kT0);
    for (int i = 0; i < 40; ++i) jittery.rtt_sample(millis(i % 2 == 0 ? 10 : 190));
    const RttEstimator& e = jittery.rtt();
    CHECK(*e.srtt() > millis(80) && *e.srtt() < millis(120));
    CHECK(e.rttvar() > millis(70) && e.rttvar() < millis(110));
    const Duration rto = *e.srtt() + 4 * e.rttvar();
    CHECK(jittery.rto() == rto);
    // The rto is above a quarter of the timeout.
    CHECK_EQ(to_millis(jittery.suspect_delay()), int64_t{375});
    CHECK_EQ(to_millis(jittery.silence_threshold()), int64_t{1500});  // capped
}

TEST(a_seeded_schedule_adapts_before_its_first_pong) {
    RttEstimator earlier;
    earlier.sample(millis(1));
    KeepaliveSchedule k;
    k.seed_rtt(earlier);  // before the start, as a reconnect's new media path is seeded
    k.start(media_defaults(), kT0);
    CHECK_EQ(to_millis(k.silence_threshold()), int64_t{950});
    CHECK_EQ(drive(k, kT0, 0, 5000).lost_at, int64_t{950});
}

TEST(silence_threshold_is_never_beyond_the_timeout) {
    // However slow the path, the configured timeout bounds the verdict: the worst case.
    KeepaliveSchedule slow;
    slow.start(media_defaults(), kT0);
    slow.rtt_sample(millis(2000));  // rto 2000 + 4 x 1000
    slow.heard(kT0);
    CHECK_EQ(to_millis(slow.silence_threshold()), int64_t{1500});
    CHECK_EQ(drive(slow, kT0, 1, 5000).lost_at, int64_t{1500});
    // A timeout below the clean-path window is the threshold itself: the tuned profile.
    KeepaliveSchedule tuned;
    tuned.start(KeepaliveTiming{millis(20), millis(25), millis(200)}, kT0);
    tuned.rtt_sample(millis(1));
    CHECK_EQ(to_millis(tuned.suspect_delay()), int64_t{50});  // a quarter of 200
    CHECK_EQ(to_millis(tuned.silence_threshold()), int64_t{200});  // 20 + 50 + 10 x 20 + 100 > 200
    // Without fast pings there is no window to fill: the timeout.
    KeepaliveSchedule fixed;
    fixed.start(KeepaliveTiming{millis(250), Duration::zero(), millis(1500)}, kT0);
    fixed.rtt_sample(millis(1));
    CHECK_EQ(to_millis(fixed.silence_threshold()), int64_t{1500});
}

TEST(pong_ends_the_fast_pings_and_the_healthy_grid_resumes) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    Run run = drive(k, kT0, 0, 760);
    REQUIRE(run.pings == std::vector<int64_t>{500} + every(600, 25, 760));
    REQUIRE(k.fast());
    // The PONG of the 750 ms PING arrives at 770 ms: back to 500 ms after the last PING sent.
    k.heard(kT0 + millis(770));
    CHECK(!k.fast());
    CHECK_EQ(to_millis(k.next_wakeup() - kT0), int64_t{1250});
    Run after = drive(k, kT0, 771, 1800);
    // That one goes unanswered again: fast from 1350.
    REQUIRE(after.pings.size() >= 2);
    CHECK_EQ(after.pings[0], int64_t{1250});
    CHECK_EQ(after.pings[1], int64_t{1350});
}

TEST(before_an_rtt_sample_detection_is_at_last_receive_plus_timeout) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    Run first = drive(k, kT0, 0, 500);
    REQUIRE((first.pings == std::vector<int64_t>{500}));
    k.heard(kT0 + millis(510));  // the last PONG
    Run run = drive(k, kT0, 511, 5000);
    CHECK_EQ(run.lost_at, int64_t{2010});  // 510 + 1500
    // Healthy PING at 1000, unanswered; fast from 1100 every 25 ms until the timeout.
    CHECK(run.pings == std::vector<int64_t>{1000} + every(1100, 25, 2010));
}

TEST(fast_pings_are_bounded_per_overdue_episode) {
    KeepaliveSchedule k;
    k.start(KeepaliveTiming{millis(500), millis(50), millis(10000)}, kT0);  // a long timeout
    Run run = drive(k, kT0, 0, 3000);
    CHECK_EQ(run.lost_at, int64_t{-1});
    // 500 healthy; 600 ... 2550: 40 fast; then back to the healthy interval: 3050 (run to 3000).
    CHECK(run.pings == std::vector<int64_t>{500} + every(600, 50, 2600));
    CHECK_EQ(to_millis(k.next_wakeup() - kT0), int64_t{3050});
    CHECK(k.fast());
    // An answer opens a new episode with a fresh budget.
    k.heard(kT0 + millis(3000));
    Run again = drive(k, kT0, 3001, 4000);
    REQUIRE(again.pings.size() >= 3);
    CHECK_EQ(again.pings[0], int64_t{3050});
    CHECK_EQ(again.pings[1], int64_t{3150});
    CHECK_EQ(again.pings[2], int64_t{3200});
}

TEST(fast_pings_are_never_slower_than_the_healthy_interval) {
    KeepaliveSchedule k;
    k.start(KeepaliveTiming{millis(20), millis(50), millis(100)}, kT0);  // the "minimum" profile
    Run run = drive(k, kT0, 0, 200);
    CHECK_EQ(run.lost_at, int64_t{100});
    // Suspect delay capped at 25 ms (a quarter of the timeout); pings stay 20 ms apart.
    CHECK((run.pings == std::vector<int64_t>{20, 40, 60, 80}));
}

TEST(without_fast_interval_the_schedule_is_fixed) {
    KeepaliveSchedule k;
    k.start(KeepaliveTiming{millis(250), Duration::zero(), millis(1500)}, kT0);
    Run run = drive(k, kT0, 0, 2000);
    CHECK((run.pings == std::vector<int64_t>{250, 500, 750, 1000, 1250}));
    CHECK_EQ(run.lost_at, int64_t{1500});
    CHECK(!k.fast());
}

TEST(owner_judged_silence_is_never_reported_lost) {
    KeepaliveSchedule k;
    k.start(KeepaliveTiming{millis(1000), millis(50), millis(1500)}, kT0,
            SilenceVerdict::kLeaveToOwner);
    Run run = drive(k, kT0, 0, 3000);
    CHECK_EQ(run.lost_at, int64_t{-1});
    // 1000, then fast from 1100 (the rto's 100 ms floor; a quarter of the timeout is 375 ms).
    REQUIRE(run.pings.size() >= 2);
    CHECK_EQ(run.pings[0], int64_t{1000});
    CHECK_EQ(run.pings[1], int64_t{1100});
    CHECK(k.fast());
}

TEST(an_out_of_turn_ping_can_make_the_path_suspect) {
    KeepaliveSchedule k;
    k.start(media_defaults(), kT0);
    k.pinged(kT0 + millis(100));  // network changed: PING now
    CHECK_EQ(to_millis(k.next_wakeup() - kT0), int64_t{200});
    CHECK(k.due(kT0 + millis(200)) == Action::kPing);
    CHECK(k.fast());
}

TEST(fast_ping_budget_is_a_token_bucket) {
    FastPingBudget budget;
    int granted = 0;
    for (int i = 0; i < 1000; ++i) granted += budget.take(kT0) ? 1 : 0;
    CHECK_EQ(granted, FastPingBudget::kBurst);
    CHECK(!budget.take(kT0 + millis(1)));  // 0.2 tokens so far
    granted = 0;
    for (int i = 0; i < 10; ++i) granted += budget.take(kT0 + millis(15)) ? 1 : 0;
    CHECK(granted >= 2 && granted <= 3);  // 200 per second: 3 tokens after 15 ms
    granted = 0;
    for (int i = 0; i < 1000; ++i) granted += budget.take(kT0 + millis(60000)) ? 1 : 0;
    CHECK_EQ(granted, FastPingBudget::kBurst);  // never more than the burst in store
}

// --- KeepaliveDriver on a manual clock, with a fake path

namespace {

// Records what the driver asks of it; `answer_waiting` is an answer the loop has not read yet,
// found by read_pending_before_verdict.
struct FakePath : KeepaliveDriver::Path, KeepaliveDriver::SilenceHandler {
    ManualClock& clock;
    std::unique_ptr<KeepaliveDriver> driver;
    std::vector<int64_t> pings;  // ms after kT0
    int reads = 0;
    bool answer_waiting = false;
    int64_t silent_at = -1;
    bool close_on_send = false;  // sending destroys the driver, as a failing connection may

    FakePath(ManualClock& c, EventLoop& loop, bool judges_silence) : clock(c) {
        driver = std::make_unique<KeepaliveDriver>(loop, *this, judges_silence ? this : nullptr);
    }
    int64_t at() const { return to_millis(clock.now() - kT0); }

    bool send_keepalive_ping() override {
        pings.push_back(at());
        if (close_on_send) {
            driver.reset();
            return false;
        }
        return true;
    }
    bool read_pending_before_verdict() override {
        ++reads;
        if (answer_waiting) {
            answer_waiting = false;
            driver->heard(clock.now());
        }
        return true;
    }
    void on_keepalive_silent(TimePoint now) override { silent_at = to_millis(now - kT0); }
};

// A manual clock at kT0 and a loop on it, stepped 1 ms at a time.
struct ManualLoop {
    ManualClock clock;
    EventLoop loop{clock};
    ManualLoop() { clock.advance(kT0 - clock.now()); }
    void run_until(int64_t ms) {
        while (to_millis(clock.now() - kT0) < ms) {
            clock.advance(millis(1));
            loop.run_once(Duration::zero());
        }
    }
};

}  // namespace

TEST(driver_pings_on_the_schedule_and_reports_silence_once) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, true);
    path.driver->start(media_defaults(), m.clock.now());
    m.run_until(3000);
    // The healthy PING at 500, fast ones from 600 every 25 ms, silent at 1500 (nothing measured:
    // the timeout) and no PING since.
    CHECK(path.pings == std::vector<int64_t>{500} + every(600, 25, 1500));
    CHECK_EQ(path.silent_at, int64_t{1500});
    CHECK_EQ(path.reads, 1);  // the socket was read before the verdict
    CHECK(!path.driver->running());
    CHECK_EQ(m.loop.pending_timers(), size_t{0});
}

TEST(driver_reads_pending_input_before_calling_a_path_silent) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, true);
    path.driver->start(media_defaults(), m.clock.now());
    path.answer_waiting = true;  // a PONG queued but not yet handled when the timeout runs out
    m.run_until(1500);
    CHECK_EQ(path.reads, 1);
    CHECK_EQ(path.silent_at, int64_t{-1});
    CHECK(path.driver->running());
    // Heard at 1500: the next verdict is due at 3000.
    m.run_until(3000);
    CHECK_EQ(path.silent_at, int64_t{3000});
}

TEST(driver_of_an_owner_judged_path_never_reports_silence) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, false);
    path.driver->start(KeepaliveTiming{millis(1000), millis(50), millis(1500)}, m.clock.now());
    m.run_until(6000);
    CHECK_EQ(path.silent_at, int64_t{-1});
    CHECK_EQ(path.reads, 0);
    // 1000; fast from 1100 for the episode's 40 PINGs (to 3050); then healthy: 4050, 5050.
    CHECK((path.pings == std::vector<int64_t>{1000} + every(1100, 50, 3100) +
                             std::vector<int64_t>{4050, 5050}));
    CHECK(path.driver->running());
}

TEST(driver_answer_ends_fast_pings_and_out_of_turn_pings_count) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, true);
    path.driver->start(media_defaults(), m.clock.now());
    m.run_until(760);
    REQUIRE(path.pings == std::vector<int64_t>{500} + every(600, 25, 760));
    path.driver->heard(m.clock.now());  // at 760: back to healthy, 500 ms after the last PING
    CHECK(!path.driver->schedule().fast());
    m.run_until(1100);
    path.driver->pinged_out_of_turn();  // a network change at 1100: suspect at 1200
    m.run_until(1300);
    const std::vector<int64_t> want =
        std::vector<int64_t>{500} + every(600, 25, 760) + every(1200, 25, 1301);
    CHECK(path.pings == want);
    path.driver->stop();
    m.run_until(5000);
    CHECK(path.pings == want);
    CHECK_EQ(path.silent_at, int64_t{-1});
    path.driver->heard(m.clock.now());  // ignored once stopped
    path.driver->pinged_out_of_turn();
    CHECK_EQ(m.loop.pending_timers(), size_t{0});
}

TEST(driver_skips_fast_pings_the_loops_budget_refuses) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, true);
    path.driver->start(KeepaliveTiming{millis(500), millis(50), millis(10000)}, m.clock.now());
    m.run_until(599);
    // Every path on the loop shares one budget; spend it all just before the first fast PING.
    FastPingBudget& budget = KeepaliveDriver::fast_ping_budget(m.loop);
    CHECK(&budget == &KeepaliveDriver::fast_ping_budget(m.loop));
    m.clock.advance(millis(1));
    while (budget.take(m.clock.now())) {
    }
    m.loop.run_once(Duration::zero());
    m.run_until(700);
    // 600 refused (skipped as if lost); 50 ms later ten tokens have come back.
    CHECK((path.pings == std::vector<int64_t>{500, 650, 700}));
    // Another loop's budget is its own.
    ManualLoop second;
    CHECK(KeepaliveDriver::fast_ping_budget(second.loop).take(second.clock.now()));
}

TEST(driver_touches_nothing_after_a_send_that_closed_the_path) {
    ManualLoop m;
    FakePath path(m.clock, m.loop, true);
    path.close_on_send = true;
    path.driver->start(media_defaults(), m.clock.now());
    m.run_until(2000);  // under ASan a touch of the destroyed driver fails the run
    CHECK((path.pings == std::vector<int64_t>{500}));
    CHECK(!path.driver);
    CHECK_EQ(m.loop.pending_timers(), size_t{0});
}

// --- MediaPath on a manual clock, over a real loopback socket

namespace {

struct FakeMediaServer {
    UniqueFd fd;
    SocketAddress address;
    std::map<uint64_t, std::unique_ptr<test::MediaServerKey>> keys_;
    // The last answer sent, and what it answered: for replays and forgeries.
    wire::MediaDatagram last_reply{};
    uint64_t last_key = 0;
    uint32_t last_seq = 0;
    uint64_t last_echo_ns = 0;
    sockaddr_storage last_from{};
    socklen_t last_from_len = 0;

    void send_raw(const wire::MediaDatagram& bytes) {
        ::sendto(fd.get(), bytes.data(), bytes.size(), 0,
                 reinterpret_cast<const sockaddr*>(&last_from), last_from_len);
    }

    // A PONG for the last PING, well-formed but sealed under keys made from another secret:
    // what an on-path attacker who knows the mediaKey (it travels in clear) can make.
    void send_forged_pong() {
        wire::MediaSecret wrong = test::fixed_media_secret();
        wrong[0] ^= 1;
        test::MediaServerKey forger(last_key, wrong);
        for (int i = 0; i < 3; ++i) forger.seal(wire::MediaType::kPong, 0, 0);  // a plausible counter
        send_raw(forger.seal(wire::MediaType::kPong, last_seq, last_echo_ns));
    }

    FakeMediaServer() {
        fd = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
        address = *SocketAddress::from_numeric("127.0.0.1", ntohs(a.sin_port));
    }

    // Reads every datagram waiting; answers BIND with BIND_ACK and, if `answer`, PING with PONG.
    int serve(bool answer) {
        int pings = 0;
        for (;;) {
            uint8_t buffer[2048];
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            ssize_t n = ::recvfrom(fd.get(), buffer, sizeof buffer, 0,
                                   reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) {
                return pings;
            }
            auto header = wire::decode_media_header(buffer, static_cast<size_t>(n));
            if (!header) continue;
            auto& keys = keys_[header->media_key];
            if (!keys) {
                keys = std::make_unique<test::MediaServerKey>(header->media_key,
                                                              test::fixed_media_secret());
            }
            auto packet = keys->open(buffer, static_cast<size_t>(n));
            if (!packet) continue;
            wire::MediaType reply;
            if (packet->type == wire::MediaType::kBind) {
                reply = wire::MediaType::kBindAck;
            } else if (packet->type == wire::MediaType::kPing) {
                ++pings;
                if (!answer) continue;
                reply = wire::MediaType::kPong;
            } else {
                continue;
            }
            auto bytes = keys->seal(reply, packet->seq, packet->echo_ns);
            ::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     len);
            last_reply = bytes;
            last_key = packet->media_key;
            last_seq = packet->seq;
            last_echo_ns = packet->echo_ns;
            last_from = from;
            last_from_len = len;
        }
    }
};

MediaKeys test_keys(uint64_t media_key) {
    return derive_media_keys(media_key, test::fixed_media_secret());
}

struct Listener : MediaPath::Listener {
    bool bound = false;
    int lost = 0;
    void on_media_bound(MediaPath&) override { bound = true; }
    void on_media_lost(MediaPath&, const std::string&) override { ++lost; }
};

// Lets the loop see what the kernel already holds (loopback delivery is immediate, but give
// the socket a moment without advancing the manual clock).
void settle(EventLoop& loop) {
    for (int i = 0; i < 5; ++i) loop.run_once(millis(2));
}

/** A media path bound to a fake server on a manual clock, its keepalive running with the defaults. */
struct BoundMediaPath {
    ManualClock clock;
    EventLoop loop{clock};
    FakeMediaServer server;
    Listener listener;
    MediaPath path;

    explicit BoundMediaPath(uint64_t media_key) : path(loop, &listener, media_key, test_keys(media_key), millis(100)) {
        std::string error;
        REQUIRE(path.open(server.address, &error, true));
        settle(loop);
        server.serve(true);
        settle(loop);
        REQUIRE(listener.bound);
        path.start_keepalive(media_defaults());
        // Nothing measured yet: the keepalive's first PING goes out at once; its PONG, read at
        // the same manual instant, is the first round trip (0).
        REQUIRE_EQ(server.serve(true), 1);
        settle(loop);
        REQUIRE(path.keepalive().rtt().measured());
    }

    // Moves the clock on by `by`, runs what fell due, and lets the server read what arrived
    // (and, if `answer`, reply and the path read the replies). Returns the PINGs the server read.
    int tick(Duration by, bool answer) {
        clock.advance(by);
        loop.run_once(Duration::zero());
        int pings = server.serve(answer);
        if (answer) {
            settle(loop);
        }
        return pings;
    }
};

}  // namespace

TEST(media_path_follows_the_adaptive_schedule_on_a_manual_clock) {
    BoundMediaPath bound(42);
    ManualClock& clock = bound.clock;
    Listener& listener = bound.listener;
    MediaPath& path = bound.path;

    // Healthy: one PING per 500 ms, answered.
    int pings = 0;
    for (int step = 0; step < 40; ++step) {  // 2 s in 50 ms steps
        pings += bound.tick(millis(50), true);
    }
    CHECK_EQ(pings, 4);
    CHECK(!path.keepalive().fast());
    const TimePoint last_pong = path.last_inbound();

    // The RTTs measured on the manual clock are 0 (the PONG is read at the instant of its PING):
    // a clean path, whose threshold is 500 + 100 + 10 x 25 + 100 = 950 ms.
    CHECK_EQ(to_millis(path.keepalive().silence_threshold()), int64_t{950});

    // The server stops answering: one more healthy PING, fast ones 100 ms after it, then lost at
    // the last PONG + 950 ms, not a moment earlier.
    int unanswered = 0;
    bool saw_fast = false;
    while (listener.lost == 0 && clock.now() < last_pong + millis(3000)) {
        unanswered += bound.tick(millis(10), false);
        saw_fast = saw_fast || path.keepalive().fast();
        if (listener.lost == 0) {
            CHECK(clock.now() < last_pong + millis(950));
        }
    }
    CHECK_EQ(listener.lost, 1);
    CHECK(clock.now() >= last_pong + millis(950) && clock.now() < last_pong + millis(960));
    CHECK(saw_fast);
    // 1 healthy PING, then fast ones (every 30 ms on a 10 ms tick) from 100 ms after it to 950.
    CHECK(unanswered >= 1 + 10);
    CHECK(unanswered <= 1 + 15);
}

// An attacker on the path can replay the server's genuine PONGs and forge new ones for the
// PING it just saw: neither is liveness, so the loss is reported exactly when it would be anyway.
TEST(replayed_and_forged_media_pongs_are_not_liveness) {
    BoundMediaPath bound(43);
    ManualClock& clock = bound.clock;
    for (int step = 0; step < 20; ++step) {  // 1 s, answered
        bound.tick(millis(50), true);
    }
    const TimePoint last_pong = bound.path.last_inbound();
    while (bound.listener.lost == 0 && clock.now() < last_pong + millis(3000)) {
        bound.tick(millis(10), false);
        bound.server.send_raw(bound.server.last_reply);
        bound.server.send_forged_pong();
        settle(bound.loop);
    }
    CHECK_EQ(bound.listener.lost, 1);
    // The clean path's threshold (see the test above).
    CHECK(clock.now() >= last_pong + millis(950) && clock.now() < last_pong + millis(960));
    CHECK(bound.path.replayed() > 50);  // one a 10 ms tick for 950 ms
    CHECK(bound.path.unauthenticated() > 50);
}

TEST(media_path_returns_to_the_healthy_interval_after_a_pong) {
    BoundMediaPath bound(7);
    Listener& listener = bound.listener;
    MediaPath& path = bound.path;
    // 500 ms: PING lost; 600 ms: fast PINGs, lost too, until 800 ms.
    int lost_pings = 0;
    for (int step = 0; step < 80; ++step) {
        lost_pings += bound.tick(millis(10), false);
    }
    CHECK(path.keepalive().fast());
    CHECK(lost_pings >= 3);
    // 850 ms: the next fast PING is answered: back to healthy pings.
    int answered = 0;
    for (int step = 0; step < 6 && path.keepalive().fast(); ++step) {
        answered += bound.tick(millis(10), true);
    }
    CHECK(!path.keepalive().fast());
    CHECK_EQ(answered, 1);
    // Nothing more for the next 450 ms, then one PING.
    int later = 0;
    for (int step = 0; step < 45; ++step) {
        later += bound.tick(millis(10), true);
    }
    CHECK_EQ(later, 0);
    CHECK_EQ(listener.lost, 0);
}

TEST(early_binds_back_off_until_the_answer_then_go_eagerly) {
    ManualClock clock;
    EventLoop loop{clock};
    FakeMediaServer server;
    Listener listener;
    MediaPath path(loop, &listener, 9, test_keys(9), millis(100));
    std::string error;
    const TimePoint t0 = clock.now();
    REQUIRE(path.open(server.address, &error, false));  // BIND sent ahead of the answer
    // Count the BINDs the server reads, without answering them, in 10 ms steps.
    std::vector<int64_t> binds;
    auto read_binds = [&] {
        for (;;) {
            uint8_t buffer[2048];
            ssize_t n = ::recv(server.fd.get(), buffer, sizeof buffer, 0);
            if (n < 0) return;
            auto packet = wire::decode_media_header(buffer, static_cast<size_t>(n));
            if (packet && packet->type == wire::MediaType::kBind) {
                binds.push_back(to_millis(clock.now() - t0));
            }
        }
    };
    auto run_to = [&](int64_t ms) {
        while (to_millis(clock.now() - t0) < ms) {
            clock.advance(millis(10));
            loop.run_once(Duration::zero());
            read_binds();
        }
    };
    read_binds();
    run_to(4600);
    // 100 ms doubling to the 1 s cap: 0, 100, 300, 700, 1500, 2500, 3500, 4500.
    CHECK((binds == std::vector<int64_t>{0, 100, 300, 700, 1500, 2500, 3500, 4500}));
    // The session is granted: BIND at once, then every 100 ms.
    binds.clear();
    path.send_bind_now();
    read_binds();
    run_to(4900);
    CHECK((binds == std::vector<int64_t>{4600, 4700, 4800, 4900}));
    CHECK(!listener.bound);
}

// --- SignalConnection on a manual clock, over a real loopback TCP connection

namespace {

struct FakeSignalServer {
    UniqueFd listener;
    UniqueFd peer;
    SocketAddress address;
    wire::FrameReader reader;

    FakeSignalServer() {
        listener = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listener.get(), 4) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
        address = *SocketAddress::from_numeric("127.0.0.1", ntohs(a.sin_port));
    }

    bool accept_peer() {
        peer = UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK));
        return peer.valid();
    }

    // Reads what arrived; answers each PING with its PONG if `answer`. Returns the PINGs read.
    int serve(bool answer) {
        int pings = 0;
        uint8_t buffer[4096];
        ssize_t n;
        while ((n = ::recv(peer.get(), buffer, sizeof buffer, 0)) > 0) {
            reader.append(buffer, static_cast<size_t>(n));
        }
        for (;;) {
            wire::DecodeResult r = reader.next();
            if (r.status != wire::DecodeStatus::kFrame) break;
            if (const auto* ping = std::get_if<wire::Ping>(&r.message)) {
                ++pings;
                if (answer) {
                    std::vector<uint8_t> out;
                    REQUIRE(wire::encode_frame(wire::Pong{ping->nonce}, out));
                    REQUIRE(::send(peer.get(), out.data(), out.size(), MSG_NOSIGNAL) ==
                            static_cast<ssize_t>(out.size()));
                }
            }
        }
        return pings;
    }
};

struct SignalListener : SignalConnection::Listener {
    bool connected = false;
    int closed = 0;
    int pongs = 0;
    void on_signal_connected(SignalConnection&) override { connected = true; }
    void on_signal_message(SignalConnection&, wire::Message& m) override {
        pongs += std::holds_alternative<wire::Pong>(m) ? 1 : 0;
    }
    void on_signal_closed(SignalConnection&, const std::string&, bool) override { ++closed; }
};

}  // namespace

TEST(signal_connection_pings_on_the_schedule_and_leaves_silence_to_its_owner) {
    ManualClock clock;
    EventLoop loop{clock};
    FakeSignalServer server;
    SignalListener listener;
    SignalConnection connection(loop, &listener);
    std::string error;
    REQUIRE(connection.connect(server.address, &error));
    for (int i = 0; i < 50 && !listener.connected; ++i) loop.run_once(millis(10));
    REQUIRE(listener.connected);
    REQUIRE(server.accept_peer());
    // Signaling defaults: healthy 1000 ms, fast 50 ms, timeout 1500 ms.
    connection.start_keepalive(KeepaliveTiming{millis(1000), millis(50), millis(1500)});
    const TimePoint t0 = clock.now();
    auto tick = [&](bool answer) {
        clock.advance(millis(10));
        loop.run_once(Duration::zero());
        int pings = server.serve(answer);
        if (answer && pings > 0) settle(loop);
        return pings;
    };

    // Answered: one PING a second, each PONG read (and timed).
    int pings = 0;
    while (clock.now() < t0 + millis(3500)) pings += tick(true);
    CHECK_EQ(pings, 3);
    CHECK_EQ(listener.pongs, 3);
    CHECK(connection.keepalive().smoothed_rtt().has_value());
    CHECK(!connection.keepalive().fast());

    // Silent: the 4000 PING goes unanswered, fast ones from 4100 (the rto's 100 ms floor), 40 of
    // them, then one a second again; far past the timeout the connection is still open.
    bool saw_fast = false;
    int unanswered = 0;
    while (clock.now() < t0 + millis(8000)) {
        unanswered += tick(false);
        saw_fast = saw_fast || connection.keepalive().fast();
    }
    CHECK(saw_fast);
    CHECK_EQ(unanswered, 1 + 40 + 1);  // 4000; 4100 ... 6050; 7050
    CHECK_EQ(listener.closed, 0);
    CHECK(connection.connected());

    // An answer ends the episode.
    for (int step = 0; step < 200 && connection.keepalive().fast(); ++step) tick(true);
    CHECK(!connection.keepalive().fast());
    CHECK_EQ(listener.closed, 0);
}

TEST_MAIN()
