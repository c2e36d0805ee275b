// Micro-benchmarks of the protocol code on the dispatcher's hot path: framing a real OpenSIPS
// request, the media header grammar, and the statistics JSON both ways. BM_Baseline_<Group>
// measures the least work any parser must do on the same bytes (one pass looking for the
// separator: CRLF, ',' or '"'), so the ratio of BM_<Group>_<What> to it is what the parser adds
// (bench/micro/to_suite.py pairs them by name).
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "common/protocol/media.hpp"
#include "common/protocol/module_request.hpp"
#include "common/protocol/session_statistics.hpp"

namespace {

std::string read_request(const char* name) {
  std::ifstream in(std::string(MPX_TESTDATA_DIR) + "/opensips-3.4/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& invite() {
  static const std::string bytes = read_request("multistream/1-INVITE-update-request.req");
  return bytes;
}

// One pass over bytes counting `separator`: the least any parser of them must do.
std::size_t count_of(std::string_view bytes, std::string_view separator) {
  std::size_t found = 0;
  for (std::size_t pos = 0; (pos = bytes.find(separator, pos)) != std::string_view::npos;
       pos += separator.size()) {
    ++found;
  }
  return found;
}

void BM_Baseline_ModuleRequest(benchmark::State& state) {
  const std::string_view bytes = invite();
  for (auto _ : state) {
    benchmark::DoNotOptimize(count_of(bytes, "\r\n"));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_Baseline_ModuleRequest);

void BM_ModuleRequest_Parse(benchmark::State& state) {
  const std::string& bytes = invite();
  for (auto _ : state) {
    mpx::protocol::ModuleRequestParser parser;
    parser.feed(bytes);
    auto step = parser.next();
    benchmark::DoNotOptimize(step);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_ModuleRequest_Parse);

const std::string& media_header() {
  static const std::string media =
      "audio:127.0.0.1:6000:sendrecv:ice=no,video:127.0.0.1:6002:sendonly:ice=no,"
      "image:127.0.0.1:0:sendrecv:ice=no";
  return media;
}

void BM_Baseline_MediaHeader(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(count_of(media_header(), ","));
  }
}
BENCHMARK(BM_Baseline_MediaHeader);

void BM_MediaHeader_Parse(benchmark::State& state) {
  const std::string& media = media_header();
  for (auto _ : state) {
    auto streams = mpx::protocol::parse_media(media);
    benchmark::DoNotOptimize(streams);
  }
}
BENCHMARK(BM_MediaHeader_Parse);

mpx::protocol::SessionStatistics sample_session() {
  mpx::protocol::SessionStatistics s;
  s.call_id = "7a9f3c2e@192.168.1.10";
  s.from_tag = "a73kszlfl";
  s.from_uri = "alice@example.com";
  s.to_tag = "8d7f2a";
  s.to_uri = "bob@example.net";
  s.start_time = 1760000000.51;
  s.duration = 312;
  s.caller_ua = "Blink 5.1";
  s.callee_ua = "Asterisk PBX";
  mpx::protocol::StreamStatistics stream;
  stream.media_type = "audio";
  stream.status = "closed";
  stream.caller_codec = stream.callee_codec = "G711u";
  stream.end_time = 312;
  stream.post_dial_delay = 2.04;
  stream.caller_bytes = 4210560;
  stream.callee_bytes = 4207120;
  stream.caller_packets = 15040;
  stream.callee_packets = 15025;
  stream.caller_local = "203.0.113.5:40000";
  stream.callee_local = "203.0.113.5:40002";
  stream.caller_remote = "198.51.100.7:50000";
  stream.callee_remote = "192.0.2.20:30000";
  s.streams = {stream, stream};
  return s;
}

void BM_Baseline_Statistics(benchmark::State& state) {
  const auto text = mpx::protocol::to_json(sample_session());
  for (auto _ : state) {
    benchmark::DoNotOptimize(count_of(text, "\""));
  }
}
BENCHMARK(BM_Baseline_Statistics);

void BM_Statistics_ToJson(benchmark::State& state) {
  const auto session = sample_session();
  for (auto _ : state) {
    auto text = mpx::protocol::to_json(session);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_Statistics_ToJson);

void BM_Statistics_FromJson(benchmark::State& state) {
  const auto text = mpx::protocol::to_json(sample_session());
  for (auto _ : state) {
    auto session = mpx::protocol::session_statistics_from_json(text);
    benchmark::DoNotOptimize(session);
  }
}
BENCHMARK(BM_Statistics_FromJson);

}  // namespace

BENCHMARK_MAIN();
