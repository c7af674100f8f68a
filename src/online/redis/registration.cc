// The Redis store's one registration line (linked whole through bimride_online_stores).
#include "online/redis/redis_feature_store.h"

BIMRIDE_FEATURE_STORE("redis", ::bimride::online::OpenRedisFeatureStore);
