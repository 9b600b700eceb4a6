// StopSignal: turns SIGINT and SIGTERM into a flag that `byoc up` polls, so
// Ctrl-C at any moment (while starting the server, while waiting for a
// service, while running) leads to the same orderly shutdown instead of
// killing the process with its children still running.
//
// One instance at a time per process (it owns the two signal dispositions and
// restores the previous ones on destruction). requested() is safe to call
// from any thread.
#pragma once

#include <csignal>

namespace byoc::cli {

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool requested() const;
  int signal_number() const;  // the first signal received, 0 if none

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

}  // namespace byoc::cli
