#include "event_loop.h"

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loop_pool.h"
#include "test_support.h"

using namespace roomlink;

namespace {

// Runs a loop with a real clock on its own thread for the duration of a test.
struct LoopThread {
    MonotonicClock clock;
    EventLoop loop{clock};
    std::thread thread{[this] { loop.run(); }};
    ~LoopThread() {
        loop.stop();
        thread.join();
    }
};

// Runs `fn` on the loop and waits for it to finish.
void run_on(EventLoop& loop, const std::function<void()>& fn) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    loop.post([&] {
        fn();
        std::lock_guard<std::mutex> lock(m);
        done = true;
        cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return done; });
}

std::vector<std::string> thread_names() {
    std::vector<std::string> names;
    DIR* dir = opendir("/proc/self/task");
    if (dir == nullptr) return names;
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
        std::string name;
        std::getline(comm, name);
        names.push_back(name);
    }
    closedir(dir);
    return names;
}

}  // namespace

TEST(timers_fire_in_deadline_order_with_manual_clock) {
    ManualClock clock;
    EventLoop loop(clock);
    std::vector<int> fired;
    loop.schedule_after(millis(30), [&] { fired.push_back(30); });
    loop.schedule_after(millis(10), [&] { fired.push_back(10); });
    loop.schedule_after(millis(20), [&] { fired.push_back(20); });
    loop.schedule_after(millis(10), [&] { fired.push_back(11); });  // same deadline: FIFO
    loop.run_once(Duration::zero());
    CHECK(fired.empty());
    clock.advance(millis(10));
    loop.run_once(Duration::zero());
    CHECK((fired == std::vector<int>{10, 11}));
    clock.advance(millis(15));
    loop.run_once(Duration::zero());
    CHECK((fired == std::vector<int>{10, 11, 20}));
    clock.advance(millis(100));
    loop.run_once(Duration::zero());
    CHECK((fired == std::vector<int>{10, 11, 20, 30}));
    CHECK_EQ(loop.pending_timers(), size_t{0});
}

TEST(cancelled_timers_never_fire) {
    ManualClock clock;
    EventLoop loop(clock);
    int fired = 0;
    EventLoop::TimerId a = loop.schedule_after(millis(5), [&] { fired += 1; });
    EventLoop::TimerId b = loop.schedule_after(millis(5), [&] { fired += 10; });
    loop.cancel(a);
    CHECK_EQ(a, EventLoop::TimerId{0});
    loop.cancel(a);  // idempotent
    clock.advance(millis(5));
    loop.run_once(Duration::zero());
    CHECK_EQ(fired, 10);
    loop.cancel(b);  // already fired: harmless
}

TEST(a_timer_can_cancel_another_due_in_the_same_batch) {
    ManualClock clock;
    EventLoop loop(clock);
    int fired = 0;
    EventLoop::TimerId second = 0;
    loop.schedule_after(millis(1), [&] { loop.cancel(second); });
    second = loop.schedule_after(millis(1), [&] { ++fired; });
    clock.advance(millis(1));
    loop.run_once(Duration::zero());
    CHECK_EQ(fired, 0);
}

TEST(zero_delay_rearm_waits_for_next_iteration) {
    ManualClock clock;
    EventLoop loop(clock);
    int fired = 0;
    std::function<void()> rearm = [&] {
        ++fired;
        loop.schedule_after(Duration::zero(), rearm);
    };
    loop.schedule_after(Duration::zero(), rearm);
    loop.run_once(Duration::zero());
    CHECK_EQ(fired, 1);
    loop.run_once(Duration::zero());
    CHECK_EQ(fired, 2);
}

TEST(real_clock_timers_fire_on_time_and_in_order) {
    LoopThread t;
    std::mutex m;
    std::vector<int> fired;
    auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last;
    run_on(t.loop, [&] {
        t.loop.schedule_after(millis(40), [&] {
            std::lock_guard<std::mutex> lock(m);
            fired.push_back(40);
            last = std::chrono::steady_clock::now();
        });
        t.loop.schedule_after(millis(20), [&] {
            std::lock_guard<std::mutex> lock(m);
            fired.push_back(20);
        });
    });
    CHECK(test::wait_until([&] {
        std::lock_guard<std::mutex> lock(m);
        return fired.size() == 2;
    }));
    std::lock_guard<std::mutex> lock(m);
    CHECK((fired == std::vector<int>{20, 40}));
    CHECK(last - start >= std::chrono::milliseconds(40));
}

