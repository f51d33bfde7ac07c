import type { Stripe, StripeElements } from '@stripe/stripe-js';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Alert, Button, LoadingState } from '../../components';

interface Loaded {
  stripe: Stripe;
  elements: StripeElements;
}

const LOAD_PROBLEM =
  'We could not load the secure card form. Check your connection, then reload the page.';

/**
 * Stripe's Payment Element. Stripe.js is downloaded only here (a dynamic import, so the dev
 * gateway never fetches it); the card details go straight to Stripe, never through CareConnect.
 * Whatever Stripe answers, `onConfirmed` asks our server to read the outcome (POST sync).
 */
export function StripePayment({
  publishableKey,
  clientSecret,
  returnUrl,
  busy,
  declined,
  onConfirmed,
}: {
  publishableKey: string;
  clientSecret: string;
  /** Where a redirect-based method (a bank page) comes back to. */
  returnUrl: string;
  /** The server is reading the outcome. */
  busy: boolean;
  /** The server's word on the last attempt (`last_error` of a failed payment). */
  declined: string | null;
  onConfirmed: () => void;
}) {
  const mountRef = useRef<HTMLDivElement>(null);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [ready, setReady] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    let destroy: (() => void) | null = null;
    import('@stripe/stripe-js')
      .then(({ loadStripe }) => loadStripe(publishableKey))
      .then((stripe) => {
        const target = mountRef.current;
        if (cancelled) return;
        if (!stripe || !target) {
          setLoadError(LOAD_PROBLEM);
          return;
        }
        const elements = stripe.elements({ clientSecret });
        const element = elements.create('payment');
        element.on('ready', () => {
          if (!cancelled) setReady(true);
        });
        element.on('loaderror', () => {
          if (!cancelled) setLoadError(LOAD_PROBLEM);
        });
        element.mount(target);
        destroy = () => element.destroy();
        setLoaded({ stripe, elements });
      })
      .catch(() => {
        if (!cancelled) setLoadError(LOAD_PROBLEM);
      });
    return () => {
      cancelled = true;
      destroy?.();
    };
  }, [publishableKey, clientSecret]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!loaded || confirming || busy) return;
    setConfirming(true);
    setProblem(null);
    try {
      const { error } = await loaded.stripe.confirmPayment({
        elements: loaded.elements,
        redirect: 'if_required',
        confirmParams: { return_url: returnUrl },
      });
      if (error) {
        setProblem(error.message ?? 'The payment did not go through.');
        // An incomplete form never reached the bank: nothing for the server to read.
        if (error.type === 'validation_error') return;
      }
      onConfirmed();
    } catch {
      setProblem('The payment could not be sent. Check your connection and try again.');
    } finally {
      setConfirming(false);
    }
  };

  if (loadError) {
    return (
      <Alert tone="error" title="The card form did not load">
        <p>{loadError}</p>
      </Alert>
    );
  }

  return (
    <form className="pay-form" onSubmit={(event) => void submit(event)} noValidate>
      {!ready && <LoadingState label="Loading the secure card form…" />}
      <div ref={mountRef} className="pay-stripe-element" />
      {(problem ?? declined) && !confirming && !busy && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone="error" title="Payment failed">
            <p>{problem ?? declined}</p>
          </Alert>
        </div>
      )}
      <Button type="submit" loading={confirming || busy} disabled={!ready}>
        Pay now
      </Button>
    </form>
  );
}
