// The engine's reaction to the host's own network events, on a manual clock: the loop's
// NetworkWatcher is handed batches as the rtnetlink source would (no kernel change needed), and
// the engine, joined over loopback, must declare the outage or probe at that very instant.
#include <net/if.h>

#include <vector>

#include "clocked_scene.h"
#include "network_watcher.h"
#include "roomlink/roomlink.h"
#include "test_support.h"

using test::At;
using test::ClockedScene;
using roomlink::millis;
using roomlink::NetworkChange;
using Kind = roomlink::NetworkChange::Kind;

namespace {

constexpr int32_t kSC = RL_EVENT_STATE_CHANGED;
constexpr int32_t kType = RL_EVENT_CONNECTION_TYPE;

roomlink::EngineOptions watching(const ClockedScene& scene) {
    roomlink::EngineOptions o = scene.options();
    o.network_watcher = true;
    o.backoff.initial = millis(5000);  // nothing but the events may bring a retry in the test
    o.backoff.max = millis(5000);
    o.probe_interval = millis(5000);
    return o;
}

int loopback_index() { return static_cast<int>(if_nametoindex("lo")); }

void deliver(ClockedScene& scene, std::vector<NetworkChange> batch) {
    roomlink::NetworkWatcher::of(scene.loop).dispatch(batch);
    scene.settle();
}

ClockedScene::Member& joined(ClockedScene& scene, roomlink::EngineOptions o) {
    auto& m = scene.add_engine(std::move(o));
    REQUIRE_EQ(m.join(), RL_OK);
    scene.settle();
    // The connection type comes once, right after the join's result.
    EXPECT_TIMELINE(m.events, 0,
                    {{0, kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {0, kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {0, RL_EVENT_JOIN_RESULT, RL_OK, 0},
                     {0, kType, RL_CONNECTION_TYPE_ETHERNET, 0}});
    return m;
}

}  // namespace

TEST(the_connections_link_going_down_is_an_outage_at_that_instant) {
    ClockedScene scene;
    auto& e = joined(scene, watching(scene));
    scene.advance_to(300);
    // The connection itself stays up: only the event can end it. The retry the outage starts
    // must not succeed at once.
    scene.server.stop_listening();
    deliver(scene, {{Kind::kLinkDown, loopback_index() + 1000, {}}});  // another interface
    CHECK_EQ(e.events.size(), size_t{4});
    deliver(scene, {{Kind::kLinkDown, loopback_index(), {}}});
    EXPECT_TIMELINE(e.events, 4,
                    {{300, kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {300, RL_EVENT_RECONNECTING_START, 0, 0}});
    // Network back: the engine tries at once instead of waiting for its 5 s backoff.
    scene.advance_to(400);
    scene.server.resume_listening();
    deliver(scene, {{Kind::kLinkUp, loopback_index(), {}}});
    EXPECT_TIMELINE(e.events, 6,
                    {{400, kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {400, RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
}

TEST(removing_the_connections_own_address_is_an_outage_and_another_address_is_not) {
    ClockedScene scene;
    auto& e = joined(scene, watching(scene));
    scene.advance_to(200);
    roomlink::IpAddress other;
    other.family = AF_INET;
    other.bytes = {127, 0, 0, 9};
    deliver(scene, {{Kind::kAddressRemoved, loopback_index(), other}});
    CHECK_EQ(e.events.size(), size_t{4});
    roomlink::IpAddress local;
    local.family = AF_INET;
    local.bytes = {127, 0, 0, 1};
    deliver(scene, {{Kind::kAddressRemoved, loopback_index(), local}});
    // The server still listens: the attempt the outage starts resumes the session at once.
    EXPECT_TIMELINE(e.events, 4,
                    {{200, kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {200, RL_EVENT_RECONNECTING_START, 0, 0},
                     {200, kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {200, RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
}

TEST(the_watcher_off_means_no_events_and_no_type) {
    ClockedScene scene;
    roomlink::EngineOptions o = watching(scene);
    o.network_watcher = false;
    auto& e = scene.add_engine(o);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.settle();
    deliver(scene, {{Kind::kLinkDown, loopback_index(), {}}});
    EXPECT_TIMELINE(e.events, 0,
                    {{0, kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {0, kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {0, RL_EVENT_JOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(e.events.size(), size_t{3});
}

TEST(a_left_engine_is_no_longer_subscribed) {
    ClockedScene scene;
    auto& e = joined(scene, watching(scene));
    auto& watcher = roomlink::NetworkWatcher::of(scene.loop);
    CHECK_EQ(watcher.subscribers(), size_t{1});
    REQUIRE_EQ(e.engine->leave(), RL_OK);
    scene.settle();
    CHECK_EQ(watcher.subscribers(), size_t{0});
}

TEST_MAIN()
