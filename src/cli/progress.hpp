// progress.hpp - ProgressMeter: bytes, MB/s and ETA on stderr, only when stderr is a terminal.
// Fed from the producer thread through PipelineOptions::on_progress; prints at most 4 times/s.
#pragma once

#include <chrono>
#include <string>

#include "fqpipe/pipeline.hpp"

namespace fqpipe::cli {

class ProgressMeter {
 public:
  /// `enabled` false makes every call a no-op (stderr is not a terminal, or --quiet).
  ProgressMeter(std::string label, bool enabled);
  ~ProgressMeter();
  void update(const Progress& progress);
  /// Erases the progress line.
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// True when standard error is a terminal.
bool stderr_is_terminal();

}  // namespace fqpipe::cli
