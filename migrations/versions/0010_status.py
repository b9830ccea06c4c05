"""status: maintenance windows, incidents, their timelines, subscriptions, patrons' notice opt-outs

Revision ID: 0010_status
Revises: 0005_circulation
Create Date: 2026-11-23 14:11:24.103694
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0010_status'
down_revision = '0005_circulation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('impact', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('component_statuses', sa.JSON(), nullable=False),
    sa.Column('reads_open', sa.Boolean(), nullable=False),
    sa.Column('expected_end', app.db.UTCDateTime(), nullable=True),
    sa.Column('started_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('monitoring_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_incidents'))
    )
    with op.batch_alter_table('status_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_incidents_status'), ['status'], unique=False)

    op.create_table('status_maintenances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('scheduled_for', app.db.UTCDateTime(), nullable=False),
    sa.Column('scheduled_until', app.db.UTCDateTime(), nullable=False),
    sa.Column('reads_open', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('completed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('advance_sent_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('reminder_sent_for', app.db.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_maintenances')),
    sa.UniqueConstraint('uid', name=op.f('uq_status_maintenances_uid'))
    )
    with op.batch_alter_table('status_maintenances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_maintenances_scheduled_for'), ['scheduled_for'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_maintenances_scheduled_until'), ['scheduled_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_maintenances_state'), ['state'], unique=False)

    op.create_table('status_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('confirmed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('unsubscribed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_subscriptions')),
    sa.UniqueConstraint('email', name=op.f('uq_status_subscriptions_email'))
    )
    op.create_table('status_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('maintenance_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('bodies', sa.JSON(), nullable=False),
    sa.Column('display_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('auto_key', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['status_incidents.id'], name=op.f('fk_status_updates_incident_id_status_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['maintenance_id'], ['status_maintenances.id'], name=op.f('fk_status_updates_maintenance_id_status_maintenances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_updates')),
    sa.UniqueConstraint('auto_key', name=op.f('uq_status_updates_auto_key'))
    )
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_updates_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_updates_maintenance_id'), ['maintenance_id'], unique=False)

    op.create_table('status_notice_optouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_status_notice_optouts_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_notice_optouts')),
    sa.UniqueConstraint('patron_id', name=op.f('uq_status_notice_optouts_patron_id'))
    )


def downgrade() -> None:
    op.drop_table('status_notice_optouts')
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_updates_maintenance_id'))
        batch_op.drop_index(batch_op.f('ix_status_updates_incident_id'))
    op.drop_table('status_updates')
    op.drop_table('status_subscriptions')
    with op.batch_alter_table('status_maintenances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_maintenances_state'))
        batch_op.drop_index(batch_op.f('ix_status_maintenances_scheduled_until'))
        batch_op.drop_index(batch_op.f('ix_status_maintenances_scheduled_for'))
    op.drop_table('status_maintenances')
    with op.batch_alter_table('status_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_incidents_status'))
    op.drop_table('status_incidents')
