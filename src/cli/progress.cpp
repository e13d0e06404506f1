// progress.cpp - ProgressMeter: one '\r'-rewritten status line on a terminal's stderr.
// Never printed into pipes or logs, so scripted output stays clean.
#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace fqpipe::cli {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressMeter::ProgressMeter(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressMeter::~ProgressMeter() { finish(); }

void ProgressMeter::update(const Progress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double mb = p.input_bytes_read / 1e6;
  const double rate = secs > 0 ? mb / secs : 0;
  char eta[32] = "";
  if (p.input_size && rate > 0 && p.input_bytes_read <= p.input_size)
    std::snprintf(eta, sizeof eta, "  ETA %.0fs", (p.input_size / 1e6 - mb) / rate);
  std::fprintf(stderr, "\r%s: %.1f MB  %.1f MB/s%s   ", label_.c_str(), mb, rate, eta);
  shown_ = true;
}

void ProgressMeter::finish() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace fqpipe::cli
