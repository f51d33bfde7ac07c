"""careconnect.settings with channels-redis' pub/sub layer instead of the core one, for
`python -m bench.chat_bench --layer pubsub` (both the real server and the relay use it)."""

from careconnect.settings import *  # noqa: F403
from careconnect.settings import REDIS_URL, SECRET_KEY

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # the same host options as the settings (socket_timeout above the blocking reads)
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "symmetric_encryption_keys": [SECRET_KEY],
        },
    }
}
