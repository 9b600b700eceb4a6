// Io: where a CLI command reads its environment and writes its output, and
// how its API requests travel. The real binary wires it to std::cout/std::cerr,
// getenv and the network; unit tests wire it to string streams, a map and a
// function answering requests in-process, so commands are testable without a
// process or a socket.
//
// Not thread-safe: one command runs at a time on one Io.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "base/clock.h"
#include "base/http_client.h"

namespace byoc::cli {

// Looks up an environment variable; nullopt when unset or empty (an empty
// BYOC_SERVER= must not silently override the config file).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Sends one API request and returns the answer (or throws byoc::Error as
// http::Client::send does).
using Transport = std::function<http::Response(const http::Request& request)>;

EnvLookup process_env();
EnvLookup map_env(std::map<std::string, std::string> values);

struct Io {
  std::ostream& out;        // results: tables, JSON, the `up` summary
  std::ostream& err;        // errors, progress, notes for the human
  const Clock& clock;       // deadlines and pauses between polls
  bool err_is_tty = false;  // progress rewrites one line on a terminal
  EnvLookup env = process_env();
  Transport transport;  // empty: HTTPS to the server (tests answer in-process)
};

}  // namespace byoc::cli
