// drain_parser(): drives an incremental parser over chunks the way a connection does (feed, take
// steps until NeedMore, stop at FatalError) and returns every step. Header-only, so both the unit
// tests and the clang fuzz sub-build use it.
#pragma once

#include <string_view>
#include <variant>
#include <vector>

#include "common/protocol/parse_step.hpp"

namespace mpx::test {

template <class Step, class Parser, class Chunks>
std::vector<Step> drain_parser(Parser parser, const Chunks& chunks) {
  std::vector<Step> steps;
  for (const auto& piece : chunks) {
    parser.feed(std::string_view(piece));
    for (;;) {
      Step step = parser.next();
      if (std::holds_alternative<protocol::NeedMore>(step)) {
        break;
      }
      const bool fatal = std::holds_alternative<protocol::FatalError>(step);
      steps.push_back(std::move(step));
      if (fatal) {
        return steps;
      }
    }
  }
  return steps;
}

}  // namespace mpx::test
