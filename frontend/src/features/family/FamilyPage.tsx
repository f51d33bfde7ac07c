import { useState, type FormEvent } from 'react';
import type { Grant, Scope } from '../../api/types';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  ConfirmDialog,
  EmptyState,
  ErrorAlert,
  ErrorState,
  fieldError,
  FormFooter,
  LoadingState,
  Page,
  TextInput,
  useFormFields,
} from '../../components';
import { endOfDayIso, todayInput } from '../../lib/dates';
import { formatDate, fullName } from '../../lib/format';
import { SCOPES } from '../../lib/scopes';
import { useActingFor } from '../acting-for/ActingForContext';
import {
  useAcceptGrant,
  useAddDependent,
  useCreateGrant,
  useDependents,
  useGrants,
  useInvitations,
  useRevokeGrant,
} from './api';
import { GrantStatusBadge } from './GrantStatusBadge';
import { ScopeList } from './ScopeList';

export function FamilyPage() {
  const { current } = useActingFor();
  return (
    <Page
      title="Family access"
      description="Let people you trust help with your care, and manage care for children who don't have their own account."
    >
      {current && (
        <Alert tone="info">
          <p>
            This page is about your own account. You are currently acting for{' '}
            {fullName(current.patient)}.
          </p>
        </Alert>
      )}
      <InvitationsForMe />
      <InviteForm />
      <GrantsList />
      <Dependents />
    </Page>
  );
}

