"""the learning loop: labels on real questions, retrain jobs

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03 10:30:00
"""
from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('question_labels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('label_kind', sa.String(length=20), nullable=False),
    sa.Column('intent', sa.String(length=120), nullable=True),
    sa.Column('labelled_by', sa.String(length=200), nullable=False),
    sa.Column('labelled_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_in_model', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('question_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_labels_used_in_model'), ['used_in_model'], unique=False)

    op.create_table('training_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('slot', sa.String(length=20), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('progress_message', sa.Text(), nullable=True),
    sa.Column('include_label_ids', sa.JSON(), nullable=False),
    sa.Column('candidate_version', sa.String(length=120), nullable=True),
    sa.Column('base_version', sa.String(length=120), nullable=True),
    sa.Column('comparison', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slot')
    )


def downgrade() -> None:
    op.drop_table('training_jobs')
    with op.batch_alter_table('question_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_labels_used_in_model'))
    op.drop_table('question_labels')
