"""reservations: time off and other reservations of a store's capacity

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reservations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=100), nullable=False),
        sa.Column('technician_id', sa.String(length=50), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notes', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('spapi_reservation_id', sa.String(length=100), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reservations_store_start', 'reservations', ['store_id', 'start'])
    op.create_index('ix_reservations_technician_start', 'reservations', ['technician_id', 'start'])


def downgrade() -> None:
    op.drop_index('ix_reservations_technician_start', table_name='reservations')
    op.drop_index('ix_reservations_store_start', table_name='reservations')
    op.drop_table('reservations')
