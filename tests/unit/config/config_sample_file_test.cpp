// config.ini.sample at the top of the source tree is the operator's reference: it must list every
// option of the schema, in its section, with the default the code uses, and load as the defaults.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/config/config.hpp"
#include "common/config/schema.hpp"
#include "tests/support/subprocess.hpp"

namespace mpx::config {
namespace {

std::string sample_text() {
  std::ifstream file(mpx::test::source_path("config.ini.sample"));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// "Section.option" -> the default written after ";option = ".
std::map<std::string, std::string> documented_defaults(const std::string& text) {
  std::map<std::string, std::string> defaults;
  const std::regex section(R"(^\[(\w+)\]\s*$)");
  const std::regex option(R"(^;(\w+) =\s?(.*)$)");
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, match, section)) {
      current = match[1];
    } else if (std::regex_match(line, match, option)) {
      defaults[current + "." + std::string(match[1])] = match[2];
    }
  }
  return defaults;
}

TEST(ConfigSampleFile, ListsEveryOptionWithTheCodesDefault) {
  const auto text = sample_text();
  ASSERT_FALSE(text.empty()) << "config.ini.sample not found";
  const auto documented = documented_defaults(text);
  std::set<std::string> known;
  for (const auto& spec : detail::option_table()) {
    const std::string key = std::string(spec.section) + "." + std::string(spec.name);
    known.insert(key);
    const auto found = documented.find(key);
    ASSERT_NE(found, documented.end()) << key << " is not documented in config.ini.sample";
    EXPECT_EQ(found->second, spec.default_text) << key;
  }
  for (const auto& [key, value] : documented) {
    EXPECT_TRUE(known.contains(key)) << key << " is documented but is not an option";
  }
}

TEST(ConfigSampleFile, LoadsAsTheDefaults) {
  auto config = try_parse_config(sample_text(), "config.ini.sample", "/etc/mediaproxy");
  ASSERT_TRUE(config) << config.error().message;
  Config defaults;
  EXPECT_EQ(config.value().relay, defaults.relay);
  EXPECT_EQ(config.value().dispatcher, defaults.dispatcher);
}

// Uncommenting a documented default changes nothing: the text is a value the parser accepts.
TEST(ConfigSampleFile, EveryDocumentedDefaultParses) {
  std::string text = std::regex_replace(sample_text(), std::regex(R"((^|\n);(\w+ =))"), "$1$2");
  auto config = try_parse_config(text, "config.ini.sample", "/etc/mediaproxy");
  ASSERT_TRUE(config) << config.error().message;
  Config defaults;
  EXPECT_EQ(config.value().relay, defaults.relay);
  EXPECT_EQ(config.value().dispatcher, defaults.dispatcher);
}

}  // namespace
}  // namespace mpx::config
