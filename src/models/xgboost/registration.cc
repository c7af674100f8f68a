// Registers the XGBoost backend (linked whole through bimride_model_backends).
#include "models/model.h"
#include "models/xgboost/xgboost_model.h"

BIMRIDE_MODEL_BACKEND("xgboost", bimride::models::xgboost_backend::LoadXgboostModel);
