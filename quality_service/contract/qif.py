"""The quality service's contract for QIF 3.0 documents: the query of an
import (the document itself is the request's XML body), and what an import
answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import Relation
from quality_service.contract import INSPECTION_KINDS
from quality_service.contract.common import CODE, TITLE

REVISION = [validate.Length(min=1, max=16)]


class QifPlanImport(Schema):
    plan_number = fields.String(required=True, validate=CODE, metadata={
        "description": "the plan it creates, or revises (a draft revision of a released plan)"})
    part_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "default: the part whose number is the document's Product/Part/ModelNumber"})
    part_revision = fields.String(required=True, validate=REVISION, metadata={"example": "A"})
    title = fields.String(load_default=None, allow_none=True, validate=TITLE,
                          metadata={"description": "default: QIF plan <QPId>"})
    operation_sequence = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1,
                                                                                                      max=99_999))


class QifResultsImport(Schema):
    plan_number = fields.String(required=True, validate=CODE, metadata={
        "description": "the released plan the results are of: matched to its characteristics by balloon, then "
                       "by the QIF item id they were imported from; each MeasurementResults (a part) is a sample"})
    lot_id = fields.UUID(load_default=None, allow_none=True)
    serial_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "what was measured: a lot or a serial (default: the serial the document's ActualComponent "
                       "names)"})
    kind = fields.String(load_default="manual", validate=validate.OneOf(INSPECTION_KINDS))

    @validates_schema
    def _one_subject(self, data, **kwargs):
        if data.get("lot_id") is not None and data.get("serial_id") is not None:
            raise ValidationError(Relation("give a lot or a serial, not both"), "serial_id")


class SkippedOut(Schema):
    designator = fields.String(required=True, allow_none=True)
    type = fields.String(required=True, allow_none=True, metadata={"description": "the QIF characteristic type"})
    external_id = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)


class MismatchOut(Schema):
    characteristic = fields.Integer(required=True)
    sample = fields.Integer(required=True, metadata={"description": "the results instance (part) it is of"})
    file_status = fields.String(required=True, metadata={"description": "what the document says (PASS, FAIL...)"})
    verdict = fields.String(required=True, metadata={"description": "what the MES computed from the values"})


class QifImportOut(Schema):
    document_id = fields.UUID(required=True, metadata={"description": "the document as it came in (GET it back)"})
    kind = fields.String(required=True, validate=validate.OneOf(("plan", "results")))
    qpid = fields.String(required=True)
    replayed = fields.Boolean(required=True, metadata={"description": "this document was imported before: "
                                                                      "nothing applied again"})
    plan_id = fields.UUID(required=True)
    plan_number = fields.String(required=True)
    plan_revision = fields.Integer(required=True)
    inspection_id = fields.UUID(required=True, allow_none=True)
    inspection_number = fields.String(required=True, allow_none=True)
    inspection_status = fields.String(required=True, allow_none=True)
    characteristics = fields.Integer(required=True, metadata={"description": "characteristics imported, or "
                                                                             "measured"})
    results = fields.Integer(metadata={"description": "results recorded: one per characteristic of each results "
                                                     "instance (part), which is a sample"})
    skipped = fields.List(fields.Nested(SkippedOut), required=True, metadata={
        "description": "what the document holds and the MES did not take, and why"})
    mismatches = fields.List(fields.Nested(MismatchOut), required=True, metadata={
        "description": "results whose status in the file differs from the verdict the MES computed"})
