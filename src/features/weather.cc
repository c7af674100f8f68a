#include "features/weather.h"

#include <charconv>
#include <cstdio>
#include <map>

#include "common/civil_time.h"
#include "data/csv_reader.h"

namespace bimride::features {
namespace {

struct ValueColumn {
  const char* header;
  float DailyWeather::*field;
};
constexpr ValueColumn kColumns[] = {
    {"PRCP", &DailyWeather::precipitation_in}, {"SNOW", &DailyWeather::snowfall_in},
    {"SNWD", &DailyWeather::snow_depth_in},    {"TMAX", &DailyWeather::max_temp_f},
    {"TMIN", &DailyWeather::min_temp_f},       {"AWND", &DailyWeather::wind_mph},
};

StatusOr<float> ParseValue(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return DailyWeather::kMissing;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a number");
  }
  return static_cast<float>(v);
}

}  // namespace

StatusOr<WeatherTable> WeatherTable::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, data::ReadMaybeGzipFile(path));
  return Parse(text, path);
}

StatusOr<WeatherTable> WeatherTable::Parse(std::string_view csv_text, const std::string& name) {
  data::CsvTokenizer tokenizer(csv_text, name);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, tokenizer.Next(&fields));
  if (!has_header) return InvalidArgumentError(name + ": empty file, expected a DATE header");
  const data::CsvHeader header(fields);
  const int date_col = header.Find("DATE");
  if (date_col < 0) return InvalidArgumentError(name + ": line 1: no DATE column");
  int value_cols[std::size(kColumns)];
  for (size_t c = 0; c < std::size(kColumns); ++c) value_cols[c] = header.Find(kColumns[c].header);

  std::map<int64_t, DailyWeather> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool more, tokenizer.Next(&fields));
    if (!more) break;
    const std::string where = name + ": line " + std::to_string(tokenizer.line());
    if (fields.size() != header.size()) {
      return InvalidArgumentError(where + ": " + std::to_string(fields.size()) +
                                  " fields, header has " + std::to_string(header.size()));
    }
    StatusOr<int64_t> when = ParseCivil(fields[date_col]);
    if (!when.ok()) return when.status().WithContext(where + ": column 'DATE'");
    const int64_t day = DayIndex(*when);
    DailyWeather w;
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      if (value_cols[c] < 0) continue;
      StatusOr<float> v = ParseValue(fields[value_cols[c]]);
      if (!v.ok()) {
        return v.status().WithContext(where + ": column '" + kColumns[c].header + "'");
      }
      w.*kColumns[c].field = *v;
    }
    if (!rows.emplace(day, w).second) {
      return InvalidArgumentError(where + ": date " + std::string(fields[date_col]) +
                                  " appears twice");
    }
  }
  WeatherTable table;
  if (rows.empty()) return table;
  table.first_day_ = rows.begin()->first;
  const int64_t span = rows.rbegin()->first - table.first_day_ + 1;
  table.days_.assign(span, DailyWeather{});
  table.present_.assign(span, false);
  for (const auto& [day, w] : rows) {
    table.days_[day - table.first_day_] = w;
    table.present_[day - table.first_day_] = true;
  }
  table.day_count_ = static_cast<int64_t>(rows.size());
  return table;
}

bool WeatherTable::Has(int64_t day_index) const {
  const int64_t i = day_index - first_day_;
  return i >= 0 && i < static_cast<int64_t>(present_.size()) && present_[i];
}

DailyWeather WeatherTable::Get(int64_t day_index) const {
  return Has(day_index) ? days_[day_index - first_day_] : DailyWeather{};
}

std::string WeatherTable::ToCsv(int64_t first, int64_t last) const {
  std::string out = "DATE";
  for (const ValueColumn& c : kColumns) out += std::string(",") + c.header;
  out += '\n';
  char buf[32];
  for (int64_t day = first; day <= last; ++day) {
    if (!Has(day)) continue;
    out += FormatCivil(day * kMicrosPerDay).substr(0, 10);
    const DailyWeather w = Get(day);
    for (const ValueColumn& c : kColumns) {
      out += ',';
      const float v = w.*c.field;
      if (!std::isnan(v)) {
        std::snprintf(buf, sizeof buf, "%.9g", v);
        out += buf;
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace bimride::features
