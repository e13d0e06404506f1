// merge.cpp - `fqpipe merge`: partial stats/count results (--part i/N, --json) summed exactly.
// Parts are grouped by file; every part 1..N must be there exactly once, or nothing is printed.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "cli/commands.hpp"
#include "fqpipe/error.hpp"

namespace fqpipe::cli {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  ErrorPosition at;
  at.file = source;
  throw Error(ErrorKind::data, what, at);
}

json read_results(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      ErrorPosition at;
      at.file = path;
      throw Error(ErrorKind::io, "cannot open", at);
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) bad(path, "not JSON (expected the output of stats or count --json)");
  if (doc.is_object()) doc = json::array({doc});
  if (!doc.is_array()) bad(path, "expected a JSON array of results");
  return doc;
}

uint64_t number(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) bad(source, std::string("missing or bad \"") + key + "\"");
  return j[key].get<uint64_t>();
}

// The schema-free counters a stats result carries.
FastqStats stats_from(const json& j, const std::string& source) {
  const json& c = j["counters"];
  FastqStats::Counters k;
  k.reads = number(c, "reads", source);
  k.bases = number(c, "bases", source);
  k.min_length = number(c, "min_length", source);
  k.max_length = number(c, "max_length", source);
  k.quality_byte_sum = number(c, "quality_byte_sum", source);
  const uint64_t lo = number(c, "quality_byte_lo", source), hi = number(c, "quality_byte_hi", source);
  if (lo > 255 || hi > 255) bad(source, "quality bytes out of range");
  k.quality_lo = static_cast<uint8_t>(lo);
  k.quality_hi = static_cast<uint8_t>(hi);
  const auto fixed_array = [&](const char* key, uint64_t* out, std::size_t n) {
    if (!c.contains(key) || !c[key].is_array() || c[key].size() != n) bad(source, std::string("bad \"") + key + "\"");
    for (std::size_t i = 0; i < n; ++i) {
      if (!c[key][i].is_number_unsigned()) bad(source, std::string("bad \"") + key + "\"");
      out[i] = c[key][i].get<uint64_t>();
    }
  };
  fixed_array("base_counts", k.base_counts, 5);
  fixed_array("bytes_at_least_53_63_84_94", k.bytes_at_least, 4);
  if (!c.contains("length_histogram") || !c["length_histogram"].is_object()) bad(source, "bad \"length_histogram\"");
  for (const auto& [len, count] : c["length_histogram"].items()) {
    if (!count.is_number_unsigned() || len.empty() || len.find_first_not_of("0123456789") != std::string::npos)
      bad(source, "bad \"length_histogram\"");
    k.length_histogram[std::stoull(len)] = count.get<uint64_t>();
  }
  if (!c.contains("position_byte_sums") || !c["position_byte_sums"].is_array()) bad(source, "bad \"position_byte_sums\"");
  for (const json& v : c["position_byte_sums"]) {
    if (!v.is_number_unsigned()) bad(source, "bad \"position_byte_sums\"");
    k.position_byte_sums.push_back(v.get<uint64_t>());
  }
  try {
    return FastqStats::from_counters(k);
  } catch (const std::invalid_argument&) {
    bad(source, "statistics counters that contradict each other");
  }
}

// All results of one file, one per part.
struct Group {
  std::string format;
  bool stats = false;
  unsigned parts = 0;                    // N of i/N; 0: whole-file results
  std::map<unsigned, std::string> seen;  // part -> where it came from
  FastqStats total;
  uint64_t reads = 0, bases = 0;         // count results
  std::optional<QualitySchema> given;
  bool first = true;
};

void add(Group& g, const std::string& file, const json& r, const std::string& source) {
  const bool stats = r.contains("counters");
  const std::string format = r.value("format", "");
  unsigned i = 1, n = 1;
  if (r.contains("part")) {
    char end = 0;
    const std::string part = r["part"].is_string() ? r["part"].get<std::string>() : "";
    if (std::sscanf(part.c_str(), "%u/%u%c", &i, &n, &end) != 2 || i == 0 || i > n)
      bad(source, file + ": bad \"part\"");
  }
  std::optional<QualitySchema> given;
  if (stats && r.value("schema_given", 0) != 0) {
    given = parse_schema(r.value("schema", ""));
    if (!given) bad(source, file + ": unknown schema");
  }
  if (g.first) {
    g.first = false;
    g.format = format;
    g.stats = stats;
    g.parts = n;
    g.given = given;
  } else if (stats != g.stats || n != g.parts || format != g.format || given != g.given) {
    bad(source, file + ": results of different kinds (stats and count, part counts, formats or "
                       "--schema differ between the parts)");
  }
  if (!g.seen.emplace(i, source).second)
    bad(source, file + ": part " + std::to_string(i) + "/" + std::to_string(n) + " given twice (also in " + g.seen[i] + ")");
  if (stats) {
    g.total.merge(stats_from(r, source));
  } else {
    g.reads += number(r, "reads", source);
    g.bases += number(r, "bases", source);
  }
}

}  // namespace

int run_merge(const CommonOptions& o) {
  std::vector<std::string> order;  // files in the order first seen
  std::map<std::string, Group> groups;
  for (const std::string& source : o.files) {
    for (const json& r : read_results(source)) {
      if (!r.is_object() || !r.contains("file") || !r["file"].is_string())
        bad(source, "a result without \"file\"");
      const std::string file = r["file"].get<std::string>();
      auto [it, fresh] = groups.try_emplace(file);
      if (fresh) order.push_back(file);
      add(it->second, file, r, source);
    }
  }
  Table table;
  std::vector<std::string> json_rows;
  for (const std::string& file : order) {
    const Group& g = groups[file];
    for (unsigned i = 1; i <= g.parts; ++i) {
      if (!g.seen.count(i)) {
        ErrorPosition at;
        at.file = file;
        throw Error(ErrorKind::data, "part " + std::to_string(i) + "/" + std::to_string(g.parts) +
                                         " is missing: the merged result would be short", at);
      }
    }
    if (g.stats) {
      add_stats_result(table, o.form == OutputForm::json ? &json_rows : nullptr, file, g.format, g.total,
                       g.given, "");
    } else {
      table.begin_row();
      table.cell("file", file, false);
      table.cell("format", g.format, false);
      table.cell("reads", std::to_string(g.reads));
      table.cell("bases", std::to_string(g.bases));
      JsonObject j;
      j.add("file", file);
      j.add("format", g.format);
      j.add("reads", g.reads);
      j.add("bases", g.bases);
      json_rows.push_back(j.str());
    }
  }
  print(o, table, json_rows);
  return 0;
}

}  // namespace fqpipe::cli
