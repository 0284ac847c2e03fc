#include "loop_pool.h"

#include <pthread.h>

#include <string>
#include <mutex>
#include <thread>

#include "log.h"

namespace roomlink {
namespace {

// The pool lives until the process exits and is intentionally never destroyed. A static
// destructor would have to either join loop threads (which may be blocked in a host callback,
// e.g. inside a JVM that is itself shutting down) or free loops that those threads still run.
// Keeping the registry and the pool on the heap, reachable from a function-local static, makes
// exit order irrelevant: the threads simply stop existing with the process.
struct Registry {
    std::mutex mutex;
    int configured_threads = LoopPool::kDefaultThreads;
    LoopPool* pool = nullptr;
};

Registry& registry() {
    static Registry* const instance = std::make_unique<Registry>().release();
    return *instance;
}

void name_current_thread(int index) {
    // Linux limits thread names to 15 characters: two-digit indexes get the short prefix.
    std::string name = "roomlink-loop-" + std::to_string(index);
    if (name.size() > 15) {
        name = "rl-loop-" + std::to_string(index);
    }
    pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace

bool LoopPool::configure(int threads) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.pool != nullptr) {
        return false;
    }
    r.configured_threads = threads;
    return true;
}

LoopPool& LoopPool::shared() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.pool == nullptr) {
        r.pool = std::make_unique<LoopPool>(r.configured_threads).release();
    }
    return *r.pool;
}

int LoopPool::running_threads() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.pool == nullptr ? 0 : r.pool->started_threads_.load();
}

LoopPool::LoopPool(int threads) {
    for (int i = 0; i < threads; ++i) {
        loops_.push_back(std::make_unique<EventLoop>(clock_));
    }
    for (int i = 0; i < threads; ++i) {
        EventLoop* loop = loops_[static_cast<size_t>(i)].get();
        std::thread([loop, i] {
            name_current_thread(i + 1);
            loop->run();
        }).detach();
        started_threads_.fetch_add(1);
    }
    RL_LOG(RL_LOG_INFO, "loop pool started with %d thread(s)", threads);
}

EventLoop& LoopPool::next_loop() {
    size_t index = next_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
    return *loops_[index];
}

}  // namespace roomlink
