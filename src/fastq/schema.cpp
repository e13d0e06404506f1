// schema.cpp - quality schemas: byte ranges, offsets, names and detection (DESIGN.md §5).
// Ranges are data in one table so the checker, the detector and the CLI agree.
#include "fqpipe/schema.hpp"

namespace fqpipe {
namespace {

struct SchemaInfo {
  QualitySchema schema;
  std::string_view name;
  QualityRange range;
  int offset;
};

constexpr SchemaInfo kSchemas[] = {
    {QualitySchema::generic, "generic", {33, 126}, 33},
    {QualitySchema::sanger, "sanger", {33, 126}, 33},
    {QualitySchema::solexa, "solexa", {59, 126}, 64},
    {QualitySchema::illumina_1_3, "illumina-1.3", {64, 126}, 64},
    {QualitySchema::illumina_1_5, "illumina-1.5", {66, 126}, 64},
    {QualitySchema::illumina_1_8, "illumina-1.8", {33, 126}, 33},
};

const SchemaInfo& info(QualitySchema schema) noexcept {
  return kSchemas[static_cast<int>(schema)];
}

}  // namespace

QualityRange quality_range(QualitySchema schema) noexcept { return info(schema).range; }
int quality_offset(QualitySchema schema) noexcept { return info(schema).offset; }
std::string_view schema_name(QualitySchema schema) noexcept { return info(schema).name; }

std::optional<QualitySchema> parse_schema(std::string_view name) noexcept {
  for (const SchemaInfo& s : kSchemas)
    if (s.name == name) return s.schema;
  return std::nullopt;
}

QualitySchema detect_schema(uint8_t lo, uint8_t hi) noexcept {
  if (lo > hi || lo < 33 || hi > 126) return QualitySchema::generic;
  if (lo >= 66) return QualitySchema::illumina_1_5;
  if (lo >= 64) return QualitySchema::illumina_1_3;
  if (lo >= 59) return QualitySchema::solexa;
  // 'J' (74) is Q41, the highest score Illumina 1.8+ instruments write.
  return hi <= 74 ? QualitySchema::illumina_1_8 : QualitySchema::sanger;
}

}  // namespace fqpipe
