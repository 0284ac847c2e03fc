#include "connection_state_machine.h"

#include <optional>
#include <vector>

#include "test_support.h"

using namespace roomlink;

namespace {

// Drives a machine to `state` through legal events.
ConnectionStateMachine machine_in(rl_state state) {
    ConnectionStateMachine m;
    auto g = [&m] { return m.generation(); };
    switch (state) {
        case RL_STATE_DISCONNECTED:
            break;
        case RL_STATE_CONNECTING:
            m.request(ConnEvent::kJoinRequested);
            break;
        case RL_STATE_CONNECTED:
            m.request(ConnEvent::kJoinRequested);
            m.observe(ConnEvent::kSessionEstablished, g());
            break;
        case RL_STATE_RECONNECTING:
            m.request(ConnEvent::kJoinRequested);
            m.observe(ConnEvent::kSessionEstablished, g());
            m.observe(ConnEvent::kSignalLost, g());
            break;
        case RL_STATE_FAILED:
            m.request(ConnEvent::kJoinRequested);
            m.observe(ConnEvent::kGaveUp, g());
            break;
    }
    REQUIRE_EQ(m.state(), state);
    return m;
}

bool is_request(ConnEvent e) {
    return e == ConnEvent::kJoinRequested || e == ConnEvent::kLeaveRequested;
}

struct Row {
    rl_state from;
    ConnEvent event;
    std::optional<std::pair<rl_state, rl_reason>> expected;  // nullopt: ignored / refused
};

const ConnEvent kAllEvents[] = {
    ConnEvent::kJoinRequested, ConnEvent::kLeaveRequested, ConnEvent::kSessionEstablished,
    ConnEvent::kSessionRejected, ConnEvent::kGaveUp, ConnEvent::kSignalLost,
    ConnEvent::kMediaLost, ConnEvent::kKicked, ConnEvent::kChannelClosed,
    ConnEvent::kReplacedBySameUid};

const rl_state kAllStates[] = {RL_STATE_DISCONNECTED, RL_STATE_CONNECTING, RL_STATE_CONNECTED,
                               RL_STATE_RECONNECTING, RL_STATE_FAILED};

using P = std::pair<rl_state, rl_reason>;

// Every transition the machine makes. Any (state, event) pair not listed must be ignored.
const std::vector<Row> kTable = {
    {RL_STATE_DISCONNECTED, ConnEvent::kJoinRequested, P{RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL}},
    {RL_STATE_FAILED, ConnEvent::kJoinRequested, P{RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL}},

    {RL_STATE_CONNECTING, ConnEvent::kLeaveRequested, P{RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL}},
    {RL_STATE_CONNECTING, ConnEvent::kSessionEstablished, P{RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED}},
    {RL_STATE_CONNECTING, ConnEvent::kSessionRejected, P{RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED}},
    {RL_STATE_CONNECTING, ConnEvent::kGaveUp, P{RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED}},
    {RL_STATE_CONNECTING, ConnEvent::kKicked, P{RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED}},
    {RL_STATE_CONNECTING, ConnEvent::kChannelClosed, P{RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED}},
    {RL_STATE_CONNECTING, ConnEvent::kReplacedBySameUid, P{RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED}},

    {RL_STATE_CONNECTED, ConnEvent::kLeaveRequested, P{RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL}},
    {RL_STATE_CONNECTED, ConnEvent::kSignalLost, P{RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED}},
    {RL_STATE_CONNECTED, ConnEvent::kMediaLost, P{RL_STATE_RECONNECTING, RL_REASON_MEDIA_CONNECTION_DISCONNECTED}},
    {RL_STATE_CONNECTED, ConnEvent::kKicked, P{RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED}},
    {RL_STATE_CONNECTED, ConnEvent::kChannelClosed, P{RL_STATE_DISCONNECTED, RL_REASON_CHANNEL_CLOSED}},
    {RL_STATE_CONNECTED, ConnEvent::kReplacedBySameUid, P{RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID}},

    {RL_STATE_RECONNECTING, ConnEvent::kLeaveRequested, P{RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL}},
    {RL_STATE_RECONNECTING, ConnEvent::kSessionEstablished, P{RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED}},
    {RL_STATE_RECONNECTING, ConnEvent::kSessionRejected, P{RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED}},
    {RL_STATE_RECONNECTING, ConnEvent::kGaveUp, P{RL_STATE_FAILED, RL_REASON_TIMEOUT}},
    {RL_STATE_RECONNECTING, ConnEvent::kKicked, P{RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED}},
    {RL_STATE_RECONNECTING, ConnEvent::kChannelClosed, P{RL_STATE_DISCONNECTED, RL_REASON_CHANNEL_CLOSED}},
    {RL_STATE_RECONNECTING, ConnEvent::kReplacedBySameUid, P{RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID}},
};

std::optional<P> expected_for(rl_state from, ConnEvent e) {
    for (const auto& row : kTable) {
        if (row.from == from && row.event == e) return row.expected;
    }
    return std::nullopt;
}

}  // namespace

