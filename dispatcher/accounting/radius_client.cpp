// radcli wrapper: configuration and dictionaries at open(), one Accounting-Request per send().
#include "dispatcher/accounting/radius_client.hpp"

#include <radcli/radcli.h>

#include <fstream>
#include <system_error>

namespace mpx::dispatcher {

namespace {

bool readable(const std::filesystem::path& path) {
  std::ifstream file(path);
  return file.good();
}

// Frees radcli's pair list whatever way send() leaves.
struct PairList {
  VALUE_PAIR* head = nullptr;
  PairList() = default;
  PairList(const PairList&) = delete;
  PairList& operator=(const PairList&) = delete;
  ~PairList() {
    if (head != nullptr) {
      rc_avpair_free(head);
    }
  }
};

}  // namespace

const std::vector<std::string>& radius_attribute_names() {
  static const std::vector<std::string> names{
      "Acct-Status-Type", "User-Name",          "Acct-Session-Id",  "Acct-Session-Time",
      "Acct-Input-Octets", "Acct-Output-Octets", "Acct-Input-Gigawords",
      "Acct-Output-Gigawords", "Sip-From-Tag",  "Sip-To-Tag",       "NAS-IP-Address",
      "Sip-User-Agents",  "Sip-Applications",   "Media-Codecs",     "Media-Info",
      "Acct-Delay-Time"};
  return names;
}

RadiusClient::RadiusClient(rc_conf* handle, std::string server)
    : handle_(handle), server_(std::move(server)) {}

RadiusClient::~RadiusClient() { rc_destroy(handle_); }

Result<std::unique_ptr<RadiusClient>> RadiusClient::open(const RadiusClientSettings& settings) {
  const auto where = "[Radius] config_file " + settings.config_file.string();
  if (!readable(settings.config_file)) {
    return Error{where + ": cannot read the file"};
  }
  // radcli reports the details of a bad option to syslog; the message here says which file.
  rc_handle* handle = rc_read_config(settings.config_file.c_str());
  if (handle == nullptr) {
    return Error{where + ": radcli cannot use it (a bad option, or the servers or dictionary file "
                         "it names is missing; radcli logs the details to syslog)"};
  }
  std::unique_ptr<RadiusClient> client;
  std::string server;
  if (SERVER* acct = rc_conf_srv(handle, "acctserver"); acct != nullptr && acct->max > 0) {
    server = std::string(acct->name[0]) + ":" + std::to_string(acct->port[0]);
  } else {
    rc_destroy(handle);
    return Error{where + ": no acctserver"};
  }
  client.reset(new RadiusClient(handle, server));
  if (!settings.additional_dictionary.empty()) {
    const auto dictionary = settings.additional_dictionary.string();
    if (!readable(settings.additional_dictionary)) {
      return Error{"[Radius] additional_dictionary " + dictionary + ": cannot read the file"};
    }
    if (rc_read_dictionary(handle, dictionary.c_str()) != 0) {
      return Error{"[Radius] additional_dictionary " + dictionary + ": radcli cannot parse it"};
    }
  }
  std::string missing;
  for (const auto& name : radius_attribute_names()) {
    if (rc_dict_findattr(handle, name.c_str()) == nullptr) {
      missing += (missing.empty() ? "" : ", ") + name;
    }
  }
  if (!missing.empty()) {
    return Error{where + ": the RADIUS dictionaries do not define " + missing +
                 " (the additional dictionary should be mpx's dictionary.mediaproxy)"};
  }
  return client;
}

Result<RadiusSendResult> RadiusClient::send(const std::vector<RadiusAttribute>& attributes) {
  PairList pairs;
  for (const auto& attribute : attributes) {
    const DICT_ATTR* definition = rc_dict_findattr(handle_, attribute.name.c_str());
    if (definition == nullptr) {
      return Error{"attribute " + attribute.name + " is not in the dictionaries"};
    }
    const auto id = ATTRID(definition->value);
    const auto vendor = VENDOR(definition->value);
    VALUE_PAIR* added = nullptr;
    if (const auto* text = std::get_if<std::string>(&attribute.value)) {
      if (definition->type != PW_TYPE_STRING) {
        return Error{"attribute " + attribute.name + " is not a string in the dictionaries"};
      }
      added = rc_avpair_add(handle_, &pairs.head, id, text->data(), static_cast<int>(text->size()),
                            vendor);
    } else if (const auto* number = std::get_if<std::uint32_t>(&attribute.value)) {
      if (definition->type != PW_TYPE_INTEGER && definition->type != PW_TYPE_DATE) {
        return Error{"attribute " + attribute.name + " is not an integer in the dictionaries"};
      }
      const std::uint32_t value = *number;
      added = rc_avpair_add(handle_, &pairs.head, id, &value, 0, vendor);
    } else {
      if (definition->type != PW_TYPE_IPADDR) {
        return Error{"attribute " + attribute.name + " is not an ipaddr in the dictionaries"};
      }
      // radcli keeps IPv4 addresses in host byte order.
      const std::uint32_t value = std::get<boost::asio::ip::address_v4>(attribute.value).to_uint();
      added = rc_avpair_add(handle_, &pairs.head, id, &value, 0, vendor);
    }
    if (added == nullptr) {
      return Error{"radcli cannot encode attribute " + attribute.name};
    }
  }
  // No NAS-Port: MediaProxy sends none. radcli adds NAS-Identifier/NAS-IP-Address only when absent.
  char message[PW_MAX_MSG_SIZE] = {};
  const int status = rc_aaa(handle_, 0, pairs.head, nullptr, message, 0, PW_ACCOUNTING_REQUEST);
  switch (status) {
    case OK_RC:
      return RadiusSendResult{RadiusSendOutcome::accepted, ""};
    case TIMEOUT_RC:
      return RadiusSendResult{RadiusSendOutcome::timed_out, "no answer from " + server_};
    case ERROR_RC:
      return RadiusSendResult{RadiusSendOutcome::timed_out,
                              "cannot send to " + server_ + " (radcli error, see syslog)"};
    case BADRESP_RC:
    case BADRESPID_RC:
      return RadiusSendResult{RadiusSendOutcome::refused,
                              "bad response from " + server_ + " (is the shared secret right?)"};
    default:
      return RadiusSendResult{RadiusSendOutcome::refused,
                              "server " + server_ + " answered with code " + std::to_string(status) +
                                  (message[0] != '\0' ? std::string(": ") + message : "")};
  }
}

}  // namespace mpx::dispatcher
