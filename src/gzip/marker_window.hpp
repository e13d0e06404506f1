// Resolves unknown-window markers (deflate_decoder.hpp) once the 32 KiB window before a chunk is
// known, and derives the window of the next chunk: the step that makes speculative output final.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "gzip/deflate_decoder.hpp"

namespace fqpipe::gzip {

// Writes out[i] = symbols[i] if it is a byte, else window byte symbols[i] - marker_base.
// `window` is the output just before the chunk, right-aligned: window.back() is the byte right
// before it; it may be shorter than 32 KiB only near a stream's start, and then a marker naming a
// byte before the stream is distance_beyond_history. out.size() must equal symbols.size().
DeflateStatus replace_markers(std::span<const uint16_t> symbols, std::span<const uint8_t> window,
                              std::span<uint8_t> out);

// The window for the chunk after `chunk`: the last min(32 KiB, window + chunk output) bytes of
// (window, chunk output), markers resolved against `window`. Reuses next's storage, which must
// not be window's.
DeflateStatus next_window(const DeflateChunk& chunk, std::span<const uint8_t> window, std::vector<uint8_t>& next);

}  // namespace fqpipe::gzip
