import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router-dom';
import type { DoctorCard, Language } from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  LoadingState,
  Page,
  Select,
  TextInput,
} from '../../components';
import { todayInput } from '../../lib/dates';
import { formatMoney } from '../../lib/money';
import { formatSlotTime, viewerTimeZone, zoneLabel } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { MODE_LABEL } from '../booking/status';
import { useLanguages, useSpecialties } from '../doctor/api';
import { useDoctorSearch } from './api';
import {
  EMPTY_FILTERS,
  filterProblems,
  filtersToParams,
  hasLocation,
  PAGE_SIZE,
  parseFilters,
  roundCoordinate,
  toApiQuery,
  type DirectoryFilters,
  type Sort,
} from './filters';

const SORT_LABELS: Record<Sort, string> = {
  next_available: 'Next available',
  fee: 'Lowest fee',
  rating: 'Highest rated',
  distance: 'Nearest',
};

export function DoctorSearchPage() {
  const [params, setParams] = useSearchParams();
  const applied = parseFilters(params);
  const { current } = useActingFor();
  const search = useDoctorSearch(toApiQuery(applied));
  const zone = viewerTimeZone();

  const apply = (filters: DirectoryFilters) => setParams(filtersToParams(filters));

  return (
    <Page
      title="Find a doctor"
      description={
        current
          ? `Find a doctor for ${current.patient.first_name}, then choose a free time to book.`
          : 'Search by specialty, place, language or price, then choose a free time to book.'
      }
    >
      <SearchForm key={params.toString()} initial={applied} onSearch={apply} />
      <section aria-labelledby="results-heading" aria-busy={search.isFetching || undefined}>
        <div className="row" style={{ marginBottom: 'var(--space-3)' }}>
          <h2 id="results-heading" style={{ margin: 0 }}>
            {search.data ? resultsTitle(search.data.count) : 'Results'}
          </h2>
          <span className="spacer" />
          <p className="meta-line">Times are shown in your time zone, {zoneLabel(zone)}.</p>
        </div>
        {search.isPending ? (
          <LoadingState label="Searching doctors…" />
        ) : search.isError ? (
          <ErrorState error={search.error} onRetry={() => void search.refetch()} />
        ) : search.data.results.length === 0 ? (
          <EmptyState
            title="No doctors match these filters"
            action={
              <Button variant="secondary" onClick={() => apply(EMPTY_FILTERS)}>
                Clear filters
              </Button>
            }
          >
            Try a wider area, a later date, or another specialty.
          </EmptyState>
        ) : (
          <>
            <ul className="result-list">
              {search.data.results.map((doctor) => (
                <li key={doctor.id}>
                  <DoctorResult doctor={doctor} zone={zone} />
                </li>
              ))}
            </ul>
            <Pager
              offset={applied.offset}
              count={search.data.count}
              onPage={(offset) => apply({ ...applied, offset })}
            />
          </>
        )}
      </section>
    </Page>
  );
}

function resultsTitle(count: number): string {
  return count === 1 ? '1 doctor' : `${count} doctors`;
}

function Pager({
  offset,
  count,
  onPage,
}: {
  offset: number;
  count: number;
  onPage: (offset: number) => void;
}) {
  if (count <= PAGE_SIZE) return null;
  const page = Math.floor(offset / PAGE_SIZE) + 1;
  const pages = Math.ceil(count / PAGE_SIZE);
  return (
    <nav className="btn-row" aria-label="Result pages">
      <Button
        variant="secondary"
        disabled={offset === 0}
        onClick={() => onPage(Math.max(0, offset - PAGE_SIZE))}
      >
        Previous page
      </Button>
      <span className="muted">
        Page {page} of {pages}
      </span>
      <Button
        variant="secondary"
        disabled={offset + PAGE_SIZE >= count}
        onClick={() => onPage(offset + PAGE_SIZE)}
      >
        Next page
      </Button>
    </nav>
  );
}

type Geo = { state: 'idle' | 'locating' } | { state: 'error'; message: string };

