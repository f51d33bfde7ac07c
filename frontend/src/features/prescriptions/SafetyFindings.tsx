import { useId } from 'react';
import { Alert, Badge, Button, Card, Spinner, TextArea } from '../../components';
import { errorMessage } from '../../components/Alert';
import { SeverityBadge } from './PrescriptionParts';
import {
  joinNames,
  KIND_LABEL,
  needsOverride,
  noDataText,
  overrideLabel,
  sortFindings,
} from './format';
import type { CheckResult, Finding } from './types';

export const MAX_OVERRIDE_REASON = 500;

/**
 * The live safety check, shown before signing: each finding with its severity, the medicines,
 * what it means and where it comes from; a reason box for every finding that must be
 * overridden; and, explicitly, every medicine the check could not cover.
 */
export function SafetyFindings({
  itemCount,
  result,
  current,
  checking,
  error,
  onRetry,
  reasons,
  onReason,
  flagged,
}: {
  itemCount: number;
  result: CheckResult | undefined;
  /** The result is for exactly the medicines on the form now. */
  current: boolean;
  checking: boolean;
  error: unknown;
  onRetry: () => void;
  reasons: Readonly<Record<string, string>>;
  onReason: (findingId: string, reason: string) => void;
  /** Findings whose reason is missing and should say so (after a sign attempt or a 400). */
  flagged: ReadonlySet<string>;
}) {
  const findings = result ? sortFindings(result.findings) : [];
  const noData = result?.no_data ?? [];
  const overrides = findings.filter(needsOverride).length;

  let summary;
  if (itemCount === 0) {
    summary = (
      <p className="muted">
        Add a medication to check it against this patient's allergies and medicines.
      </p>
    );
  } else if (error && !checking) {
    summary = (
      <Alert tone="error" title="The safety check did not run">
        <p>{errorMessage(error)}</p>
        <Button variant="secondary" size="small" onClick={onRetry}>
          Run the check again
        </Button>
      </Alert>
    );
  } else if (!current || checking) {
    summary = (
      <p role="status" className="rx-checking">
        <Spinner /> Checking for interactions, allergies and duplicates…
      </p>
    );
  } else if (findings.length === 0 && noData.length === 0) {
    summary = (
      <Alert tone="success" title="No problems found">
        <p>
          No interactions, allergies or duplicates were found among these medicines and the
          patient's active medications.
        </p>
      </Alert>
    );
  } else if (findings.length === 0) {
    summary = (
      <p role="status">
        No interactions, allergies or duplicates were found among the medicines that could be
        checked.
      </p>
    );
  } else {
    summary = (
      <p role="status">
        {findings.length} {findings.length === 1 ? 'finding' : 'findings'}
        {overrides > 0
          ? `; ${overrides === 1 ? 'one needs' : `${overrides} need`} an override reason before you sign.`
          : '.'}
      </p>
    );
  }

  const stale = itemCount > 0 && !current;

  return (
    <Card
      title="Safety checks"
      description="Checked against the patient's recorded allergies, active prescriptions and the medications on their profile."
    >
      <div className="stack-sm" aria-busy={checking || undefined}>
        {summary}
        {itemCount > 0 && findings.length > 0 && (
          <ul className={stale ? 'rx-findings rx-findings--stale' : 'rx-findings'}>
            {findings.map((finding) => (
              <FindingItem
                key={finding.id}
                finding={finding}
                all={findings}
                reason={reasons[finding.id] ?? ''}
                onReason={(reason) => onReason(finding.id, reason)}
                flagged={flagged.has(finding.id)}
              />
            ))}
          </ul>
        )}
        {itemCount > 0 && noData.length > 0 && (
          <Alert tone="warning" title="Not checked for interactions">
            <ul className="rx-nodata">
              {noData.map((name) => (
                <li key={name}>{noDataText(name)}</li>
              ))}
            </ul>
          </Alert>
        )}
      </div>
    </Card>
  );
}

function FindingItem({
  finding,
  all,
  reason,
  onReason,
  flagged,
}: {
  finding: Finding;
  all: readonly Finding[];
  reason: string;
  onReason: (reason: string) => void;
  flagged: boolean;
}) {
  const headingId = useId();
  const override = needsOverride(finding);
  const missing = override && flagged && !reason.trim();
  const tooLong = reason.trim().length > MAX_OVERRIDE_REASON;
  return (
    <li className={`rx-finding rx-finding--${finding.severity}`} aria-labelledby={headingId}>
      <div className="row" style={{ gap: 'var(--space-2)' }}>
        <SeverityBadge severity={finding.severity} />
        <Badge tone="neutral">{KIND_LABEL[finding.kind] ?? finding.kind}</Badge>
        <h3 id={headingId} className="rx-finding__title">
          {joinNames(finding.medications)}
        </h3>
      </div>
      <p className="rx-finding__message">{finding.message}</p>
      {finding.source && <p className="rx-finding__source">Source: {finding.source}</p>}
      {override && (
        <TextArea
          label={overrideLabel(finding, all)}
          hint="Required to sign: why this is the right choice for this patient (kept with the prescription)."
          rows={2}
          required
          value={reason}
          onChange={(event) => onReason(event.target.value)}
          error={
            missing
              ? 'Give a reason to override this warning, or change the medicines.'
              : tooLong
                ? `At most ${MAX_OVERRIDE_REASON} characters.`
                : undefined
          }
        />
      )}
    </li>
  );
}
