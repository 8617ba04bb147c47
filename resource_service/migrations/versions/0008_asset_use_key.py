"""asset uses keep the idempotency key of the request that recorded them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("asset_use", sa.Column("idempotency_key", sa.String(200)))
    op.create_index("uq_asset_use_request", "asset_use", ["idempotency_key", "asset_id"], unique=True,
                    postgresql_where=sa.text("idempotency_key IS NOT NULL"))


def downgrade():
    op.drop_index("uq_asset_use_request", table_name="asset_use")
    op.drop_column("asset_use", "idempotency_key")
