import type { Profile } from '../../api/types';
import { Badge, Card, EmptyState } from '../../components';
import { formatDate } from '../../lib/format';

const SEVERITY_TONE = { mild: 'info', moderate: 'warning', severe: 'danger' } as const;

function Value({ children }: { children: string | null | undefined }) {
  return children ? <>{children}</> : <span className="muted">Not recorded</span>;
}

/** A read-only health summary, e.g. for a family member with "View health records". */
export function ProfileSummary({ profile }: { profile: Profile }) {
  const address = [
    profile.address?.line1,
    profile.address?.line2,
    profile.address?.city,
    profile.address?.region,
    profile.address?.postal_code,
    profile.address?.country,
  ]
    .filter(Boolean)
    .join(', ');
  const contact = profile.emergency_contact;
  return (
    <div className="stack">
      <Card title="Personal details">
        <dl className="details">
          <div>
            <dt>Name</dt>
            <dd>
              {profile.first_name} {profile.last_name}
            </dd>
          </div>
          <div>
            <dt>Date of birth</dt>
            <dd>
              <Value>{formatDate(profile.date_of_birth)}</Value>
            </dd>
          </div>
          <div>
            <dt>Phone</dt>
            <dd>
              <Value>{profile.phone}</Value>
            </dd>
          </div>
          <div>
            <dt>Address</dt>
            <dd>
              <Value>{address}</Value>
            </dd>
          </div>
          <div>
            <dt>Emergency contact</dt>
            <dd>
              <Value>
                {contact
                  ? [
                      contact.name,
                      contact.relationship && `(${contact.relationship})`,
                      contact.phone,
                    ]
                      .filter(Boolean)
                      .join(' ')
                  : ''}
              </Value>
            </dd>
          </div>
        </dl>
      </Card>

      <Card title="Allergies">
        {profile.allergies.length === 0 ? (
          <EmptyState title="No allergies recorded" />
        ) : (
          <ul className="item-list">
            {profile.allergies.map((allergy, i) => (
              <li key={i}>
                <div className="item-list__main">
                  <p className="item-list__title">{allergy.substance}</p>
                  <p className="item-list__meta">{allergy.reaction || 'Reaction not recorded'}</p>
                </div>
                <Badge tone={SEVERITY_TONE[allergy.severity] ?? 'neutral'}>
                  {allergy.severity}
                </Badge>
              </li>
            ))}
          </ul>
        )}
      </Card>

      <Card title="Conditions">
        {profile.conditions.length === 0 ? (
          <EmptyState title="No conditions recorded" />
        ) : (
          <ul className="item-list">
            {profile.conditions.map((condition, i) => (
              <li key={i}>
                <div className="item-list__main">
                  <p className="item-list__title">{condition.name}</p>
                  {condition.notes && <p className="item-list__meta">{condition.notes}</p>}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>

      <Card title="Current medications">
        {profile.medications.length === 0 ? (
          <EmptyState title="No medications recorded" />
        ) : (
          <ul className="item-list">
            {profile.medications.map((medication, i) => (
              <li key={i}>
                <div className="item-list__main">
                  <p className="item-list__title">{medication.name}</p>
                  <p className="item-list__meta">
                    {[medication.dose, medication.frequency].filter(Boolean).join(' · ') ||
                      'Dose not recorded'}
                  </p>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
