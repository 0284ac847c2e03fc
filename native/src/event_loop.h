// Single-threaded reactor: epoll for sockets, a min-heap of one-shot timers, and an eventfd-woken
// queue through which other threads hand work to the loop. Everything except post(), stop() and
// in_loop_thread() must be called on the loop thread.
#ifndef ROOMLINK_EVENT_LOOP_H
#define ROOMLINK_EVENT_LOOP_H

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "clock.h"

// Loop-thread confinement, checked in debug and sanitizer builds (compiled out otherwise): the
// entry points of the loop-only units state the rule they rely on, as gRPC's
// SynchronizationContext does.
#if !defined(NDEBUG) || defined(ROOMLINK_CHECK_THREADS)
#include <cstdio>
#include <cstdlib>
#define RL_ASSERT_LOOP_THREAD(loop)                                                            \
    do {                                                                                       \
        if (!(loop).in_loop_thread()) {                                                        \
            std::fprintf(stderr, "%s:%d: %s called off its loop thread\n", __FILE__, __LINE__, \
                         __func__);                                                            \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)
#else
#define RL_ASSERT_LOOP_THREAD(loop) ((void)0)
#endif

namespace roomlink {

class EventLoop {
public:
    using Task = std::function<void()>;
    using IoHandler = std::function<void(uint32_t epoll_events)>;
    using TimerId = uint64_t;  // 0 is never a live timer
    using WatchId = uint64_t;  // 0 is never a live watch

    // The clock must outlive the loop. Throws std::system_error if epoll/eventfd are unavailable.
    explicit EventLoop(const Clock& clock);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Runs until stop(); the calling thread becomes the loop thread.
    void run();
    void stop();
    // One iteration: wait for I/O at most max_wait (less if a timer or task is due), then run
    // ready I/O handlers, due timers and queued tasks. Lets tests drive a loop on their thread.
    void run_once(Duration max_wait);

    // Thread-safe. Tasks run on the loop thread in the order they were posted.
    void post(Task task);
    bool in_loop_thread() const;
    TimePoint now() const { return clock_.now(); }

    TimerId schedule_after(Duration delay, Task task);
    TimerId schedule_at(TimePoint when, Task task);
    // Cancels a pending timer (no-op for a fired or unknown one) and zeroes the caller's id.
    void cancel(TimerId& id);
    size_t pending_timers() const { return timer_tasks_.size(); }
    // Per-loop state of a higher layer, one T per loop, created on first use and destroyed with
    // the loop: the loop stays ignorant of its users (the keepalives' FastPingBudget is one).
    // Loop thread only.
    template <typename T>
    T& attachment() {
        std::shared_ptr<void>& slot = attachments_[std::type_index(typeid(T))];
        if (!slot) {
            slot = std::make_shared<T>();
        }
        return *static_cast<T*>(slot.get());
    }

    // Frees `object` after the current iteration's handlers, timers and tasks have run (libuv's
    // closing phase), so an owner may drop an object from inside that object's own callback.
    template <typename T>
    void release_later(std::unique_ptr<T> object) {
        RL_ASSERT_LOOP_THREAD(*this);
        if (object) {
            released_.emplace_back(std::move(object));
        }
    }
    // libuv's uv_close: `object->close()` stops it at once (it reports nothing more, its socket
    // is closed now), and its memory goes after the current dispatch.
    template <typename T>
    void close_and_release(std::unique_ptr<T> object) {
        if (object) {
            object->close();
            release_later(std::move(object));
        }
    }

    // Returns 0 if the fd could not be registered.
    WatchId watch(int fd, uint32_t epoll_events, IoHandler handler);
    bool modify(WatchId id, uint32_t epoll_events);
    void unwatch(WatchId& id);

private:
    struct TimerEntry {
        TimePoint when;
        TimerId id;  // ids increase, so equal deadlines fire in scheduling order
        bool operator>(const TimerEntry& o) const {
            return when != o.when ? when > o.when : id > o.id;
        }
    };
    struct Watch {
        int fd;
        std::shared_ptr<IoHandler> handler;  // shared so a handler may unwatch itself safely
    };

    int wait_millis(Duration max_wait);
    void run_due_timers();
    void run_posted_tasks();
    void drain_wakeup();
    void free_released();
    void wake();
    template <typename F>
    void guarded(const char* what, F&& f);

    const Clock& clock_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<std::thread::id> owner_;

    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> timer_heap_;
    std::unordered_map<TimerId, Task> timer_tasks_;  // cancelled timers are simply absent
    TimerId next_timer_id_ = 1;

    std::unordered_map<WatchId, Watch> watches_;
    WatchId next_watch_id_ = 1;

    std::unordered_map<std::type_index, std::shared_ptr<void>> attachments_;

    std::mutex tasks_mutex_;
    std::vector<Task> tasks_;

    std::vector<std::shared_ptr<void>> released_;  // see release_later
};

}  // namespace roomlink

#endif
