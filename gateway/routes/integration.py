"""/api/v1/integration: the Integration service's routes (a route table: see
gateway.routing). None yet: the B2MML imports, the message log, endpoints and
webhooks come with issue 16."""
from gateway.routing import Routes
from integration_service import contract

routes = Routes(contract.SERVICE, tags=["integration"], prefix="/api/v1/integration")
