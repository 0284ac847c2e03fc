// The receiver stream (receiver_stream.h) on a manual clock: numbering per connection, dedupe of
// a migration's replay, gaps, and the STREAM_ACK schedule (20 ms, or at once after 32 items).
#include "receiver_stream.h"

#include "test_support.h"

using roomlink::millis;
using roomlink::ReceiverStream;
using roomlink::TimePoint;
using V = ReceiverStream::Verdict;

namespace {

void accept_and_process(ReceiverStream& s, int n, TimePoint now) {
    for (int i = 0; i < n; ++i) {
        REQUIRE(s.on_item() == V::kAccept);
        s.processed(now);
    }
}

}  // namespace

TEST(items_after_join_ok_count_from_one) {
    ReceiverStream s;
    s.reset_session();
    s.begin_connection(1);
    const TimePoint t0{};
    accept_and_process(s, 3, t0);
    CHECK_EQ(s.last_processed(), uint64_t{3});
}

TEST(a_replay_after_resume_continues_and_drops_duplicates) {
    ReceiverStream s;
    s.begin_connection(1);
    accept_and_process(s, 5, TimePoint{});
    // A migration's RESUME said lastReceived=3; the stalled connection then delivered 4 and 5.
    s.begin_connection(3 + 1);
    CHECK(s.on_item() == V::kDuplicate);  // 4
    CHECK(s.on_item() == V::kDuplicate);  // 5
    CHECK(s.on_item() == V::kAccept);     // 6
    s.processed(TimePoint{});
    CHECK_EQ(s.last_processed(), uint64_t{6});
}

TEST(a_gap_is_reported) {
    ReceiverStream s;
    s.begin_connection(1);
    accept_and_process(s, 2, TimePoint{});
    s.begin_connection(5);  // the server replays from 5, but 3 and 4 never came
    CHECK(s.on_item() == V::kGap);
}

TEST(held_items_dropped_with_their_connection_are_accepted_again) {
    ReceiverStream s;
    s.begin_connection(1);
    CHECK(s.on_item() == V::kAccept);  // held in the barrier, never processed
    CHECK(s.on_item() == V::kAccept);
    CHECK_EQ(s.last_accepted(), uint64_t{2});
    CHECK_EQ(s.last_processed(), uint64_t{0});
    s.begin_connection(0 + 1);  // the next RESUME carried lastReceived=0
    CHECK(s.on_item() == V::kAccept);
    CHECK_EQ(s.last_accepted(), uint64_t{1});
}

TEST(fresh_session_resets_the_count) {
    ReceiverStream s;
    s.begin_connection(1);
    accept_and_process(s, 4, TimePoint{});
    s.reset_session();
    s.begin_connection(1);
    CHECK(s.on_item() == V::kAccept);
    s.processed(TimePoint{});
    CHECK_EQ(s.last_processed(), uint64_t{1});
}

TEST(ack_falls_due_20_ms_after_the_first_unacknowledged_item) {
    ReceiverStream s;
    s.begin_connection(1);
    const TimePoint t0 = TimePoint{} + millis(1000);
    CHECK(!s.ack_deadline().has_value());
    accept_and_process(s, 1, t0);
    accept_and_process(s, 1, t0 + millis(15));  // does not push the deadline out
    REQUIRE(s.ack_deadline().has_value());
    CHECK(*s.ack_deadline() == t0 + millis(20));
    CHECK(!s.ack_due_now());
    CHECK_EQ(s.take_ack(), uint64_t{2});
    CHECK(!s.ack_deadline().has_value());
    accept_and_process(s, 1, t0 + millis(30));
    CHECK(*s.ack_deadline() == t0 + millis(50));
}

TEST(ack_is_due_at_once_after_32_items) {
    ReceiverStream s;
    s.begin_connection(1);
    accept_and_process(s, 31, TimePoint{});
    CHECK(!s.ack_due_now());
    accept_and_process(s, 1, TimePoint{});
    CHECK(s.ack_due_now());
    CHECK_EQ(s.take_ack(), uint64_t{32});
    CHECK(!s.ack_due_now());
}

TEST(a_resume_acknowledges_what_it_carries) {
    ReceiverStream s;
    s.begin_connection(1);
    accept_and_process(s, 3, TimePoint{});
    s.acknowledged_by_resume();
    CHECK(!s.ack_deadline().has_value());
}

TEST_MAIN()