TEST(posted_tasks_run_in_order_on_the_loop_thread) {
    LoopThread t;
    std::mutex m;
    std::vector<int> order;
    std::atomic<bool> all_on_loop{true};
    const int per_thread = 500;
    std::vector<std::thread> posters;
    for (int p = 0; p < 4; ++p) {
        posters.emplace_back([&, p] {
            for (int i = 0; i < per_thread; ++i) {
                t.loop.post([&, p, i] {
                    if (!t.loop.in_loop_thread()) all_on_loop = false;
                    std::lock_guard<std::mutex> lock(m);
                    order.push_back(p * per_thread + i);
                });
            }
        });
    }
    for (auto& th : posters) th.join();
    CHECK(test::wait_until([&] {
        std::lock_guard<std::mutex> lock(m);
        return order.size() == 4 * per_thread;
    }));
    CHECK(all_on_loop.load());
    CHECK(!t.loop.in_loop_thread());
    // Per poster, tasks ran in the order they were posted.
    std::lock_guard<std::mutex> lock(m);
    std::vector<int> last(4, -1);
    for (int v : order) {
        int p = v / per_thread;
        CHECK(v % per_thread > last[static_cast<size_t>(p)]);
        last[static_cast<size_t>(p)] = v % per_thread;
    }
}

TEST(post_wakes_a_loop_blocked_without_timers) {
    LoopThread t;
    // No timers, no I/O: the loop sleeps in epoll_wait(-1) until the eventfd wakes it.
    for (int i = 0; i < 20; ++i) {
        auto before = std::chrono::steady_clock::now();
        run_on(t.loop, [] {});
        CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(1));
    }
}

TEST(io_handlers_fire_and_may_unwatch_themselves) {
    LoopThread t;
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    std::atomic<int> reads{0};
    EventLoop::WatchId id = 0;
    run_on(t.loop, [&] {
        id = t.loop.watch(fds[0], 0x001 /*EPOLLIN*/, [&](uint32_t) {
            char buf[16];
            while (read(fds[0], buf, sizeof buf) > 0) {
            }
            ++reads;
            t.loop.unwatch(id);  // safe from inside the handler
        });
    });
    CHECK(id != 0);
    REQUIRE(write(fds[1], "x", 1) == 1);
    CHECK(test::wait_until([&] { return reads.load() == 1; }));
    REQUIRE(write(fds[1], "y", 1) == 1);
    run_on(t.loop, [] {});  // one more iteration: the unwatched fd must stay silent
    CHECK_EQ(reads.load(), 1);
    close(fds[0]);
    close(fds[1]);
}

TEST(a_throwing_task_does_not_kill_the_loop) {
    LoopThread t;
    t.loop.post([] { throw std::runtime_error("boom"); });
    bool ran = false;
    run_on(t.loop, [&] { ran = true; });
    CHECK(ran);
}

TEST(pool_starts_lazily_with_configured_threads_named_roomlink_loop) {
    CHECK_EQ(LoopPool::running_threads(), 0);
    CHECK(LoopPool::configure(3));
    LoopPool& pool = LoopPool::shared();
    CHECK_EQ(pool.size(), 3);
    CHECK_EQ(LoopPool::running_threads(), 3);
    CHECK(!LoopPool::configure(2));
    // Round-robin assignment.
    EventLoop* a = &pool.next_loop();
    EventLoop* b = &pool.next_loop();
    EventLoop* c = &pool.next_loop();
    EventLoop* d = &pool.next_loop();
    CHECK(a != b && b != c && a != c);
    CHECK(a == d);
    // Thread names, read from /proc once the threads have named themselves.
    CHECK(test::wait_until([] {
        std::vector<std::string> names = thread_names();
        for (int i = 1; i <= 3; ++i) {
            std::string want = "roomlink-loop-" + std::to_string(i);
            if (std::find(names.begin(), names.end(), want) == names.end()) return false;
        }
        return true;
    }));
}

TEST_MAIN()
