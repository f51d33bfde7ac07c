import { ButtonLink, Page } from '../components';

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>We couldn't find that page. It may have moved, or the link may be mistyped.</p>
      <ButtonLink to="/">Go to home</ButtonLink>
    </Page>
  );
}
