// Result<T>: the value-or-error type used at every boundary (ARCHITECTURE.md: errors are values,
// logged once where handled). Boost.Outcome rather than a hand-written expected<>.
#pragma once

#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/result.hpp>

#include <string>
#include <utility>

namespace mpx {

namespace outcome = boost::outcome_v2;

// A human-readable error: one line, says what failed and why, ready to be logged or answered.
struct Error {
  std::string message;
};

template <class T>
using Result = outcome::result<T, Error, outcome::policy::terminate>;

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace mpx
