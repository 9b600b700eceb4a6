// Ctrl-C or SIGTERM during the benchmark: the waits notice and throw, so the
// destructors stop every process the benchmark started instead of leaving
// them running. Async-signal-safe flag only.
#pragma once

#include <csignal>

#include "base/error.h"

namespace byoc::bench {

inline volatile std::sig_atomic_t g_interrupted = 0;

inline void install_interrupt_handlers() {
  auto handler = [](int) { g_interrupted = 1; };
  std::signal(SIGINT, handler);
  std::signal(SIGTERM, handler);
}

inline void throw_if_interrupted() {
  if (g_interrupted) throw Error::Unavailable("interrupted");
}

}  // namespace byoc::bench
