"""Events the Integration service publishes."""
MESSAGE_PARKED = "mes.integration.message.parked"   # an outbound message kept failing: data {id, endpoint_id, kind,
                                                    # noun, order_key, attempts, error}
EVENT_TYPES = (MESSAGE_PARKED,)
