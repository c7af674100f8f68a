// A small simulated city with a price test for the behaviour task's tests (seconds to make).
#pragma once

#include "simulator/simulator.h"

namespace bimride::tasks::behaviour {

inline simulator::SimulatedCity SmallTestCity(int64_t days = 14, double price_test = 0.3) {
  simulator::CityConfig c;
  c.days = days;
  c.zones = 12;
  c.seed = 5;
  c.price_test_fraction = price_test;
  StatusOr<simulator::SimulatedCity> city = simulator::Simulate(c);
  return city.ok() ? std::move(city).value() : simulator::SimulatedCity{};
}

}  // namespace bimride::tasks::behaviour
