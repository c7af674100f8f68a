#include "features/eta_context_files.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "data/csv_reader.h"

namespace bimride::features {
namespace {

using nlohmann::json;

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr char kContextFile[] = "eta_context.json";
constexpr char kPairsFile[] = "eta_zone_pairs.csv";
constexpr char kWeatherFile[] = "eta_weather.csv";

std::string FloatText(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

json StatsToJson(const EtaPairStats& s) {
  return json::array({s.count, FloatText(s.median_minutes), FloatText(s.median_distance_miles),
                      FloatText(s.median_speed_mph)});
}

StatusOr<float> ParseFloatText(std::string_view text, const std::string& where) {
  if (text.empty()) return kNaNf;
  float v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not a number");
  }
  return v;
}

StatusOr<int64_t> ParseIntText(std::string_view text, const std::string& where) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not an integer");
  }
  return v;
}

StatusOr<EtaPairStats> StatsFromJson(const json& j, const std::string& where) {
  if (!j.is_array() || j.size() != 4 || !j[0].is_number_integer() || !j[1].is_string() ||
      !j[2].is_string() || !j[3].is_string()) {
    return InvalidArgumentError(where + ": expected [count, \"minutes\", \"miles\", \"mph\"]");
  }
  EtaPairStats s;
  s.count = j[0].get<int64_t>();
  ASSIGN_OR_RETURN(s.median_minutes, ParseFloatText(j[1].get<std::string>(), where));
  ASSIGN_OR_RETURN(s.median_distance_miles, ParseFloatText(j[2].get<std::string>(), where));
  ASSIGN_OR_RETURN(s.median_speed_mph, ParseFloatText(j[3].get<std::string>(), where));
  return s;
}

json FloatsToJson(const std::vector<float>& v) {
  json a = json::array();
  for (float x : v) a.push_back(FloatText(x));
  return a;
}

StatusOr<std::vector<float>> FloatsFromJson(const json& j, size_t expected,
                                            const std::string& where) {
  if (!j.is_array() || j.size() != expected) {
    return InvalidArgumentError(where + ": expected an array of " + std::to_string(expected) +
                                " numbers as text");
  }
  std::vector<float> out;
  for (const json& e : j) {
    if (!e.is_string()) return InvalidArgumentError(where + ": expected numbers as text");
    ASSIGN_OR_RETURN(float v, ParseFloatText(e.get<std::string>(), where));
    out.push_back(v);
  }
  return out;
}

