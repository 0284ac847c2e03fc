// The calling thread's scheduling slice (Linux EEVDF, 6.12 and later). A thread with a short
// slice that wakes up gets an earlier virtual deadline than the longer-slice work running on its
// CPU, so the kernel lets it run at once instead of at the end of that work's slice (~1.4 ms
// here). For threads that sleep most of the time and must react at once: the callback dispatch
// threads. Older kernels accept and ignore the setting.
#ifndef ROOMLINK_THREAD_SLICE_H
#define ROOMLINK_THREAD_SLICE_H

#include <chrono>

namespace roomlink {

// The kernel's bounds of a custom slice; zero asks for the default back.
constexpr std::chrono::nanoseconds kMinThreadSlice = std::chrono::microseconds(100);
constexpr std::chrono::nanoseconds kMaxThreadSlice = std::chrono::milliseconds(100);

// Sets the calling thread's slice, keeping its policy and nice value. Returns 0 or an errno
// value (EINVAL for a slice outside the bounds, or what the kernel answered).
int set_current_thread_slice(std::chrono::nanoseconds slice);

// The calling thread's slice as the kernel reports it, or a negative errno value.
long long current_thread_slice_ns();

}  // namespace roomlink

#endif
