// mpxctl command line (see options.hpp). Numbers are parsed with from_chars rather than
// program_options' lexical_cast, which would accept "-1" as a port of 65535.
#include "tools/mpxctl/options.hpp"

#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <vector>

#include "common/version.hpp"

namespace mpx::mpxctl {
namespace {

namespace po = boost::program_options;

template <class Number>
std::optional<Number> parse_number(const std::string& text) {
  Number value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

Exit usage_error(const std::string& message) {
  return Exit{2, "", fmt::format("mpxctl: {} (see mpxctl --help)\n", message)};
}

po::options_description describe_options() {
  po::options_description options("Options", 100);
  options.add_options()
      ("host", po::value<std::string>()->value_name("H")->default_value("127.0.0.1"),
       "dispatcher's management address")
      ("port", po::value<std::string>()->value_name("P")->default_value("25061"), "management port")
      ("tls", po::bool_switch(), "use TLS with a client certificate (default: plain TCP)")
      ("certs-dir", po::value<std::string>()->value_name("DIR"),
       "directory with management.crt, management.key, ca.pem (and crl.pem if present); "
       "default /etc/mediaproxy/tls")
      ("cert", po::value<std::string>()->value_name("FILE"), "client certificate (PEM), instead of the directory's")
      ("key", po::value<std::string>()->value_name("FILE"), "client private key (PEM)")
      ("ca", po::value<std::string>()->value_name("FILE"), "CA certificate(s) the dispatcher's must be issued by")
      ("crl", po::value<std::string>()->value_name("FILE"), "CRL checked against the dispatcher's certificate")
      ("json", po::bool_switch(), "sessions/summary: print the dispatcher's JSON line as is")
      ("interval", po::value<std::string>()->value_name("S")->default_value("2"), "top: seconds between screens")
      ("iterations", po::value<std::string>()->value_name("N"), "top: stop after this many screens")
      ("timeout", po::value<std::string>()->value_name("S")->default_value("5"),
       "seconds to wait for each network step")
      ("help,h", "show this help and exit")
      ("version", "show the version and exit");
  return options;
}

std::string help_text(const po::options_description& options) {
  std::ostringstream text;
  text << "mpxctl " << kVersion << ": query a running mpx-dispatcher's management interface\n\n"
       << "Usage: mpxctl [options] sessions|summary|top\n\n"
       << "  sessions  the calls being relayed, one row per stream\n"
       << "  summary   the connected relays\n"
       << "  top       relays and sessions, refreshed every --interval seconds until Ctrl-C\n\n"
       << options;
  return text.str();
}

// Seconds as a positive duration of at most a day, e.g. "0.2".
std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text) {
  const auto seconds = parse_number<double>(text);
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0.001 || *seconds > 86400) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::llround(*seconds * 1000));
}

}  // namespace

std::variant<Options, Exit> parse_options(int argc, const char* const* argv) {
  const auto options = describe_options();
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help") != 0) {
    return Exit{0, help_text(options), ""};
  }
  if (vm.count("version") != 0) {
    return Exit{0, fmt::format("mpxctl {}\n", kVersion), ""};
  }
  if (vm.count("command") == 0) {
    return Exit{2, "", help_text(options)};
  }
  const auto& words = vm["command"].as<std::vector<std::string>>();
  if (words.size() != 1) {
    return usage_error(fmt::format("one command expected, got {}", words.size()));
  }

  Options result;
  if (words[0] == "sessions") {
    result.command = Command::sessions;
  } else if (words[0] == "summary") {
    result.command = Command::summary;
  } else if (words[0] == "top") {
    result.command = Command::top;
  } else {
    return usage_error(fmt::format("unknown command '{}'", words[0]));
  }

  result.client.host = vm["host"].as<std::string>();
  if (result.client.host.empty()) {
    return usage_error("--host must not be empty");
  }
  const auto port = parse_number<std::uint16_t>(vm["port"].as<std::string>());
  if (!port || *port == 0) {
    return usage_error(fmt::format("invalid --port '{}'", vm["port"].as<std::string>()));
  }
  result.client.port = *port;
  const auto timeout = parse_seconds(vm["timeout"].as<std::string>());
  if (!timeout) {
    return usage_error(fmt::format("invalid --timeout '{}' (seconds, 0.001 to 86400)",
                                   vm["timeout"].as<std::string>()));
  }
  result.client.timeout = *timeout;

  const bool tls = vm["tls"].as<bool>();
  for (const char* file_option : {"certs-dir", "cert", "key", "ca", "crl"}) {
    if (!tls && vm.count(file_option) != 0) {
      return usage_error(fmt::format("--{} needs --tls", file_option));
    }
  }
  if (tls) {
    const std::filesystem::path dir =
        vm.count("certs-dir") != 0 ? vm["certs-dir"].as<std::string>() : kDefaultCertsDir;
    const auto file = [&](const char* option, const char* name) -> std::filesystem::path {
      return vm.count(option) != 0 ? std::filesystem::path(vm[option].as<std::string>())
                                   : dir / name;
    };
    tls::CredentialFiles files{file("cert", "management.crt"), file("key", "management.key"),
                               file("ca", "ca.pem"), std::nullopt};
    if (vm.count("crl") != 0) {
      files.crl = vm["crl"].as<std::string>();
    } else if (std::error_code ec; std::filesystem::exists(dir / "crl.pem", ec)) {
      files.crl = dir / "crl.pem";
    }
    result.client.tls = files;
  }

  result.json = vm["json"].as<bool>();
  if (result.json && result.command == Command::top) {
    return usage_error("--json applies to sessions and summary, not top");
  }
  const auto interval = parse_seconds(vm["interval"].as<std::string>());
  if (!interval) {
    return usage_error(fmt::format("invalid --interval '{}' (seconds, 0.001 to 86400)",
                                   vm["interval"].as<std::string>()));
  }
  result.interval = *interval;
  if (vm.count("iterations") != 0) {
    const auto iterations = parse_number<std::uint64_t>(vm["iterations"].as<std::string>());
    if (!iterations || *iterations == 0) {
      return usage_error(
          fmt::format("invalid --iterations '{}'", vm["iterations"].as<std::string>()));
    }
    result.iterations = *iterations;
  }
  return result;
}

}  // namespace mpx::mpxctl
