"""registration: registration facts (identity code only as a keyed hash) and API idempotency keys

Revision ID: 0020_registration
Revises: 0010_status
Create Date: 2026-11-23 14:06:01.850839
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0020_registration'
down_revision = '0010_status'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registration_idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('locked_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_registration_idempotency_keys_staff_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_idempotency_keys')),
    sa.UniqueConstraint('staff_user_id', 'key', name=op.f('uq_registration_idempotency_keys_staff_user_id_key'))
    )
    with op.batch_alter_table('registration_idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_idempotency_keys_expires_at'), ['expires_at'], unique=False)

    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('national_id_hash', sa.String(length=64), nullable=False),
    sa.Column('masked_national_id', sa.String(length=11), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('given_names', sa.String(length=100), nullable=False),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('street_address', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('eligibility_basis', sa.String(length=40), nullable=False),
    sa.Column('eligibility_note', sa.String(length=500), nullable=False),
    sa.Column('preferred_formats', sa.JSON(), nullable=False),
    sa.Column('guardian_name', sa.String(length=200), nullable=False),
    sa.Column('guardian_contact', sa.String(length=254), nullable=False),
    sa.Column('guardian_consent', sa.Boolean(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_registrations_library_id_libraries')),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_registrations_patron_id_patrons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['staff_users.id'], name=op.f('fk_registrations_registered_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations')),
    sa.UniqueConstraint('national_id_hash', name=op.f('uq_registrations_national_id_hash')),
    sa.UniqueConstraint('patron_id', name=op.f('uq_registrations_patron_id'))
    )

def downgrade() -> None:
    op.drop_table('registrations')
    with op.batch_alter_table('registration_idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_idempotency_keys_expires_at'))

    op.drop_table('registration_idempotency_keys')
