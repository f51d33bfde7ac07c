import type { GrantStatus } from '../../api/types';
import { Badge } from '../../components';

const LABELS: Record<GrantStatus, { text: string; tone: 'warning' | 'success' | 'neutral' }> = {
  pending: { text: 'Invitation sent', tone: 'warning' },
  active: { text: 'Active', tone: 'success' },
  revoked: { text: 'Revoked', tone: 'neutral' },
  expired: { text: 'Expired', tone: 'neutral' },
};

export function GrantStatusBadge({ status }: { status: GrantStatus }) {
  const label = LABELS[status] ?? { text: status, tone: 'neutral' as const };
  return <Badge tone={label.tone}>{label.text}</Badge>;
}
