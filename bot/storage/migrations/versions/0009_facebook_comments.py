"""fanpage comments: ids, decision and reply state per comment

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:50:00
"""
from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facebook_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('comment_id', sa.String(length=200), nullable=False),
    sa.Column('page_id', sa.String(length=200), nullable=False),
    sa.Column('post_id', sa.String(length=200), nullable=True),
    sa.Column('parent_id', sa.String(length=200), nullable=True),
    sa.Column('permalink', sa.String(length=500), nullable=True),
    sa.Column('created_time', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('private_reply', sa.String(length=20), nullable=False),
    sa.Column('private_error', sa.Text(), nullable=True),
    sa.Column('public_reply', sa.String(length=20), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=True),
    sa.Column('messenger_psid', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('comment_id')
    )
    with op.batch_alter_table('facebook_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facebook_comments_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('facebook_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facebook_comments_ticket_id'))
    op.drop_table('facebook_comments')
