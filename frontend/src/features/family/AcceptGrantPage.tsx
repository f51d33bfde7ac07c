import { useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import type { Grant } from '../../api/types';
import {
  Alert,
  Button,
  ButtonLink,
  Card,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import { loginPath } from '../../lib/navigation';
import { useActingFor } from '../acting-for/ActingForContext';
import { useCurrentUser, useLogout } from '../auth/session';
import { useAcceptGrant, useInvitations } from './api';
import { ScopeList } from './ScopeList';

export function AcceptGrantPage() {
  const [params] = useSearchParams();
  const grantId = params.get('grant') ?? '';
  const invitations = useInvitations();
  const accept = useAcceptGrant();

  if (!grantId) {
    return (
      <Page title="Family invitation" heading="This invitation link is incomplete">
        <Alert tone="error">
          <p>Open the link from the invitation email again.</p>
        </Alert>
        <ButtonLink to="/">Go to home</ButtonLink>
      </Page>
    );
  }

  const grant = invitations.data?.find((g) => g.id === grantId) ?? null;

  if (accept.isSuccess) return <Accepted grant={accept.data} />;

  return (
    <Page title="Family invitation" heading="Accept a family invitation">
      {invitations.isPending ? (
        <LoadingState label="Loading the invitation…" />
      ) : (
        <Card>
          {invitations.isError ? (
            <ErrorState error={invitations.error} onRetry={() => void invitations.refetch()} />
          ) : grant ? (
            <div className="stack-sm">
              <p className="item-list__title" style={{ fontSize: 'var(--font-size-lg)' }}>
                {fullName(grant.patient)} invited you to help manage their care.
              </p>
              <p>Once you accept, you'll be able to:</p>
              <ScopeList scopes={grant.scopes} detailed />
              {grant.expires_at && (
                <p className="muted">This access ends on {formatDate(grant.expires_at)}.</p>
              )}
              <p className="muted small">
                Everything you do for {grant.patient.first_name} is recorded as done by you on their
                behalf. They can revoke your access at any time.
              </p>
            </div>
          ) : accept.isError ? null : (
            <Alert tone="info" title="We couldn't find this invitation among yours">
              <p>
                It may have been sent to a different email address, or already accepted, revoked or
                expired. You can still try to accept it and we'll tell you what's wrong.
              </p>
            </Alert>
          )}
          {accept.isError && (
            <div style={{ marginTop: grant ? 'var(--space-4)' : 0 }}>
              <AcceptError error={accept.error} grant={grant} />
            </div>
          )}
          <div className="btn-row">
            <Button loading={accept.isPending} onClick={() => accept.mutate(grantId)}>
              Accept invitation
            </Button>
            <ButtonLink variant="ghost" to="/">
              Not now
            </ButtonLink>
          </div>
        </Card>
      )}
    </Page>
  );
}

function AcceptError({ error, grant }: { error: Error; grant: Grant | null }) {
  const me = useCurrentUser();
  const logout = useLogout();
  const navigate = useNavigate();
  const location = useLocation();
  const inviter = grant ? fullName(grant.patient) : 'the person who invited you';

  if (isApiError(error, 'wrong_account')) {
    const switchAccount = () =>
      logout.mutate(undefined, {
        onSettled: () =>
          navigate(loginPath(location.pathname + location.search), { replace: true }),
      });
    return (
      <Alert tone="error" title="This invitation is for a different account">
        <p>{error.message}</p>
        <p>
          You are signed in as <strong>{me.email}</strong>. Log in with the account the invitation
          was sent to.
        </p>
        <Button variant="secondary" size="small" loading={logout.isPending} onClick={switchAccount}>
          Log out and switch account
        </Button>
      </Alert>
    );
  }
  if (isApiError(error, 'grant_expired')) {
    return (
      <Alert tone="error" title="This invitation has expired">
        <p>{error.message}</p>
        <p>Ask {inviter} to send you a new invitation.</p>
      </Alert>
    );
  }
  if (isApiError(error, 'grant_not_pending')) {
    return (
      <Alert tone="error" title="This invitation can no longer be accepted">
        <p>{error.message}</p>
      </Alert>
    );
  }
  return <ErrorAlert error={error} title="The invitation could not be accepted" />;
}

function Accepted({ grant }: { grant: Grant }) {
  const { select } = useActingFor();
  const navigate = useNavigate();
  const name = fullName(grant.patient);
  return (
    <Page title="Invitation accepted">
      <Alert tone="success" title={`You can now act for ${name}`}>
        <p>Switch to them with "Acting for" at the top of any page.</p>
      </Alert>
      <div className="btn-row">
        <Button
          onClick={() => {
            select(grant.patient.id);
            navigate('/');
          }}
        >
          Start acting for {name}
        </Button>
        <ButtonLink variant="secondary" to="/">
          Go to home
        </ButtonLink>
      </div>
    </Page>
  );
}
