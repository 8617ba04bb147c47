"""/api/v1/integration: the Integration service's routes (a route table: see gateway.routing): B2MML in,
the message log, endpoints and webhooks."""
from gateway.http import document_body
from gateway.routing import Routes
from integration_service import contract
from integration_service.contract import schemas as s

routes = Routes(contract.SERVICE, tags=["integration"], prefix="/api/v1/integration")
READ, WRITE = "integration:read", "integration:write"
XML, B2MML_MAX = "application/xml", 20 * 1024 * 1024
B2MML_ERRORS = (400, 404, 409, 413, 422, 503)


def _receive(call):
    """(the query with the Idempotency-Key header, the document's text)."""
    key = call.request.headers.get("Idempotency-Key")
    return {**(call.payload or {}), **({"idempotency_key": key} if key else {})}, document_body(call.request)


routes.post("/b2mml", "receive_b2mml", query=s.ReceiveQuery, body_media_type=XML, max_body=B2MML_MAX,
            media_type=XML, args=_receive, permission=WRITE, error_codes=B2MML_ERRORS,
            summary="Send a B2MML message (V0600 or V0700): schedules, material, lots, equipment",
            doc="The body is a B2MML document (UTF-8, at most 20 MB), bare or inside a SOAP envelope, an OAGIS BOD or "
                "an MTConnect Assets answer. `ProcessOperationsSchedule` (V0600 `ProcessProductionSchedule`) creates "
                "work orders with their operations, `Change` changes orders not yet released, `Cancel` cancels, "
                "`Sync` makes the MES match; `MaterialDefinition`, `MaterialLot` and `Equipment` likewise; `Get` "
                "answers with `Show`. A V0700 document is checked against the official schema, a V0600 one by its "
                "structure (400 naming the element; a DOCTYPE or an entity is refused and nothing is stored). Every "
                "reference is checked before anything is written: all unknown parts and work centers in one 422. "
                "The answer is B2MML (`Acknowledge`, `Respond` for a Change, `Show` for a Get), its BODID the id of "
                "the message in the log. A message is applied once: by its `Idempotency-Key` header, else by its "
                "verb, noun, sender, BODID and the hash of the body; a repeat answers what the first did.")
routes.get("/messages", "list_messages", query=s.MessageListQuery, response=s.MessagePage, permission=READ,
           summary="Search the message log", doc="Every message in and out, newest first.")
routes.get("/messages/<message_id>", "get_message", response=s.MessageOut, permission=READ,
           summary="A message with its payload, answer and what it touched")
routes.get("/messages/<message_id>/payload", "get_message_payload", media_type=XML, permission=READ,
           summary="The message as it came in or went out (a file)")
routes.post("/messages/<message_id>/replay", "replay_message", response=s.MessageOut, permission=WRITE,
            error_codes=B2MML_ERRORS, summary="Apply a refused inbound message again, or send a parked one again",
            doc="Once the cause is fixed (the missing part created, the endpoint back): an inbound message that was "
                "rejected or failed is applied again; a parked outbound message goes again first in its order.")

# ------------------------------------------------------------ endpoints and webhooks

ENDPOINTS, ENDPOINT = "/endpoints", "/endpoints/<endpoint_id>"
routes.post(ENDPOINTS, "create_endpoint", body=s.EndpointCreate, response=s.EndpointCreated, status=201,
            permission=WRITE, summary="Add an endpoint: an ERP taking B2MML, or a webhook taking MES events",
            doc="A `b2mml` endpoint receives the nouns it lists (`OperationsPerformance`: a work order's performance "
                "when it is completed), in V0700 or V0600, with its auth header. A `webhook` receives the events it "
                "lists as CloudEvents JSON, signed with HMAC-SHA256 (Standard Webhooks headers `webhook-id`, "
                "`webhook-timestamp`, `webhook-signature`); its signing secret is in this answer only. Messages are "
                "sent in order per work order (per event subject), retried with backoff for hours when the "
                "endpoint is down, and parked (shown in the log, replayable) when they keep failing or are "
                "refused (4xx). Secrets are stored encrypted and never shown again.")
routes.get(ENDPOINTS, "list_endpoints", query=s.EndpointListQuery, response=s.EndpointPage, permission=READ,
           summary="List endpoints", doc="With the messages pending and parked of each.")
routes.get(ENDPOINT, "get_endpoint", response=s.EndpointOut, permission=READ, summary="Get an endpoint")
routes.patch(ENDPOINT, "update_endpoint", body=s.EndpointUpdate, response=s.EndpointOut, permission=WRITE,
             summary="Change an endpoint (URL, what it receives, its auth secret, active)")
routes.post(ENDPOINT + "/rotate-secret", "rotate_endpoint_secret", response=s.EndpointCreated, permission=WRITE,
            summary="A new signing secret for a webhook (shown this once)")
