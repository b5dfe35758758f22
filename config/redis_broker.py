"""kombu's Redis transport, with one guard: a channel whose connection kombu has already released raises the broker's
connection error instead of an AttributeError.

When Redis goes away under load, Celery's consumer first collects the broken connection (which drops the transport's
client) and then closes it; closing the default channel restores the unacknowledged messages of `acks_late` tasks,
which builds a new connection pool from the released client (`Channel._connparams` reads `client.hostname` from None).
Celery takes that AttributeError for an unrecoverable error and the worker exits (issue 23; kombu and Celery 5.7.0,
the newest releases, still do it). As a connection error it is what the close already ignores: the worker reconnects,
and the wakes those messages carried are found again by the sweeper (the database is the queue).
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection was already released")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
