"""The resource service's contract for skills and qualifications (AS9100 7.2):
RPC input and output schemas, also the gateway's HTTP schemas."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from mes_common.schemas import Boolean, NO_NUL, PageQuery, page_schema
from resource_service.contract.schemas import MAX_LEVELS, SKILL_CODE, SkillRequirement

QUALIFICATION_STATUSES = ("active", "superseded", "revoked", "expired")
VALIDITIES = ("valid", "expiring", "expired")
LEVEL_NAME = fields.String(validate=[validate.Length(min=1, max=60), NO_NUL])


class SkillKey(Schema):
    code = fields.String(required=True, validate=SKILL_CODE)


class SkillCreate(Schema):
    code = fields.String(required=True, validate=SKILL_CODE, metadata={"example": "TORQUE"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL],
                         metadata={"example": "Torque tightening of threaded fasteners"})
    description = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    levels = fields.List(LEVEL_NAME, load_default=lambda: ["qualified"],
                         validate=validate.Length(min=1, max=MAX_LEVELS), metadata={
                             "description": "level names, lowest first: level 1 is the first",
                             "example": ["trainee", "qualified", "trainer"], "uniqueItems": True})
    recertification_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                          validate=validate.Range(min=1, max=3650), metadata={
                                              "description": "a qualification lasts this many days at most "
                                                             "(null: until revoked)", "example": 365})

    @validates("levels")
    def _distinct(self, levels, **kwargs):
        if len(set(levels)) != len(levels):
            raise ValidationError("level names must differ")


class SkillUpdate(Schema):
    name = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    description = fields.String(allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    levels = fields.List(LEVEL_NAME, validate=validate.Length(min=1, max=MAX_LEVELS), metadata={
        "description": "renames levels or adds higher ones; a level held or required cannot go",
        "uniqueItems": True})
    recertification_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=3650),
                                          metadata={"description": "for qualifications granted from now on"})
    active = Boolean(metadata={"description": "an inactive skill is granted no more; held ones stay"})
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the skill is at this version"})

    _distinct = SkillCreate._distinct


class SkillOut(Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    levels = fields.List(fields.String(), required=True)
    recertification_days = fields.Integer(required=True, allow_none=True)
    active = Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SkillListQuery(PageQuery):
    active = Boolean()


SkillPage = page_schema(SkillOut, "SkillPage")


class QualificationGrant(Schema):
    user_id = fields.UUID(required=True, metadata={"description": "a user of the auth service"})
    skill = fields.String(required=True, validate=SKILL_CODE, metadata={"example": "TORQUE"})
    level = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=MAX_LEVELS))
    certified_on = fields.Date(required=True, metadata={"description": "the day of the certification "
                                                                       "(not in the future)"})
    expires_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "the last day it is valid; default and latest: certified_on plus the skill's "
                       "re-certification interval"})
    certificate_ref = fields.String(load_default=None, allow_none=True,
                                    validate=[validate.Length(max=100), NO_NUL], metadata={"example": "CERT-2026-114"})
    assessor = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL],
                             metadata={"description": "the trainer or assessor who certified", "example": "J. Okafor"})


class QualificationRevoke(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), NO_NUL])


class QualificationOut(Schema):
    id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    user_name = fields.String(required=True)
    skill = fields.String(required=True, attribute="skill.code")
    skill_name = fields.String(required=True, attribute="skill.name")
    level = fields.Integer(required=True)
    level_name = fields.String(required=True)
    certified_on = fields.Date(required=True)
    expires_on = fields.Date(required=True, allow_none=True, metadata={"description": "valid through this day"})
    certificate_ref = fields.String(required=True, allow_none=True)
    assessor = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(QUALIFICATION_STATUSES))
    granted_by = fields.String(required=True)
    granted_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True)
    ended_by = fields.String(required=True, allow_none=True)
    end_reason = fields.String(required=True, allow_none=True)


class QualificationListQuery(PageQuery):
    user_id = fields.UUID()
    skill = fields.String(validate=SKILL_CODE)
    status = fields.String(validate=validate.OneOf(QUALIFICATION_STATUSES),
                           metadata={"description": "default: every status"})
    expiring_within_days = fields.Integer(validate=validate.Range(min=0, max=3650), metadata={
        "description": "active ones whose last valid day is at most this many days away (0: today), "
                       "soonest first"})


QualificationPage = page_schema(QualificationOut, "QualificationPage")


class MatrixQuery(Schema):
    work_center_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "the skills its released routings' operations require (default: every active skill)"})
    expiring_within_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650),
                                          metadata={"description": "a valid cell this close to expiry says so"})


class MatrixCell(Schema):
    level = fields.Integer(required=True)
    level_name = fields.String(required=True)
    expires_on = fields.Date(required=True, allow_none=True)
    validity = fields.String(required=True, validate=validate.OneOf(VALIDITIES))


class MatrixRow(Schema):
    user_id = fields.UUID(required=True)
    user_name = fields.String(required=True)
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(MatrixCell), required=True,
                        metadata={"description": "by skill code; a skill the person does not hold is absent"})


class MatrixSkill(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    levels = fields.List(fields.String(), required=True)
    min_level = fields.Integer(required=True, allow_none=True,
                               metadata={"description": "the highest level the work center's operations require"})
    qualified = fields.Integer(required=True, metadata={"description": "people valid at min_level (or any)"})


class Matrix(Schema):
    as_of = fields.Date(required=True)
    work_center_id = fields.UUID(required=True, allow_none=True)
    skills = fields.List(fields.Nested(MatrixSkill), required=True)
    people = fields.List(fields.Nested(MatrixRow), required=True)


class QualificationCheck(Schema):
    """Whether a person may do work needing `requirements` today."""
    user_id = fields.UUID(required=True)
    requirements = fields.List(fields.Nested(SkillRequirement), required=True,
                               validate=validate.Length(max=50))


class Shortfall(Schema):
    skill = fields.String(required=True)
    level_required = fields.Integer(required=True)
    problem = fields.String(required=True, validate=validate.OneOf(("not_qualified", "expired", "below_level")))
    level_held = fields.Integer()
    expired_on = fields.Date()
    expires_on = fields.Date(allow_none=True)
    message = fields.String(required=True)


class QualificationCheckOut(Schema):
    user_id = fields.UUID(required=True)
    qualified = Boolean(required=True)
    shortfalls = fields.List(fields.Nested(Shortfall), required=True)
