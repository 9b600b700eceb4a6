// `byoc up`: a working ClickHouse service on this machine with one command.
//
// It starts (or reuses) a management-plane server on a data dir, creates (or
// reuses) a `local` environment `demo` and a service `demo` in it, waits
// until the endpoint answers `SELECT 1` over HTTPS (verified against the
// environment's CA), prints how to connect, and runs until SIGINT/SIGTERM;
// then it stops the server it started and waits until every process that
// server started is gone. The first run saves the one-time password to
// DIR/demo.password (0600); later runs point there instead of printing it.
//
// Layout of DIR: server/ (the server's data dir), server.log, up.json (the
// port to ask for next time), demo.password, demo-ca.pem.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>

#include "cli/command.h"

namespace byoc::cli {

struct UpOptions {
  std::filesystem::path data_dir;  // empty: default_up_dir()
  std::chrono::seconds timeout{600};
};

// $XDG_DATA_HOME/byoc, else $HOME/.local/share/byoc.
std::filesystem::path default_up_dir(const EnvLookup& env);

// Blocks until stopped. 0 after a stop by signal; 1 (with one error line on
// io.err) if anything failed, after stopping what it started.
int run_up(const UpOptions& options, Io& io);

void add_up_command(CLI::App& app, CommandSet& commands);

}  // namespace byoc::cli
