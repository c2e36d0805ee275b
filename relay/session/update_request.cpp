// update/remove header decoding (see update_request.hpp).
#include "relay/session/update_request.hpp"

#include "common/protocol/wire_text.hpp"

#include <charconv>

namespace mpx::relay::session {
namespace {

Result<std::string> required(const protocol::RelayRequest& request, std::string_view command,
                             std::string_view name) {
  auto value = request.find(name);
  if (!value || value->empty()) {
    return Error{std::string{command} + ": missing header \"" + std::string{name} + "\""};
  }
  return std::string{*value};
}

std::optional<std::string> optional_tag(const protocol::RelayRequest& request,
                                        std::string_view name) {
  auto value = request.find(name);
  if (!value || value->empty()) {
    return std::nullopt;
  }
  return std::string{*value};
}

}  // namespace

Result<UpdateRequest> decode_update(const protocol::RelayRequest& request) {
  UpdateRequest update;
  struct Field {
    std::string_view name;
    std::string* target;
  };
  std::string cseq_text;
  std::string type_text;
  for (const Field& field : {Field{"call_id", &update.call_id}, Field{"from_tag", &update.from_tag},
                             Field{"from_uri", &update.from_uri}, Field{"to_uri", &update.to_uri},
                             Field{"cseq", &cseq_text}, Field{"user_agent", &update.user_agent},
                             Field{"type", &type_text},
                             Field{"signaling_ip", &update.signaling_ip}}) {
    auto value = required(request, "update", field.name);
    if (!value) {
      return value.error();
    }
    *field.target = std::move(value.value());
  }
  const char* first = cseq_text.data();
  const char* last = first + cseq_text.size();
  const auto [end, ec] = std::from_chars(first, last, update.cseq);
  if (ec != std::errc{} || end != last) {
    return Error{"update: header \"cseq\" is not a number: " +
                 protocol::quote_for_error(cseq_text)};
  }
  if (type_text == "request") {
    update.type = MessageType::request;
  } else if (type_text == "reply") {
    update.type = MessageType::reply;
  } else {
    return Error{"update: header \"type\" must be request or reply: " +
                 protocol::quote_for_error(type_text)};
  }
  update.to_tag = optional_tag(request, "to_tag");
  if (auto media = request.find("media"); media && !media->empty()) {
    auto streams = protocol::parse_media(*media);
    if (!streams) {
      return Error{"update: header \"media\": " + streams.error().message};
    }
    update.media = std::move(streams.value());
  }
  return update;
}

Result<RemoveRequest> decode_remove(const protocol::RelayRequest& request) {
  RemoveRequest remove;
  auto call_id = required(request, "remove", "call_id");
  if (!call_id) {
    return call_id.error();
  }
  auto from_tag = required(request, "remove", "from_tag");
  if (!from_tag) {
    return from_tag.error();
  }
  remove.call_id = std::move(call_id.value());
  remove.from_tag = std::move(from_tag.value());
  remove.to_tag = optional_tag(request, "to_tag");
  return remove;
}

}  // namespace mpx::relay::session
