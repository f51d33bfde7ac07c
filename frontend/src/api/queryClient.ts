import { QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './client';
import { queryKeys } from './keys';

function shouldRetry(failureCount: number, error: unknown): boolean {
  // 4xx answers are final; retry network blips and 5xx once.
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failureCount < 1;
}

export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        if (!(error instanceof ApiError)) return;
        if (error.status === 401) {
          // The session ended (expired, logged out in another tab): the route guard sends
          // the user to /login?next=… once `me` is null.
          client.setQueryData(queryKeys.me, null);
        } else if (error.code === 'mfa_setup_required') {
          void client.invalidateQueries({ queryKey: queryKeys.me });
        }
      },
    }),
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        refetchOnWindowFocus: false,
        staleTime: 30_000,
      },
      mutations: { retry: false },
    },
  });
  return client;
}
