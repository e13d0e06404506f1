// output.hpp - the CLI's three result forms: an aligned table, TSV and JSON.
// Commands fill rows of named cells once; the chosen form decides how they print.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace fqpipe::cli {

/// One JSON object, built key by key (keys are written in insertion order).
class JsonObject {
 public:
  void add(std::string_view key, std::string_view text);  ///< a JSON string
  void add(std::string_view key, uint64_t number);
  void add_raw(std::string_view key, std::string_view json);  ///< already valid JSON
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

/// `text` quoted and escaped as a JSON string.
std::string json_string(std::string_view text);

/// `text` with every byte outside printable ASCII (tab excepted) written as \xHH, for echoing
/// input on a terminal: an excerpt of hostile input can then neither send escape sequences
/// (clear the screen, retitle the window) nor be cut short by a NUL.
std::string printable(std::string_view text);

/// Rows of named cells, printed as an aligned table or as TSV with a header row.
class Table {
 public:
  void begin_row() { rows_.emplace_back(); }
  /// Adds a cell to the current row; `numeric` cells are right-aligned in the table.
  void cell(std::string_view column, std::string value, bool numeric = true);
  void print_table(std::FILE* out) const;
  void print_tsv(std::FILE* out) const;

 private:
  struct Cell {
    std::string column, value;
    bool numeric;
  };
  std::vector<std::vector<Cell>> rows_;
};

/// Prints JSON objects as one array, an object per line.
void print_json_array(std::FILE* out, const std::vector<std::string>& objects);

/// Formats `value` with `decimals` digits after the point.
std::string fixed(double value, int decimals);

}  // namespace fqpipe::cli
