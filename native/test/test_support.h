// Minimal test harness: TEST(name) registers a case, CHECK* record a failure and carry on,
// REQUIRE* end the current case. wait_until() polls a condition against a deadline, so tests
// synchronise on outcomes instead of sleeping for a guessed time.
#ifndef ROOMLINK_TEST_SUPPORT_H
#define ROOMLINK_TEST_SUPPORT_H

#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace test {

struct Case {
    const char* name;
    void (*fn)();
};

inline std::vector<Case>& registry() {
    static std::vector<Case> cases;
    return cases;
}

inline int& failures() {
    static int count = 0;
    return count;
}

struct Registrar {
    Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

struct Abort {};

inline void fail(const char* file, int line, const std::string& what) {
    std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
    ++failures();
}

template <typename T>
std::string show(const T& value) {
    std::ostringstream out;
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, const char*>) {
        out << '"' << value << '"';
    } else if constexpr (std::is_enum_v<T>) {
        out << static_cast<long long>(value);
    } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
        out << static_cast<int>(value);
    } else {
        out << value;
    }
    return out.str();
}

// Polls `condition` until it holds or `timeout` passes. The poll interval is short and only
// bounds how late a satisfied condition is noticed; it never decides the outcome.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

inline int run_all(int argc, char** argv) {
    int ran = 0;
    for (const Case& c : registry()) {
        if (argc > 1 && std::string(argv[1]) != c.name) {
            continue;
        }
        int before = failures();
        std::fprintf(stderr, "[ RUN  ] %s\n", c.name);
        auto start = std::chrono::steady_clock::now();
        try {
            c.fn();
        } catch (const Abort&) {
        } catch (const std::exception& e) {
            fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
        }
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        std::fprintf(stderr, "[ %s ] %s (%lld ms)\n", failures() == before ? " OK " : "FAIL",
                     c.name, static_cast<long long>(ms));
        ++ran;
    }
    std::fprintf(stderr, "%d case(s), %d failure(s)\n", ran, failures());
    return failures() == 0 && ran > 0 ? 0 : 1;
}

// Expects events[from..] to match `want` one by one (`same(event, wanted)`); with `exactly`,
// nothing may follow. Events describe themselves with str() in the failure message.
template <typename Event, typename Want, typename Same>
void expect_events(const std::vector<Event>& events, size_t from, const std::vector<Want>& want,
                   bool exactly, Same same, const char* file, int line) {
    std::string got;
    for (size_t i = from; i < events.size(); ++i) got += events[i].str() + " ";
    const size_t have = events.size() < from ? 0 : events.size() - from;
    if (have < want.size() || (exactly && have != want.size())) {
        fail(file, line, "expected " + std::to_string(want.size()) + " events, got: " + got);
        return;
    }
    for (size_t i = 0; i < want.size(); ++i) {
        if (!same(events[from + i], want[i])) {
            fail(file, line, "event " + std::to_string(i) + " differs: " + got);
            return;
        }
    }
}

// Counts the entries of a /proc directory (threads in /proc/self/task, fds in /proc/self/fd).
inline int directory_entries(const char* path) {
    int n = 0;
    DIR* dir = opendir(path);
    if (dir == nullptr) return -1;
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
    return n;
}

template <typename A, typename B>
bool equal(const char* file, int line, const char* what, const A& a, const B& b) {
    if (a == b) {
        return true;
    }
    fail(file, line, std::string(what) + ": " + show(a) + " vs " + show(b));
    return false;
}

}  // namespace test

#define TEST(name)                                              \
    static void name();                                         \
    static const test::Registrar name##_registrar(#name, name); \
    static void name()

#define CHECK(cond)                                         \
    do {                                                    \
        if (!(cond)) test::fail(__FILE__, __LINE__, #cond); \
    } while (0)

#define REQUIRE(cond)                                       \
    do {                                                    \
        if (!(cond)) {                                      \
            test::fail(__FILE__, __LINE__, #cond);          \
            throw test::Abort{};                            \
        }                                                   \
    } while (0)

// Both compare once through test::equal, which records a mismatch with both values shown;
// REQUIRE_EQ then abandons the test.
#define CHECK_EQ(a, b) ((void)test::equal(__FILE__, __LINE__, #a " == " #b, (a), (b)))

#define REQUIRE_EQ(a, b)                                                \
    do {                                                                \
        if (!test::equal(__FILE__, __LINE__, #a " == " #b, (a), (b))) { \
            throw test::Abort{};                                        \
        }                                                               \
    } while (0)

#define TEST_MAIN() \
    int main(int argc, char** argv) { return test::run_all(argc, argv); }

#endif
