import { useState, type FormEvent } from 'react';
import { Button, Dialog, Select, TextArea } from '../../../components';

export interface AppointmentRequest {
  reason: string;
  preferred_times: string;
  mode?: 'online' | 'in_person';
}

const LIMIT = 500;

/** "Request appointment": why, and when suits, for the care team to offer times. */
export function RequestAppointmentDialog({
  open,
  onClose,
  onSubmit,
}: {
  open: boolean;
  onClose: () => void;
  onSubmit: (request: AppointmentRequest) => void;
}) {
  return (
    <Dialog
      open={open}
      title="Request an appointment"
      description="Your care team will answer with times to choose from. Only they can read what you write here."
      onClose={onClose}
    >
      {open && <RequestForm onSubmit={onSubmit} onCancel={onClose} />}
    </Dialog>
  );
}

function RequestForm({
  onSubmit,
  onCancel,
}: {
  onSubmit: (request: AppointmentRequest) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState('');
  const [times, setTimes] = useState('');
  const [mode, setMode] = useState('');
  const tooLong = (value: string) =>
    value.trim().length > LIMIT ? `At most ${LIMIT} characters.` : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (tooLong(reason) || tooLong(times)) return;
    onSubmit({
      reason: reason.trim(),
      preferred_times: times.trim(),
      ...(mode === 'online' || mode === 'in_person' ? { mode } : {}),
    });
  };

  return (
    <form onSubmit={submit} noValidate>
      <TextArea
        label="Reason for the visit"
        optional
        rows={3}
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        hint={`${reason.trim().length} / ${LIMIT} characters`}
        error={tooLong(reason)}
      />
      <TextArea
        label="Days and times that suit you"
        optional
        rows={2}
        value={times}
        onChange={(event) => setTimes(event.target.value)}
        hint="For example: weekday mornings, not Fridays."
        error={tooLong(times)}
      />
      <Select
        label="How would you like to meet?"
        value={mode}
        onChange={(event) => setMode(event.target.value)}
        options={[
          { value: '', label: 'No preference' },
          { value: 'online', label: 'Online (video)' },
          { value: 'in_person', label: 'In person' },
        ]}
      />
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit">Send request</Button>
      </div>
    </form>
  );
}
