#include "attempt_machine.h"

#include <optional>
#include <string>
#include <vector>

#include "test_support.h"

using namespace roomlink;

namespace {

using S = AttemptState;
using E = AttemptEvent;

const S kAllStates[] = {S::kConnecting, S::kRequested,    S::kRequestedBusy,
                        S::kParked,     S::kAnswered,     S::kAnsweredBusy,
                        S::kAnsweredParked, S::kEstablished};
const E kAllEvents[] = {E::kRequestSent, E::kSilentButAcknowledged, E::kSilent, E::kAnswered,
                        E::kEstablished};

const char* event_name(E e) {
    switch (e) {
        case E::kRequestSent:
            return "REQUEST_SENT";
        case E::kSilentButAcknowledged:
            return "SILENT_BUT_ACKNOWLEDGED";
        case E::kSilent:
            return "SILENT";
        case E::kAnswered:
            return "ANSWERED";
        case E::kEstablished:
            return "ESTABLISHED";
    }
    return "?";
}

// Drives a machine to `state` through legal events only.
AttemptMachine machine_in(S state) {
    AttemptMachine m;
    auto go = [&m](std::initializer_list<E> events) {
        for (E e : events) {
            REQUIRE(m.on(e).has_value());
        }
    };
    switch (state) {
        case S::kConnecting:
            break;
        case S::kRequested:
            go({E::kRequestSent});
            break;
        case S::kRequestedBusy:
            go({E::kRequestSent, E::kSilentButAcknowledged});
            break;
        case S::kParked:
            go({E::kRequestSent, E::kSilent});
            break;
        case S::kAnswered:
            go({E::kRequestSent, E::kAnswered});
            break;
        case S::kAnsweredBusy:
            go({E::kRequestSent, E::kAnswered, E::kSilentButAcknowledged});
            break;
        case S::kAnsweredParked:
            go({E::kRequestSent, E::kAnswered, E::kSilent});
            break;
        case S::kEstablished:
            go({E::kRequestSent, E::kAnswered, E::kEstablished});
            break;
    }
    REQUIRE_EQ(m.state(), state);
    return m;
}

struct Row {
    S from;
    E event;
    S to;
};

// Every transition the machine makes. Any (state, event) pair not listed must be refused.
const std::vector<Row> kTable = {
    {S::kConnecting, E::kRequestSent, S::kRequested},

    {S::kRequested, E::kSilentButAcknowledged, S::kRequestedBusy},
    {S::kRequested, E::kSilent, S::kParked},
    {S::kRequested, E::kAnswered, S::kAnswered},

    {S::kRequestedBusy, E::kSilentButAcknowledged, S::kRequestedBusy},
    {S::kRequestedBusy, E::kSilent, S::kParked},
    {S::kRequestedBusy, E::kAnswered, S::kAnswered},

    {S::kParked, E::kAnswered, S::kAnswered},

    {S::kAnswered, E::kSilentButAcknowledged, S::kAnsweredBusy},
    {S::kAnswered, E::kSilent, S::kAnsweredParked},
    {S::kAnswered, E::kEstablished, S::kEstablished},

    {S::kAnsweredBusy, E::kSilentButAcknowledged, S::kAnsweredBusy},
    {S::kAnsweredBusy, E::kSilent, S::kAnsweredParked},
    {S::kAnsweredBusy, E::kEstablished, S::kEstablished},

    {S::kAnsweredParked, E::kEstablished, S::kEstablished},
};

std::optional<S> expected_for(S from, E e) {
    for (const auto& row : kTable) {
        if (row.from == from && row.event == e) return row.to;
    }
    return std::nullopt;
}

}  // namespace

TEST(every_state_event_pair_matches_the_table) {
    int transitions = 0;
    for (S from : kAllStates) {
        for (E e : kAllEvents) {
            AttemptMachine m = machine_in(from);
            std::optional<S> got = m.on(e);
            std::optional<S> want = expected_for(from, e);
            std::string where = std::string(attempt_state_name(from)) + " + " + event_name(e);
            CHECK_EQ(AttemptMachine::next(from, e).has_value(), want.has_value());
            if (!want) {
                if (got) test::fail(__FILE__, __LINE__, where + ": should be refused");
                CHECK_EQ(m.state(), from);
                continue;
            }
            if (!got) {
                test::fail(__FILE__, __LINE__, where + ": should transition");
                continue;
            }
            ++transitions;
            CHECK_EQ(*got, *want);
            CHECK_EQ(m.state(), *want);
        }
    }
    CHECK_EQ(transitions, static_cast<int>(kTable.size()));
}

TEST(what_each_state_means) {
    struct Meaning {
        S state;
        bool request_sent, answered, parked, busy, established;
    };
    const Meaning kMeanings[] = {
        {S::kConnecting, false, false, false, false, false},
        {S::kRequested, true, false, false, false, false},
        {S::kRequestedBusy, true, false, false, true, false},
        {S::kParked, true, false, true, false, false},
        {S::kAnswered, true, true, false, false, false},
        {S::kAnsweredBusy, true, true, false, true, false},
        {S::kAnsweredParked, true, true, true, false, false},
        {S::kEstablished, true, true, false, false, true},
    };
    for (const auto& m : kMeanings) {
        AttemptMachine machine = machine_in(m.state);
        CHECK_EQ(machine.request_sent(), m.request_sent);
        CHECK_EQ(machine.answered(), m.answered);
        CHECK_EQ(machine.parked(), m.parked);
        CHECK_EQ(machine.busy(), m.busy);
        CHECK_EQ(machine.established(), m.established);
    }
}

TEST(a_busy_server_is_waited_for_until_the_patience_runs_out) {
    AttemptMachine m = machine_in(S::kRequested);
    REQUIRE(m.on(E::kSilentButAcknowledged).has_value());
    CHECK(m.busy());
    // Data came and went silent again: still the same wait, not a new one to report.
    CHECK(m.on(E::kSilentButAcknowledged) == std::optional<S>(S::kRequestedBusy));
    CHECK(m.on(E::kSilent) == std::optional<S>(S::kParked));
    CHECK(!m.busy());
}

TEST(a_parked_attempt_answered_late_becomes_the_attempt_again) {
    AttemptMachine m = machine_in(S::kParked);
    CHECK(!m.on(E::kSilent).has_value());  // no longer watched
    CHECK(m.on(E::kAnswered) == std::optional<S>(S::kAnswered));
    CHECK(!m.parked());
    CHECK(!m.on(E::kAnswered).has_value());  // a second answer is a protocol error
    CHECK(m.on(E::kEstablished) == std::optional<S>(S::kEstablished));
}

TEST(nothing_establishes_before_the_answer) {
    for (S s : {S::kConnecting, S::kRequested, S::kRequestedBusy, S::kParked}) {
        AttemptMachine m = machine_in(s);
        CHECK(!m.on(E::kEstablished).has_value());
        CHECK_EQ(m.state(), s);
    }
}

TEST_MAIN()
