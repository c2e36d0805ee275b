// signaling_ip header decoding (see signaling_ip.hpp).
#include "relay/session/signaling_ip.hpp"

#include "common/protocol/wire_text.hpp"

#include <nlohmann/json.hpp>

namespace mpx::relay::session {
namespace {

using boost::asio::ip::address_v4;

// Dotted-quad only: make_address_v4 would also take forms inet_aton reads differently.
std::optional<address_v4> parse_ipv4(std::string_view text) {
  int dots = 0;
  std::size_t digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (digits == 0) {
        return std::nullopt;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
  if (dots != 3 || digits == 0) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address_v4(std::string{text}, ec);
  if (ec) {
    return std::nullopt;
  }
  return address;
}

Error not_an_address(std::string_view what, std::string_view text) {
  return Error{"signaling_ip: " + std::string{what} + " is not an IPv4 address: " +
               protocol::quote_for_error(text)};
}

Result<SignalingAddresses> parse_json_form(std::string_view value) {
  const auto json = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error{"signaling_ip: starts with '{' but is not a JSON object"};
  }
  SignalingAddresses result;
  for (const char* key : {"signaling_ip", "destination_ip"}) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) {
      continue;
    }
    if (!it->is_string()) {
      return Error{std::string{"signaling_ip: \""} + key + "\" must be a string"};
    }
    const auto& text = it->get_ref<const std::string&>();
    auto address = parse_ipv4(text);
    if (!address) {
      return not_an_address(std::string{"\""} + key + "\"", text);
    }
    (std::string_view{key} == "signaling_ip" ? result.signaling_ip : result.destination_ip) =
        *address;
  }
  if (const auto it = json.find("username"); it != json.end() && !it->is_null()) {
    if (!it->is_string()) {
      return Error{"signaling_ip: \"username\" must be a string"};
    }
    result.username = it->get<std::string>();
  }
  return result;
}

}  // namespace

Result<SignalingAddresses> parse_signaling_ip(std::string_view value) {
  if (value.empty()) {
    return Error{"signaling_ip: empty value"};
  }
  if (value.front() == '{') {
    return parse_json_form(value);
  }
  SignalingAddresses result;
  if (const auto underscore = value.find('_'); underscore != std::string_view::npos) {
    const auto source = value.substr(0, underscore);
    const auto destination = value.substr(underscore + 1);
    result.signaling_ip = parse_ipv4(source);
    if (!result.signaling_ip) {
      return not_an_address("the source of SRC_DST", source);
    }
    result.destination_ip = parse_ipv4(destination);
    if (!result.destination_ip) {
      return not_an_address("the destination of SRC_DST", destination);
    }
    return result;
  }
  result.signaling_ip = parse_ipv4(value);
  if (!result.signaling_ip) {
    return not_an_address("the value", value);
  }
  return result;
}

}  // namespace mpx::relay::session
