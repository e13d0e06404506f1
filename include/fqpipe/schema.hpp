// fqpipe/schema.hpp - quality encodings (schemas): their valid byte ranges and their detection.
// Ranges follow DESIGN.md §5; a schema names both the byte range and the Phred offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fqpipe {

/// A FASTQ quality encoding.
enum class QualitySchema : uint8_t {
  generic,      ///< any printable quality, bytes 33..126, Phred+33
  sanger,       ///< bytes 33..126, Phred+33
  solexa,       ///< bytes 59..126, Solexa+64 (scores are reported as encoded, not converted)
  illumina_1_3, ///< bytes 64..126, Phred+64
  illumina_1_5, ///< bytes 66..126, Phred+64 (B marks the read tail)
  illumina_1_8, ///< bytes 33..126, Phred+33
};

/// Lowest and highest valid quality byte of a schema (inclusive).
struct QualityRange {
  uint8_t lo;
  uint8_t hi;
};

/// The valid byte range of `schema`.
QualityRange quality_range(QualitySchema schema) noexcept;

/// The value subtracted from a quality byte to get its score: 33 or 64.
int quality_offset(QualitySchema schema) noexcept;

/// The schema's name as the CLI spells it: "generic", "sanger", "solexa", "illumina-1.3",
/// "illumina-1.5", "illumina-1.8".
std::string_view schema_name(QualitySchema schema) noexcept;

/// Parses a name as written by schema_name(); nullopt for an unknown name.
std::optional<QualitySchema> parse_schema(std::string_view name) noexcept;

/// The most specific schema consistent with every quality byte seen, given the smallest and
/// largest byte (`lo` > `hi` means none seen; then generic). Specific means narrowest range:
/// illumina-1.5 (66..) before illumina-1.3 (64..) before solexa (59..); below 59, illumina-1.8
/// when every byte is within 33..74 ('!'..'J', Q0..Q41, what Illumina 1.8+ machines write),
/// sanger otherwise; generic when a byte lies outside 33..126.
QualitySchema detect_schema(uint8_t lo, uint8_t hi) noexcept;

}  // namespace fqpipe
