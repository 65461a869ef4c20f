"""FAQ entries edited in the browser: one row per saved version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00
"""
from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_revisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('takes_effect_on', sa.Date(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reverted_from', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['reverted_from'], ['faq_revisions.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'version', name='uq_faq_revision_version')
    )
    with op.batch_alter_table('faq_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_revisions_entry_id'), ['entry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faq_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_revisions_entry_id'))
    op.drop_table('faq_revisions')
