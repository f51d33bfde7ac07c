import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import type { Profile } from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Card,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
  Select,
  TextInput,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import { useCurrentUser } from '../auth/session';
import { usePatientProfile } from '../profile/api';
import { useDoctorPatients } from '../schedule/api';
import { prescriptionKeys, useCreatePrescription, useSafetyCheck, useVocabulary } from './api';
import {
  buildPrescriptionBody,
  checkKeys,
  draftName,
  emptyDraft,
  hasMedicine,
  hasProblems,
  itemProblems,
  itemServerErrors,
  missingOverrides,
  onlyWaitingForCheck,
  overrideRequiredIds,
  signBlockers,
  type DraftProblems,
  type ItemDraft,
} from './format';
import { ItemEditor } from './ItemEditor';
import { isReauthError, ReauthDialog } from './ReauthDialog';
import { SafetyFindings } from './SafetyFindings';
import type { Vocabulary } from './types';
import './prescriptions.css';

/** /prescribe?patient=…&appointment=… — a doctor writes and signs a prescription. */
export function PrescribePage() {
  const [params] = useSearchParams();
  const patient = params.get('patient') ?? '';
  const appointment = params.get('appointment') ?? '';
  if (!patient) return <PatientChooser appointment={appointment} />;
  return (
    <PrescribeLoader
      key={`${patient}|${appointment}`}
      patient={patient}
      appointment={appointment}
    />
  );
}

// ------------------------------------------------------------------ choosing the patient

