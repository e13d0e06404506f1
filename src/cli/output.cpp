// output.cpp - JSON escaping, table alignment and TSV for the CLI's results, and the escaping of
// input echoed in error messages. Hand-written: the output is small and flat.
#include "cli/output.hpp"

#include <algorithm>

namespace fqpipe::cli {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  return out + "\"";
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 0x20 && c < 0x7f) || c == '\t') {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

void JsonObject::key(std::string_view k) {
  if (!body_.empty()) body_ += ", ";
  body_ += json_string(k) + ": ";
}

void JsonObject::add(std::string_view k, std::string_view text) {
  key(k);
  body_ += json_string(text);
}

void JsonObject::add(std::string_view k, uint64_t number) {
  key(k);
  body_ += std::to_string(number);
}

void JsonObject::add_raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
}

void print_json_array(std::FILE* out, const std::vector<std::string>& objects) {
  std::fputs("[", out);
  for (std::size_t i = 0; i < objects.size(); ++i)
    std::fprintf(out, "%s\n  %s", i ? "," : "", objects[i].c_str());
  std::fputs(objects.empty() ? "]\n" : "\n]\n", out);
}

void Table::cell(std::string_view column, std::string value, bool numeric) {
  rows_.back().push_back({std::string(column), std::move(value), numeric});
}

void Table::print_table(std::FILE* out) const {
  if (rows_.empty()) return;
  const std::vector<Cell>& head = rows_.front();
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].column.size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].value.size());
  }
  auto line = [&](auto text_of, auto numeric_of) {
    for (std::size_t c = 0; c < head.size(); ++c) {
      const std::string& t = text_of(c);
      const int w = static_cast<int>(width[c]);
      std::fprintf(out, numeric_of(c) ? "%*s" : "%-*s", w, t.c_str());
      std::fputs(c + 1 < head.size() ? "  " : "\n", out);
    }
  };
  line([&](std::size_t c) -> const std::string& { return head[c].column; },
       [&](std::size_t c) { return head[c].numeric; });
  for (const auto& row : rows_)
    line([&](std::size_t c) -> const std::string& { return row[c].value; },
         [&](std::size_t c) { return row[c].numeric; });
}

void Table::print_tsv(std::FILE* out) const {
  if (rows_.empty()) return;
  for (std::size_t c = 0; c < rows_.front().size(); ++c)
    std::fprintf(out, "%s%s", c ? "\t" : "", rows_.front()[c].column.c_str());
  std::fputc('\n', out);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c)
      std::fprintf(out, "%s%s", c ? "\t" : "", row[c].value.c_str());
    std::fputc('\n', out);
  }
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

}  // namespace fqpipe::cli
