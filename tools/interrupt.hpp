// Ctrl-C and SIGTERM for long runs (sweep --out, calibrate under mpirun): while an InterruptGuard lives, the two
// signals only set a flag (lock-free atomics, all a handler may touch), which the run checks between two whole
// pieces of work, so that it stops with whole files behind it; the old handlers come back when it goes.
#pragma once
#include <signal.h>

#include <atomic>

namespace bitscale {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static const std::atomic<bool>* flag();  // set once a signal came
  static bool interrupted() { return flag()->load(); }
  // 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM (130 when none came)
  static int exit_code();

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace bitscale
