// interrupt.cpp - RemoveOnInterrupt: a fixed table of paths that the signal handler unlinks.
// The handler may run on any thread at any moment, so it touches nothing but the table, only
// through lock-free atomics and unlink/signal/raise, which are async-signal-safe (POSIX
// signal-safety(7)); it never allocates, locks or calls into stdio.
#include "cli/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>

namespace fqpipe::cli {
namespace {

constexpr std::size_t kSlots = 64;
constexpr std::size_t kPathBytes = 4096;  // PATH_MAX on Linux, terminating zero included

// A slot's life, one way only: free -> filling (arm() copies the path) -> armed -> spent.
// A slot is never reused, so once the handler sees `armed` the path beside it is complete
// (release/acquire on `state`) and stays unchanged for the rest of the process.
enum SlotState : int { kFree, kFilling, kArmed, kSpent };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathBytes];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

std::array<Slot, kSlots> g_slots;
std::once_flag g_install_once;

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_interrupt(int sig) {
  for (Slot& s : g_slots)
    if (s.state.load(std::memory_order_acquire) == kArmed) ::unlink(s.path);
  // The signal is blocked while its handler runs, so the raised one waits until we return and
  // then takes the default action: the process ends as killed by `sig`.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaddset(&action.sa_mask, sig);  // one handler at a time per thread
  action.sa_flags = SA_RESTART;
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace

bool RemoveOnInterrupt::arm(const std::string& path) {
  release();
  if (path.size() >= kPathBytes) return false;
  std::call_once(g_install_once, install_handlers);
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acq_rel))
      continue;
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].state.store(kArmed, std::memory_order_release);
    slot_ = static_cast<int>(i);
    return true;
  }
  return false;
}

void RemoveOnInterrupt::release() noexcept {
  if (slot_ < 0) return;
  g_slots[static_cast<std::size_t>(slot_)].state.store(kSpent, std::memory_order_release);
  slot_ = -1;
}

}  // namespace fqpipe::cli
