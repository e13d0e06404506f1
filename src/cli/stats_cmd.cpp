// stats_cmd.cpp - `fqpipe stats`: FastqStats over each file, printed as a table, TSV or JSON.
// The JSON carries the schema-free counters too, so partial runs (--part) merge exactly.
#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/progress.hpp"

namespace fqpipe::cli {
namespace {

std::string percent(uint64_t part, uint64_t whole) {
  return whole ? fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 2) : "0.00";
}

std::string json_map(const std::map<uint64_t, uint64_t>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ", ";
    out += '"' + std::to_string(k) + "\": " + std::to_string(v);
  }
  return out + "}";
}

std::string json_array(const std::vector<uint64_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(v[i]);
  }
  return out + "]";
}

// FastqStats::Counters as JSON: what `fqpipe merge` reads back.
std::string counters_json(const FastqStats::Counters& c) {
  JsonObject j;
  j.add("reads", c.reads);
  j.add("bases", c.bases);
  j.add("min_length", c.min_length);
  j.add("max_length", c.max_length);
  j.add_raw("base_counts", json_array({c.base_counts, c.base_counts + 5}));
  j.add("quality_byte_sum", c.quality_byte_sum);
  j.add_raw("bytes_at_least_53_63_84_94", json_array({c.bytes_at_least, c.bytes_at_least + 4}));
  j.add("quality_byte_lo", c.quality_lo);
  j.add("quality_byte_hi", c.quality_hi);
  j.add_raw("length_histogram", json_map(c.length_histogram));
  j.add_raw("position_byte_sums", json_array(c.position_byte_sums));
  return j.str();
}

}  // namespace

void add_stats_result(Table& table, std::vector<std::string>* json, const std::string& file,
                      std::string_view format, const FastqStats& s,
                      std::optional<QualitySchema> given_schema, const std::string& part) {
  const QualitySchema schema = given_schema ? *given_schema : detect_schema(s.quality_lo(), s.quality_hi());
  const uint64_t q20 = s.q20_bases(schema);
  const uint64_t q30 = s.q30_bases(schema);
  const uint64_t qsum = s.quality_sum(schema);
  const double bases = static_cast<double>(s.bases());
  table.begin_row();
  table.cell("file", file, false);
  if (!part.empty()) table.cell("part", part, false);
  table.cell("format", std::string(format), false);
  table.cell("schema", std::string(schema_name(schema)), false);
  table.cell("reads", std::to_string(s.reads()));
  table.cell("bases", std::to_string(s.bases()));
  table.cell("min_len", std::to_string(s.min_length()));
  table.cell("avg_len", fixed(s.reads() ? bases / static_cast<double>(s.reads()) : 0.0, 1));
  table.cell("max_len", std::to_string(s.max_length()));
  table.cell("gc%", percent(s.g() + s.c(), s.bases()));
  table.cell("n", std::to_string(s.n()));
  table.cell("q20%", percent(q20, s.bases()));
  table.cell("q30%", percent(q30, s.bases()));
  table.cell("mean_q", fixed(s.bases() ? static_cast<double>(qsum) / bases : 0.0, 2));
  if (!json) return;

  JsonObject j;
  j.add("file", file);
  if (!part.empty()) j.add("part", part);
  j.add("format", format);
  j.add("schema", schema_name(schema));
  j.add("schema_given", given_schema ? uint64_t{1} : uint64_t{0});
  j.add("reads", s.reads());
  j.add("bases", s.bases());
  j.add("min_length", s.min_length());
  j.add("max_length", s.max_length());
  j.add("a", s.a());
  j.add("c", s.c());
  j.add("g", s.g());
  j.add("t", s.t());
  j.add("n", s.n());
  j.add("other", s.other());
  j.add("q20_bases", q20);
  j.add("q30_bases", q30);
  j.add("quality_sum", qsum);
  j.add("quality_lo", s.quality_lo() <= s.quality_hi() ? s.quality_lo() : 0);
  j.add("quality_hi", s.quality_hi());
  j.add_raw("length_histogram", json_map(s.length_histogram()));
  j.add_raw("position_quality_sum", json_array(s.position_quality_sums(schema)));
  j.add_raw("position_count", json_array(s.position_counts()));
  j.add_raw("counters", counters_json(s.counters()));
  json->push_back(j.str());
}

int run_stats(const CommonOptions& o) {
  const PipelineOptions p = pipeline_options(o);
  Table table;
  std::vector<std::string> json;
  const std::string part = p.parts > 1 ? std::to_string(p.part) + "/" + std::to_string(p.parts) : "";
  for (const std::string& file : o.files) {
    ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
    PipelineOptions run_options = p;
    run_options.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
    const auto start = std::chrono::steady_clock::now();
    RunInfo info;
    const FastqStats s = run<FastqStats>(file, run_options, [] { return FastqStats(); }, &info);
    meter.finish();
    if (o.verbose) report_run(file, p, info, start);
    const std::optional<QualitySchema> given =
        o.schema != "generic" ? std::optional<QualitySchema>(p.read.schema) : std::nullopt;
    add_stats_result(table, o.form == OutputForm::json ? &json : nullptr, file, format_name(info.format), s,
                     given, part);
  }
  print(o, table, json);
  return 0;
}

}  // namespace fqpipe::cli
