// Scenario figures and the scale knob (see figures.hpp).
#include "tests/integration/attack/figures.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace mpx::test::attack {
namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& value, int decimals) {
  if (!value) {
    return nullptr;
  }
  double factor = 1;
  for (int i = 0; i < decimals; ++i) {
    factor *= 10;
  }
  return static_cast<double>(static_cast<long long>(*value * factor + 0.5)) / factor;
}

nlohmann::ordered_json per_party(const PerParty& p) {
  return {{"caller", p.caller}, {"callee", p.callee}, {"attacker", p.attacker}};
}

}  // namespace

nlohmann::ordered_json to_json(const Figures& f) {
  nlohmann::ordered_json json;
  json["scenario"] = f.scenario;
  json["datapath"] = f.datapath;
  json["latching"] = f.latching;
  json["test"] = f.test;
  json["scale"] = attack_scale();
  json["sent"] = per_party(f.sent);
  json["received"] = per_party(f.received);
  json["bled"] = f.bled;
  json["injected"] = f.injected;
  json["delivered"] = {{"caller_to_callee", optional_number(f.delivered_caller_to_callee, 4)},
                       {"callee_to_caller", optional_number(f.delivered_callee_to_caller, 4)}};
  json["first_delivered_ms"] = {
      {"caller_to_callee", optional_number(f.first_ms_caller_to_callee, 1)},
      {"callee_to_caller", optional_number(f.first_ms_callee_to_caller, 1)}};
  json["foreign_source"] = f.foreign_source;
  json["caller_remote"] = f.caller_remote;
  json["callee_remote"] = f.callee_remote;
  if (!f.extra.empty()) {
    json["extra"] = f.extra;
  }
  return json;
}

std::string publish(const Figures& figures) {
  const std::string text = to_json(figures).dump();
  const std::string line = "ATTACK-FIGURES " + text;
  std::cout << line << std::endl;
  if (const char* dir = std::getenv("MPX_ATTACK_FIGURES_DIR"); dir != nullptr && *dir != '\0') {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto path =
        std::filesystem::path(dir) / (figures.scenario + "." + figures.datapath + ".json");
    std::ofstream out(path);
    out << text << "\n";
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
    }
  }
  return line;
}

int attack_scale() {
  const char* text = std::getenv("MPX_ATTACK_SCALE");
  if (text == nullptr) {
    return 1;
  }
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > 1000) {
    return 1;
  }
  return static_cast<int>(value);
}

std::chrono::milliseconds scaled(std::chrono::milliseconds base) { return base * attack_scale(); }

}  // namespace mpx::test::attack
