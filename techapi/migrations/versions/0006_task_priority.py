"""task priority

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='5'))
        batch_op.drop_index(batch_op.f('ix_tasks_state_run_after'))
        batch_op.create_index('ix_tasks_claim', ['state', 'priority', 'run_after'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_claim')
        batch_op.create_index(batch_op.f('ix_tasks_state_run_after'), ['state', 'run_after'], unique=False)
        batch_op.drop_column('priority')

