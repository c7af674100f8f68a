// Simulate(): a whole synthetic city — zones, riders, weather and events, driver supply, every
// price quote and every trip — from a CityConfig and a seed. This is the embedded default data
// that lets BimRide run end to end on a fresh machine with no outside data.
//
// Deterministic: the same config (seed included) gives the same city, bit for bit, on any build
// (see random.h). Requests are drawn per (zone, hour) as Poisson counts; each request gets a
// rider, a destination (gravity model), a quote (tariff × surge) that the rider accepts with a
// probability falling with price × their sensitivity, and, if a driver is free, a trip.
// Every request consumes the same random draws whatever the rider answers, so two configs that
// differ only in tariff or supply see the very same requests (common random numbers): their
// difference in trips is the effect of price/supply alone.
// Thread safety: Simulate is reentrant (no shared state).
#pragma once

#include <vector>

#include "common/status.h"
#include "data/trip_table.h"
#include "simulator/city_model.h"

namespace bimride::simulator {

struct SimulatedCity {
  CityConfig config;
  std::vector<Zone> zones;           // index i holds zone id i+1
  std::vector<Rider> riders;         // index i holds rider id i+1
  std::vector<DayConditions> days;   // one per simulated day
  std::vector<SupplyRecord> supply;  // one per (hour, zone), hour-major
  std::vector<QuoteRecord> quotes;   // every quote, in time order
  data::TripTable trips;             // served quotes, in pickup-time order; source kSimulator
};

// InvalidArgument (naming the field) for a bad config; never fails otherwise. With
// config.rider_start == kStationary it first simulates the city's first 28 days (newcomer start)
// to measure how often its quotes are bad experiences, then the city itself.
StatusOr<SimulatedCity> Simulate(const CityConfig& config);

// Zone layout alone (also used by Simulate): a dense core of business and nightlife zones around
// a Manhattan-like centre, sparser residential outskirts and, from 10 zones up, an airport.
std::vector<Zone> BuildZones(const CityConfig& config);

// Relative probability of each destination zone (index = zone id - 1) for a trip from zone
// `origin_id` at this time: attractiveness × DestinationFactor / (road km + 0.8)^beta.
std::vector<double> DestinationWeights(const std::vector<Zone>& zones, int32_t origin_id,
                                       int weekday, int hour, double beta);

}  // namespace bimride::simulator
