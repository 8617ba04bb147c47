"""platform tables (outbox, inbox, audit trail, signatures) and the quality records

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import (create_append_only_triggers, create_audit_table, create_platform_tables,
                                   create_signature_table, drop_append_only_function, drop_audit_table,
                                   drop_platform_tables, drop_signature_table, harden_audit_trail,
                                   protect_signed_records, unprotect_signed_records)

SEQUENCES = ("inspection_number_seq", "ncr_number_seq", "capa_number_seq")
APPEND_ONLY = {"inspection_result": "inspection results are corrected by a new result, never changed",
               "status_change": "status history is kept"}
SIGNED = {"inspection_plan": "inspection_plan", "ncr": "ncr", "capa": "capa"}   # table: record type

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    harden_audit_trail(op)
    create_signature_table(op)
    for name in SEQUENCES:
        op.execute(f"CREATE SEQUENCE {name}")
    op.create_table('capa',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('problem', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('root_cause_method', sa.String(length=20), nullable=True),
        sa.Column('whys', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('fishbone_category', sa.String(length=20), nullable=True),
        sa.Column('root_cause', sa.Text(), nullable=True),
        sa.Column('owner_id', sa.UUID(), nullable=True),
        sa.Column('owner_name', sa.String(length=200), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('effectiveness_criteria', sa.Text(), nullable=True),
        sa.Column('effectiveness_result', sa.Text(), nullable=True),
        sa.Column('effective', sa.Boolean(), nullable=True),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number')
    )
    op.create_index('ix_capa_created', 'capa', ['created_at', 'id'], unique=False)
    op.create_table('control_limits',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('characteristic_number', sa.Integer(), nullable=False),
        sa.Column('chart', sa.String(length=10), nullable=False),
        sa.Column('subgroup_size', sa.Integer(), nullable=False),
        sa.Column('limits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('baseline', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('computed_by', sa.String(length=200), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_control_limits_chart',
        'control_limits',
        ['plan_number', 'characteristic_number', 'chart', 'computed_at'],
        unique=False)
    op.create_table('control_point',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('part_id', sa.UUID(), nullable=False),
        sa.Column('part_number', sa.String(length=64), nullable=False),
        sa.Column('part_revision', sa.String(length=16), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('operation_sequence', sa.Integer(), nullable=True),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('gates', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'uq_control_point',
        'control_point',
        ['part_id', sa.literal_column("coalesce(part_revision, '')"), 'kind',
         sa.literal_column('coalesce(operation_sequence, -1)')],
        unique=True,
        postgresql_where=sa.text('active'))
    op.create_table('inspection_plan',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('part_id', sa.UUID(), nullable=False),
        sa.Column('part_number', sa.String(length=64), nullable=False),
        sa.Column('part_revision', sa.String(length=16), nullable=False),
        sa.Column('operation_sequence', sa.Integer(), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('change_note', sa.Text(), nullable=True),
        sa.Column('inspector_skills', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('released_by', sa.String(length=200), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_number', 'revision', name='uq_plan_revision')
    )
    op.create_index('ix_plan_part', 'inspection_plan', ['part_id', 'part_revision'], unique=False)
    op.create_index(
        'uq_plan_one_draft',
        'inspection_plan',
        ['plan_number'],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"))
    op.create_index(
        'uq_plan_one_released',
        'inspection_plan',
        ['plan_number'],
        unique=True,
        postgresql_where=sa.text("status = 'released'"))
    op.create_table('ncr',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('severity', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('part_id', sa.UUID(), nullable=False),
        sa.Column('part_number', sa.String(length=64), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column('work_order_id', sa.UUID(), nullable=True),
        sa.Column('work_order_number', sa.String(length=64), nullable=True),
        sa.Column('operation_id', sa.UUID(), nullable=True),
        sa.Column('operation_sequence', sa.Integer(), nullable=True),
        sa.Column('inspection_id', sa.UUID(), nullable=True),
        sa.Column('inspection_number', sa.String(length=32), nullable=True),
        sa.Column('supplier', sa.String(length=200), nullable=True),
        sa.Column('characteristics', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('defect_codes', sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column('containment', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('trigger_key', sa.String(length=200), nullable=True),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity > 0', name='ck_ncr_quantity'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('trigger_key')
    )
    op.create_index('ix_ncr_created', 'ncr', ['created_at', 'id'], unique=False)
    op.create_index('ix_ncr_part', 'ncr', ['part_id'], unique=False)
    op.create_index('ix_ncr_status_created', 'ncr', ['status', 'created_at', 'id'], unique=False)
    op.create_table('sampling_state',
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('characteristic_number', sa.Integer(), nullable=False),
        sa.Column('stream', sa.String(length=200), nullable=False),
        sa.Column('severity', sa.String(length=20), nullable=False),
        sa.Column('recent', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('rejected_on_tightened', sa.Integer(), nullable=False),
        sa.Column('discontinued', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('plan_number', 'characteristic_number', 'stream')
    )
    op.create_table('spc_violation',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('characteristic_number', sa.Integer(), nullable=False),
        sa.Column('chart', sa.String(length=10), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('point_key', sa.String(length=100), nullable=False),
        sa.Column('value', sa.Numeric(), nullable=False),
        sa.Column('detected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('ncr_id', sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint(
            'plan_number',
            'characteristic_number',
            'chart',
            'rule',
            'point_key',
            name='uq_spc_violation')
    )
    op.create_index(
        'ix_spc_violation_detected',
        'spc_violation',
        ['plan_number', 'characteristic_number', 'detected_at'],
        unique=False)
    op.create_table('status_change',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.UUID(), nullable=False),
        sa.Column('from_status', sa.String(length=40), nullable=True),
        sa.Column('to_status', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_status_change_record', 'status_change', ['record_type', 'record_id', 'id'], unique=False)
    op.create_table('capa_action',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('capa_id', sa.UUID(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.UUID(), nullable=True),
        sa.Column('owner_name', sa.String(length=200), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('capa_id', 'number', name='uq_capa_action_number')
    )
    op.create_table('capa_ncr',
        sa.Column('capa_id', sa.UUID(), nullable=False),
        sa.Column('ncr_id', sa.UUID(), nullable=False),
        sa.Column('ncr_number', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ncr_id'], ['ncr.id'], ),
        sa.PrimaryKeyConstraint('capa_id', 'ncr_id')
    )
    op.create_table('characteristic',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('plan_id', sa.UUID(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('criticality', sa.String(length=20), nullable=False),
        sa.Column('nominal', sa.Numeric(), nullable=True),
        sa.Column('lower_tolerance', sa.Numeric(), nullable=True),
        sa.Column('upper_tolerance', sa.Numeric(), nullable=True),
        sa.Column('unit', sa.String(length=40), nullable=True),
        sa.Column('gauge_type', sa.String(length=100), nullable=True),
        sa.Column('sampling', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('subgroup_size', sa.Integer(), nullable=False),
        sa.Column('spc', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['plan_id'], ['inspection_plan.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'number', name='uq_characteristic_number')
    )
    op.create_table('inspection',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('plan_id', sa.UUID(), nullable=False),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('plan_revision', sa.Integer(), nullable=False),
        sa.Column('control_point_id', sa.UUID(), nullable=True),
        sa.Column('part_id', sa.UUID(), nullable=False),
        sa.Column('part_number', sa.String(length=64), nullable=False),
        sa.Column('lot_id', sa.UUID(), nullable=True),
        sa.Column('lot_number', sa.String(length=64), nullable=True),
        sa.Column('serial_id', sa.UUID(), nullable=True),
        sa.Column('serial_number', sa.String(length=100), nullable=True),
        sa.Column('work_order_id', sa.UUID(), nullable=True),
        sa.Column('work_order_number', sa.String(length=64), nullable=True),
        sa.Column('operation_id', sa.UUID(), nullable=True),
        sa.Column('operation_sequence', sa.Integer(), nullable=True),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('supplier', sa.String(length=200), nullable=True),
        sa.Column('trigger_key', sa.String(length=200), nullable=True),
        sa.Column('opened_by', sa.String(length=200), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('ncr_id', sa.UUID(), nullable=True),
        sa.Column('ncr_number', sa.String(length=32), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['inspection_plan.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('trigger_key')
    )
    op.create_index('ix_inspection_lot', 'inspection', ['lot_id'], unique=False)
    op.create_index('ix_inspection_opened', 'inspection', ['opened_at', 'id'], unique=False)
    op.create_index('ix_inspection_operation', 'inspection', ['operation_id'], unique=False)
    op.create_index('ix_inspection_status_opened', 'inspection', ['status', 'opened_at', 'id'], unique=False)
    op.create_table('ncr_item',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('ncr_id', sa.UUID(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('target_type', sa.String(length=10), nullable=False),
        sa.Column('target_id', sa.UUID(), nullable=False),
        sa.Column('target_number', sa.String(length=100), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column('hold_id', sa.UUID(), nullable=True),
        sa.Column('hold_status', sa.String(length=20), nullable=False),
        sa.Column('hold_changed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ncr_id'], ['ncr.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ncr_id', 'target_type', 'target_id', name='uq_ncr_item')
    )
    op.create_index('ix_ncr_item_target', 'ncr_item', ['target_type', 'target_id'], unique=False)
    op.create_table('inspection_item',
        sa.Column('inspection_id', sa.UUID(), nullable=False),
        sa.Column('characteristic_id', sa.UUID(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('sample_size', sa.Integer(), nullable=False),
        sa.Column('accept', sa.Integer(), nullable=False),
        sa.Column('reject', sa.Integer(), nullable=False),
        sa.Column('severity', sa.String(length=20), nullable=True),
        sa.Column('code_letter', sa.String(length=1), nullable=True),
        sa.Column('measured', sa.Integer(), nullable=False),
        sa.Column('nonconforming', sa.Integer(), nullable=False),
        sa.Column('verdict', sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(['characteristic_id'], ['characteristic.id'], ),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('inspection_id', 'characteristic_id')
    )
    op.create_table('inspection_result',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('inspection_id', sa.UUID(), nullable=False),
        sa.Column('characteristic_id', sa.UUID(), nullable=False),
        sa.Column('plan_number', sa.String(length=64), nullable=False),
        sa.Column('characteristic_number', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sample', sa.Integer(), nullable=False),
        sa.Column('value', sa.Numeric(), nullable=True),
        sa.Column('entered_value', sa.Numeric(), nullable=True),
        sa.Column('entered_unit', sa.String(length=40), nullable=True),
        sa.Column('passed', sa.Boolean(), nullable=True),
        sa.Column('defects', sa.Integer(), nullable=True),
        sa.Column('conforming', sa.Boolean(), nullable=False),
        sa.Column('gauge_id', sa.UUID(), nullable=True),
        sa.Column('gauge_number', sa.String(length=64), nullable=True),
        sa.Column('inspector_id', sa.UUID(), nullable=True),
        sa.Column('inspector', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.CheckConstraint('sample >= 1', name='ck_result_sample'),
        sa.ForeignKeyConstraint(['characteristic_id'], ['characteristic.id'], ),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('inspection_id', 'characteristic_id', 'sample', name='uq_result_sample')
    )
    op.create_index(
        'ix_result_chart',
        'inspection_result',
        ['plan_number', 'characteristic_number', 'opened_at', 'inspection_id', 'sample'],
        unique=False)
    op.create_table('ncr_disposition',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('ncr_id', sa.UUID(), nullable=False),
        sa.Column('item_id', sa.UUID(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column('justification', sa.Text(), nullable=True),
        sa.Column('customer_approval', sa.String(length=200), nullable=True),
        sa.Column('instructions', sa.Text(), nullable=True),
        sa.Column('effect_status', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['ncr_item.id'], ),
        sa.ForeignKeyConstraint(['ncr_id'], ['ncr.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
    )
    for table, hint in APPEND_ONLY.items():
        create_append_only_triggers(op, table, "quality record", hint)
    for table, record_type in SIGNED.items():
        protect_signed_records(op, table, record_type)

def downgrade():
    for table in SIGNED:
        unprotect_signed_records(op, table)
    op.drop_table('ncr_disposition')
    op.drop_index('ix_result_chart', table_name='inspection_result')
    op.drop_table('inspection_result')
    op.drop_table('inspection_item')
    op.drop_index('ix_ncr_item_target', table_name='ncr_item')
    op.drop_table('ncr_item')
    op.drop_index('ix_inspection_status_opened', table_name='inspection')
    op.drop_index('ix_inspection_operation', table_name='inspection')
    op.drop_index('ix_inspection_opened', table_name='inspection')
    op.drop_index('ix_inspection_lot', table_name='inspection')
    op.drop_table('inspection')
    op.drop_table('characteristic')
    op.drop_table('capa_ncr')
    op.drop_table('capa_action')
    op.drop_index('ix_status_change_record', table_name='status_change')
    op.drop_table('status_change')
    op.drop_index('ix_spc_violation_detected', table_name='spc_violation')
    op.drop_table('spc_violation')
    op.drop_table('sampling_state')
    op.drop_index('ix_ncr_status_created', table_name='ncr')
    op.drop_index('ix_ncr_part', table_name='ncr')
    op.drop_index('ix_ncr_created', table_name='ncr')
    op.drop_table('ncr')
    op.drop_index('uq_plan_one_released', table_name='inspection_plan', postgresql_where=sa.text("status = 'released'"))
    op.drop_index('uq_plan_one_draft', table_name='inspection_plan', postgresql_where=sa.text("status = 'draft'"))
    op.drop_index('ix_plan_part', table_name='inspection_plan')
    op.drop_table('inspection_plan')
    op.drop_index('uq_control_point', table_name='control_point', postgresql_where=sa.text('active'))
    op.drop_table('control_point')
    op.drop_index('ix_control_limits_chart', table_name='control_limits')
    op.drop_table('control_limits')
    op.drop_index('ix_capa_created', table_name='capa')
    op.drop_table('capa')
    for table in APPEND_ONLY:
        drop_append_only_function(op, table)
    for name in SEQUENCES:
        op.execute(f"DROP SEQUENCE {name}")
    drop_signature_table(op)
    drop_audit_table(op)
    drop_platform_tables(op)
