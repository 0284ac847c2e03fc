#include "random_source.h"

#include <random>

namespace roomlink {
namespace {

std::mt19937_64& generator() {
    thread_local std::mt19937_64 engine = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    return engine;
}

}  // namespace

uint64_t random_u64() { return generator()(); }

uint64_t random_nonzero_u64() {
    uint64_t v;
    do {
        v = random_u64();
    } while (v == 0);
    return v;
}

double random_unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(generator()); }

}  // namespace roomlink