function InvitationsForMe() {
  const invitations = useInvitations();
  const accept = useAcceptGrant();
  const [accepted, setAccepted] = useState<string | null>(null);
  if (invitations.isPending || invitations.isError) return null; // shown only when there are some
  if (invitations.data.length === 0 && !accepted) return null;
  return (
    <Card title="Invitations for you" description="People who asked you to help manage their care.">
      {accepted && (
        <Alert tone="success">
          You can now act for {accepted}. Choose them under "Acting for" at the top of the page.
        </Alert>
      )}
      {accept.isError && <ErrorAlert error={accept.error} />}
      {invitations.data.length > 0 && (
        <ul className="item-list" style={{ marginTop: accepted ? 'var(--space-4)' : 0 }}>
          {invitations.data.map((grant) => (
            <li key={grant.id}>
              <div className="item-list__main stack-sm">
                <p className="item-list__title">
                  {fullName(grant.patient)} invited you to help manage their care
                </p>
                <ScopeList scopes={grant.scopes} />
                {grant.expires_at && (
                  <p className="item-list__meta">Access ends {formatDate(grant.expires_at)}</p>
                )}
              </div>
              <Button
                loading={accept.isPending && accept.variables === grant.id}
                disabled={accept.isPending}
                onClick={() =>
                  accept.mutate(grant.id, { onSuccess: () => setAccepted(fullName(grant.patient)) })
                }
              >
                Accept invitation
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function InviteForm() {
  const create = useCreateGrant();
  const [email, setEmail] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [until, setUntil] = useState('');
  const [scopeProblem, setScopeProblem] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const toggle = (scope: Scope, on: boolean) => {
    setScopeProblem(false);
    setScopes((list) => (on ? [...list, scope] : list.filter((s) => s !== scope)));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSentTo(null);
    if (scopes.length === 0) {
      setScopeProblem(true);
      return;
    }
    const expires = until ? endOfDayIso(until) : null;
    const target = email.trim();
    create.mutate(
      { email: target, scopes, ...(expires ? { expires_at: expires } : {}) },
      {
        onSuccess: () => {
          setSentTo(target);
          setEmail('');
          setScopes([]);
          setUntil('');
        },
      },
    );
  };

  const error = create.error;
  const scopesError = scopeProblem
    ? 'Choose at least one thing they can do.'
    : fieldError(error, 'scopes');

  return (
    <Card
      title="Invite a family member"
      description="They'll get an email with a link. Once they accept, they can act for you within the permissions you choose. You can revoke access at any time."
    >
      <form onSubmit={submit} className="stack-sm">
        <TextInput
          label="Email"
          type="email"
          autoComplete="off"
          required
          hint="The email address they use (or will use) for CareConnect."
          value={email}
          onChange={(e) => {
            setEmail(e.target.value);
            setSentTo(null);
          }}
          error={fieldError(error, 'email')}
        />
        <fieldset aria-describedby={scopesError ? 'scopes-error' : undefined}>
          <legend>What can they do for you?</legend>
          <div className="choice-list" style={{ marginTop: 'var(--space-2)' }}>
            {SCOPES.map((scope) => (
              <Checkbox
                key={scope.value}
                name="scopes"
                value={scope.value}
                label={scope.label}
                description={scope.description}
                checked={scopes.includes(scope.value)}
                onChange={(e) => toggle(scope.value, e.target.checked)}
              />
            ))}
          </div>
          {scopesError && (
            <p className="field__error" id="scopes-error" style={{ marginTop: 'var(--space-2)' }}>
              {scopesError}
            </p>
          )}
        </fieldset>
        <TextInput
          label="Access ends on"
          optional
          type="date"
          min={todayInput()}
          hint="Leave empty to keep access until you revoke it."
          value={until}
          onChange={(e) => setUntil(e.target.value)}
          error={fieldError(error, 'expires_at')}
        />
        {error && <ErrorAlert error={error} inlineFields={['email', 'scopes', 'expires_at']} />}
        {sentTo && (
          <Alert tone="success">
            Invitation sent to {sentTo}. They'll appear below as "Invitation sent" until they
            accept.
          </Alert>
        )}
        <div className="btn-row">
          <Button type="submit" loading={create.isPending}>
            Send invitation
          </Button>
        </div>
      </form>
    </Card>
  );
}

function grantWho(grant: Grant): string {
  return fullName(grant.grantee) || grant.email;
}

function GrantsList() {
  const grants = useGrants();
  const revoke = useRevokeGrant();
  const [confirming, setConfirming] = useState<Grant | null>(null);
  const [revokedWho, setRevokedWho] = useState<string | null>(null);

  const order = { active: 0, pending: 1, expired: 2, revoked: 3 } as const;
  const sorted = [...(grants.data ?? [])].sort(
    (a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9),
  );

  return (
    <Card title="People with access" description="Everyone you have invited, and what they can do.">
      {grants.isPending ? (
        <LoadingState label="Loading access…" />
      ) : grants.isError ? (
        <ErrorState error={grants.error} onRetry={() => void grants.refetch()} />
      ) : sorted.length === 0 ? (
        <EmptyState title="You haven't invited anyone yet">
          Invite a family member above to let them help with your care.
        </EmptyState>
      ) : (
        <>
          {revokedWho && (
            <div style={{ marginBottom: 'var(--space-4)' }}>
              <Alert tone="success">Access for {revokedWho} has been revoked.</Alert>
            </div>
          )}
          {revoke.isError && (
            <div style={{ marginBottom: 'var(--space-4)' }}>
              <ErrorAlert error={revoke.error} />
            </div>
          )}
          <ul className="item-list">
            {sorted.map((grant) => {
              const open = grant.status === 'active' || grant.status === 'pending';
              return (
                <li key={grant.id}>
                  <div className="item-list__main stack-sm">
                    <div className="row">
                      <p className="item-list__title" style={{ margin: 0 }}>
                        {grantWho(grant)}
                      </p>
                      <GrantStatusBadge status={grant.status} />
                    </div>
                    {grant.grantee && <p className="item-list__meta">{grant.email}</p>}
                    <ScopeList scopes={grant.scopes} />
                    <p className="item-list__meta">
                      Invited {formatDate(grant.created_at)}
                      {grant.accepted_at && ` · accepted ${formatDate(grant.accepted_at)}`}
                      {grant.revoked_at && ` · revoked ${formatDate(grant.revoked_at)}`}
                      {grant.expires_at &&
                        ` · ${grant.status === 'expired' ? 'ended' : 'ends'} ${formatDate(grant.expires_at)}`}
                    </p>
                  </div>
                  {open && (
                    <Button
                      variant="danger-outline"
                      size="small"
                      onClick={() => {
                        revoke.reset();
                        setRevokedWho(null);
                        setConfirming(grant);
                      }}
                    >
                      Revoke<span className="sr-only"> access for {grantWho(grant)}</span>
                    </Button>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <ConfirmDialog
        open={!!confirming}
        title={`Revoke access for ${confirming ? grantWho(confirming) : ''}?`}
        confirmLabel="Yes, end access"
        cancelLabel="Keep access"
        destructive
        busy={revoke.isPending}
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          if (!confirming) return;
          const who = grantWho(confirming);
          revoke.mutate(confirming.id, {
            onSuccess: () => setRevokedWho(who),
            onSettled: () => setConfirming(null),
          });
        }}
      >
        <p>
          {confirming?.status === 'pending'
            ? 'The invitation link will stop working.'
            : 'They will lose access immediately, including anything they are doing for you right now.'}{' '}
          You can invite them again later.
        </p>
      </ConfirmDialog>
    </Card>
  );
}

const EMPTY_DEPENDENT = { first_name: '', last_name: '', date_of_birth: '' };

function Dependents() {
  const dependents = useDependents();
  const add = useAddDependent();
  const { select, patients } = useActingFor();
  const canActFor = (id: string) => patients.some((p) => p.patient.id === id);
  const { values: form, setValues, field } = useFormFields(EMPTY_DEPENDENT, { error: add.error });
  const [added, setAdded] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    const input = {
      first_name: form.first_name.trim(),
      last_name: form.last_name.trim(),
      date_of_birth: form.date_of_birth,
    };
    add.mutate(input, {
      onSuccess: () => {
        setAdded(`${input.first_name} ${input.last_name}`.trim());
        setValues(EMPTY_DEPENDENT);
      },
    });
  };

  return (
    <Card
      title="Dependents"
      description="Children (or others in your care) who don't have their own login. You are their guardian and can book, message and keep their health summary for them."
    >
      {dependents.isPending ? (
        <LoadingState label="Loading dependents…" />
      ) : dependents.isError ? (
        <ErrorState error={dependents.error} onRetry={() => void dependents.refetch()} />
      ) : dependents.data.length === 0 ? (
        <EmptyState title="No dependents yet">Add a child below to manage their care.</EmptyState>
      ) : (
        <ul className="item-list">
          {dependents.data.map((dependent) => (
            <li key={dependent.id}>
              <div className="item-list__main">
                <p className="item-list__title">{fullName(dependent)}</p>
                <p className="item-list__meta">Born {formatDate(dependent.date_of_birth)}</p>
              </div>
              {canActFor(dependent.id) && (
                <Button variant="secondary" size="small" onClick={() => select(dependent.id)}>
                  Act for {dependent.first_name}
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}

      <hr className="divider" />
      <h3>Add a dependent</h3>
      <form onSubmit={submit}>
        <div className="form-grid form-grid--3">
          <TextInput label="First name" required autoComplete="off" {...field('first_name')} />
          <TextInput label="Last name" required autoComplete="off" {...field('last_name')} />
          <TextInput
            label="Date of birth"
            type="date"
            required
            max={todayInput()}
            {...field('date_of_birth')}
          />
        </div>
        <FormFooter
          request={add}
          submitLabel="Add dependent"
          inlineFields={['first_name', 'last_name', 'date_of_birth']}
          success={
            added &&
            `${added} has been added. Choose them under "Acting for" at the top to manage their care.`
          }
        />
      </form>
    </Card>
  );
}
