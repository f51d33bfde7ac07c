import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { Alert, Button, Card, ErrorAlert, fieldError, Page, TextInput } from '../../components';
import { loginPath, safeNext } from '../../lib/navigation';
import { useLogin, useMe } from './session';
import { useResendConfirmation } from './useResendConfirmation';

interface LoginLocationState {
  notice?: string;
  email?: string;
  loggedOut?: boolean;
}

export function LoginPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const location = useLocation();
  const state = (location.state ?? {}) as LoginLocationState;
  const navigate = useNavigate();
  const me = useMe();
  const login = useLogin();
  const resend = useResendConfirmation();

  const [email, setEmail] = useState(state.email ?? '');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [step, setStep] = useState<'credentials' | 'otp'>('credentials');
  const otpRef = useRef<HTMLInputElement>(null);

  if (me.data && !login.isPending && !login.isSuccess) {
    return <Navigate to={next} replace />;
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    resend.reset();
    login.mutate(
      { email: email.trim(), password, otp: step === 'otp' ? otp.trim() : undefined },
      {
        onSuccess: (user) => {
          navigate(user.mfa_setup_required ? '/security' : next, { replace: true });
        },
        onError: (error) => {
          if (isApiError(error, 'otp_required')) {
            setStep('otp');
            setOtp('');
            window.setTimeout(() => otpRef.current?.focus(), 0);
          }
        },
      },
    );
  };

  const backToCredentials = () => {
    setStep('credentials');
    setOtp('');
    setPassword('');
    login.reset();
  };

  const error = login.error;
  const code = isApiError(error) ? error.code : null;
  const notConfirmed = code === 'email_not_confirmed';
  const otpError =
    code === 'invalid_otp' ? (error?.message ?? 'That code is not valid.') : undefined;
  const generalError =
    error && !notConfirmed && code !== 'otp_required' && code !== 'invalid_otp' ? error : null;

  return (
    <Page title="Log in" description="Sign in to CareConnect to manage your care.">
      {state.notice && <Alert tone="success">{state.notice}</Alert>}
      {state.loggedOut && !error && <Alert tone="info">You have been logged out.</Alert>}
      <Card>
        <form onSubmit={submit} className="stack-sm">
          {step === 'credentials' ? (
            <>
              <TextInput
                label="Email"
                type="email"
                name="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                error={fieldError(error, 'email')}
              />
              <TextInput
                label="Password"
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                error={fieldError(error, 'password')}
              />
            </>
          ) : (
            <>
              <Alert tone="info" title="Two-factor authentication">
                <p>
                  Open your authenticator app and enter the 6-digit code for CareConnect. Lost your
                  phone? Enter one of your backup codes instead.
                </p>
              </Alert>
              <TextInput
                ref={otpRef}
                label="Verification code"
                name="otp"
                inputClassName="input--code"
                autoComplete="one-time-code"
                autoCapitalize="off"
                spellCheck={false}
                required
                maxLength={32}
                hint="A 6-digit code or a backup code."
                value={otp}
                onChange={(e) => setOtp(e.target.value)}
                error={otpError ?? fieldError(error, 'otp')}
              />
            </>
          )}

          {generalError && (
            <ErrorAlert error={generalError} inlineFields={['email', 'password', 'otp']} />
          )}
          {notConfirmed && (
            <Alert tone="warning" title="Please confirm your email address">
              <p>{error?.message}</p>
              {resend.isSuccess ? (
                <p>We have sent a new confirmation link to {email}. Check your inbox.</p>
              ) : (
                <Button
                  variant="secondary"
                  size="small"
                  loading={resend.isPending}
                  onClick={() => resend.mutate(email.trim())}
                >
                  Resend confirmation email
                </Button>
              )}
              {resend.isError && <p>{resend.error.message}</p>}
            </Alert>
          )}

          <div className="btn-row">
            <Button type="submit" loading={login.isPending}>
              {step === 'otp' ? 'Verify and log in' : 'Log in'}
            </Button>
            {step === 'otp' ? (
              <Button variant="ghost" onClick={backToCredentials}>
                Back
              </Button>
            ) : (
              <Link to="/forgot-password">Forgot your password?</Link>
            )}
          </div>
        </form>
      </Card>
      <p className="center-text">
        New to CareConnect?{' '}
        <Link to={next === '/' ? '/register' : loginPath(next, '/register')}>
          Create an account
        </Link>
      </p>
    </Page>
  );
}
