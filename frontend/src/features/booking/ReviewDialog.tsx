import { useState, type FormEvent } from 'react';
import type { Appointment } from '../../api/types';
import { Alert, Button, Dialog, ErrorAlert, fieldError, TextArea } from '../../components';
import { formatSlotTime, viewerTimeZone } from '../../lib/zones';
import { useLeaveReview } from './api';

const RATINGS = [1, 2, 3, 4, 5] as const;

/** 1–5 stars and an optional text, for a completed appointment. */
export function ReviewDialog({
  appointment,
  onClose,
  onDone,
}: {
  appointment: Appointment;
  onClose: () => void;
  onDone: () => void;
}) {
  const review = useLeaveReview();
  const [rating, setRating] = useState(0);
  const [text, setText] = useState('');
  const [missing, setMissing] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!rating) {
      setMissing(true);
      return;
    }
    review.mutate(
      { id: appointment.id, rating, ...(text.trim() ? { text: text.trim() } : {}) },
      { onSuccess: onDone },
    );
  };

  return (
    <Dialog
      open
      title="Leave a review"
      busy={review.isPending}
      onClose={onClose}
      description={`${appointment.doctor.name}, ${formatSlotTime(appointment.start, viewerTimeZone())}. Reviews are shown with your first name and initial.`}
    >
      <form onSubmit={submit} className="stack-sm">
        <fieldset aria-describedby={missing ? 'rating-error' : undefined}>
          <legend>Rating</legend>
          <div className="stars" style={{ marginTop: 'var(--space-2)' }}>
            {RATINGS.map((value) => (
              <label key={value}>
                <input
                  type="radio"
                  name="rating"
                  value={value}
                  checked={rating === value}
                  onChange={() => {
                    setMissing(false);
                    setRating(value);
                  }}
                />
                <span>
                  {value} {value === 1 ? 'star' : 'stars'}
                </span>
              </label>
            ))}
          </div>
          {missing && (
            <p className="field__error" id="rating-error">
              Choose from 1 to 5 stars.
            </p>
          )}
        </fieldset>
        <TextArea
          label="Your review"
          optional
          maxLength={2000}
          hint="What went well, what could be better. Please don't include health details."
          value={text}
          onChange={(e) => setText(e.target.value)}
          error={fieldError(review.error, 'text')}
        />
        {review.error && <ErrorAlert error={review.error} inlineFields={['text']} />}
        {review.isSuccess && <Alert tone="success">Thank you!</Alert>}
        <div className="btn-row row-end">
          <Button variant="secondary" onClick={onClose} disabled={review.isPending}>
            Cancel
          </Button>
          <Button type="submit" loading={review.isPending}>
            Submit review
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
