import type { ActingForPatient } from '../../api/types';
import { Alert, Button, ErrorState, LoadingState, Page } from '../../components';
import { fullName } from '../../lib/format';
import { hasRole } from '../../lib/roles';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { useOwnProfile, usePatientProfile, useSaveProfile } from './api';
import { ProfileForm } from './ProfileForm';
import { ProfileSummary } from './ProfileSummary';

export function ProfilePage() {
  const { current } = useActingFor();
  return current ? <PatientProfile key={current.patient.id} entry={current} /> : <OwnProfile />;
}

function OwnProfile() {
  const me = useCurrentUser();
  const profile = useOwnProfile();
  const save = useSaveProfile(null);
  const isPatient = hasRole(me, 'patient');
  return (
    <Page
      title={isPatient ? 'Profile and health summary' : 'Your profile'}
      description={
        isPatient
          ? 'Keep your details and health summary up to date so your care team has what they need.'
          : 'Your contact details.'
      }
    >
      {profile.isPending ? (
        <LoadingState label="Loading your profile…" />
      ) : profile.isError ? (
        <ErrorState error={profile.error} onRetry={() => void profile.refetch()} />
      ) : (
        <>
          <p className="muted">
            Signed in as <strong>{profile.data.email}</strong>
          </p>
          <ProfileForm
            key={profile.data.id}
            profile={profile.data}
            includeHealth={isPatient}
            save={save}
          />
        </>
      )}
    </Page>
  );
}

export function NoRecordsPermission({ name }: { name: string }) {
  return (
    <Alert tone="info" title="You don't have permission to view their health records">
      <p>
        Ask {name} to add "View health records" to the access they gave you. You can still do the
        other things they allowed.
      </p>
    </Alert>
  );
}

function PatientProfile({ entry }: { entry: ActingForPatient }) {
  const { select } = useActingFor();
  const profile = usePatientProfile(entry.patient.id);
  const name = fullName(entry.patient);
  const isGuardian = entry.relationship === 'guardian';
  const save = useSaveProfile(entry.patient.id);
  const ended = useAccessEnded(entry, profile.error);
  const title = `${name}: profile and health summary`;

  if (ended)
    return (
      <Page title={title} heading={title}>
        <LoadingState />
      </Page>
    );

  return (
    <Page
      title={title}
      heading={title}
      description={
        isGuardian
          ? `You are ${name}'s guardian, so you can update their details.`
          : `You are viewing ${name}'s records with the access they gave you.`
      }
      actions={
        <Button variant="secondary" size="small" onClick={() => select(null)}>
          View my own profile
        </Button>
      }
    >
      {profile.isPending ? (
        <LoadingState label={`Loading ${name}'s profile…`} />
      ) : profile.isError ? (
        isScopeMissing(profile.error) ? (
          <NoRecordsPermission name={name} />
        ) : (
          <ErrorState error={profile.error} onRetry={() => void profile.refetch()} />
        )
      ) : isGuardian ? (
        <ProfileForm
          key={profile.data.id}
          profile={profile.data}
          includeHealth
          save={save}
          whose={`${name}'s`}
        />
      ) : (
        <ProfileSummary profile={profile.data} />
      )}
    </Page>
  );
}
