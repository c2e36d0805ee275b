// SippCall (see sipp_call.hpp).
#include "tests/e2e/sipp_call.hpp"

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mpx::test::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSippPcap = "/usr/share/sip-tester/g711a.pcap";
constexpr std::size_t kPcapFileHeader = 24;
constexpr std::size_t kPcapRecordHeader = 16;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Copies tests/e2e/scenarios/<name> to dir with @PCAP@ replaced; returns the copy's path.
std::filesystem::path prepare_scenario(const std::filesystem::path& dir, const std::string& name,
                                       const std::filesystem::path& pcap) {
  std::string xml = read_file(source_path("tests/e2e/scenarios/" + name));
  if (xml.empty()) {
    throw std::runtime_error("cannot read scenario tests/e2e/scenarios/" + name);
  }
  const std::string placeholder = "@PCAP@";
  for (auto at = xml.find(placeholder); at != std::string::npos; at = xml.find(placeholder, at)) {
    xml.replace(at, placeholder.size(), pcap.string());
  }
  const auto target = dir / name;
  std::ofstream(target) << xml;
  return target;
}

std::vector<std::string> sipp_argv(const NetnsLab& lab, const std::string& role,
                                   const std::filesystem::path& dir,
                                   const std::filesystem::path& scenario, const char* ip,
                                   std::uint16_t media_port) {
  const std::string side = role == "caller" ? "uac" : "uas";
  return {"ip", "netns", "exec", lab.ns(role), "sipp", "-sf", scenario.string(), "-i", ip,
          "-p", "5060", "-mi", ip, "-mp", std::to_string(media_port), "-m", "1",
          "-timeout", "40s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file",
          (dir / (side + "_messages.log")).string(), "-trace_err", "-error_file",
          (dir / (side + "_errors.log")).string(), "-trace_logs", "-log_file",
          (dir / (side + "_logs.log")).string()};
}

}  // namespace

void write_short_pcap(const std::filesystem::path& target, int packets) {
  const std::string pcap = read_file(kSippPcap);
  if (pcap.size() < kPcapFileHeader) {
    throw std::runtime_error(std::string("cannot read ") + kSippPcap);
  }
  std::size_t offset = kPcapFileHeader;
  for (int i = 0; i < packets && offset + kPcapRecordHeader <= pcap.size(); ++i) {
    std::uint32_t captured = 0;  // incl_len: the record's third field (host order, as written)
    std::memcpy(&captured, pcap.data() + offset + 8, sizeof captured);
    offset += kPcapRecordHeader + captured;
  }
  std::ofstream(target, std::ios::binary) << pcap.substr(0, std::min(offset, pcap.size()));
}

SippCall::SippCall(const NetnsLab& lab, const std::filesystem::path& work_dir,
                   const std::filesystem::path& pcap, const SippCallPlan& plan)
    : dir_(work_dir) {
  std::filesystem::create_directories(dir_);
  const auto uas_xml = prepare_scenario(dir_, plan.uas_scenario, pcap);
  const auto uac_xml = prepare_scenario(dir_, plan.uac_scenario, pcap);
  uas_ = std::make_unique<Child>(
      sipp_argv(lab, "callee", dir_, uas_xml, LabAddresses::kCallee, kCalleeMediaPort),
      (dir_ / "uas_screen.log").string());
  // The callee must listen before the INVITE comes (sipp binds at start-up).
  std::this_thread::sleep_for(300ms);
  auto uac = sipp_argv(lab, "caller", dir_, uac_xml, LabAddresses::kCaller, kCallerMediaPort);
  uac.insert(uac.end(), {"-s", plan.service, "-d", std::to_string(plan.pause.count()),
                         std::string(LabAddresses::kProxy) + ":5060"});
  uac_ = std::make_unique<Child>(uac, (dir_ / "uac_screen.log").string());
}

SippCall::~SippCall() {
  uac_->stop(2s);
  uas_->stop(2s);
}

std::string SippCall::report() const {
  std::string all;
  for (const char* name : {"uac_errors.log", "uas_errors.log", "uac_logs.log", "uas_logs.log",
                           "uac_messages.log", "uas_messages.log"}) {
    const std::string text = read_file(dir_ / name);
    if (!text.empty()) {
      all += "--- sipp " + std::string(name) + "\n" + text;
    }
  }
  return all;
}

}  // namespace mpx::test::e2e
