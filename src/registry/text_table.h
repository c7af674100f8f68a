// TextTable: aligned plain-text tables for CLI output a person scans.
//
//   TextTable t({"VERSION", "LABELS", "CREATED"});
//   t.SetRightAligned(0);
//   t.AddRow({"3", "stable", "2026-11-25T10:40:00Z"});
//   std::cout << t.Render();
//
//   VERSION  LABELS  CREATED
//         3  stable  2026-11-25T10:40:00Z
//
// Columns are separated by two spaces; trailing spaces are trimmed; widths count UTF-8 code
// points. Empty cells render as "-". (Generic; could move to common/ once other CLIs need it.)
// Thread safety: a value; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bimride::registry {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers);
  void SetRightAligned(size_t column);
  // Rows shorter than the header are padded with empty cells; longer ones are cut.
  void AddRow(std::vector<std::string> cells);
  size_t num_rows() const { return rows_.size(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Cell formatting shared by the registry CLIs.
std::string FormatTimeMs(int64_t ms_since_epoch);  // "2026-11-25 10:40:00" (UTC); "" for 0
std::string FormatNumber(double value);            // %.6g

}  // namespace bimride::registry
