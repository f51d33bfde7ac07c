import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { DoctorProfile, Language, LanguageCode, Specialty } from '../../api/types';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  EmptyState,
  ErrorAlert,
  ErrorState,
  fieldError,
  LoadingState,
  Page,
  Select,
  TextArea,
  TextInput,
} from '../../components';
import { photoProblem } from '../../lib/files';
import { parseMoneyInput } from '../../lib/money';
import {
  useDoctorProfile,
  useLanguages,
  useSaveDoctorProfile,
  useSpecialties,
  useUploadPhoto,
} from './api';

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'BRL', 'INR'];

export function DoctorProfilePage() {
  const profile = useDoctorProfile();
  const specialties = useSpecialties();
  const languages = useLanguages();
  const loading = profile.isPending || specialties.isPending || languages.isPending;
  const failed = profile.error ?? specialties.error ?? languages.error;
  return (
    <Page
      title="My public profile"
      description="What patients see when they search for a doctor and book with you."
    >
      {loading ? (
        <LoadingState label="Loading your profile…" />
      ) : failed || !profile.data ? (
        <ErrorState
          error={failed}
          onRetry={() => {
            void profile.refetch();
            void specialties.refetch();
            void languages.refetch();
          }}
        />
      ) : (
        <>
          <PhotoCard profile={profile.data} />
          <DoctorForm
            key={profile.data.id}
            profile={profile.data}
            specialties={specialties.data ?? []}
            languages={languages.data ?? []}
          />
        </>
      )}
    </Page>
  );
}

const FIELDS = ['specialties', 'bio', 'languages', 'fee_online', 'fee_in_person', 'license_number'];

function DoctorForm({
  profile,
  specialties,
  languages,
}: {
  profile: DoctorProfile;
  specialties: Specialty[];
  languages: Language[];
}) {
  const save = useSaveDoctorProfile();
  const [chosenSpecialties, setSpecialties] = useState<string[]>(profile.specialties ?? []);
  const [chosenLanguages, setLanguages] = useState<LanguageCode[]>(profile.languages ?? []);
  const [bio, setBio] = useState(profile.bio ?? '');
  const [license, setLicense] = useState(profile.license_number ?? '');
  const [currency, setCurrency] = useState(
    profile.fee_online?.currency ?? profile.fee_in_person?.currency ?? 'USD',
  );
  const [feeOnline, setFeeOnline] = useState(profile.fee_online?.amount ?? '');
  const [feeInPerson, setFeeInPerson] = useState(profile.fee_in_person?.amount ?? '');
  const [feeProblems, setFeeProblems] = useState<{ online?: string; inPerson?: string }>({});
  const [saved, setSaved] = useState(false);

  const touch = () => setSaved(false);
  const currencies = CURRENCIES.includes(currency) ? CURRENCIES : [currency, ...CURRENCIES];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const online = parseMoneyInput(feeOnline, currency);
    const inPerson = parseMoneyInput(feeInPerson, currency);
    const problems = {
      online: online.ok ? undefined : online.error,
      inPerson: inPerson.ok ? undefined : inPerson.error,
    };
    setFeeProblems(problems);
    if (!online.ok || !inPerson.ok) return;
    save.mutate(
      {
        specialties: chosenSpecialties,
        languages: chosenLanguages,
        bio: bio.trim(),
        license_number: license.trim(),
        fee_online: online.value,
        fee_in_person: inPerson.value,
      },
      { onSuccess: () => setSaved(true) },
    );
  };

  const error = save.error;
  const feeError = (key: string) =>
    fieldError(error, key) ??
    fieldError(error, `${key}.amount`) ??
    fieldError(error, `${key}.currency`);

  return (
    <form onSubmit={submit} className="stack">
      <Card title="About you">
        <TextArea
          label="Bio"
          hint="A few sentences about your experience and approach. Patients read this before booking."
          rows={5}
          maxLength={2000}
          value={bio}
          onChange={(e) => {
            touch();
            setBio(e.target.value);
          }}
          error={fieldError(error, 'bio')}
        />
        <TextInput
          label="License number"
          autoComplete="off"
          value={license}
          onChange={(e) => {
            touch();
            setLicense(e.target.value);
          }}
          error={fieldError(error, 'license_number')}
        />
      </Card>

      <Card title="Specialties">
        <ChoiceGroup
          legend="Specialties"
          items={specialties.map((s) => ({ value: s.slug, label: s.name }))}
          chosen={chosenSpecialties}
          onChange={(next) => {
            touch();
            setSpecialties(next);
          }}
          error={fieldError(error, 'specialties')}
          emptyText="No specialties are available yet."
        />
      </Card>

      <Card title="Languages">
        <ChoiceGroup
          legend="Languages you consult in"
          items={languages.map((l) => ({ value: l.code, label: l.name }))}
          chosen={chosenLanguages}
          onChange={(next) => {
            touch();
            setLanguages(next);
          }}
          error={fieldError(error, 'languages')}
          emptyText="No languages are available yet."
          filterLabel="Filter languages"
        />
      </Card>

      <Card
        title="Fees"
        description="Leave a fee empty if you don't offer that kind of consultation."
      >
        <div className="form-grid form-grid--3">
          <Select
            label="Currency"
            options={currencies.map((c) => ({ value: c, label: c }))}
            value={currency}
            onChange={(e) => {
              touch();
              setCurrency(e.target.value);
            }}
          />
          <TextInput
            label="Online consultation fee"
            inputMode="decimal"
            placeholder="0.00"
            suffix={currency}
            value={feeOnline}
            onChange={(e) => {
              touch();
              setFeeOnline(e.target.value);
            }}
            error={feeProblems.online ?? feeError('fee_online')}
          />
          <TextInput
            label="In-person consultation fee"
            inputMode="decimal"
            placeholder="0.00"
            suffix={currency}
            value={feeInPerson}
            onChange={(e) => {
              touch();
              setFeeInPerson(e.target.value);
            }}
            error={feeProblems.inPerson ?? feeError('fee_in_person')}
          />
        </div>
      </Card>

      <div className="stack-sm">
        {error && (
          <ErrorAlert error={error} title="Your profile was not saved" inlineFields={FIELDS} />
        )}
        {saved && <Alert tone="success">Your public profile has been saved.</Alert>}
        <div className="btn-row" style={{ marginTop: 0 }}>
          <Button type="submit" loading={save.isPending}>
            Save public profile
          </Button>
        </div>
      </div>
    </form>
  );
}

