// Io: where a CLI command reads its environment and writes its output. The
// real binary wires it to std::cout/std::cerr and getenv; unit tests wire it
// to string streams and a map, so commands are testable without a process.
//
// Not thread-safe: one command runs at a time on one Io.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>

namespace byoc::cli {

// Looks up an environment variable; nullopt when unset or empty (an empty
// BYOC_SERVER= must not silently override the config file).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

EnvLookup process_env();
EnvLookup map_env(std::map<std::string, std::string> values);

struct Io {
  std::ostream& out;        // results: tables, JSON, the `up` summary
  std::ostream& err;        // errors, progress, notes for the human
  bool err_is_tty = false;  // progress rewrites one line on a terminal
  EnvLookup env = process_env();
};

}  // namespace byoc::cli
