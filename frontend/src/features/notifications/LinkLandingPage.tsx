import { useNavigate, useParams } from 'react-router-dom';
import { ApiError } from '../../api/client';
import { Alert, Button, ButtonLink, LoadingState, Page } from '../../components';
import { useMe } from '../auth/session';
import { useLinkInfo, useUseLink } from './api';
import { inAppPath, linkCopy, linkProblem } from './format';

function problemOf(error: unknown) {
  return error instanceof ApiError
    ? linkProblem(error.status, error.code)
    : linkProblem(-1, 'error');
}

/**
 * /r/:token — a one-tap link from an email or text message (works signed out): says what it
 * will do, does it on one press, and says how it went.
 */
export function LinkLandingPage() {
  const { token = '' } = useParams();
  const info = useLinkInfo(token);
  const use = useUseLink(token);
  const navigate = useNavigate();
  const me = useMe();
  const home = me.data ? { to: '/', label: 'Open CareConnect' } : { to: '/login', label: 'Log in' };

  const run = () => {
    use.mutate(undefined, {
      onSuccess: (result) => {
        if (!result.redirect) return;
        const path = inAppPath(result.redirect, window.location.origin);
        if (path) navigate(path);
        else window.location.assign(result.redirect);
      },
    });
  };

  if (info.isPending) {
    return (
      <Page title="Your appointment">
        <LoadingState label="Checking your link…" />
      </Page>
    );
  }

  if (info.isError || use.isError) {
    const problem = problemOf(info.error ?? use.error);
    return (
      <Page title={problem.title}>
        <Alert tone="error" title={problem.title}>
          <p>{problem.text}</p>
        </Alert>
        <div className="row">
          <ButtonLink to={home.to}>{home.label}</ButtonLink>
          {use.isError && !(use.error instanceof ApiError && use.error.status !== 0) && (
            <Button variant="secondary" onClick={run}>
              Try again
            </Button>
          )}
        </div>
      </Page>
    );
  }

  const copy = linkCopy(info.data.purpose);

  if (use.isSuccess) {
    const going = !!use.data.redirect;
    return (
      <Page title="Done">
        <Alert tone="success" title={going ? 'One more step' : 'Done'}>
          <p>{use.data.message || 'Your appointment was updated.'}</p>
        </Alert>
        {going ? (
          <LoadingState label="Taking you there…" />
        ) : (
          <div className="row">
            <ButtonLink to={home.to}>{home.label}</ButtonLink>
          </div>
        )}
      </Page>
    );
  }

  return (
    <Page title={copy.title}>
      <p>{copy.text}</p>
      <div className="row">
        <Button
          variant={info.data.purpose === 'appointment.cancel' ? 'danger' : 'primary'}
          loading={use.isPending}
          onClick={run}
        >
          {copy.button}
        </Button>
      </div>
    </Page>
  );
}
