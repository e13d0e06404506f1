// interrupt.hpp - what Ctrl-C (SIGINT), SIGTERM and SIGHUP do to fqpipe: the temporary output
// files are removed, then the process dies of the signal like any other tool (status 128 + N),
// so no thread runs on and no complete-looking partial output is left behind.
//
// Why not a flag that the loops poll, unwinding to main: the threads of a run block in places
// that never poll (a read(2) on a pipe that may not deliver for minutes, ISA-L inflating a
// chunk, a queue wait), and nothing of a run is worth saving, so a cooperative stop would only
// be slower and could hang. Dying of the signal stops every thread at once; the one thing to
// undo is a temporary file, which the watcher thread unlinks first.
#pragma once

#include <string>

namespace fqpipe::cli {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in every thread it starts later,
/// and starts the watcher thread that waits for them: on one, it removes every armed file,
/// restores the signal's default action and raises it again, so the process dies of it (exit
/// status 128 + N) with no thread running on. A signal the parent ignored (nohup, a background
/// job) stays ignored. Call once, at the start of main, before any other thread exists.
void watch_interrupts();

/// Removes one file if the process is interrupted (SIGINT, SIGTERM or SIGHUP) while armed,
/// once watch_interrupts() runs.
///
/// Arm before the file is created and release() only after it is renamed or removed: an
/// interrupt in between then unlinks a name that no longer exists, which is harmless, where
/// the other order could leave the file behind. At most 64 files are ever armed in one process
/// (each arm() takes a slot for good, so the watcher never reads a path being rewritten); past
/// that, or for a path of 4096 bytes or more, arm() returns false and the file is not guarded.
/// arm() and release() may be called from any thread; one object is used by one thread.
class RemoveOnInterrupt {
 public:
  RemoveOnInterrupt() = default;  ///< guards nothing until arm()
  ~RemoveOnInterrupt() { release(); }
  RemoveOnInterrupt(const RemoveOnInterrupt&) = delete;
  RemoveOnInterrupt& operator=(const RemoveOnInterrupt&) = delete;

  /// Starts guarding `path` (relative paths are taken against the current directory when the
  /// signal comes). Returns false, guarding nothing, when no slot is left or the path is too long.
  bool arm(const std::string& path);
  /// Stops guarding; the file is left as it is. No-op when not armed.
  void release() noexcept;

 private:
  int slot_ = -1;  // index into the watcher's table, -1 when not armed
};

}  // namespace fqpipe::cli
