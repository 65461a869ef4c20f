"""units of the federation: the unit tree, their pages and OAs, officers' memberships

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:45:00

Upgrading an existing deployment creates the root unit from the ``ORG_*`` settings of the
environment that runs the upgrade and assigns every existing conversation, ticket and officer to it.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('units',
    sa.Column('id', BigID, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', BigID, nullable=True),
    sa.Column('is_root', sa.Boolean(), nullable=True),
    sa.Column('hotline', sa.String(length=100), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('office_hours', sa.String(length=200), nullable=True),
    sa.Column('fanpage_url', sa.String(length=300), nullable=True),
    sa.Column('zalo_url', sa.String(length=300), nullable=True),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('is_root')
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('unit_accounts',
    sa.Column('id', BigID, nullable=False),
    sa.Column('unit_id', BigID, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('app_id', sa.String(length=100), nullable=True),
    sa.Column('page_access_token', sa.Text(), nullable=True),
    sa.Column('app_secret', sa.Text(), nullable=True),
    sa.Column('verify_token', sa.Text(), nullable=True),
    sa.Column('oa_secret_key', sa.Text(), nullable=True),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('token_expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('public_replies', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_unit_account_channel_external')
    )
    with op.batch_alter_table('unit_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_accounts_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit_members',
    sa.Column('id', BigID, nullable=False),
    sa.Column('officer_id', BigID, nullable=False),
    sa.Column('unit_id', BigID, nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('officer_id', 'unit_id', name='uq_unit_member')
    )
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_members_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_members_unit_id'), ['unit_id'], unique=False)

    # New columns are added in place (ALTER TABLE … ADD COLUMN … REFERENCES): a batch "move and
    # copy" of these tables on SQLite would fire the ON DELETE actions of the rows that refer to them.
    _add_unit_column('conversations')
    op.add_column('conversations', sa.Column('account_external_id', sa.String(length=200), nullable=True))
    op.create_index('ix_conversations_unit_id', 'conversations', ['unit_id'], unique=False)
    op.add_column('inbox_events', sa.Column('unit_id', BigID, nullable=True))
    op.add_column('inbox_events', sa.Column('account_external_id', sa.String(length=200), nullable=True))
    op.add_column('outbox_messages', sa.Column('account_external_id', sa.String(length=200), nullable=True))
    _add_unit_column('tickets')
    op.add_column('tickets', sa.Column('account_external_id', sa.String(length=200), nullable=True))
    op.create_index('ix_tickets_unit_status_due', 'tickets', ['unit_id', 'status', 'due_at'], unique=False)

    _create_root_unit()


def _add_unit_column(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':  # SQLite adds a column with REFERENCES in place, not a constraint
        op.execute(sa.text(f'ALTER TABLE {table} ADD COLUMN unit_id INTEGER REFERENCES units (id)'))
        return
    op.add_column(table, sa.Column('unit_id', BigID, nullable=True))
    op.create_foreign_key(f'fk_{table}_unit_id', table, 'units', ['unit_id'], ['id'])


def _create_root_unit() -> None:
    """The root unit from today's settings; every existing conversation, ticket and officer joins it."""
    from bot.config import Settings

    settings = Settings.load()
    bind = op.get_bind()
    units = sa.table('units', sa.column('id', BigID), sa.column('name'), sa.column('short_name'), sa.column('is_root', sa.Boolean),
                     sa.column('hotline'), sa.column('address'), sa.column('office_hours'), sa.column('fanpage_url'),
                     sa.column('zalo_url'), sa.column('created_at', bot.storage.models.UTCDateTime(timezone=True)))
    bind.execute(units.insert().values(
        name=settings['ORG_NAME'], short_name=settings['ORG_SHORT_NAME'], is_root=True, hotline=settings['HOTLINE'],
        address=settings['ADDRESS'], office_hours=settings['OFFICE_HOURS'], fanpage_url=settings['FANPAGE_URL'] or None,
        zalo_url=settings['ZALO_URL'] or None, created_at=dt.datetime.now(dt.timezone.utc)))
    root_id = bind.execute(sa.select(units.c.id).where(units.c.is_root.is_(True))).scalar_one()
    for name in ('conversations', 'tickets'):
        table = sa.table(name, sa.column('unit_id', BigID))
        bind.execute(table.update().values(unit_id=root_id))
    officers = sa.table('officers', sa.column('id', BigID), sa.column('role'))
    members = sa.table('unit_members', sa.column('officer_id', BigID), sa.column('unit_id', BigID), sa.column('role'),
                       sa.column('created_at', bot.storage.models.UTCDateTime(timezone=True)))
    now = dt.datetime.now(dt.timezone.utc)
    for officer_id, role in bind.execute(sa.select(officers.c.id, officers.c.role)).all():
        bind.execute(members.insert().values(officer_id=officer_id, unit_id=root_id,
                                             role='admin' if role == 'admin' else 'officer', created_at=now))


def downgrade() -> None:
    op.drop_index('ix_tickets_unit_status_due', table_name='tickets')
    op.drop_index('ix_conversations_unit_id', table_name='conversations')
    _drop_columns('tickets', ['unit_id', 'account_external_id'], 'fk_tickets_unit_id')
    _drop_columns('outbox_messages', ['account_external_id'], None)
    _drop_columns('inbox_events', ['unit_id', 'account_external_id'], None)
    _drop_columns('conversations', ['unit_id', 'account_external_id'], 'fk_conversations_unit_id')
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_members_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_members_officer_id'))
    op.drop_table('unit_members')
    with op.batch_alter_table('unit_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_accounts_unit_id'))
    op.drop_table('unit_accounts')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))
    op.drop_table('units')


def _drop_columns(table: str, columns: list[str], fk: str | None) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35+) drops a plain column in place; a column with a REFERENCES clause cannot be
        # dropped that way, and a table copy would fire ON DELETE actions: the schema text is edited.
        for column in columns:
            _sqlite_drop_column(table, column)
        return
    if fk:
        op.drop_constraint(fk, table, type_='foreignkey')
    for column in columns:
        op.drop_column(table, column)


def _sqlite_drop_column(table: str, column: str) -> None:
    op.execute(sa.text(f'ALTER TABLE {table} DROP COLUMN {column}'))
