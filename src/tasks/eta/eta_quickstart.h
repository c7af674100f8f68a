// The ETA task's step of `bimride quickstart`: on the simulated city's trips, train an XGBoost
// ETA model (booking-time features; the LibTorch net in a build without XGBoost) on every day but the last, validate on the last day, track
// the run, publish the model and label it `stable`; answer with one rider's request for a trip
// of the last day. The simulated city has coordinates but no TLC zones or NOAA weather.
// What can fail: FailedPrecondition for a city of one day (nothing to train on); the
// trainer's and the registry's errors.
#pragma once

#include "tasks/task.h"

namespace bimride::tasks::eta {

StatusOr<QuickstartModel> RunEtaQuickstart(const QuickstartInput& input);

}  // namespace bimride::tasks::eta
