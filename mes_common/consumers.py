"""nameko's consumers, made to survive a broker that goes away mid-delivery.

nameko's QueueConsumer.ack_message/requeue_message only catch amqp's
ConnectionError; a socket error (broker restarted or killed while a worker
ran) escapes into the worker's result handling and kills the whole container,
and an RPC reply that cannot be published does the same. Here a delivery that
cannot be settled is left to the broker, which puts it back on the queue when
the connection dies and redelivers it after the reconnect (the event inbox
skips the repeat). Every MES entrypoint that consumes uses these classes, so
one shared consumer connection serves them all.
"""
import logging

import eventlet

from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.transport.pyamqp import Transport
from nameko.messaging import QueueConsumer
from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER,
                              LOGIN_METHOD_CONFIG_KEY, SERIALIZER_CONFIG_KEY)
from nameko.rpc import ReplyListener, Responder, Rpc, RpcConsumer, get_rpc_exchange

log = logging.getLogger(__name__)

# what settling a delivery raises when its connection is gone
SETTLE_ERRORS = Transport.connection_errors + Transport.channel_errors


class ResilientQueueConsumer(QueueConsumer):

    def _settle(self, what, settle, message):
        try:
            settle(message)
        except SETTLE_ERRORS as exc:
            log.warning("could not %s a delivery (connection lost: %s); the broker redelivers it",
                        what, exc)
            self._reconnect(message)

    def _reconnect(self, message):
        """Make the consuming greenthread drop the dead connection now.

        Its read may wait on the dead socket until a heartbeat is missed (or,
        seen with a half-closed socket under eventlet, for good); raising a
        connection error in it sends kombu's consumer loop through its
        reconnect path, after which the broker redelivers what was unacked.
        Done once per dead connection."""
        transport = getattr(getattr(message.channel, "connection", None), "transport", None)
        if transport is None or transport is getattr(self, "_dropped_transport", None):
            return
        self._dropped_transport = transport
        if self._gt is not None and not self._gt.dead:
            eventlet.kill(self._gt, ConnectionResetError, "connection lost while settling a delivery")

    def ack_message(self, message):
        self._settle("ack", super().ack_message, message)

    def requeue_message(self, message):
        self._settle("requeue", super().requeue_message, message)

    def reject_message(self, message):
        """Refuse without requeue: the queue's dead-letter exchange takes it."""
        self._settle("reject", lambda m: m.reject(requeue=False), message)


class UnconfirmedPublisher(Publisher):
    use_confirms = False


class UnconfirmedResponder(Responder):
    """Replies without a publisher confirm: a reply is only worth something
    before the caller's deadline, which also covers a lost one; the broker
    round trip saved is a third of an RPC's cost."""
    publisher_cls = UnconfirmedPublisher


class ResilientRpcConsumer(RpcConsumer):
    queue_consumer = ResilientQueueConsumer()

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = UnconfirmedResponder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except (*SETTLE_ERRORS, KombuOperationalError) as exc:
            # the reply is lost with the connection; the caller's deadline answers it
            log.warning("could not send an RPC reply (connection lost: %s)", exc)
        self.queue_consumer.ack_message(message)
        return result, exc_info


BROKER_USER = "broker_user"       # worker context: who published the request, as the broker checked it
TRUSTED = "trusted"   # worker context: the call is the platform's own (mes_common.service.Caller.trusted)
BROKER_ORIGIN = "broker_origin"   # worker context: the login the chain of calls started at (mes_common.broker)


class ResilientRpc(Rpc):
    rpc_consumer = ResilientRpcConsumer()

    def setup(self):
        super().setup()
        from mes_common import broker
        self.service_logins = broker.service_logins(self.container.config)

    def handle_result(self, message, worker_ctx, result, exc_info):
        # a read outside a transaction that lost its database answers 503 (retry), like one inside it
        if exc_info is not None:
            from mes_common import errors
            translated = errors.unavailable(exc_info[1])
            if translated is not None and translated is not exc_info[1]:
                exc_info = (type(translated), translated, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)

    def unpack_message_headers(self, message):
        """The call's context, with `broker_user` the publisher's broker login as
        RabbitMQ validated it (the AMQP user-id property: a message claiming
        another user is refused by the broker), never what a header claims. A
        publisher that sets no user-id leaves it unset.

        `broker_origin` is where the chain of calls started: a service's login
        passes on the origin it was called with (a user's request that came in
        through the gateway stays the gateway's when the service calls another),
        every other login is the origin itself; a service's own work (a timer,
        an event) starts at the service."""
        context = super().unpack_message_headers(message)
        passed_on = context.pop(BROKER_ORIGIN, None)
        context.pop(BROKER_USER, None)
        context.pop(TRUSTED, None)   # the receiver decides it (WorkerContext), never a header
        user = message.properties.get("user_id")
        if user:
            context[BROKER_USER] = user
        origin = passed_on if user in self.service_logins and passed_on else user
        if origin:
            context[BROKER_ORIGIN] = origin
        return context


class ResilientReplyListener(ReplyListener):
    queue_consumer = ResilientQueueConsumer()
