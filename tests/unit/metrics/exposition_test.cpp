// common/metrics/exposition: what Prometheus reads.
#include <gtest/gtest.h>

#include "common/metrics/exposition.hpp"

namespace mpx::metrics {
namespace {

TEST(Exposition, FamiliesHaveHelpTypeAndLabelledSamples) {
  MetricFamily sessions{"mpx_relay_sessions", "Live sessions.", MetricType::gauge, {}};
  sessions.add(3);
  MetricFamily bytes{"mpx_relay_bytes_total", "Bytes relayed.", MetricType::counter, {}};
  bytes.add(12345678901234.0, {{"direction", "caller"}}).add(7, {{"direction", "callee"}});
  EXPECT_EQ(render({sessions, bytes}),
            "# HELP mpx_relay_sessions Live sessions.\n"
            "# TYPE mpx_relay_sessions gauge\n"
            "mpx_relay_sessions 3\n"
            "# HELP mpx_relay_bytes_total Bytes relayed.\n"
            "# TYPE mpx_relay_bytes_total counter\n"
            "mpx_relay_bytes_total{direction=\"caller\"} 12345678901234\n"
            "mpx_relay_bytes_total{direction=\"callee\"} 7\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
  MetricFamily family{"m", "line one\nback\\slash", MetricType::gauge, {}};
  family.add(0.5, {{"media", "a\"b\\c\nd"}});
  EXPECT_EQ(render({family}),
            "# HELP m line one\\nback\\\\slash\n# TYPE m gauge\n"
            "m{media=\"a\\\"b\\\\c\\nd\"} 0.5\n");
}

TEST(Exposition, InvalidNamesNeverReachTheOutput) {
  MetricFamily bad{"9starts-with-digit", "x", MetricType::gauge, {}};
  bad.add(1);
  MetricFamily good{"ok_name", "x", MetricType::gauge, {}};
  good.add(1, {{"bad label", "v"}, {"__reserved", "v"}, {"fine", "v"}});
  EXPECT_EQ(render({bad, good}),
            "# skipped a metric with an invalid name\n"
            "# HELP ok_name x\n# TYPE ok_name gauge\nok_name{fine=\"v\"} 1\n");
}

TEST(Exposition, HistogramBucketsAreCumulative) {
  Histogram histogram({0.01, 0.001, 0.1});
  for (const double v : {0.0005, 0.002, 0.003, 0.05, 2.0}) {
    histogram.observe(v);
  }
  MetricFamily family{"answer_seconds", "Answer time.", MetricType::histogram, {}};
  histogram.append_to(family, {{"socket", "module"}});
  EXPECT_EQ(render({family}),
            "# HELP answer_seconds Answer time.\n# TYPE answer_seconds histogram\n"
            "answer_seconds_bucket{socket=\"module\",le=\"0.001\"} 1\n"
            "answer_seconds_bucket{socket=\"module\",le=\"0.01\"} 3\n"
            "answer_seconds_bucket{socket=\"module\",le=\"0.1\"} 4\n"
            "answer_seconds_bucket{socket=\"module\",le=\"+Inf\"} 5\n"
            "answer_seconds_sum{socket=\"module\"} 2.0555\n"
            "answer_seconds_count{socket=\"module\"} 5\n");
}

}  // namespace
}  // namespace mpx::metrics