function PatientChooser({ appointment }: { appointment: string }) {
  const me = useCurrentUser();
  const [, setParams] = useSearchParams();
  const [search, setSearch] = useState('');
  const [patient, setPatient] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const patients = useDoctorPatients(me.doctor ?? '', search.trim());

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!patient) {
      setProblem('Choose a patient.');
      return;
    }
    setParams((p) => {
      const next = new URLSearchParams(p);
      next.set('patient', patient);
      if (appointment) next.set('appointment', appointment);
      return next;
    });
  };

  return (
    <Page
      title="Write a prescription"
      description="Choose the patient. You can prescribe during a consult with them, or up to 7 days after a completed appointment."
    >
      <Card title="Patient">
        <form onSubmit={submit} className="stack-sm rx-narrow" noValidate>
          <TextInput
            label="Search patients"
            type="search"
            hint="Patients you have cared for. Type part of a name."
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
          {patients.isError ? (
            <ErrorState error={patients.error} onRetry={() => void patients.refetch()} />
          ) : (
            <Select
              label="Patient"
              value={patient}
              onChange={(event) => {
                setPatient(event.target.value);
                setProblem(null);
              }}
              placeholder={
                patients.isPending
                  ? 'Loading patients…'
                  : (patients.data?.length ?? 0) === 0
                    ? 'No patients found'
                    : 'Choose a patient'
              }
              options={(patients.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
              error={problem ?? undefined}
            />
          )}
          <div className="btn-row">
            <Button type="submit">Continue</Button>
          </div>
        </form>
      </Card>
    </Page>
  );
}

// ------------------------------------------------------------------ the form

function PrescribeLoader({ patient, appointment }: { patient: string; appointment: string }) {
  const profile = usePatientProfile(patient);
  const vocabulary = useVocabulary();
  if (profile.isPending || vocabulary.isPending) {
    return (
      <Page title="Write a prescription">
        <LoadingState label="Loading the prescription form…" />
      </Page>
    );
  }
  if (profile.isError) {
    const gone =
      isApiError(profile.error) && (profile.error.status === 404 || profile.error.status === 403);
    return (
      <Page
        title="Write a prescription"
        heading={gone ? 'Patient not found' : 'Write a prescription'}
      >
        {gone ? (
          <p>You can prescribe only for patients you care for.</p>
        ) : (
          <ErrorState error={profile.error} onRetry={() => void profile.refetch()} />
        )}
        <div>
          <ButtonLink to="/prescriptions" variant="secondary">
            Back to prescriptions
          </ButtonLink>
        </div>
      </Page>
    );
  }
  if (vocabulary.isError) {
    return (
      <Page title="Write a prescription">
        <ErrorState
          error={vocabulary.error}
          title="We could not load the prescribing vocabulary"
          onRetry={() => void vocabulary.refetch()}
        />
      </Page>
    );
  }
  return (
    <PrescribeForm
      patient={patient}
      appointment={appointment}
      profile={profile.data}
      vocabulary={vocabulary.data}
    />
  );
}

function errorTitle(error: unknown): string {
  if (isApiError(error, 'override_required')) return 'A warning needs an override reason';
  if (isApiError(error, 'no_recent_consult')) return "You can't prescribe for this patient now";
  if (isApiError(error, 'doctors_only')) return 'Only doctors can prescribe';
  if (isApiError(error) && error.status === 400) return 'Check the prescription';
  return 'The prescription was not signed';
}

function PrescribeForm({
  patient,
  appointment,
  profile,
  vocabulary,
}: {
  patient: string;
  appointment: string;
  profile: Profile;
  vocabulary: Vocabulary;
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useCreatePrescription();
  const name = fullName(profile) || 'this patient';
  const limits = vocabulary.limits;

  const [items, setItems] = useState<ItemDraft[]>([]);
  const [editor, setEditor] = useState<ItemDraft>(emptyDraft);
  const [editingKey, setEditingKey] = useState<string | null>(null);
  const [editorChecked, setEditorChecked] = useState(false);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [flagged, setFlagged] = useState<Set<string>>(() => new Set());
  const [showBlockers, setShowBlockers] = useState(false);
  const [waitingToSign, setWaitingToSign] = useState(false);
  const [signing, setSigning] = useState(false);
  const [pageError, setPageError] = useState<unknown>(null);
  const blockersId = useId();

  const known = useMemo(
    () => ({
      frequencies: vocabulary.frequencies.map((f) => f.code),
      routes: vocabulary.routes.map((r) => r.code),
    }),
    [vocabulary],
  );

  const keys = checkKeys(items);
  const check = useSafetyCheck(patient, keys);
  const findings = check.current ? (check.data?.findings ?? []) : [];
  const checkFailed = check.isError && !check.isFetching;

  const editorProblems: DraftProblems = editorChecked ? itemProblems(editor, limits, known) : {};
  const blockers = signBlockers({
    items,
    limits,
    checkCurrent: check.current,
    checkFailed,
    findings,
    reasons,
    editor:
      editingKey !== null
        ? { name: draftName(editor) || 'the medication', editing: true }
        : hasMedicine(editor)
          ? { name: draftName(editor), editing: false }
          : null,
  });

  // "Sign prescription" pressed while the check was still running: go on once it has answered.
  if (waitingToSign && (check.current || checkFailed)) {
    setWaitingToSign(false);
    if (blockers.length === 0) {
      setSigning(true);
    } else {
      setShowBlockers(true);
      setFlagged(new Set(missingOverrides(findings, reasons)));
    }
  }

  const edited = () => {
    setPageError(null);
    create.reset();
  };

  const addItem = () => {
    setEditorChecked(true);
    if (hasProblems(itemProblems(editor, limits, known))) return;
    edited();
    if (editingKey) {
      setItems((list) => list.map((item) => (item.key === editingKey ? editor : item)));
    } else {
      setItems((list) => [...list, editor]);
    }
    setEditor(emptyDraft());
    setEditingKey(null);
    setEditorChecked(false);
  };

  const clearEditor = () => {
    setEditor(emptyDraft());
    setEditingKey(null);
    setEditorChecked(false);
  };

  const removeItem = (key: string) => {
    edited();
    setItems((list) => list.filter((item) => item.key !== key));
    if (editingKey === key) clearEditor();
  };

  const editItem = (item: ItemDraft) => {
    setEditor(item);
    setEditingKey(item.key);
    setEditorChecked(false);
  };

  const trySign = () => {
    edited();
    if (onlyWaitingForCheck(blockers)) {
      setWaitingToSign(true);
      setShowBlockers(false);
      return;
    }
    if (blockers.length > 0) {
      setShowBlockers(true);
      setFlagged(new Set(missingOverrides(findings, reasons)));
      return;
    }
    setShowBlockers(false);
    setSigning(true);
  };

  const confirm = (auth: Parameters<typeof buildPrescriptionBody>[0]['auth']) => {
    create.mutate(
      buildPrescriptionBody({
        patient,
        appointment: appointment || null,
        items,
        findings,
        reasons,
        auth,
      }),
      {
        onSuccess: (prescription) => {
          setSigning(false);
          navigate(`/prescriptions/${encodeURIComponent(prescription.id)}`, {
            state: { issued: true },
          });
        },
        onError: (error) => {
          if (isReauthError(error)) return; // shown in the dialog, at the field
          setSigning(false);
          setPageError(error);
          if (isApiError(error, 'override_required')) {
            setFlagged(new Set(overrideRequiredIds(error.fields)));
            // The server may know of findings this page has not seen yet.
            void queryClient.invalidateQueries({ queryKey: [...prescriptionKeys.all, 'check'] });
          }
        },
      },
    );
  };

  const allergies = profile.allergies ?? [];
  const medications = profile.medications ?? [];
  const serverFields = isApiError(pageError) ? pageError.fields : {};

  return (
    <Page
      title={`Prescription for ${name}`}
      heading={`Prescription for ${name}`}
      description={
        appointment
          ? 'Linked to this appointment. Check the medicines below before you sign.'
          : 'Linked to your latest consult with this patient. Check the medicines below before you sign.'
      }
    >
      <Card title="Patient">
        <dl className="details">
          <div>
            <dt>Name</dt>
            <dd>{name}</dd>
          </div>
          {profile.date_of_birth && (
            <div>
              <dt>Date of birth</dt>
              <dd>{formatDate(profile.date_of_birth)}</dd>
            </div>
          )}
          <div>
            <dt>Recorded allergies</dt>
            <dd>
              {allergies.length === 0 ? (
                'None recorded'
              ) : (
                <ul className="rx-plain-list">
                  {allergies.map((a, index) => (
                    <li key={`${a.substance}-${index}`}>
                      <strong>{a.substance}</strong>
                      {a.reaction ? ` (${a.reaction})` : ''}{' '}
                      <Badge tone={a.severity === 'severe' ? 'danger' : 'warning'}>
                        {a.severity}
                      </Badge>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
          <div>
            <dt>Medications on their profile</dt>
            <dd>
              {medications.length === 0 ? (
                'None recorded'
              ) : (
                <ul className="rx-plain-list">
                  {medications.map((m, index) => (
                    <li key={`${m.name}-${index}`}>
                      {[m.name, m.dose, m.frequency].filter(Boolean).join(', ')}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        </dl>
      </Card>

      <ItemEditor
        draft={editor}
        vocabulary={vocabulary}
        problems={editorProblems}
        editing={editingKey !== null}
        full={items.length >= limits.max_items}
        onChange={setEditor}
        onAdd={addItem}
        onClear={clearEditor}
      />

      <Card title={`Medications on this prescription (${items.length})`}>
        {items.length === 0 ? (
          <p className="muted">None yet. Add a medication above.</p>
        ) : (
          <ol className="item-list rx-draft-list">
            {items.map((item, index) => (
              <DraftRow
                key={item.key}
                item={item}
                vocabulary={vocabulary}
                serverErrors={itemServerErrors(serverFields, index)}
                editing={editingKey === item.key}
                canEdit={editingKey === null && !hasMedicine(editor)}
                onEdit={() => editItem(item)}
                onRemove={() => removeItem(item.key)}
              />
            ))}
          </ol>
        )}
      </Card>

      <SafetyFindings
        itemCount={items.length}
        result={check.data}
        current={check.current}
        checking={check.isFetching || (!check.current && !checkFailed)}
        error={check.error}
        onRetry={() => void check.refetch()}
        reasons={reasons}
        onReason={(id, reason) => {
          edited();
          setReasons((r) => ({ ...r, [id]: reason }));
        }}
        flagged={flagged}
      />

      <section className="card stack-sm rx-sign" aria-label="Sign">
        {pageError !== null && (
          <ErrorAlert
            error={pageError}
            title={errorTitle(pageError)}
            inlineFields={['items', 'findings', 'overrides']}
          >
            {isApiError(pageError, 'no_recent_consult') && (
              <p>
                You can prescribe for {name} during a consult with them, or up to 7 days after a
                completed appointment.
              </p>
            )}
          </ErrorAlert>
        )}
        {showBlockers && blockers.length > 0 && (
          <Alert tone="warning" title="Not ready to sign" id={blockersId}>
            <ul>
              {blockers.map((b) => (
                <li key={b.code}>{b.text}</li>
              ))}
            </ul>
          </Alert>
        )}
        {waitingToSign && (
          <p role="status" className="muted">
            Finishing the safety check…
          </p>
        )}
        <p className="muted small">
          Signing issues the prescription to {name} and posts it to your conversation with them.
        </p>
        <div className="btn-row">
          <Button
            onClick={trySign}
            loading={waitingToSign}
            aria-describedby={showBlockers && blockers.length > 0 ? blockersId : undefined}
          >
            Sign prescription
          </Button>
          <ButtonLink to="/prescriptions" variant="ghost">
            Cancel
          </ButtonLink>
        </div>
      </section>

      <ReauthDialog
        open={signing}
        busy={create.isPending}
        error={isReauthError(create.error) ? create.error : null}
        summary={
          <div className="stack-sm">
            <p>
              You are signing a prescription for <strong>{name}</strong>:
            </p>
            <ul className="rx-plain-list">
              {items.map((item) => (
                <li key={item.key}>
                  {[draftName(item), item.strength, item.form].filter(Boolean).join(' ')}
                </li>
              ))}
            </ul>
            {findings.some((f) => reasons[f.id]?.trim()) && (
              <p className="small">With your override reasons for the warnings shown.</p>
            )}
          </div>
        }
        onConfirm={confirm}
        onClose={() => {
          setSigning(false);
          create.reset();
        }}
      />
    </Page>
  );
}

function DraftRow({
  item,
  vocabulary,
  serverErrors,
  editing,
  canEdit,
  onEdit,
  onRemove,
}: {
  item: ItemDraft;
  vocabulary: Vocabulary;
  serverErrors: string[];
  editing: boolean;
  canEdit: boolean;
  onEdit: () => void;
  onRemove: () => void;
}) {
  const headingId = useId();
  const label = draftName(item);
  const frequency = vocabulary.frequencies.find((f) => f.code === item.frequency)?.label ?? '';
  const route = vocabulary.routes.find((r) => r.code === item.route)?.label ?? item.route;
  const days = Number(item.durationDays);
  return (
    <li aria-labelledby={headingId}>
      <div className="item-list__main stack-sm">
        <div className="row" style={{ gap: 'var(--space-2)' }}>
          <h3 id={headingId} className="item-list__title rx-draft-title">
            {[label, item.strength, item.form].filter(Boolean).join(' ')}
          </h3>
          {item.freeText && <Badge tone="warning">Not in catalog</Badge>}
          {item.medication?.controlled && (
            <Badge tone="warning">Schedule {item.medication.controlled}</Badge>
          )}
          {editing && <Badge tone="info">Being changed</Badge>}
        </div>
        <p className="item-list__meta">
          {[item.dose, route.toLowerCase(), frequency, `for ${days} ${days === 1 ? 'day' : 'days'}`]
            .filter(Boolean)
            .join(', ')}
          {' · '}
          {item.quantity} to dispense · {Number(item.refills || '0')}{' '}
          {Number(item.refills || '0') === 1 ? 'refill' : 'refills'}
          {item.substitutionAllowed ? '' : ' · no substitution'}
        </p>
        {item.instructions.trim() && <p className="small">{item.instructions.trim()}</p>}
        {item.freeText && (
          <p className="small rx-draft-warning">
            Not in the catalog: not checked for interactions.
          </p>
        )}
        {serverErrors.map((message) => (
          <p key={message} className="field__error">
            {message}
          </p>
        ))}
      </div>
      <div className="row" style={{ gap: 'var(--space-2)' }}>
        <Button variant="secondary" size="small" onClick={onEdit} disabled={!canEdit}>
          Edit<span className="sr-only"> {label}</span>
        </Button>
        <Button variant="danger-outline" size="small" onClick={onRemove}>
          Remove<span className="sr-only"> {label}</span>
        </Button>
      </div>
    </li>
  );
}
