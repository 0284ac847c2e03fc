// What an idle engine costs: file descriptors and heap per joined (CONNECTED) engine, measured
// over a few hundred engines on one loop. The server runs in a child process, so that neither its
// sockets nor its bookkeeping are counted.
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "clock.h"
#include "clocked_loopback_server.h"
#include "engine.h"
#include "event_loop.h"
#include "network_watcher.h"
#include "roomlink/roomlink.h"
#include "test_support.h"

// ASan and TSan replace malloc: glibc's mallinfo2 then reports nothing.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROOMLINK_TEST_MALLOC_REPLACED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ROOMLINK_TEST_MALLOC_REPLACED 1
#endif
#endif

using namespace roomlink;

namespace {

constexpr int kEngines = 200;
// Measured when this test was written (Debug, glibc 2.36, GCC 12): 2,868 bytes per engine,
// everything included (the engine, its connection, media path, keepalives, the loop's entries
// for its sockets and timers). The bound is three times that: allocator slack and a restructured
// engine pass, a buffer or a container per engine that should not be there does not.
constexpr long kMeasuredHeapBytesPerEngine = 2868;
constexpr long kHeapBytesPerEngineBound = 3 * kMeasuredHeapBytesPerEngine;

// Less the directory stream's own descriptor.
int open_fds() { return test::directory_entries("/proc/self/fd") - 1; }

long heap_in_use() { return static_cast<long>(mallinfo2().uordblks); }

// The room server in a child process, until the parent closes its end of the pipe.
class ServerProcess {
public:
    ServerProcess() {
        int to_child[2];
        int to_parent[2];
        REQUIRE(pipe(to_child) == 0 && pipe(to_parent) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            close(to_child[1]);
            close(to_parent[0]);
            serve(to_child[0], to_parent[1]);
            _exit(0);
        }
        close(to_child[0]);
        close(to_parent[1]);
        keep_alive_fd_ = to_child[1];
        REQUIRE(read(to_parent[0], &port_, sizeof port_) == static_cast<ssize_t>(sizeof port_));
        close(to_parent[0]);
    }

    ~ServerProcess() {
        close(keep_alive_fd_);
        int status = 0;
        waitpid(pid_, &status, 0);
    }

    uint16_t port() const { return port_; }

private:
    static void serve(int keep_alive_fd, int port_fd) {
        MonotonicClock clock;
        EventLoop loop(clock);
        test::ClockedLoopbackServer server(loop);
        const uint16_t port = server.signal_port();
        if (write(port_fd, &port, sizeof port) != static_cast<ssize_t>(sizeof port)) return;
        close(port_fd);
        bool parent_gone = false;
        EventLoop::WatchId watch =
            loop.watch(keep_alive_fd, EPOLLIN, [&](uint32_t) { parent_gone = true; });
        while (!parent_gone) loop.run_once(millis(100));
        loop.unwatch(watch);
    }

    pid_t pid_ = -1;
    int keep_alive_fd_ = -1;
    uint16_t port_ = 0;
};

// Runs the loop until `done` holds or 20 s pass.
bool run_until(EventLoop& loop, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        loop.run_once(millis(10));
    }
    return true;
}

}  // namespace

TEST(an_idle_joined_engine_costs_two_sockets_and_a_few_kilobytes) {
    ServerProcess server;  // forked first: no thread of ours exists yet
    MonotonicClock clock;
    EventLoop loop(clock);
    loop.run_once(Duration::zero());  // this thread is the loop thread

    EngineOptions options;
    options.app_key = "test-app";
    options.server_host = "127.0.0.1";
    options.server_port = server.port();
    auto create = [&] { return Engine::create(options, loop, Engine::EventSink{}); };
    auto all_connected = [](const std::vector<std::shared_ptr<Engine>>& engines) {
        for (const auto& e : engines) {
            if (e->state() != RL_STATE_CONNECTED) return false;
        }
        return true;
    };

    // One engine first, so that what is allocated once per process or per loop is not counted.
    std::vector<std::shared_ptr<Engine>> warm_up{create()};
    REQUIRE_EQ(warm_up[0]->join("tok", "room", 1), RL_OK);
    REQUIRE(run_until(loop, [&] { return all_connected(warm_up); }));

    const int fds_before = open_fds();
    const long heap_before = heap_in_use();
    std::vector<std::shared_ptr<Engine>> engines;
    engines.reserve(kEngines);
    for (int i = 0; i < kEngines; ++i) {
        engines.push_back(create());
        REQUIRE_EQ(engines.back()->join("tok", "room", 100 + i), RL_OK);
    }
    REQUIRE(run_until(loop, [&] { return all_connected(engines); }));
    // Idle for a while: keepalives on both paths, nothing else.
    const auto idle_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
    run_until(loop, [&] { return std::chrono::steady_clock::now() >= idle_until; });
    REQUIRE(all_connected(engines));
    const int fds = open_fds() - fds_before;
    const long heap = heap_in_use() - heap_before;
    std::fprintf(stderr, "    measured: %d engines CONNECTED: %d fds (%.2f each)\n", kEngines, fds,
                 static_cast<double>(fds) / kEngines);

    // One TCP connection for signaling, one UDP socket for media: nothing else stays open. The
    // host network watcher is on (the default) and its rtnetlink socket is the loop's, opened
    // for the warm-up engine: engines share it.
    CHECK(roomlink::NetworkWatcher::of(loop).has_source());
    CHECK_EQ(roomlink::NetworkWatcher::of(loop).subscribers(), static_cast<size_t>(kEngines + 1));
    CHECK_EQ(fds, 2 * kEngines);
#if defined(ROOMLINK_TEST_MALLOC_REPLACED)
    (void)heap;
    std::fprintf(stderr, "    heap not measured: the sanitizer replaces malloc (mallinfo2 is 0)\n");
#else
    std::fprintf(stderr, "    measured: %ld heap bytes (%ld each, bound %ld)\n", heap,
                 heap / kEngines, kHeapBytesPerEngineBound);
    CHECK(heap > 0);
    CHECK(heap / kEngines < kHeapBytesPerEngineBound);
#endif

    // Shut down, every socket is given back (LEAVE lingers until the server's LEAVE_OK).
    for (auto& e : engines) e->shutdown();
    REQUIRE(run_until(loop, [&] { return open_fds() == fds_before; }));
    engines.clear();
    for (auto& e : warm_up) e->shutdown();
    REQUIRE(run_until(loop, [&] { return open_fds() == fds_before - 2; }));
}

TEST_MAIN()
