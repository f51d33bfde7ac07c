import { useState, type FormEvent } from 'react';
import { Button, Dialog, Select, TextInput } from '../../../components';
import { formatMoney } from '../../../lib/money';
import {
  BILL_CURRENCIES,
  billItems,
  billLineProblems,
  billTotal,
  emptyBillLine,
  hasBillProblems,
  MAX_BILL_LINES,
  MAX_LINE_DESCRIPTION,
  type BillLineDraft,
} from '../../payments/format';
import type { BillLineInput } from '../../payments/types';

export interface BillRequest {
  items: BillLineInput[];
  currency: string;
}

/** Staff: "Send a bill" — a few lines (what for, how much), sent as a payment card. */
export function SendBillDialog({
  open,
  patientName,
  onClose,
  onSubmit,
}: {
  open: boolean;
  patientName: string;
  onClose: () => void;
  onSubmit: (bill: BillRequest) => void;
}) {
  return (
    <Dialog
      open={open}
      title="Send a bill"
      description={`${patientName} gets a payment request in this conversation and can pay it online.`}
      onClose={onClose}
    >
      {open && <BillForm onSubmit={onSubmit} onCancel={onClose} />}
    </Dialog>
  );
}

function BillForm({
  onSubmit,
  onCancel,
}: {
  onSubmit: (bill: BillRequest) => void;
  onCancel: () => void;
}) {
  const [lines, setLines] = useState<BillLineDraft[]>(() => [emptyBillLine()]);
  const [currency, setCurrency] = useState<string>('USD');
  const [checked, setChecked] = useState(false);
  const problems = billLineProblems(lines);
  const total = billTotal(lines, currency);

  const update = (index: number, change: Partial<BillLineDraft>) =>
    setLines((all) => all.map((line, i) => (i === index ? { ...line, ...change } : line)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (hasBillProblems(problems)) return;
    onSubmit({ items: billItems(lines), currency });
  };

  return (
    <form onSubmit={submit} noValidate>
      <div className="rows">
        {lines.map((line, index) => {
          const n = index + 1;
          const shown = checked ? problems[index] : undefined;
          return (
            <div className="row-item" key={index}>
              <TextInput
                label={
                  <>
                    Description<span className="sr-only"> (line {n})</span>
                  </>
                }
                value={line.description}
                maxLength={MAX_LINE_DESCRIPTION}
                onChange={(event) => update(index, { description: event.target.value })}
                error={shown?.description}
              />
              <TextInput
                label={
                  <>
                    Amount<span className="sr-only"> (line {n})</span>
                  </>
                }
                inputMode="decimal"
                placeholder="40.00"
                suffix={currency}
                value={line.amount}
                onChange={(event) => update(index, { amount: event.target.value })}
                error={shown?.amount}
              />
              {lines.length > 1 && (
                <div>
                  <Button
                    variant="ghost"
                    size="small"
                    onClick={() => setLines((all) => all.filter((_, i) => i !== index))}
                  >
                    Remove line {n}
                  </Button>
                </div>
              )}
            </div>
          );
        })}
      </div>
      <div className="btn-row" style={{ marginTop: 'var(--space-3)' }}>
        <Button
          variant="secondary"
          size="small"
          disabled={lines.length >= MAX_BILL_LINES}
          onClick={() => setLines((all) => [...all, emptyBillLine()])}
        >
          Add a line
        </Button>
      </div>
      <Select
        label="Currency"
        value={currency}
        onChange={(event) => setCurrency(event.target.value)}
        options={BILL_CURRENCIES.map((code) => ({ value: code, label: code }))}
      />
      <p aria-live="polite">
        Total: <strong>{formatMoney(total)}</strong>
      </p>
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit">Send bill</Button>
      </div>
    </form>
  );
}
