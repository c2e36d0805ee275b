// Human-readable quantities (see units.hpp).
#include "tools/mpxctl/units.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>

namespace mpx::mpxctl {
namespace {

// value / base^k with the largest unit that keeps it below base; beyond the last unit the number
// grows in scientific notation instead of hundreds of digits.
template <std::size_t N>
std::string scaled(double value, double base, const std::array<const char*, N>& units) {
  if (!std::isfinite(value) || value < 0) {
    return "-";
  }
  std::size_t unit = 0;
  while (value >= base && unit + 1 < N) {
    value /= base;
    ++unit;
  }
  if (unit == 0) {
    return value < 1e15 ? fmt::format("{:.0f} {}", value, units[0])
                        : fmt::format("{:.3g} {}", value, units[0]);
  }
  return value < 1e6 ? fmt::format("{:.1f} {}", value, units[unit])
                     : fmt::format("{:.3g} {}", value, units[unit]);
}

}  // namespace

std::string format_bytes(double bytes) {
  static constexpr std::array<const char*, 7> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  return scaled(bytes, 1024, kUnits);
}

std::string format_bps(double bits_per_second) {
  static constexpr std::array<const char*, 6> kUnits{"bit/s",  "kbit/s", "Mbit/s",
                                                     "Gbit/s", "Tbit/s", "Pbit/s"};
  return scaled(bits_per_second, 1000, kUnits);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    return "-";
  }
  if (seconds >= 1e12) {  // ~31700 years: not a real uptime, but still printable
    return fmt::format("{:.3g}s", seconds);
  }
  const auto total = static_cast<std::uint64_t>(seconds);
  const std::uint64_t days = total / 86400;
  const std::uint64_t hours = total % 86400 / 3600;
  const std::uint64_t minutes = total % 3600 / 60;
  const std::uint64_t secs = total % 60;
  if (days > 0) {
    return fmt::format("{}d{:02}h", days, hours);
  }
  if (hours > 0) {
    return fmt::format("{}h{:02}m{:02}s", hours, minutes, secs);
  }
  if (minutes > 0) {
    return fmt::format("{}m{:02}s", minutes, secs);
  }
  return fmt::format("{}s", secs);
}

}  // namespace mpx::mpxctl
