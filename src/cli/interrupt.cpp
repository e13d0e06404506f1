// interrupt.cpp - RemoveOnInterrupt: a fixed table of paths, and the watcher thread that
// unlinks them when SIGINT, SIGTERM or SIGHUP comes, then lets the signal end the process.
//
// The signals are blocked in every thread and taken synchronously by sigwait(2) in the watcher,
// not by an asynchronous handler: a handler runs on whichever thread the kernel picks, and under
// ThreadSanitizer (which defers a signal until that thread reaches one of its interceptors) a
// thread parked in the wrong place once held SIGTERM for 20 s. The watcher still touches the
// table only through lock-free atomics, since arm() and release() run on other threads.
#include "cli/interrupt.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>

namespace fqpipe::cli {
namespace {

constexpr std::size_t kSlots = 64;
constexpr std::size_t kPathBytes = 4096;  // PATH_MAX on Linux, terminating zero included

// A slot's life, one way only: free -> filling (arm() copies the path) -> armed -> spent.
// A slot is never reused, so once the watcher sees `armed` the path beside it is complete
// (release/acquire on `state`) and stays unchanged for the rest of the process.
enum SlotState : int { kFree, kFilling, kArmed, kSpent };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathBytes] = {};
};

// constinit: zero bytes in .bss, so a page is touched only when a slot is used. A dynamic
// initializer (what `path` left uninitialized got from GCC) wrote `state` in all 64 slots at
// start-up: 64 page faults, a quarter of fqpipe's start-up faults (perf record -e page-faults).
constinit std::array<Slot, kSlots> g_slots;

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};

[[noreturn]] void die_of(int sig) {
  for (Slot& s : g_slots)
    if (s.state.load(std::memory_order_acquire) == kArmed) ::unlink(s.path);
  // Default action, then unblocked for this thread only: raise() sends the signal to this
  // thread, which the default action turns into the death of the whole process.
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);  // not reached: the default action of all three ends the process
}

}  // namespace

void watch_interrupts() {
  sigset_t set;
  sigemptyset(&set);
  bool any = false;
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup
    sigaddset(&set, sig);
    any = true;
  }
  if (!any) return;  // all three ignored: nothing to watch
  // Every thread started from here on inherits the mask, the watcher included.
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;
  std::thread([set] {
    int sig = 0;
    if (::sigwait(&set, &sig) == 0) die_of(sig);
    // sigwait fails only for an invalid set; the signals then stay pending, as blocked ones do.
  }).detach();
}

bool RemoveOnInterrupt::arm(const std::string& path) {
  release();
  if (path.size() >= kPathBytes) return false;
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
