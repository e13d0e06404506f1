// error.cpp - builds fqpipe::Error's one-line message from its position.
// The one place that decides how a position reads, so every stage reports errors alike.
#include "fqpipe/error.hpp"

#include <algorithm>

namespace fqpipe {
namespace {

std::string describe(const std::string& reason, const ErrorPosition& at) {
  std::string msg;
  if (!at.file.empty()) msg += at.file + ": ";
  std::string where;
  auto add = [&](const std::string& part) {
    if (!where.empty()) where += ", ";
    where += part;
  };
  if (at.line_no) add("line " + std::to_string(at.line_no));
  if (at.decoded_byte >= 0) add("byte " + std::to_string(at.decoded_byte));
  if (at.comp_byte >= 0) add("compressed byte " + std::to_string(at.comp_byte));
  if (at.record_no) {
    msg += "record " + std::to_string(at.record_no);
    if (!where.empty()) msg += " (" + where + ")";
    msg += ": ";
  } else if (!where.empty()) {
    msg += where + ": ";
  }
  return msg + reason;
}

}  // namespace

Error::Error(ErrorKind kind, std::string reason, ErrorPosition where)
    : std::runtime_error(describe(reason, where)),
      kind_(kind),
      reason_(std::move(reason)),
      where_(std::move(where)) {}

std::string error_excerpt(const char* begin, std::size_t length) {
  return std::string(begin, std::min<std::size_t>(length, 200));
}

}  // namespace fqpipe
