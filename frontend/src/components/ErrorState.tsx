import { Alert, errorMessage } from './Alert';
import { Button } from './Button';

/** A query failed: say what happened and offer to try again. */
export function ErrorState({
  error,
  title = 'We could not load this',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  return (
    <Alert tone="error" title={title}>
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <Button variant="secondary" size="small" onClick={onRetry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}
