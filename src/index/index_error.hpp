// index_error.hpp - the one wording of "this index is bad": a data Error naming the index file.
// Loaders, the reader's fit checks and the format writers all report through it, so every
// message reads "PATH: REASON" whatever the format.
#pragma once

#include <string>

namespace fqpipe::index {

/// Throws Error (kind data) for the index file `index_path` ("" for an index built in memory,
/// named "(index)"); `reason` is lowercase, says expected vs found and has no trailing period.
[[noreturn]] void throw_index_error(const std::string& index_path, const std::string& reason);

}  // namespace fqpipe::index