/** A multi-select as a group of checkboxes, with an optional filter for long lists. */
function ChoiceGroup<T extends string>({
  legend,
  items,
  chosen,
  onChange,
  error,
  emptyText,
  filterLabel,
}: {
  legend: string;
  items: { value: T; label: string }[];
  chosen: T[];
  onChange: (next: T[]) => void;
  error?: string;
  emptyText: string;
  filterLabel?: string;
}) {
  const [filter, setFilter] = useState('');
  const errorId = useId();
  const needle = filter.trim().toLowerCase();
  const visible = needle
    ? items.filter((i) => i.label.toLowerCase().includes(needle) || i.value === needle)
    : items;
  const chosenLabels = items.filter((i) => chosen.includes(i.value));
  if (items.length === 0) return <EmptyState title={emptyText} />;
  return (
    <fieldset aria-describedby={error ? errorId : undefined}>
      <legend className="sr-only">{legend}</legend>
      <p className="muted small" aria-live="polite">
        {chosenLabels.length === 0
          ? 'None selected.'
          : `Selected: ${chosenLabels.map((i) => i.label).join(', ')}`}
      </p>
      {filterLabel && items.length > 12 && (
        <TextInput
          label={filterLabel}
          type="search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          className="stack-sm"
        />
      )}
      <div
        className={items.length > 12 ? 'choice-list choice-list--scroll' : 'choice-list'}
        style={{
          marginTop: 'var(--space-3)',
          gridTemplateColumns: 'repeat(auto-fill, minmax(12rem, 1fr))',
        }}
      >
        {visible.map((item) => (
          <Checkbox
            key={item.value}
            compact
            label={item.label}
            checked={chosen.includes(item.value)}
            onChange={(e) =>
              onChange(
                e.target.checked
                  ? [...chosen, item.value]
                  : chosen.filter((value) => value !== item.value),
              )
            }
          />
        ))}
        {visible.length === 0 && <p className="muted">Nothing matches "{filter}".</p>}
      </div>
      {error && (
        <p className="field__error" id={errorId} style={{ marginTop: 'var(--space-2)' }}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

function PhotoCard({ profile }: { profile: DoctorProfile }) {
  const upload = useUploadPhoto();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const previewRef = useRef<string | null>(null);

  useEffect(
    () => () => {
      if (previewRef.current) URL.revokeObjectURL(previewRef.current);
    },
    [],
  );

  const clearChoice = () => {
    if (previewRef.current) URL.revokeObjectURL(previewRef.current);
    previewRef.current = null;
    setPreview(null);
    setFile(null);
  };

  const choose = (chosen: File | null) => {
    upload.reset();
    setDone(false);
    clearChoice();
    if (!chosen) {
      setProblem(null);
      return;
    }
    const issue = photoProblem(chosen);
    setProblem(issue);
    if (issue) return;
    const url = URL.createObjectURL(chosen);
    previewRef.current = url;
    setPreview(url);
    setFile(chosen);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) {
      setProblem('Choose a photo first.');
      return;
    }
    upload.mutate(file, {
      onSuccess: () => {
        clearChoice();
        setDone(true);
        if (inputRef.current) inputRef.current.value = '';
      },
    });
  };

  const shown = preview ?? profile.photo_url;
  return (
    <Card
      title="Photo"
      description="A clear, friendly head-and-shoulders photo helps patients recognise you."
    >
      <form onSubmit={submit}>
        <div className="row" style={{ alignItems: 'flex-start', gap: 'var(--space-5)' }}>
          {shown ? (
            <img
              className="photo"
              src={shown}
              alt={preview ? 'Preview of your new photo' : 'Your current photo'}
            />
          ) : (
            <div className="photo photo--placeholder">No photo yet</div>
          )}
          <div style={{ flex: '1 1 14rem' }}>
            <TextInput
              ref={inputRef}
              label="Choose a photo"
              type="file"
              accept="image/jpeg,image/png"
              hint="JPEG or PNG, up to 2 MB."
              onChange={(e) => choose(e.target.files?.[0] ?? null)}
              error={problem ?? fieldError(upload.error, 'photo')}
            />
            {upload.isError && !fieldError(upload.error, 'photo') && (
              <div style={{ marginTop: 'var(--space-3)' }}>
                <ErrorAlert error={upload.error} inlineFields={['photo']} />
              </div>
            )}
            {done && (
              <div style={{ marginTop: 'var(--space-3)' }}>
                <Alert tone="success">Your photo has been updated.</Alert>
              </div>
            )}
            <div className="btn-row" style={{ marginTop: 'var(--space-4)' }}>
              <Button type="submit" loading={upload.isPending}>
                Upload photo
              </Button>
            </div>
          </div>
        </div>
      </form>
    </Card>
  );
}
