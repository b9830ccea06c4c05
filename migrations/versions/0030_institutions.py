"""institutions: applications, applicant links, messages, documents, institution accounts

Revision ID: 0030_institutions
Revises: 0020_registration
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0030_institutions'
down_revision = '0020_registration'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('institution_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('business_id', sa.String(length=9), nullable=False),
    sa.Column('street_address', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('rp_given_names', sa.String(length=100), nullable=False),
    sa.Column('rp_surname', sa.String(length=100), nullable=False),
    sa.Column('rp_national_id_hash', sa.String(length=64), nullable=False),
    sa.Column('rp_national_id_masked', sa.String(length=11), nullable=False),
    sa.Column('rp_birth_date', sa.Date(), nullable=False),
    sa.Column('rp_email', sa.String(length=254), nullable=False),
    sa.Column('rp_phone', sa.String(length=40), nullable=False),
    sa.Column('consent_text_version', sa.String(length=20), nullable=False),
    sa.Column('consent_given_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claim_expires_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('information_requested_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('paused_business_days', sa.Integer(), nullable=False),
    sa.Column('decided_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('processing_business_days', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['staff_users.id'], name=op.f('fk_institution_applications_claimed_by_id_staff_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_users.id'], name=op.f('fk_institution_applications_decided_by_id_staff_users')),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_institution_applications_patron_id_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_applications'))
    )
    with op.batch_alter_table('institution_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_applications_business_id'), ['business_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_applications_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_applications_rp_national_id_hash'), ['rp_national_id_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_applications_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_applications_submitted_at'), ['submitted_at'], unique=False)
    op.create_table('institution_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.String(length=9), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('street_address', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('rp_name', sa.String(length=200), nullable=False),
    sa.Column('rp_national_id_hash', sa.String(length=64), nullable=False),
    sa.Column('rp_national_id_masked', sa.String(length=11), nullable=False),
    sa.Column('rp_birth_date', sa.Date(), nullable=False),
    sa.Column('rp_email', sa.String(length=254), nullable=False),
    sa.Column('rp_phone', sa.String(length=40), nullable=False),
    sa.Column('responsible_patron_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['institution_applications.id'], name=op.f('fk_institution_accounts_application_id_institution_applications')),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_institution_accounts_patron_id_patrons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_patron_id'], ['patrons.id'], name=op.f('fk_institution_accounts_responsible_patron_id_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_accounts')),
    sa.UniqueConstraint('application_id', name=op.f('uq_institution_accounts_application_id')),
    sa.UniqueConstraint('patron_id', name=op.f('uq_institution_accounts_patron_id'))
    )
    with op.batch_alter_table('institution_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_accounts_business_id'), ['business_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_accounts_rp_national_id_hash'), ['rp_national_id_hash'], unique=False)
    op.create_table('institution_applicant_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['institution_applications.id'], name=op.f('fk_institution_applicant_links_application_id_institution_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_applicant_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_institution_applicant_links_token_hash'))
    )
    with op.batch_alter_table('institution_applicant_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_applicant_links_application_id'), ['application_id'], unique=False)
    op.create_table('institution_application_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['institution_applications.id'], name=op.f('fk_institution_application_documents_application_id_institution_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_application_documents')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_institution_application_documents_storage_key'))
    )
    with op.batch_alter_table('institution_application_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_application_documents_application_id'), ['application_id'], unique=False)
    op.create_table('institution_application_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['institution_applications.id'], name=op.f('fk_institution_application_messages_application_id_institution_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_institution_application_messages_staff_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_application_messages'))
    )
    with op.batch_alter_table('institution_application_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_application_messages_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('institution_application_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_application_messages_application_id'))
    op.drop_table('institution_application_messages')
    with op.batch_alter_table('institution_application_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_application_documents_application_id'))
    op.drop_table('institution_application_documents')
    with op.batch_alter_table('institution_applicant_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_applicant_links_application_id'))
    op.drop_table('institution_applicant_links')
    with op.batch_alter_table('institution_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_accounts_rp_national_id_hash'))
        batch_op.drop_index(batch_op.f('ix_institution_accounts_business_id'))
    op.drop_table('institution_accounts')
    with op.batch_alter_table('institution_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_applications_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_institution_applications_state'))
        batch_op.drop_index(batch_op.f('ix_institution_applications_rp_national_id_hash'))
        batch_op.drop_index(batch_op.f('ix_institution_applications_decided_at'))
        batch_op.drop_index(batch_op.f('ix_institution_applications_business_id'))
    op.drop_table('institution_applications')
