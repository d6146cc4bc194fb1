#include "tools/interrupt.hpp"

namespace bitscale {

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the signal handler may only touch lock-free atomics");
void on_interrupt(int sig) {
  g_signal = sig;
  g_interrupted = true;
}
}  // namespace

InterruptGuard::InterruptGuard() {
  g_interrupted = false;
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

const std::atomic<bool>* InterruptGuard::flag() { return &g_interrupted; }

int InterruptGuard::exit_code() { return 128 + (g_signal.load() != 0 ? g_signal.load() : SIGINT); }

}  // namespace bitscale
