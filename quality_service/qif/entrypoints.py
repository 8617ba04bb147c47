"""RPC entrypoints of QIF documents; mixed into QualityService, which provides
`self.uow`, `self.config`, `self._caller()`, `self._part(id)`, `self.material`
and the inspections' `_subject` and `_check_inspector`.

A document travels as the request's text (the gateway takes it as an XML
body, UTF-8); exports answer {filename, content}, which the gateway serves as
a file of that name.
"""
from mes_common import errors
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.contract import qif as schemas
from quality_service.qif import reader, use_cases as qif

STANDARDS_DIR = "../shared/standards"   # the official schemas, beside the checkout (config: STANDARDS_DIR)


class QifEntrypoints:

    def _qif(self, document):
        if not isinstance(document, str) or not document.strip():
            raise errors.ValidationFailed("the body is not a QIF document", {"body": ["an XML document (UTF-8)"]})
        return qif.parse(document, self.config.get("STANDARDS_DIR") or STANDARDS_DIR)

    def _qif_part(self, query, tree):
        """The part a plan import is for: the one named, else the document's model number; 422 if unknown."""
        if query["part_id"] is not None:
            return {**self._part(query["part_id"]), "id": query["part_id"]}
        number = reader.product(tree)["model_number"]
        found = [p for p in self.material.list_parts({"part_number": number, "limit": 5})["items"]
                 if p["part_number"] == number] if number else []
        if not found:
            raise errors.RuleViolated(f"part_id: the document's part {number!r} is not a part of the MES: name one",
                                      {"part_id": [f"no part numbered {number!r}"]})
        return {**found[0], "id": found[0]["id"]}

    @rpc
    def import_qif_plan(self, query, document):
        """Create (or revise as a draft) an inspection plan from a QIF plan; once per document."""
        query, tree = load(schemas.QifPlanImport(), query), self._qif(document)
        with self.uow() as tx:
            again = qif.replayed(tx.session, "plan", tree, query["plan_number"])
        if again is not None:
            return again
        part = self._qif_part(query, tree)
        with self.uow() as tx:
            return qif.import_plan(tx, self._caller(), query, tree, document, part)

    @rpc
    def import_qif_results(self, query, document):
        """An inspection of the lot or serial, with the document's measurements as results; once per document."""
        query, tree = load(schemas.QifResultsImport(), query), self._qif(document)
        caller = self._caller()
        with self.uow() as tx:   # what does not fit is refused before any other service is asked
            again = qif.replayed(tx.session, "results", tree, query["plan_number"])
            if again is not None:
                qif.check_same_subject(tx.session, again, query)
                return again
            plan, instances, _, _ = qif.results_of(tx.session, query, tree)
            plan_part, plan_number = str(plan.part_id), plan.plan_number
        self._check_inspector(caller, plan)
        subject = self._qif_subject(query, instances)
        if str(subject["part_id"]) != plan_part:
            raise errors.RuleViolated(f"plan {plan_number} is for another part than {subject['part_number']}",
                                      {"plan_number": ["a plan of another part"]})
        with self.uow() as tx:
            return qif.import_results(tx, caller, query, tree, document, subject)

    def _qif_subject(self, query, instances):
        """The lot or serial measured: named, else the serial the document's one part names (422 when none)."""
        ids = {"lot_id": query["lot_id"], "serial_id": query["serial_id"], "quantity": None}
        if ids["lot_id"] is None and ids["serial_id"] is None:
            number = instances[0]["serial_number"] if len(instances) == 1 else None
            found = [s for s in self.material.list_serials({"serial_number": number, "limit": 5})["items"]
                     if s["serial_number"] == number] if number else []
            if not found:
                raise errors.RuleViolated("serial_id: name the lot or serial measured (the document names "
                                          f"{'serial ' + number if number else 'none'} the MES knows)",
                                          {"serial_id": ["required: the document names no known serial"]})
            ids["serial_id"] = found[0]["id"]
        try:
            return self._subject(ids)
        except errors.NotFound as exc:
            field = "lot_id" if ids["lot_id"] is not None else "serial_id"
            raise errors.RuleViolated(f"{field}: {exc.message}", {field: [exc.message]}) from None

    @rpc
    def export_qif_plan(self, plan_id):
        """The plan revision as a QIF 3.0 document: {filename, content}."""
        return qif.export_plan(self.uow.session, uuid_arg(plan_id, "plan_id"))

    @rpc
    def export_qif_results(self, inspection_id):
        """The inspection (its plan and results) as a QIF 3.0 document: {filename, content}."""
        return qif.export_inspection(self.uow.session, uuid_arg(inspection_id, "inspection_id"))

    @rpc
    def get_qif_document(self, document_id):
        """An imported document as it came in: {filename, content}."""
        return qif.stored(self.uow.session, uuid_arg(document_id, "document_id"))
