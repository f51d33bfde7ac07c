import { useNavigate } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { Button } from '../../components';
import { useOpenConversation } from './api';

/**
 * "Message" on an appointment or a doctor's page: opens (or finds) the conversation with that
 * doctor, for `patient` when acting for someone, and goes there.
 */
export function MessageDoctorButton({
  doctorId,
  patientId,
  label = 'Message',
  context,
  size = 'small',
}: {
  doctorId: string;
  patientId?: string | null;
  label?: string;
  /** Said to screen readers after the label: " Dr Lee about 12 March". */
  context?: string;
  size?: 'small' | 'normal';
}) {
  const navigate = useNavigate();
  const open = useOpenConversation();
  const problem = open.error
    ? isApiError(open.error, 'no_care_relationship')
      ? 'You can message this doctor once you have an appointment with them.'
      : isApiError(open.error)
        ? open.error.message
        : 'Could not open the conversation. Try again.'
    : null;
  return (
    <>
      <Button
        variant="secondary"
        size={size}
        loading={open.isPending}
        onClick={() =>
          open.mutate(
            { doctor: doctorId, ...(patientId ? { patient: patientId } : {}) },
            { onSuccess: (conversation) => navigate(`/messages/${conversation.id}`) },
          )
        }
      >
        {label}
        {context && <span className="sr-only"> {context}</span>}
      </Button>
      {problem && (
        <span className="field__error small" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}
