#include "thread_slice.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace roomlink {
namespace {

// The kernel's struct sched_attr up to sched_period (SCHED_ATTR_SIZE_VER0); glibc has no wrapper.
struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;  // for SCHED_OTHER since 6.12: the slice
    uint64_t sched_deadline;
    uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

int get_attr(SchedAttr& attr) {
    std::memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
        return errno;
    }
    return 0;
}

}  // namespace

int set_current_thread_slice(std::chrono::nanoseconds slice) {
    if (slice != std::chrono::nanoseconds::zero() && (slice < kMinThreadSlice || slice > kMaxThreadSlice)) {
        return EINVAL;
    }
    SchedAttr attr;
    if (int err = get_attr(attr)) {
        return err;
    }
    // Whatever policy, priority and nice the thread has stay as they are: only the slice changes.
    attr.size = sizeof attr;
    attr.sched_flags = 0;
    attr.sched_runtime = static_cast<uint64_t>(slice.count());
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
        return errno;
    }
    return 0;
}

long long current_thread_slice_ns() {
    SchedAttr attr;
    if (int err = get_attr(attr)) {
        return -err;
    }
    return static_cast<long long>(attr.sched_runtime);
}

}  // namespace roomlink
