#include "event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <system_error>

#include "log.h"

namespace roomlink {
namespace {

constexpr uint64_t kWakeToken = 0;  // epoll data of the eventfd; watch ids start at 1
constexpr int kMaxEventsPerWait = 256;

}  // namespace

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        int err = errno;
        close(epoll_fd_);
        throw std::system_error(err, std::generic_category(), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeToken;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
        int err = errno;
        close(wake_fd_);
        close(epoll_fd_);
        throw std::system_error(err, std::generic_category(), "epoll_ctl(eventfd)");
    }
}

EventLoop::~EventLoop() {
    free_released();
    for (auto& entry : watches_) {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, entry.second.fd, nullptr);
    }
    close(wake_fd_);
    close(epoll_fd_);
}

void EventLoop::run() {
    owner_.store(std::this_thread::get_id());
    while (!stopping_.load(std::memory_order_acquire)) {
        run_once(Duration::max());
    }
}

void EventLoop::stop() {
    stopping_.store(true, std::memory_order_release);
    wake();
}

bool EventLoop::in_loop_thread() const { return owner_.load() == std::this_thread::get_id(); }

int EventLoop::wait_millis(Duration max_wait) {
    {
        std::lock_guard<std::mutex> lock(tasks_mutex_);
        if (!tasks_.empty()) {
            return 0;
        }
    }
    Duration wait = max_wait;
    while (!timer_heap_.empty() && timer_tasks_.count(timer_heap_.top().id) == 0) {
        timer_heap_.pop();  // drop cancelled entries so they do not cut the wait short
    }
    if (!timer_heap_.empty()) {
        Duration until = timer_heap_.top().when - clock_.now();
        if (until < wait) {
            wait = until;
        }
    }
    if (wait <= Duration::zero()) {
        return 0;
    }
    if (wait == Duration::max()) {
        return -1;
    }
    // Round up: waking a little late is harmless, waking early would spin until the deadline.
    int64_t ms = (wait.count() + 999'999) / 1'000'000;
    return ms > 3'600'000 ? 3'600'000 : static_cast<int>(ms);
}

template <typename F>
void EventLoop::guarded(const char* what, F&& f) {
    // A failing handler must not take the shared loop thread (and every engine on it) down.
    try {
        f();
    } catch (const std::exception& e) {
        RL_LOG(RL_LOG_ERROR, "event loop: %s threw: %s", what, e.what());
    } catch (...) {
        RL_LOG(RL_LOG_ERROR, "event loop: %s threw a non-standard exception", what);
    }
}

void EventLoop::run_once(Duration max_wait) {
    owner_.store(std::this_thread::get_id());
    epoll_event events[kMaxEventsPerWait];
    int n = epoll_wait(epoll_fd_, events, kMaxEventsPerWait, wait_millis(max_wait));
    for (int i = 0; i < n; ++i) {
        uint64_t token = events[i].data.u64;
        if (token == kWakeToken) {
            drain_wakeup();
            continue;
        }
        auto it = watches_.find(token);
        if (it == watches_.end()) {
            continue;  // unwatched by an earlier handler in this batch
        }
        std::shared_ptr<IoHandler> handler = it->second.handler;
        uint32_t mask = events[i].events;
        guarded("I/O handler", [&] { (*handler)(mask); });
    }
    run_due_timers();
    run_posted_tasks();
    free_released();
}

void EventLoop::free_released() {
    // A destructor may release more.
    while (!released_.empty()) {
        std::vector<std::shared_ptr<void>> batch;
        batch.swap(released_);
    }
}

void EventLoop::run_due_timers() {
    const TimePoint now = clock_.now();
    // Timers scheduled by the callbacks below wait for the next iteration, so a timer that
    // re-arms itself with a zero delay cannot starve I/O.
    const TimerId first_new_id = next_timer_id_;
    while (!timer_heap_.empty()) {
        TimerEntry top = timer_heap_.top();
        if (top.when > now || top.id >= first_new_id) {
            break;
        }
        timer_heap_.pop();
        auto it = timer_tasks_.find(top.id);
        if (it == timer_tasks_.end()) {
            continue;
        }
        Task task = std::move(it->second);
        timer_tasks_.erase(it);
        guarded("timer", task);
    }
}

void EventLoop::run_posted_tasks() {
    std::vector<Task> batch;
    {
        std::lock_guard<std::mutex> lock(tasks_mutex_);
        batch.swap(tasks_);
    }
    for (auto& task : batch) {
        guarded("posted task", task);
    }
}

void EventLoop::drain_wakeup() {
    uint64_t count;
    while (read(wake_fd_, &count, sizeof count) > 0) {
    }
}

void EventLoop::wake() {
    uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop is going to wake up anyway.
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void EventLoop::post(Task task) {
    bool was_empty;
    {
        std::lock_guard<std::mutex> lock(tasks_mutex_);
        was_empty = tasks_.empty();
        tasks_.push_back(std::move(task));
    }
    // A non-empty queue already has a wakeup pending (or is being drained right now).
    if (was_empty) {
        wake();
    }
}

EventLoop::TimerId EventLoop::schedule_after(Duration delay, Task task) {
    return schedule_at(clock_.now() + delay, std::move(task));
}

EventLoop::TimerId EventLoop::schedule_at(TimePoint when, Task task) {
    TimerId id = next_timer_id_++;
    timer_tasks_.emplace(id, std::move(task));
    timer_heap_.push(TimerEntry{when, id});
    return id;
}

void EventLoop::cancel(TimerId& id) {
    if (id != 0) {
        // Move the task out before destroying it: its captures may own objects whose
        // destructors cancel other timers.
        auto it = timer_tasks_.find(id);
        if (it != timer_tasks_.end()) {
            Task doomed = std::move(it->second);
            timer_tasks_.erase(it);
        }
        id = 0;
    }
}

EventLoop::WatchId EventLoop::watch(int fd, uint32_t epoll_events, IoHandler handler) {
    WatchId id = next_watch_id_++;
    epoll_event ev{};
    ev.events = epoll_events;
    ev.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return 0;
    }
    watches_.emplace(id, Watch{fd, std::make_shared<IoHandler>(std::move(handler))});
    return id;
}

bool EventLoop::modify(WatchId id, uint32_t epoll_events) {
    auto it = watches_.find(id);
    if (it == watches_.end()) {
        return false;
    }
    epoll_event ev{};
    ev.events = epoll_events;
    ev.data.u64 = id;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, it->second.fd, &ev) == 0;
}

void EventLoop::unwatch(WatchId& id) {
    if (id != 0) {
        auto it = watches_.find(id);
        if (it != watches_.end()) {
            epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
            watches_.erase(it);
        }
        id = 0;
    }
}

}  // namespace roomlink
