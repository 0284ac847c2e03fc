// The small fixed set of loop threads shared by every engine in the process. Engines are spread
// over the loops round-robin, so thousands of engines cost a handful of threads.
#ifndef ROOMLINK_LOOP_POOL_H
#define ROOMLINK_LOOP_POOL_H

#include <atomic>
#include <memory>
#include <vector>

#include "clock.h"
#include "event_loop.h"

namespace roomlink {

class LoopPool {
public:
    static constexpr int kDefaultThreads = 2;
    static constexpr int kMaxThreads = 16;

    // Sets the size used when the pool starts. False once it has started.
    static bool configure(int threads);
    // The process-wide pool, started on first use. It is never destroyed (see loop_pool.cpp).
    static LoopPool& shared();
    // Threads currently running: 0 before the pool has started.
    static int running_threads();

    EventLoop& next_loop();
    int size() const { return static_cast<int>(loops_.size()); }

    explicit LoopPool(int threads);
    LoopPool(const LoopPool&) = delete;
    LoopPool& operator=(const LoopPool&) = delete;

private:
    MonotonicClock clock_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
    std::atomic<unsigned> next_{0};
    std::atomic<int> started_threads_{0};
};

}  // namespace roomlink

#endif
