import { Link } from 'react-router-dom';
import type { ActingForPatient, Me } from '../../api/types';
import {
  Alert,
  Badge,
  Card,
  Icon,
  type IconName,
  ErrorState,
  LoadingState,
  Page,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import { hasRole } from '../../lib/roles';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { useInvitations } from '../family/api';
import { ScopeList } from '../family/ScopeList';
import { usePatientProfile } from '../profile/api';
import { NoRecordsPermission } from '../profile/ProfilePage';

interface Tile {
  to: string;
  title: string;
  text: string;
  icon: IconName;
}

function tilesFor(me: Me): Tile[] {
  const tiles: Tile[] = [];
  if (hasRole(me, 'patient')) {
    tiles.push(
      {
        to: '/doctors',
        title: 'Find a doctor',
        text: 'Search by specialty, place, language or price, and book a time.',
        icon: 'search',
      },
      {
        to: '/appointments',
        title: 'Appointments',
        text: 'Upcoming and past visits: reschedule, cancel, add to your calendar.',
        icon: 'calendar',
      },
      {
        to: '/profile',
        title: 'Profile and health summary',
        text: 'Your details, allergies, conditions and medications.',
        icon: 'heart',
      },
      {
        to: '/family',
        title: 'Family access',
        text: 'Invite family to help, and manage care for your children.',
        icon: 'family',
      },
    );
  } else {
    tiles.push({
      to: '/profile',
      title: 'Your profile',
      text: 'Your contact details.',
      icon: 'person',
    });
  }
  if (hasRole(me, 'doctor') || (hasRole(me, 'center_admin') && me.center)) {
    tiles.push(
      {
        to: '/week',
        title: hasRole(me, 'doctor') ? 'My week' : 'Doctor week',
        text: 'Appointments and free times day by day; book phoned-in patients.',
        icon: 'clock',
      },
      {
        to: '/schedule',
        title: 'Schedule',
        text: 'Weekly availability, time off and extra hours.',
        icon: 'calendar',
      },
    );
  }
  if (hasRole(me, 'doctor')) {
    tiles.push({
      to: '/doctor-profile',
      title: 'My public profile',
      text: 'Specialties, languages, fees and photo that patients see.',
      icon: 'doctor',
    });
  }
  if (hasRole(me, 'center_admin') && me.center) {
    tiles.push({
      to: '/center',
      title: 'My center',
      text: 'Center details, staff and invitations.',
      icon: 'building',
    });
  }
  tiles.push({
    to: '/security',
    title: 'Security',
    text: me.mfa_enabled
      ? 'Two-factor authentication is on.'
      : 'Turn on two-factor authentication to protect your account.',
    icon: 'shield',
  });
  return tiles;
}

export function HomePage() {
  const me = useCurrentUser();
  const { current } = useActingFor();
  const greeting = `Welcome, ${me.first_name || fullName(me) || me.email}`;
  return (
    <Page title="Home" heading={greeting} description="What would you like to do today?">
      {current ? (
        <ActingForOverview key={current.patient.id} entry={current} />
      ) : (
        <OwnHome me={me} />
      )}
    </Page>
  );
}

function OwnHome({ me }: { me: Me }) {
  const isPatient = hasRole(me, 'patient');
  return (
    <>
      {isPatient && <PendingInvitations />}
      <nav aria-label="What you can do">
        <ul className="card-grid" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {tilesFor(me).map((tile) => (
            <li key={tile.to}>
              <Link to={tile.to} className="card link-card" style={{ height: '100%' }}>
                <span className="link-card__icon">
                  <Icon name={tile.icon} />
                </span>
                <h2>{tile.title}</h2>
                <p>{tile.text}</p>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
    </>
  );
}

function PendingInvitations() {
  const invitations = useInvitations();
  const count = invitations.data?.length ?? 0;
  if (count === 0) return null;
  return (
    <Alert
      tone="info"
      title={count === 1 ? 'You have a family invitation' : `You have ${count} family invitations`}
    >
      <p>
        Someone asked you to help manage their care. <Link to="/family">Review invitations</Link>
      </p>
    </Alert>
  );
}

function ActingForOverview({ entry }: { entry: ActingForPatient }) {
  const name = fullName(entry.patient);
  const canView = entry.scopes.includes('view_records');
  const profile = usePatientProfile(entry.patient.id);
  const ended = useAccessEnded(entry, profile.error);
  if (ended) return <LoadingState />;

  return (
    <>
      <Card
        title={`Acting for ${name}`}
        description={
          entry.relationship === 'guardian'
            ? `You are ${name}'s guardian.`
            : `${name} gave you access${entry.expires_at ? ` until ${formatDate(entry.expires_at)}` : ''}.`
        }
      >
        <h3>What you can do for {entry.patient.first_name}</h3>
        <ScopeList scopes={entry.scopes} detailed />
      </Card>

      <Card
        title="Health summary"
        actions={
          canView && profile.isSuccess ? (
            <Link to="/profile">
              {entry.relationship === 'guardian' ? 'View and edit profile' : 'View full profile'}
            </Link>
          ) : undefined
        }
      >
        {profile.isPending ? (
          <LoadingState label={`Loading ${name}'s health summary…`} />
        ) : profile.isError ? (
          isScopeMissing(profile.error) ? (
            <NoRecordsPermission name={name} />
          ) : (
            <ErrorState error={profile.error} onRetry={() => void profile.refetch()} />
          )
        ) : (
          <dl className="details">
            <div>
              <dt>Date of birth</dt>
              <dd>{formatDate(profile.data.date_of_birth) || 'Not recorded'}</dd>
            </div>
            <div>
              <dt>Allergies</dt>
              <dd>
                {profile.data.allergies.length === 0 ? (
                  'None recorded'
                ) : (
                  <span className="row" style={{ gap: 'var(--space-2)' }}>
                    {profile.data.allergies.map((a, i) => (
                      <Badge key={i} tone={a.severity === 'severe' ? 'danger' : 'warning'}>
                        {a.substance}
                      </Badge>
                    ))}
                  </span>
                )}
              </dd>
            </div>
            <div>
              <dt>Conditions</dt>
              <dd>{profile.data.conditions.map((c) => c.name).join(', ') || 'None recorded'}</dd>
            </div>
            <div>
              <dt>Current medications</dt>
              <dd>{profile.data.medications.map((m) => m.name).join(', ') || 'None recorded'}</dd>
            </div>
          </dl>
        )}
      </Card>
    </>
  );
}
