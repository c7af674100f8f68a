// Registers the native backends (linked whole through bimride_model_backends).
#include "models/model.h"
#include "models/native/native_mlp_model.h"
#include "models/native/tree_ensemble.h"
#include "models/seed_ensemble.h"

BIMRIDE_MODEL_BACKEND("native_mlp", bimride::models::native::LoadNativeMlpModel);
BIMRIDE_MODEL_BACKEND("native_trees", bimride::models::native::LoadNativeTreesModel);
// The seed ensemble is plain C++ over other backends; registered here, with the native ones.
BIMRIDE_MODEL_BACKEND(bimride::models::kSeedEnsembleBackend,
                      bimride::models::LoadSeedEnsembleModel);
