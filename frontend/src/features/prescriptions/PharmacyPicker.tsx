import { useId, useState } from 'react';
import { Badge, ErrorState, Spinner, TextInput } from '../../components';
import { usePharmacies } from './api';
import type { Pharmacy } from './types';

export const CHANNEL_TEXT: Record<string, string> = {
  email:
    'Gets a secure download link by email (the email itself names no patient and no medicine).',
  fhir: "Receives the prescription electronically, straight into the pharmacy's system.",
};

export function pharmacyAddress(pharmacy: Pharmacy): string {
  return [pharmacy.address, [pharmacy.postal_code, pharmacy.city].filter(Boolean).join(' ')]
    .filter(Boolean)
    .join(', ');
}

/** One pharmacy's details (name, address, phone, hours). */
export function PharmacyDetails({ pharmacy }: { pharmacy: Pharmacy }) {
  return (
    <span className="rx-pharmacy">
      <strong className="rx-pharmacy__name">{pharmacy.name}</strong>
      <span className="rx-pharmacy__line">{pharmacyAddress(pharmacy)}</span>
      {(pharmacy.phone || pharmacy.opening_hours) && (
        <span className="rx-pharmacy__line muted">
          {[pharmacy.phone, pharmacy.opening_hours].filter(Boolean).join(' · ')}
        </span>
      )}
    </span>
  );
}

/**
 * The pharmacy directory: search by name and by city, then choose one (radio buttons, so
 * the arrow keys move through the results).
 */
export function PharmacyPicker({
  value,
  preferredId,
  onChange,
  legend = 'Pharmacies',
  error,
}: {
  value: string;
  preferredId?: string | null;
  onChange: (pharmacy: Pharmacy) => void;
  legend?: string;
  error?: string;
}) {
  const [query, setQuery] = useState('');
  const [city, setCity] = useState('');
  const pharmacies = usePharmacies(query, city);
  const name = useId();
  const errorId = useId();
  const results = pharmacies.data?.results ?? [];

  return (
    <div className="stack-sm">
      <div className="form-grid form-grid--2">
        <TextInput
          label="Search pharmacies"
          type="search"
          hint="Part of the pharmacy's name."
          autoComplete="off"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <TextInput
          label="City"
          type="search"
          autoComplete="address-level2"
          value={city}
          onChange={(event) => setCity(event.target.value)}
        />
      </div>
      <fieldset
        className="rx-pharmacy-results"
        aria-busy={pharmacies.isFetching || undefined}
        aria-describedby={error ? errorId : undefined}
      >
        <legend className="field__label">
          {legend}
          {pharmacies.isFetching && (
            <>
              {' '}
              <Spinner />
            </>
          )}
        </legend>
        {pharmacies.isError ? (
          <ErrorState
            error={pharmacies.error}
            title="We could not load the pharmacies"
            onRetry={() => void pharmacies.refetch()}
          />
        ) : pharmacies.isPending ? (
          <p className="muted" role="status">
            Loading pharmacies…
          </p>
        ) : results.length === 0 ? (
          <p className="muted" role="status">
            No pharmacy matches. Try another name or city.
          </p>
        ) : (
          <div className="choice-list rx-pharmacy-list">
            {results.map((pharmacy) => (
              <label key={pharmacy.id} className="checkbox">
                <input
                  type="radio"
                  name={name}
                  value={pharmacy.id}
                  checked={value === pharmacy.id}
                  onChange={() => onChange(pharmacy)}
                />
                <span className="checkbox__text">
                  <PharmacyDetails pharmacy={pharmacy} />
                  {pharmacy.id === preferredId && <Badge tone="info">Preferred</Badge>}
                </span>
              </label>
            ))}
          </div>
        )}
        {error && (
          <p className="field__error" id={errorId}>
            {error}
          </p>
        )}
      </fieldset>
    </div>
  );
}