function SearchForm({
  initial,
  onSearch,
}: {
  initial: DirectoryFilters;
  onSearch: (filters: DirectoryFilters) => void;
}) {
  const specialties = useSpecialties();
  const languages = useLanguages();
  const [form, setForm] = useState(initial);
  const [showProblems, setShowProblems] = useState(false);
  const [geo, setGeo] = useState<Geo>({ state: 'idle' });
  const problems = filterProblems(form);
  const set = <K extends keyof DirectoryFilters>(key: K, value: DirectoryFilters[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const problem = (key: keyof DirectoryFilters) => (showProblems ? problems[key] : undefined);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (Object.keys(problems).length > 0) {
      setShowProblems(true);
      return;
    }
    const located = hasLocation(form);
    onSearch({
      ...form,
      radius_km: located ? form.radius_km : '',
      sort: form.sort === 'distance' && !located ? 'next_available' : form.sort,
      offset: 0,
    });
  };

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setGeo({
        state: 'error',
        message: 'This browser cannot share your location. Enter it below.',
      });
      return;
    }
    setGeo({ state: 'locating' });
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setForm((f) => ({
          ...f,
          lat: roundCoordinate(position.coords.latitude),
          lng: roundCoordinate(position.coords.longitude),
          radius_km: f.radius_km || '25',
        }));
        setGeo({ state: 'idle' });
      },
      () =>
        setGeo({
          state: 'error',
          message: 'We could not get your location. You can type a latitude and longitude instead.',
        }),
      { timeout: 10_000, maximumAge: 600_000 },
    );
  };

  return (
    <Card title="Search" headingLevel={2}>
      <form onSubmit={submit} noValidate aria-label="Search doctors">
        <div className="form-grid form-grid--3">
          <TextInput
            label="Doctor's name"
            optional
            value={form.q}
            onChange={(e) => set('q', e.target.value)}
          />
          <Select
            label="Specialty"
            value={form.specialty}
            onChange={(e) => set('specialty', e.target.value)}
            placeholder="Any specialty"
            options={(specialties.data ?? []).map((s) => ({ value: s.slug, label: s.name }))}
          />
          <TextInput
            label="City"
            optional
            autoComplete="address-level2"
            value={form.city}
            onChange={(e) => set('city', e.target.value)}
          />
          <Select
            label="Language"
            value={form.language}
            onChange={(e) => set('language', e.target.value)}
            placeholder="Any language"
            options={(languages.data ?? []).map((l: Language) => ({
              value: l.code,
              label: l.name,
            }))}
          />
          <Select
            label="Consultation"
            value={form.mode}
            onChange={(e) => set('mode', e.target.value as DirectoryFilters['mode'])}
            placeholder="Online or in person"
            options={[
              { value: 'online', label: MODE_LABEL.online },
              { value: 'in_person', label: MODE_LABEL.in_person },
            ]}
          />
          <TextInput
            label="Maximum fee"
            optional
            inputMode="decimal"
            value={form.max_fee}
            onChange={(e) => set('max_fee', e.target.value)}
            error={problem('max_fee')}
            hint={form.mode ? `For ${MODE_LABEL[form.mode].toLowerCase()} visits.` : undefined}
          />
          <TextInput
            label="Available before"
            optional
            type="date"
            min={todayInput()}
            value={form.available_before}
            onChange={(e) => set('available_before', e.target.value)}
            hint="Has a free time before this date."
          />
          <Select
            label="Sort by"
            value={form.sort}
            onChange={(e) => set('sort', e.target.value as Sort)}
            options={(Object.keys(SORT_LABELS) as Sort[]).map((sort) => ({
              value: sort,
              label:
                sort === 'distance' && !hasLocation(form)
                  ? 'Nearest (set a location)'
                  : SORT_LABELS[sort],
              disabled: sort === 'distance' && !hasLocation(form),
            }))}
          />
        </div>

        <fieldset style={{ marginTop: 'var(--space-5)' }}>
          <legend>Near me</legend>
          <p className="field__hint">
            Share your location, or type coordinates. Your location is only used for this search.
          </p>
          <div className="row" style={{ marginTop: 'var(--space-2)' }}>
            <Button
              variant="secondary"
              size="small"
              onClick={locate}
              loading={geo.state === 'locating'}
            >
              Use my location
            </Button>
            {hasLocation(form) && (
              <Button
                variant="ghost"
                size="small"
                onClick={() => setForm((f) => ({ ...f, lat: '', lng: '', radius_km: '' }))}
              >
                Clear location
              </Button>
            )}
          </div>
          {geo.state === 'error' && (
            <div style={{ marginTop: 'var(--space-3)' }}>
              <Alert tone="info">{geo.message}</Alert>
            </div>
          )}
          <div className="form-grid form-grid--3" style={{ marginTop: 'var(--space-3)' }}>
            <TextInput
              label="Latitude"
              optional
              inputMode="decimal"
              value={form.lat}
              onChange={(e) => set('lat', e.target.value)}
              error={problem('lat')}
            />
            <TextInput
              label="Longitude"
              optional
              inputMode="decimal"
              value={form.lng}
              onChange={(e) => set('lng', e.target.value)}
              error={problem('lng')}
            />
            <TextInput
              label="Within"
              optional
              inputMode="decimal"
              suffix="km"
              placeholder="25"
              value={form.radius_km}
              onChange={(e) => set('radius_km', e.target.value)}
              error={problem('radius_km')}
            />
          </div>
        </fieldset>

        <div className="filters-actions">
          <Button type="submit">Search</Button>
          <Button
            variant="ghost"
            onClick={() => {
              setForm(EMPTY_FILTERS);
              onSearch(EMPTY_FILTERS);
            }}
          >
            Clear filters
          </Button>
        </div>
      </form>
    </Card>
  );
}

