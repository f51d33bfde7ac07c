import { useMemo, useState, type FormEvent } from 'react';
import type { Center, StaffRole } from '../../api/types';
import {
  Badge,
  Card,
  EmptyState,
  ErrorState,
  fieldError,
  FormFooter,
  LoadingState,
  Page,
  Select,
  TextInput,
  useFormFields,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import { ROLE_LABELS } from '../../lib/roles';
import { useCurrentUser } from '../auth/session';
import {
  useCenter,
  useCenterStaff,
  useInviteStaff,
  useSaveCenter,
  useStaffInvitations,
} from './api';
import { timeZoneOptions } from './timezones';

export function CenterPage() {
  const me = useCurrentUser();
  if (!me.center) {
    return (
      <Page title="My center">
        <EmptyState title="No center is linked to your account">
          Ask a platform administrator to assign you to a center.
        </EmptyState>
      </Page>
    );
  }
  return <CenterAdmin centerId={me.center} />;
}

function CenterAdmin({ centerId }: { centerId: string }) {
  const center = useCenter(centerId);
  return (
    <Page
      title="My center"
      heading={center.data?.name || 'My center'}
      description="Your center's public details, staff and invitations."
    >
      {center.isPending ? (
        <LoadingState label="Loading your center…" />
      ) : center.isError ? (
        <ErrorState error={center.error} onRetry={() => void center.refetch()} />
      ) : (
        <CenterForm key={center.data.id} center={center.data} />
      )}
      <StaffList centerId={centerId} />
      <InviteStaff centerId={centerId} />
      <Invitations centerId={centerId} />
    </Page>
  );
}

const CENTER_FIELDS = ['name', 'address', 'city', 'latitude', 'longitude', 'phone', 'timezone'];

function CenterForm({ center }: { center: Center }) {
  const save = useSaveCenter(center.id);
  const [saved, setSaved] = useState(false);
  const { values: form, field } = useFormFields(
    {
      name: center.name ?? '',
      address: center.address ?? '',
      city: center.city ?? '',
      latitude: center.latitude ?? '',
      longitude: center.longitude ?? '',
      phone: center.phone ?? '',
      timezone: center.timezone || 'UTC',
    },
    { error: save.error, onEdit: () => setSaved(false) },
  );
  const zones = useMemo(() => timeZoneOptions(center.timezone), [center.timezone]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate(
      {
        name: form.name.trim(),
        address: form.address.trim(),
        city: form.city.trim(),
        latitude: form.latitude.trim() || null,
        longitude: form.longitude.trim() || null,
        phone: form.phone.trim(),
        timezone: form.timezone,
      },
      { onSuccess: () => setSaved(true) },
    );
  };
  return (
    <Card title="Center details" description="Patients see these when they look for care.">
      <form onSubmit={submit}>
        <div className="form-grid form-grid--2">
          <TextInput className="span-all" label="Center name" required {...field('name')} />
          <TextInput className="span-all" label="Address" {...field('address')} />
          <TextInput label="City" {...field('city')} />
          <TextInput label="Phone" type="tel" {...field('phone')} />
          <TextInput
            label="Latitude"
            inputMode="decimal"
            hint="Decimal degrees, e.g. 38.7223"
            {...field('latitude')}
          />
          <TextInput
            label="Longitude"
            inputMode="decimal"
            hint="Decimal degrees, e.g. -9.1393"
            {...field('longitude')}
          />
          <Select
            className="span-all"
            label="Time zone"
            hint="Appointment times at this center are shown in this time zone."
            options={zones.map((zone) => ({ value: zone, label: zone.replace(/_/g, ' ') }))}
            {...field('timezone')}
          />
        </div>
        <FormFooter
          request={save}
          submitLabel="Save center"
          errorTitle="The center was not saved"
          inlineFields={CENTER_FIELDS}
          success={saved && 'The center details have been saved.'}
        />
      </form>
    </Card>
  );
}

function StaffList({ centerId }: { centerId: string }) {
  const staff = useCenterStaff(centerId);
  return (
    <Card title="Staff">
      {staff.isPending ? (
        <LoadingState label="Loading staff…" />
      ) : staff.isError ? (
        <ErrorState error={staff.error} onRetry={() => void staff.refetch()} />
      ) : staff.data.length === 0 ? (
        <EmptyState title="No staff yet">Invite doctors and nurses below.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {staff.data.map((member) => (
                <tr key={member.id}>
                  <td>{fullName(member)}</td>
                  <td>{member.email}</td>
                  <td>{ROLE_LABELS[member.role] ?? member.role}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function InviteStaff({ centerId }: { centerId: string }) {
  const invite = useInviteStaff(centerId);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<StaffRole>('doctor');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSentTo(null);
    const target = email.trim();
    invite.mutate(
      { email: target, role },
      {
        onSuccess: () => {
          setSentTo(target);
          setEmail('');
        },
      },
    );
  };
  const error = invite.error;
  return (
    <Card
      title="Invite a doctor or nurse"
      description="They'll get an email with a link to create their staff account at your center."
    >
      <form onSubmit={submit}>
        <div className="form-grid form-grid--2">
          <TextInput
            label="Email"
            type="email"
            autoComplete="off"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldError(error, 'email')}
          />
          <Select
            label="Role"
            options={[
              { value: 'doctor', label: 'Doctor' },
              { value: 'nurse', label: 'Nurse' },
            ]}
            value={role}
            onChange={(e) => setRole(e.target.value as StaffRole)}
            error={fieldError(error, 'role')}
          />
        </div>
        <FormFooter
          request={invite}
          submitLabel="Send staff invitation"
          inlineFields={['email', 'role']}
          success={sentTo && `Invitation sent to ${sentTo}.`}
        />
      </form>
    </Card>
  );
}

const INVITATION_TONE = { pending: 'warning', accepted: 'success', revoked: 'neutral' } as const;

function Invitations({ centerId }: { centerId: string }) {
  const invitations = useStaffInvitations(centerId);
  return (
    <Card title="Staff invitations">
      {invitations.isPending ? (
        <LoadingState label="Loading invitations…" />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} onRetry={() => void invitations.refetch()} />
      ) : invitations.data.length === 0 ? (
        <EmptyState title="No invitations sent yet" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Sent</th>
              </tr>
            </thead>
            <tbody>
              {invitations.data.map((inv) => (
                <tr key={inv.id}>
                  <td>{inv.email}</td>
                  <td>{ROLE_LABELS[inv.role] ?? inv.role}</td>
                  <td>
                    <Badge tone={INVITATION_TONE[inv.status] ?? 'neutral'}>
                      {inv.status === 'pending'
                        ? 'Pending'
                        : inv.status === 'accepted'
                          ? 'Accepted'
                          : 'Revoked'}
                    </Badge>
                  </td>
                  <td>{formatDate(inv.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
