import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { EmailInput } from '../../api/types';

export function useResendConfirmation() {
  return useMutation({
    mutationFn: (email: string) =>
      api.post<void>('/api/auth/resend-confirmation/', { email } satisfies EmailInput),
  });
}
