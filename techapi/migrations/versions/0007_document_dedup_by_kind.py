"""the same bytes are one document per kind (a POA may be the photo's bytes)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('uq_documents_job_original')
        batch_op.create_index('uq_documents_job_kind_original', ['service_job_id', 'kind', 'original_sha256'],
                              unique=True)


def downgrade() -> None:
    # Fails if a job holds the same bytes as a PHOTO and a POA: remove one first.
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('uq_documents_job_kind_original')
        batch_op.create_index('uq_documents_job_original', ['service_job_id', 'original_sha256'], unique=True)