std::string DoubleText(double v) {
  if (std::isnan(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

StatusOr<double> ParseDoubleText(std::string_view text, const std::string& where) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgumentError(where + ": '" + std::string(text) + "' is not a number");
  }
  return v;
}

// eta_context.json at `path` (its `text`) into *c: everything but the pairs and the weather.
Status ParseContextJson(const std::string& path, const std::string& text, EtaFeatureContext* c) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError(path + ": not a JSON object");
  try {
    if (j.value("format", "") != "bimride_eta_context" || j.value("format_version", 0) != 1) {
      return InvalidArgumentError(path + ": not a bimride_eta_context file of format_version 1");
    }
    ASSIGN_OR_RETURN(c->set, ParseEtaFeatureSet(j.at("feature_spec").get<std::string>()));
    if (j.at("feature_spec_version").get<int64_t>() != kEtaFeatureSpecVersion) {
      return InvalidArgumentError(path + ": feature_spec_version " +
                                  j.at("feature_spec_version").dump() + " is not supported (want " +
                                  std::to_string(kEtaFeatureSpecVersion) + ")");
    }
    if (j.at("feature_names").get<std::vector<std::string>>() != EtaFeatureNames(c->set)) {
      return InvalidArgumentError(path + ": feature_names differ from this build's " +
                                  std::string(EtaFeatureSpecName(c->set)));
    }
    c->max_zone = j.at("max_zone").get<int32_t>();
    if (c->max_zone < 1 || c->max_zone > 1000000) {
      return InvalidArgumentError(path + ": max_zone out of range");
    }
    ASSIGN_OR_RETURN(c->options.shrinkage,
                     ParseDoubleText(j.at("shrinkage").get<std::string>(), path + ": shrinkage"));
    c->options.min_pair_count = j.at("min_pair_count").get<int64_t>();
    c->training_rows = j.at("training_rows").get<int64_t>();
    ASSIGN_OR_RETURN(c->global, StatsFromJson(j.at("global"), path + ": global"));
    ASSIGN_OR_RETURN(c->hour_of_week_speed_mph, FloatsFromJson(j.at("hour_of_week_speed_mph"), 168,
                                                               path + ": hour_of_week_speed_mph"));
    ASSIGN_OR_RETURN(c->defaults, FloatsFromJson(j.at("defaults"), EtaFeatureCount(c->set),
                                                 path + ": defaults"));
    ASSIGN_OR_RETURN(c->lower,
                     FloatsFromJson(j.at("lower"), EtaFeatureCount(c->set), path + ": lower"));
    ASSIGN_OR_RETURN(c->upper,
                     FloatsFromJson(j.at("upper"), EtaFeatureCount(c->set), path + ": upper"));
    for (size_t k = 0; k < c->lower.size(); ++k) {
      if (!(c->lower[k] <= c->upper[k])) {
        return InvalidArgumentError(path + ": lower/upper: feature " + std::to_string(k) +
                                    " has an empty range");
      }
    }
    const json& zones = j.at("zones");
    const size_t nz = static_cast<size_t>(c->max_zone) + 1;
    if (!zones.is_array() || zones.size() != nz) {
      return InvalidArgumentError(path + ": zones: expected " + std::to_string(nz) + " entries");
    }
    c->zone_lon.resize(nz);
    c->zone_lat.resize(nz);
    c->zone_borough.resize(nz);
    c->pickup_zone_stats.resize(nz);
    c->dropoff_zone_stats.resize(nz);
    for (size_t z = 0; z < nz; ++z) {
      const json& e = zones[z];
      const std::string where = path + ": zones[" + std::to_string(z) + "]";
      if (!e.is_array() || e.size() != 6 || e[0].get<int64_t>() != static_cast<int64_t>(z)) {
        return InvalidArgumentError(where + ": expected [id, lon, lat, borough, pickup, dropoff]");
      }
      ASSIGN_OR_RETURN(c->zone_lon[z], ParseDoubleText(e[1].get<std::string>(), where));
      ASSIGN_OR_RETURN(c->zone_lat[z], ParseDoubleText(e[2].get<std::string>(), where));
      c->zone_borough[z] = e[3].get<int32_t>();
      if (c->zone_borough[z] < 0 || c->zone_borough[z] >= kEtaBoroughCount) {
        return InvalidArgumentError(where + ": borough id out of range");
      }
      ASSIGN_OR_RETURN(c->pickup_zone_stats[z], StatsFromJson(e[4], where));
      ASSIGN_OR_RETURN(c->dropoff_zone_stats[z], StatsFromJson(e[5], where));
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(path + ": " + e.what());
  }
  return OkStatus();
}

// eta_zone_pairs.csv at `pairs_path` (its `pairs_text`) into c->pairs; c->max_zone must be set.
Status ParseZonePairs(const std::string& pairs_path, const std::string& pairs_text,
                      EtaFeatureContext* c) {
  data::CsvTokenizer tok(pairs_text, pairs_path);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, tok.Next(&fields));
  if (!has_header || fields.size() != 6 || fields[0] != "pickup_zone") {
    return InvalidArgumentError(pairs_path + ": line 1: expected the pickup_zone,… header");
  }
  int64_t last_key = -1;
  while (true) {
    ASSIGN_OR_RETURN(bool more, tok.Next(&fields));
    if (!more) break;
    const std::string where = pairs_path + ": line " + std::to_string(tok.line());
    if (fields.size() != 6) return InvalidArgumentError(where + ": expected 6 fields");
    ASSIGN_OR_RETURN(int64_t pu, ParseIntText(fields[0], where));
    ASSIGN_OR_RETURN(int64_t dz, ParseIntText(fields[1], where));
    if (pu < 0 || pu > c->max_zone || dz < 0 || dz > c->max_zone) {
      return InvalidArgumentError(where + ": zone outside 0.." + std::to_string(c->max_zone));
    }
    EtaPairStats s;
    ASSIGN_OR_RETURN(s.count, ParseIntText(fields[2], where));
    ASSIGN_OR_RETURN(s.median_minutes, ParseFloatText(fields[3], where));
    ASSIGN_OR_RETURN(s.median_distance_miles, ParseFloatText(fields[4], where));
    ASSIGN_OR_RETURN(s.median_speed_mph, ParseFloatText(fields[5], where));
    const int64_t key = pu * (c->max_zone + 1) + dz;
    if (key <= last_key) return InvalidArgumentError(where + ": pairs out of order or repeated");
    last_key = key;
    c->pairs.emplace_back(key, s);
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string> EtaContextFileNames() { return {kContextFile, kPairsFile, kWeatherFile}; }

Status SaveEtaFeatureContext(const EtaFeatureContext& c, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  json j;
  j["format"] = "bimride_eta_context";
  j["format_version"] = 1;
  j["feature_spec"] = std::string(EtaFeatureSpecName(c.set));
  j["feature_spec_version"] = kEtaFeatureSpecVersion;
  j["feature_names"] = EtaFeatureNames(c.set);
  j["max_zone"] = c.max_zone;
  j["shrinkage"] = DoubleText(c.options.shrinkage);
  j["min_pair_count"] = c.options.min_pair_count;
  j["training_rows"] = c.training_rows;
  j["global"] = StatsToJson(c.global);
  j["hour_of_week_speed_mph"] = FloatsToJson(c.hour_of_week_speed_mph);
  j["defaults"] = FloatsToJson(c.defaults);
  j["lower"] = FloatsToJson(c.lower);
  j["upper"] = FloatsToJson(c.upper);
  json zones = json::array();
  for (int32_t z = 0; z <= c.max_zone; ++z) {
    zones.push_back({z, DoubleText(c.zone_lon[z]), DoubleText(c.zone_lat[z]), c.zone_borough[z],
                     StatsToJson(c.pickup_zone_stats[z]), StatsToJson(c.dropoff_zone_stats[z])});
  }
  j["zones"] = zones;
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kContextFile, j.dump(1) + "\n"));

  std::string pairs =
      "pickup_zone,dropoff_zone,count,median_minutes,median_distance_miles,median_speed_mph\n";
  for (const auto& [key, s] : c.pairs) {
    pairs += std::to_string(key / (c.max_zone + 1)) + "," + std::to_string(key % (c.max_zone + 1)) +
             "," + std::to_string(s.count) + "," + FloatText(s.median_minutes) + "," +
             FloatText(s.median_distance_miles) + "," + FloatText(s.median_speed_mph) + "\n";
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kPairsFile, pairs));
  const std::string weather = c.weather.empty()
                                  ? std::string("DATE,PRCP,SNOW,SNWD,TMAX,TMIN,AWND\n")
                                  : c.weather.ToCsv(c.weather.first_day(), c.weather.last_day());
  return WriteFileAtomic(dir + "/" + kWeatherFile, weather);
}

StatusOr<EtaFeatureContext> LoadEtaFeatureContext(const std::string& dir) {
  const std::string path = dir + "/" + kContextFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  EtaFeatureContext c;
  RETURN_IF_ERROR(ParseContextJson(path, text, &c));
  const std::string pairs_path = dir + "/" + kPairsFile;
  ASSIGN_OR_RETURN(std::string pairs_text, ReadFile(pairs_path));
  RETURN_IF_ERROR(ParseZonePairs(pairs_path, pairs_text, &c));
  const std::string weather_path = dir + "/" + kWeatherFile;
  ASSIGN_OR_RETURN(std::string weather_text, ReadFile(weather_path));
  ASSIGN_OR_RETURN(c.weather, WeatherTable::Parse(weather_text, weather_path));
  return c;
}

}  // namespace bimride::features
