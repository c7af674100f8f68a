// A fixture task, "fare", built only into task_registry_test: the recipe of
// docs/architecture.md ("add a task") followed literally, to prove it works. It predicts a
// trip's fare from its distance with a straight line fitted by least squares:
//   - trainer kind "fixture_linear" (BIMRIDE_TRAINER), whose artifact the test-only "baseline"
//     backend of serving/testing loads;
//   - feature spec "fare_distance": raw field trip_distance → one feature;
//   - verb `train fare` (--rows N --repo DIR): trains on N synthetic trips, tracks the run and
//     publishes the model as "fare";
//   - a quickstart step: fits the city's trips (fare = 2.5 + 2 · miles), publishes, labels
//     `stable`, and answers with a request for a 3-mile trip.
#pragma once

namespace bimride::tasks::fare {

inline constexpr double kBaseFare = 2.5;
inline constexpr double kPerMile = 2.0;

}  // namespace bimride::tasks::fare
