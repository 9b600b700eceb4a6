#include "cli/stop_signal.h"

#include <atomic>

#include "base/error.h"

namespace byoc::cli {

namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler may only touch lock-free atomics");

extern "C" void on_stop_signal(int number) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, number);
}

}  // namespace

StopSignal::StopSignal() {
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a blocking call returns EINTR and the caller notices sooner.
  action.sa_flags = 0;
  if (sigaction(SIGINT, &action, &previous_int_) != 0 || sigaction(SIGTERM, &action, &previous_term_) != 0)
    throw Error::Internal("cannot install the SIGINT/SIGTERM handlers");
}

StopSignal::~StopSignal() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

bool StopSignal::requested() const { return g_signal.load() != 0; }
int StopSignal::signal_number() const { return g_signal.load(); }

}  // namespace byoc::cli
