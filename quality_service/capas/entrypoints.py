"""RPC entrypoints of CAPAs; mixed into QualityService, which provides
`self.uow`, `self._caller()` and the signing helpers of ServiceBase."""
from mes_common import signatures
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.capas import use_cases as capas
from quality_service.contract import capas as schemas


class CapaEntrypoints:

    def _capa_out(self, capa):
        return capas.dump(self.uow.session, capa)

    @rpc
    def open_capa(self, data):
        data = load(schemas.CapaCreate(), data)
        with self.uow() as tx:
            return self._capa_out(capas.create(tx, self._caller(), data))

    @rpc
    def get_capa(self, capa_id):
        return self._capa_out(capas.get(self.uow.session, uuid_arg(capa_id, "capa_id")))

    @rpc
    def list_capas(self, query=None):
        return capas.list_page(self.uow.session, load(schemas.CapaListQuery(), query))

    @rpc
    def update_capa(self, capa_id, changes):
        capa_id, changes = uuid_arg(capa_id, "capa_id"), load(schemas.CapaUpdate(), changes)
        with self.uow() as tx:
            return self._capa_out(capas.update(tx, capa_id, changes))

    @rpc
    def add_capa_action(self, capa_id, data):
        capa_id, data = uuid_arg(capa_id, "capa_id"), load(schemas.ActionCreate(), data)
        with self.uow() as tx:
            return self._capa_out(capas.add_action(tx, capa_id, data))

    @rpc
    def complete_capa_action(self, capa_id, number, data):
        capa_id = uuid_arg(capa_id, "capa_id")
        number = load(schemas.ActionKey(), {"number": number})["number"]
        data = load(schemas.ActionDone(), data)
        with self.uow() as tx:
            return self._capa_out(capas.complete_action(tx, self._caller(), capa_id, number, data["evidence"]))

    @rpc
    def sign_capa_effectiveness(self, capa_id, data):
        """The effectiveness check, signed (verification); effective: ready to close."""
        self._require_signer("a CAPA's effectiveness check")
        capa_id = uuid_arg(capa_id, "capa_id")
        data = self._load_signed(schemas.EffectivenessSign(), data)
        with self.uow() as tx:   # no transaction stays open during the auth service's check
            capas.check_effectiveness_due(tx.session, capa_id, data.get("version"))
        manifest = self._signature(capas.RECORD, capa_id, signatures.VERIFICATION, data.get("signature"))
        with self.uow() as tx:
            capa = capas.sign_effectiveness(tx, capa_id, data.get("version"), data["result"], data["effective"],
                                            manifest)
        return self._capa_out(capa)

    @rpc
    def close_capa(self, capa_id, data=None):
        """Close an effective CAPA, signed (approval)."""
        self._require_signer("a CAPA's closure")
        capa_id = uuid_arg(capa_id, "capa_id")
        data = self._load_signed(schemas.CapaClose(), data)
        with self.uow() as tx:
            capas.check_closable(tx.session, capa_id, data.get("version"))
        manifest = self._signature(capas.RECORD, capa_id, signatures.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            return self._capa_out(capas.close(tx, capa_id, data.get("version"), manifest))

    @rpc
    def cancel_capa(self, capa_id, data):
        capa_id, data = uuid_arg(capa_id, "capa_id"), load(schemas.CapaCancel(), data)
        with self.uow() as tx:
            return self._capa_out(capas.cancel(tx, capa_id, data.get("version"), data["reason"]))
