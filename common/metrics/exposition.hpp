// The Prometheus text exposition format (version 0.0.4): metric families with HELP and TYPE
// lines and samples with labels. Both daemons describe what they count as MetricFamily values;
// render() writes them. Names are checked (a bad name is a programming error and is skipped with
// a comment line rather than producing a file Prometheus rejects); label values are escaped.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mpx::metrics {

enum class MetricType { counter, gauge, histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string suffix;  // appended to the family name: "", "_bucket", "_sum", "_count"
  Labels labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::gauge;
  std::vector<Sample> samples;

  MetricFamily& add(double value, Labels labels = {}) {
    samples.push_back(Sample{"", std::move(labels), value});
    return *this;
  }
};

inline MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

// Counters are 64-bit; samples are doubles (exact up to 2^53, as Prometheus stores them).
inline double as_value(std::uint64_t count) { return static_cast<double>(count); }

// Cumulative histogram with fixed upper bounds (seconds, bytes...), as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // _bucket samples (le=...), +Inf, _sum and _count, with `labels` on each.
  void append_to(MetricFamily& family, const Labels& labels = {}) const;
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bound, not cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

bool valid_metric_name(const std::string& name);
bool valid_label_name(const std::string& name);
std::string render(const std::vector<MetricFamily>& families);

}  // namespace mpx::metrics
