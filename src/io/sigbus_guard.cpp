// sigbus_guard.cpp - the table of guarded ranges and the SIGBUS handler (sigbus_guard.hpp).
// The handler touches only lock-free atomics and data written before it was installed.
#include "io/sigbus_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace fqpipe::io {
namespace {

// One guarded range, free while begin == 0. Registering claims begin, then publishes end;
// unregistering clears end, then begin: the handler never matches a half-written range.
struct Range {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<uint64_t> first_fault{UINT64_MAX};  // offset of the lowest page patched, MAX: none
};
static_assert(std::atomic<uintptr_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free);

constexpr int kRanges = 256;
Range ranges[kRanges];
struct sigaction previous {};  // the SIGBUS action before ours; written before ours is installed
uintptr_t page_size = 4096;    // likewise

// Maps zero pages over [the page of addr, the end of its range). The file ends before this
// page, so every later page is past its end too: one mmap instead of a fault per page while a
// decoder reads on. A raw syscall, so that no sanitizer's mmap interceptor runs in the handler.
bool patch(uintptr_t addr) noexcept {
  for (Range& r : ranges) {
    const uintptr_t begin = r.begin.load(std::memory_order_acquire);
    const uintptr_t end = r.end.load(std::memory_order_acquire);
    if (begin == 0 || addr < begin || addr >= end || r.begin.load(std::memory_order_acquire) != begin) continue;
    const uintptr_t from = addr & ~(page_size - 1);
    const uintptr_t to = (end + page_size - 1) & ~(page_size - 1);
    const long got = ::syscall(SYS_mmap, from, to - from, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (got != static_cast<long>(from)) return false;
    const uint64_t offset = from - begin;
    uint64_t seen = r.first_fault.load(std::memory_order_relaxed);
    while (offset < seen && !r.first_fault.compare_exchange_weak(seen, offset, std::memory_order_release)) {
    }
    return true;
  }
  return false;
}

// Not one of ours: what would have happened without this handler.
void chain(int sig, siginfo_t* info, void* context) {
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    if (previous.sa_sigaction != nullptr) return previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    return previous.sa_handler(sig);
  }
  // The default action: returning re-runs the faulting access, which now kills the process
  // (ignoring a fault is not possible); a SIGBUS sent with kill() is raised again.
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  ::sigaction(SIGBUS, &fallback, nullptr);
  if (info->si_code <= 0) ::raise(SIGBUS);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  // si_code > 0: raised by the kernel for an access, not sent by another process.
  const bool ours = info->si_code > 0 && patch(reinterpret_cast<uintptr_t>(info->si_addr));
  errno = saved_errno;
  if (!ours) chain(sig, info, context);
}

// Under ASan (GCC 12 and clang 14 alike) the previous action is ASan's crash report, and with
// its defaults (handle_sigbus=1, allow_user_segv_handler=1) ours is installed over it; with
// handle_sigbus=2 or allow_user_segv_handler=0 ASan keeps SIGBUS, and a file that shrinks is
// its BUS report again. TSan passes a synchronous signal to ours at once.
void install() noexcept {
  page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  ::sigaction(SIGBUS, nullptr, &previous);
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

}  // namespace

SigbusGuard::SigbusGuard(const void* begin, std::size_t size) noexcept {
  if (begin == nullptr || size == 0) return;
  [[maybe_unused]] static const bool installed = (install(), true);
  const auto b = reinterpret_cast<uintptr_t>(begin);
  for (int i = 0; i < kRanges; ++i) {
    uintptr_t expected = 0;
    if (!ranges[i].begin.compare_exchange_strong(expected, b, std::memory_order_acq_rel)) continue;
    ranges[i].first_fault.store(UINT64_MAX, std::memory_order_relaxed);
    ranges[i].end.store(b + size, std::memory_order_release);
    slot_ = i;
    return;
  }
}

SigbusGuard::~SigbusGuard() {
  if (slot_ < 0) return;
  ranges[slot_].end.store(0, std::memory_order_release);
  ranges[slot_].begin.store(0, std::memory_order_release);
}

bool SigbusGuard::damaged() const noexcept { return first_fault() != UINT64_MAX; }

uint64_t SigbusGuard::first_fault() const noexcept {
  return slot_ < 0 ? UINT64_MAX : ranges[slot_].first_fault.load(std::memory_order_acquire);
}

}  // namespace fqpipe::io
