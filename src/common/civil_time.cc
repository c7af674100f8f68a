#include "common/civil_time.h"

#include <cstdio>

namespace bimride {

// Howard Hinnant's days-from-civil algorithm (public domain description).
int64_t DaysFromCivil(int year, int month, int day) {
  int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

namespace {

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int>(y + (m <= 2 ? 1 : 0));
  *month = static_cast<int>(m);
  *day = static_cast<int>(d);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

int64_t DayIndex(int64_t micros) { return FloorDiv(micros, kMicrosPerDay); }

CivilTime CivilFromMicros(int64_t micros) {
  CivilTime t;
  int64_t days = DayIndex(micros);
  int64_t rem = micros - days * kMicrosPerDay;
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<int>(rem / kMicrosPerHour);
  rem %= kMicrosPerHour;
  t.minute = static_cast<int>(rem / kMicrosPerMinute);
  rem %= kMicrosPerMinute;
  t.second = static_cast<int>(rem / kMicrosPerSecond);
  t.micros = static_cast<int>(rem % kMicrosPerSecond);
  return t;
}

bool IsValidCivil(const CivilTime& t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= DaysInMonth(t.year, t.month) &&
         t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 && t.second >= 0 &&
         t.second < 60 && t.micros >= 0 && t.micros < 1'000'000;
}

int64_t MicrosFromCivil(const CivilTime& t) {
  return DaysFromCivil(t.year, t.month, t.day) * kMicrosPerDay + t.hour * kMicrosPerHour +
         t.minute * kMicrosPerMinute + t.second * kMicrosPerSecond + t.micros;
}

int HourOfDay(int64_t micros) {
  return static_cast<int>((micros - DayIndex(micros) * kMicrosPerDay) / kMicrosPerHour);
}

int DayOfWeek(int64_t micros) {
  // 1970-01-01 was a Thursday (ISO index 3).
  int64_t d = (DayIndex(micros) + 3) % 7;
  return static_cast<int>(d < 0 ? d + 7 : d);
}

std::string FormatCivil(int64_t micros) {
  CivilTime t = CivilFromMicros(micros);
  char buf[40];
  if (t.micros != 0) {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06d", t.year, t.month, t.day,
                  t.hour, t.minute, t.second, t.micros);
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day,
                  t.hour, t.minute, t.second);
  }
  return buf;
}

StatusOr<int64_t> ParseCivil(std::string_view text) {
  auto bad = [&]() {
    return InvalidArgumentError("'" + std::string(text) +
                                "' is not a time (want YYYY-MM-DD[ HH:MM[:SS[.ffffff]]])");
  };
  size_t i = 0;
  auto digits = [&](int n, int* out) {
    int v = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  auto expect = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  CivilTime t;
  if (!digits(4, &t.year) || !expect('-') || !digits(2, &t.month) || !expect('-') ||
      !digits(2, &t.day)) {
    return bad();
  }
  if (i < text.size()) {
    if (!(expect(' ') || expect('T'))) return bad();
    if (!digits(2, &t.hour) || !expect(':') || !digits(2, &t.minute)) return bad();
    if (expect(':')) {
      if (!digits(2, &t.second)) return bad();
      if (expect('.')) {
        int frac = 0, n = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
          if (n < 6) frac = frac * 10 + (text[i] - '0');
          ++n;
          ++i;
        }
        if (n == 0) return bad();
        for (int k = n; k < 6; ++k) frac *= 10;
        t.micros = frac;
      }
    }
    if (i != text.size()) return bad();
  }
  if (!IsValidCivil(t)) return bad();
  return MicrosFromCivil(t);
}

}  // namespace bimride
