// Human-readable quantities for mpxctl's views: byte counts, bit rates and durations. Any value,
// however absurd (negative, beyond 64 bits), gives a short string rather than an error.
#pragma once

#include <string>

namespace mpx::mpxctl {

// "512 B", "1.5 KiB", "3.2 MiB", ... up to EiB; negative values as "-".
std::string format_bytes(double bytes);

// "0 bit/s", "950 bit/s", "1.2 kbit/s", "34.0 Mbit/s", ... (decimal prefixes, as networks count).
std::string format_bps(double bits_per_second);

// "42s", "3m07s", "1h02m03s", "5d03h", negative values as "-".
std::string format_duration(double seconds);

}  // namespace mpx::mpxctl
