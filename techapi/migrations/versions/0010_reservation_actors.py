"""reservations keep who last moved and who cancelled them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_reservations_updated_by_users', 'users', ['updated_by'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_reservations_cancelled_by_users', 'users', ['cancelled_by'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reservations_cancelled_by_users', type_='foreignkey')
        batch_op.drop_constraint('fk_reservations_updated_by_users', type_='foreignkey')
        batch_op.drop_column('cancelled_by')
        batch_op.drop_column('updated_by')
