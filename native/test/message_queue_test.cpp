// The sender queue of room messages (message_queue.h): numbering, cumulative acks, renumbering
// after RESUME_OK / JOIN_OK, and the exact byte budget shared with app threads.
#include "message_queue.h"

#include <thread>
#include <vector>

#include "test_support.h"

using roomlink::MessageBudget;
using roomlink::MessageQueue;

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t fill = 1) { return std::vector<uint8_t>(n, fill); }

std::vector<uint64_t> seqs(const std::vector<roomlink::wire::MessageFrame>& frames) {
    std::vector<uint64_t> out;
    for (const auto& f : frames) out.push_back(f.seq);
    return out;
}

// Pushes a message whose bytes the caller reserved, as Engine::send_message does.
void push(MessageBudget& budget, MessageQueue& queue, size_t n) {
    REQUIRE(budget.try_reserve(n));
    queue.push(0, 0, bytes(n));
}

}  // namespace

TEST(budget_is_exact_at_the_limit) {
    MessageBudget budget(100);
    CHECK(budget.try_reserve(60));
    CHECK(budget.try_reserve(40));
    CHECK(!budget.try_reserve(1));
    CHECK_EQ(budget.used(), uint64_t{100});
    budget.release(40);
    CHECK(!budget.try_reserve(41));
    CHECK(budget.try_reserve(40));
    CHECK(!budget.try_reserve(~uint64_t{0}));  // no overflow
}

TEST(budget_is_exact_under_racing_threads) {
    MessageBudget budget(1000);
    std::vector<std::thread> threads;
    std::atomic<int> reserved{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (budget.try_reserve(3)) ++reserved;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK_EQ(reserved.load(), 333);
    CHECK_EQ(budget.used(), uint64_t{999});
}

TEST(messages_are_numbered_sent_once_and_dropped_by_cumulative_acks) {
    MessageBudget budget(1000);
    MessageQueue queue(budget);
    push(budget, queue, 10);
    push(budget, queue, 20);
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{1, 2}));
    CHECK(queue.take_unsent().empty());
    push(budget, queue, 30);
    CHECK(queue.has_unsent());
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{3}));
    CHECK(queue.on_ack(2));
    CHECK_EQ(queue.size(), size_t{1});
    CHECK_EQ(budget.used(), uint64_t{30});
    CHECK_EQ(queue.bytes(), uint64_t{30});
    CHECK(queue.on_ack(1));  // an old ack: nothing changes
    CHECK_EQ(queue.size(), size_t{1});
    CHECK(!queue.on_ack(4));  // never sent: hostile
    CHECK_EQ(queue.size(), size_t{1});
    CHECK(queue.on_ack(3));
    CHECK(queue.empty());
    CHECK_EQ(budget.used(), uint64_t{0});
}

TEST(an_ack_beyond_what_was_sent_is_refused_even_if_queued) {
    MessageBudget budget(1000);
    MessageQueue queue(budget);
    push(budget, queue, 1);
    CHECK(!queue.on_ack(1));  // queued while reconnecting, not sent yet
    CHECK_EQ(queue.size(), size_t{1});
}

TEST(resume_drops_what_the_server_accepted_and_renumbers_the_rest) {
    MessageBudget budget(1000);
    MessageQueue queue(budget);
    for (int i = 0; i < 5; ++i) push(budget, queue, 1);
    CHECK_EQ(queue.take_unsent().size(), size_t{3 + 2});
    queue.connection_lost();
    queue.restart_after(3);  // RESUME_OK(lastAccepted=3)
    CHECK_EQ(queue.size(), size_t{2});
    CHECK_EQ(budget.used(), uint64_t{2});
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{4, 5}));
    push(budget, queue, 1);
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{6}));
}

TEST(a_fresh_session_renumbers_from_one_and_a_remembered_one_from_its_accepted) {
    MessageBudget budget(1000);
    MessageQueue queue(budget);
    for (int i = 0; i < 3; ++i) push(budget, queue, 1);
    queue.take_unsent();
    CHECK(queue.on_ack(1));
    queue.restart_after(0);  // JOIN_OK: the server knows nothing of the old queue
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{1, 2}));
    // RESUME_OK(resumed=0) whose lastAccepted says the ended session took 1 of them.
    queue.restart_after(1);
    CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{2}));
    CHECK_EQ(queue.next_seq(), uint64_t{3});
    CHECK_EQ(budget.used(), uint64_t{1});
}

TEST(clear_releases_every_byte) {
    MessageBudget budget(1000);
    {
        MessageQueue queue(budget);
        push(budget, queue, 100);
        push(budget, queue, 200);
        CHECK_EQ(queue.clear(), size_t{2});
        CHECK_EQ(budget.used(), uint64_t{0});
        push(budget, queue, 300);
        CHECK((seqs(queue.take_unsent()) == std::vector<uint64_t>{3}));
    }
    CHECK_EQ(budget.used(), uint64_t{0});  // the destructor clears too
}

TEST_MAIN()