export function DoctorAvatar({ doctor }: { doctor: Pick<DoctorCard, 'name' | 'photo_url'> }) {
  if (doctor.photo_url) {
    return <img className="avatar--large" src={doctor.photo_url} alt="" />;
  }
  const letters = doctor.name
    .replace(/^Dr\.?\s+/i, '')
    .split(/\s+/)
    .map((part) => part.charAt(0))
    .slice(0, 2)
    .join('')
    .toUpperCase();
  return (
    <span className="avatar avatar--large" aria-hidden="true">
      {letters || '?'}
    </span>
  );
}

export function FeeList({ doctor }: { doctor: Pick<DoctorCard, 'fees'> }) {
  const fees = [
    doctor.fees.online && `Online ${formatMoney(doctor.fees.online)}`,
    doctor.fees.in_person && `In person ${formatMoney(doctor.fees.in_person)}`,
  ].filter(Boolean);
  return <>{fees.length > 0 ? fees.join(' · ') : 'Fee on request'}</>;
}

export function Rating({ rating }: { rating: DoctorCard['rating'] }) {
  if (!rating.average || rating.count === 0) return <span className="muted">No reviews yet</span>;
  const average = Number(rating.average).toFixed(1);
  return (
    <span>
      <span className="rating" aria-hidden="true">
        ★ {average}
      </span>
      <span className="sr-only">Rated {average} out of 5</span>{' '}
      <span className="muted">
        ({rating.count} {rating.count === 1 ? 'review' : 'reviews'})
      </span>
    </span>
  );
}

function DoctorResult({ doctor, zone }: { doctor: DoctorCard; zone: string }) {
  const next = doctor.next_available;
  const { search } = useLocation();
  const state = { search }; // "Back to search" keeps the filters
  return (
    <article className="card doctor-card" aria-labelledby={`doctor-${doctor.id}`}>
      <DoctorAvatar doctor={doctor} />
      <div className="stack-sm" style={{ minWidth: 0 }}>
        <h3 id={`doctor-${doctor.id}`}>
          <Link to={`/doctors/${doctor.id}`} state={state}>
            {doctor.name}
          </Link>
        </h3>
        <p className="meta-line">{doctor.specialties.map((s) => s.name).join(', ')}</p>
        <p className="meta-line">
          {doctor.center.name}, {doctor.center.city}
          {doctor.distance_km !== null && ` · ${doctor.distance_km.toFixed(1)} km away`}
        </p>
        <p className="meta-line">
          <FeeList doctor={doctor} />
        </p>
        <div className="row" style={{ gap: 'var(--space-2)' }}>
          {doctor.modes.map((mode) => (
            <Badge key={mode} tone="info">
              {MODE_LABEL[mode]}
            </Badge>
          ))}
        </div>
      </div>
      <div className="doctor-card__aside">
        <Rating rating={doctor.rating} />
        <p className="meta-line">
          {next ? (
            <>
              Next free: <strong>{formatSlotTime(next.start, zone)}</strong>
            </>
          ) : (
            'No free times soon'
          )}
        </p>
        <Link to={`/doctors/${doctor.id}`} state={state} className="btn btn--secondary btn--small">
          View profile<span className="sr-only"> of {doctor.name}</span>
        </Link>
      </div>
    </article>
  );
}