TEST(every_state_event_pair_matches_the_table) {
    int transitions = 0;
    for (rl_state from : kAllStates) {
        for (ConnEvent e : kAllEvents) {
            ConnectionStateMachine m = machine_in(from);
            const uint64_t generation = m.generation();
            std::optional<Transition> t =
                is_request(e) ? m.request(e) : m.observe(e, m.generation());
            std::optional<P> want = expected_for(from, e);
            std::string where = std::string(state_name(from)) + " + " + event_name(e);
            if (!want) {
                if (t) test::fail(__FILE__, __LINE__, where + ": should be ignored");
                CHECK_EQ(m.state(), from);
                CHECK_EQ(m.generation(), generation);
                continue;
            }
            if (!t) {
                test::fail(__FILE__, __LINE__, where + ": should transition");
                continue;
            }
            ++transitions;
            CHECK_EQ(t->from, from);
            CHECK_EQ(t->to, want->first);
            CHECK_EQ(t->reason, want->second);
            CHECK_EQ(m.state(), want->first);
            // Only accepted app requests start a new generation.
            CHECK_EQ(m.generation(), is_request(e) ? generation + 1 : generation);
        }
    }
    CHECK_EQ(transitions, static_cast<int>(kTable.size()));
}

TEST(join_while_joined_is_refused_without_change) {
    for (rl_state s : {RL_STATE_CONNECTING, RL_STATE_CONNECTED, RL_STATE_RECONNECTING}) {
        ConnectionStateMachine m = machine_in(s);
        uint64_t g = m.generation();
        CHECK(!m.request(ConnEvent::kJoinRequested).has_value());
        CHECK_EQ(m.state(), s);
        CHECK_EQ(m.generation(), g);
    }
}

TEST(leave_when_not_joined_is_refused) {
    for (rl_state s : {RL_STATE_DISCONNECTED, RL_STATE_FAILED}) {
        ConnectionStateMachine m = machine_in(s);
        CHECK(!m.request(ConnEvent::kLeaveRequested).has_value());
        CHECK_EQ(m.state(), s);
    }
}

TEST(stale_network_events_are_ignored) {
    ConnectionStateMachine m;
    m.request(ConnEvent::kJoinRequested);
    const uint64_t first = m.generation();
    m.request(ConnEvent::kLeaveRequested);
    m.request(ConnEvent::kJoinRequested);
    // The first attempt's success arrives late: it must not complete the second join.
    CHECK(!m.observe(ConnEvent::kSessionEstablished, first).has_value());
    CHECK(!m.observe(ConnEvent::kGaveUp, first).has_value());
    CHECK_EQ(m.state(), RL_STATE_CONNECTING);
    auto t = m.observe(ConnEvent::kSessionEstablished, m.generation());
    REQUIRE(t.has_value());
    CHECK_EQ(t->reason, RL_REASON_JOIN_SUCCEED);
}

TEST(network_events_after_leave_are_ignored) {
    ConnectionStateMachine m = machine_in(RL_STATE_CONNECTED);
    const uint64_t session = m.generation();
    m.request(ConnEvent::kLeaveRequested);
    for (ConnEvent e : kAllEvents) {
        if (is_request(e)) continue;
        CHECK(!m.observe(e, session).has_value());
        CHECK(!m.observe(e, m.generation()).has_value());  // nothing matters in DISCONNECTED
    }
    CHECK_EQ(m.state(), RL_STATE_DISCONNECTED);
}

TEST(an_outage_is_reported_exactly_once) {
    ConnectionStateMachine m = machine_in(RL_STATE_CONNECTED);
    const uint64_t g = m.generation();
    auto first = m.observe(ConnEvent::kMediaLost, g);
    REQUIRE(first.has_value());
    CHECK_EQ(first->reason, RL_REASON_MEDIA_CONNECTION_DISCONNECTED);
    // The other path failing too, or the same path again, is part of the same outage.
    CHECK(!m.observe(ConnEvent::kSignalLost, g).has_value());
    CHECK(!m.observe(ConnEvent::kMediaLost, g).has_value());
    CHECK_EQ(m.state(), RL_STATE_RECONNECTING);
    auto back = m.observe(ConnEvent::kSessionEstablished, g);
    REQUIRE(back.has_value());
    CHECK_EQ(back->reason, RL_REASON_REJOIN_SUCCEED);
    CHECK(!m.observe(ConnEvent::kSessionEstablished, g).has_value());  // only once
    // A new outage after recovery is a new report.
    auto second = m.observe(ConnEvent::kSignalLost, g);
    REQUIRE(second.has_value());
    CHECK_EQ(second->reason, RL_REASON_SIGNAL_DISCONNECTED);
}

TEST(failed_engine_can_join_again) {
    ConnectionStateMachine m = machine_in(RL_STATE_FAILED);
    auto t = m.request(ConnEvent::kJoinRequested);
    REQUIRE(t.has_value());
    CHECK_EQ(t->from, RL_STATE_FAILED);
    CHECK_EQ(t->to, RL_STATE_CONNECTING);
}

TEST_MAIN()
