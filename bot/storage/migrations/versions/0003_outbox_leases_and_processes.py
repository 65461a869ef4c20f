"""outbox leases name their owner; live processes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:10:00
"""
from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processes',
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('owner')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')
    op.drop_table('processes')
