// SPDX-License-Identifier: MIT OR Apache-2.0
// What every benchmark here reports: its own CPU time, and repeats as median [min-max].
#ifndef SOCKETCAP_BENCH_STATS_HPP
#define SOCKETCAP_BENCH_STATS_HPP

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

namespace socketcap::bench {

/// User + system seconds this process has used so far.
inline double self_cpu() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct stat3 {
    double med, lo, hi;
};

/// Median (upper median for an even count), minimum and maximum; `v` must not be empty.
inline stat3 summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

/// "median [min-max]" with `prec` decimals.
inline std::string fmt3(stat3 s, int prec = 3) {
    return fmt::format("{:.{}f} [{:.{}f}-{:.{}f}]", s.med, prec, s.lo, prec, s.hi, prec);
}

} // namespace socketcap::bench

#endif
