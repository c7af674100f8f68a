// The ETA feature specs for the model server, "eta_booking" and "eta_with_distance"
// (features/eta_features.h). An ETA version folder carries its feature context (zones,
// weather, encodings learned in training: eta_context.json, eta_zone_pairs.csv,
// eta_weather.csv); the factory loads it when the version loads, and the adapter turns raw
// request fields (pickup_zone, dropoff_zone, pickup_datetime, [trip_distance], coordinates)
// into the model's features through ParseEtaRequests → ComputeEtaFeatures — the code training
// used. Errors name the field and the row; a missing or bad context file fails the load.
// Thread safety: adapters are immutable and safe from many threads.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/trip_table.h"
#include "features/eta_features.h"
#include "serving/feature_adapter.h"

namespace bimride::tasks::eta {

serving::FeatureAdapterFactory EtaFeatureAdapterFactory(features::EtaFeatureSet set);

// The task's feature specs by name ("eta_booking", "eta_with_distance"), each with its factory:
// what eta_task.cc registers for the server, and what the Python module registers so that it
// builds features as the server does.
std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> EtaFeatureSpecs();

// A rider's request for trip `row` as the server takes it: one TF Serving instance (JSON) of raw
// fields — pickup_zone, dropoff_zone, pickup_datetime, and trip_distance when the trip has a
// meter reading (the booking spec ignores it). Numbers are written exactly (a float's double).
// What `bimride replay` sends.
std::string EtaInstanceJson(const data::TripTable& trips, size_t row);

}  // namespace bimride::tasks::eta
