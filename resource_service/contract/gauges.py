"""The resource service's contract for gauges and tools (physical assets with
calibration, AS9100 7.1.5): RPC input and output schemas, also the gateway's."""
from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from mes_common.schemas import NO_NUL, PageQuery, UtcDateTime, absent, page_schema, present
from resource_service.contract.schemas import CODE

KINDS = ("gauge", "tool")
STATUSES = ("in_service", "due", "overdue", "out_for_calibration", "quarantined", "retired")
SET_BY_PEOPLE = ("in_service", "out_for_calibration", "quarantined", "retired")
RESULTS = ("pass", "fail")
ASSET_NUMBER = [validate.Length(min=1, max=64), CODE]


def _interval(unit, example):
    return fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=100_000),
                          metadata={"description": f"calibrate every this many {unit} (null: not by {unit})",
                                    "example": example})


class AssetCreate(Schema):
    asset_number = fields.String(required=True, validate=ASSET_NUMBER, metadata={"example": "TW-0042"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "gauge: measuring and test equipment; tool: a production tool"})
    type = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL],
                         metadata={"example": "torque wrench 2-20 N·m"})
    description = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    location_id = fields.UUID(load_default=None, allow_none=True,
                              metadata={"description": "where it is kept: a node of the equipment hierarchy"})
    calibration_interval_days = _interval("days", 180)
    calibration_interval_uses = _interval("uses", None)
    due_warning_days = fields.Integer(load_default=14, strict=True, validate=validate.Range(min=0, max=365),
                                      metadata={"description": "it is `due` this many days before its last "
                                                               "usable day"})
    last_calibrated_on = fields.Date(load_default=None, allow_none=True)
    next_due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "its last usable day (from its current certificate); required with a calibration "
                       "interval in days"})

    openapi_extra = {"anyOf": [absent("calibration_interval_days"), present("next_due_on")]}

    @validates_schema
    def _due_date(self, data, **kwargs):
        if data.get("calibration_interval_days") and data.get("next_due_on") is None:
            raise ValidationError("required with calibration_interval_days (the current certificate's due date)",
                                  "next_due_on")


class AssetUpdate(Schema):
    type = fields.String(validate=[validate.Length(min=1, max=100), NO_NUL])
    description = fields.String(allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    location_id = fields.UUID(allow_none=True)
    calibration_interval_days = _interval("days", 180)
    calibration_interval_uses = _interval("uses", 500)
    due_warning_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=365))
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the asset is at this version"})


class AssetStatusChange(Schema):
    status = fields.String(required=True, validate=validate.OneOf(SET_BY_PEOPLE), metadata={
        "description": "out_for_calibration, quarantined or retired (final); in_service ends a quarantine or "
                       "an outing when its calibration is current (a calibration does it otherwise)"})
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), NO_NUL])


class CalibrationRecord(Schema):
    calibrated_on = fields.Date(required=True, metadata={"description": "not in the future"})
    as_found = fields.String(required=True, validate=validate.OneOf(RESULTS), metadata={
        "description": "fail: it was out of tolerance when it came in; every use since its last good "
                       "calibration becomes suspect"})
    as_left = fields.String(required=True, validate=validate.OneOf(RESULTS), metadata={
        "description": "pass: back in service; fail: quarantined"})
    certificate_number = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL],
                                       metadata={"example": "CAL-2026-0815"})
    lab = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL],
                        metadata={"example": "Metrology lab, Toulouse (ISO/IEC 17025)"})
    next_due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "its last usable day; default: calibrated_on plus the interval in days"})
    notes = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), NO_NUL])


class AssetOut(Schema):
    id = fields.UUID(required=True)
    asset_number = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    type = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    location_id = fields.UUID(required=True, allow_none=True)
    location_code = fields.String(required=True, allow_none=True)
    calibration_interval_days = fields.Integer(required=True, allow_none=True)
    calibration_interval_uses = fields.Integer(required=True, allow_none=True)
    due_warning_days = fields.Integer(required=True)
    last_calibrated_on = fields.Date(required=True, allow_none=True)
    next_due_on = fields.Date(required=True, allow_none=True, metadata={"description": "last usable day"})
    uses_since_calibration = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_reason = fields.String(required=True, allow_none=True)
    usable = fields.Boolean(required=True, metadata={"description": "may be used today"})
    problem = fields.String(required=True, allow_none=True, metadata={"description": "why not, naming the due date"})
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AssetListQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    location_id = fields.UUID()
    due_within_days = fields.Integer(validate=validate.Range(min=0, max=3650), metadata={
        "description": "those whose last usable day is at most this many days away (or past), soonest first"})


AssetPage = page_schema(AssetOut, "AssetPage")


class CalibrationOut(Schema):
    id = fields.UUID(required=True)
    asset_id = fields.UUID(required=True)
    calibrated_on = fields.Date(required=True)
    as_found = fields.String(required=True)
    as_left = fields.String(required=True)
    certificate_number = fields.String(required=True, allow_none=True)
    lab = fields.String(required=True, allow_none=True)
    next_due_on = fields.Date(required=True, allow_none=True)
    notes = fields.String(required=True, allow_none=True)
    suspect_since = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "as found failed: uses from this time (its last good calibration) are suspect"})
    suspect_uses = fields.Integer(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)


CalibrationPage = page_schema(CalibrationOut, "CalibrationPage")


class AssetUseRecord(Schema):
    """Uses of assets on one piece of work: all are fit for use and recorded, or none is."""
    asset_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=20),
                            metadata={"uniqueItems": True})
    work_order_id = fields.UUID(load_default=None, allow_none=True)
    work_order_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    operation_id = fields.UUID(load_default=None, allow_none=True)
    operation_sequence = fields.Integer(load_default=None, allow_none=True, strict=True)
    inspection_id = fields.UUID(load_default=None, allow_none=True)
    user_id = fields.UUID(load_default=None, allow_none=True)
    used_by = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    idempotency_key = fields.String(load_default=None, allow_none=True,
                                    validate=[validate.Length(min=1, max=200), NO_NUL], metadata={
                                        "description": "the same key again answers the uses it recorded and "
                                                       "records none (a retried start counts its tools once)"})

    @validates_schema
    def _distinct(self, data, **kwargs):
        if len(set(data["asset_ids"])) != len(data["asset_ids"]):
            raise ValidationError("each asset once", "asset_ids")


class AssetUseOut(Schema):
    id = fields.UUID(required=True)
    asset_id = fields.UUID(required=True)
    used_at = fields.DateTime(required=True)
    work_order_id = fields.UUID(required=True, allow_none=True)
    work_order_number = fields.String(required=True, allow_none=True)
    operation_id = fields.UUID(required=True, allow_none=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    inspection_id = fields.UUID(required=True, allow_none=True)
    user_id = fields.UUID(required=True, allow_none=True)
    used_by = fields.String(required=True)


AssetUsePage = page_schema(AssetUseOut, "AssetUsePage")


class AssetUseQuery(PageQuery):
    since = UtcDateTime(metadata={"description": "uses at or after this time"})
