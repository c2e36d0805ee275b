// Prometheus text format writer; see exposition.hpp.
#include "common/metrics/exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mpx::metrics {
namespace {

bool name_char(char c, bool first, bool colon_allowed) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return letter || (colon_allowed && c == ':') || (!first && digit);
}

bool valid_name(const std::string& name, bool colon_allowed) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon_allowed)) {
      return false;
    }
  }
  return true;
}

std::string escape(const std::string& value, bool quote) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Integral values (counters) print without exponent up to 2^53.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{}", value);
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool valid_metric_name(const std::string& name) { return valid_name(name, true); }

bool valid_label_name(const std::string& name) {
  return valid_name(name, false) && name.rfind("__", 0) != 0;
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  counts_.assign(bounds_.size(), 0);
}

void Histogram::observe(double value) {
  ++count_;
  sum_ += value;
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (bucket != bounds_.end()) {
    ++counts_[static_cast<std::size_t>(bucket - bounds_.begin())];
  }
}

void Histogram::append_to(MetricFamily& family, const Labels& labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    Labels with_le = labels;
    with_le.emplace_back("le", number(bounds_[i]));
    family.samples.push_back(Sample{"_bucket", std::move(with_le), static_cast<double>(cumulative)});
  }
  Labels with_inf = labels;
  with_inf.emplace_back("le", "+Inf");
  family.samples.push_back(Sample{"_bucket", std::move(with_inf), static_cast<double>(count_)});
  family.samples.push_back(Sample{"_sum", labels, sum_});
  family.samples.push_back(Sample{"_count", labels, static_cast<double>(count_)});
}

std::string render(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    if (!valid_metric_name(family.name)) {
      out += "# skipped a metric with an invalid name\n";
      continue;
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, escape(family.help, false),
                       family.name, type_name(family.type));
    for (const auto& sample : family.samples) {
      out += family.name;
      out += sample.suffix;
      bool first = true;
      for (const auto& [name, value] : sample.labels) {
        if (!valid_label_name(name)) {
          continue;
        }
        out += first ? "{" : ",";
        first = false;
        out += fmt::format("{}=\"{}\"", name, escape(value, true));
      }
      if (!first) {
        out += "}";
      }
      out += " ";
      out += number(sample.value);
      out += "\n";
    }
  }
  return out;
}

}  // namespace mpx::metrics
