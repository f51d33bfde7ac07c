import { useId, useState, type KeyboardEvent } from 'react';
import { Badge, Spinner } from '../../components';
import { errorMessage } from '../../components/Alert';
import { MIN_SEARCH_LENGTH, useMedicationSearch } from './api';
import type { CatalogMedication } from './types';

export const FREE_TEXT_OPTION = 'Not in catalog (free text)';

type Option = { kind: 'medication'; medication: CatalogMedication } | { kind: 'free-text' };

function details(medication: CatalogMedication): string {
  return [
    medication.strengths.join(', '),
    medication.forms.join(', '),
    medication.brand_names.length ? `brands: ${medication.brand_names.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * The catalog search, as an ARIA 1.2 combobox: a text input labelled "Medication" with a listbox
 * of matches (arrow keys move, Enter chooses, Escape closes). The last option is always
 * "Not in catalog (free text)".
 */
export function MedicationCombobox({
  selected,
  error,
  onSelect,
  onFreeText,
  onClear,
}: {
  selected: CatalogMedication | null;
  error?: string;
  onSelect: (medication: CatalogMedication) => void;
  /** Chosen "Not in catalog": what was typed becomes the name. */
  onFreeText: (typed: string) => void;
  /** Typing again after a choice drops it. */
  onClear: () => void;
}) {
  const id = useId();
  const inputId = `${id}-input`;
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const [text, setText] = useState(selected?.name ?? '');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const search = useMedicationSearch(selected ? '' : text);
  const typed = text.trim();
  const ready = typed.length >= MIN_SEARCH_LENGTH && !selected;

  // A medicine chosen (here, or loaded from outside for editing) shows its name. (The editor
  // remounts this box for a new item, so clearing needs no syncing.)
  const [lastSelected, setLastSelected] = useState(selected);
  if (selected !== lastSelected) {
    setLastSelected(selected);
    if (selected) setText(selected.name);
  }

  const results = ready && search.data ? search.data.results : [];
  const options: Option[] = [
    ...results.map((medication) => ({ kind: 'medication' as const, medication })),
    { kind: 'free-text' as const },
  ];
  const expanded = open && !selected && typed.length > 0;
  const optionId = (index: number) => `${id}-option-${index}`;
  const busy = ready && (search.isFetching || search.settling);

  const choose = (option: Option) => {
    setOpen(false);
    setActive(-1);
    if (option.kind === 'medication') {
      setText(option.medication.name);
      onSelect(option.medication);
    } else {
      onFreeText(typed);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!expanded) {
        setOpen(true);
        setActive(0);
      } else {
        setActive((i) => (i + 1) % options.length);
      }
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      if (!expanded) {
        setOpen(true);
        setActive(options.length - 1);
      } else {
        setActive((i) => (i <= 0 ? options.length - 1 : i - 1));
      }
    } else if (event.key === 'Enter') {
      if (expanded && active >= 0 && options[active]) {
        event.preventDefault();
        choose(options[active]);
      } else if (expanded) {
        event.preventDefault(); // never submit the form from the search box
      }
    } else if (event.key === 'Escape') {
      if (expanded) {
        event.preventDefault();
        event.stopPropagation(); // not the dialog's Escape
        setOpen(false);
        setActive(-1);
      }
    } else if (event.key === 'Home' && expanded) {
      event.preventDefault();
      setActive(0);
    } else if (event.key === 'End' && expanded) {
      event.preventDefault();
      setActive(options.length - 1);
    }
  };

  let statusText = '';
  if (expanded) {
    if (typed.length < MIN_SEARCH_LENGTH) statusText = 'Type at least 2 letters to search.';
    else if (busy && results.length === 0) statusText = 'Searching…';
    else if (search.isError) statusText = `The search failed: ${errorMessage(search.error)}`;
    else if (results.length === 0) statusText = 'No medication in the catalog matches.';
    else statusText = `${results.length} ${results.length === 1 ? 'match' : 'matches'}.`;
  }

  return (
    <div className="field rx-combobox">
      <label className="field__label" htmlFor={inputId}>
        Medication
      </label>
      <p className="field__hint" id={hintId}>
        Type a generic or brand name, then choose from the list.
      </p>
      <div className="rx-combobox__control">
        <input
          id={inputId}
          className="input"
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={[hintId, error ? errorId : ''].filter(Boolean).join(' ')}
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setOpen(true);
            setActive(-1);
            if (selected) onClear();
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => {
            setOpen(false);
            setActive(-1);
          }}
          onKeyDown={onKeyDown}
        />
        {busy && (
          <span className="rx-combobox__spinner">
            <Spinner />
          </span>
        )}
        <div className="rx-combobox__popup" hidden={!expanded}>
          {expanded && statusText && results.length === 0 && (
            <p className="rx-combobox__status" aria-hidden="true">
              {statusText}
            </p>
          )}
          <ul id={listId} role="listbox" aria-label="Medications" className="rx-combobox__list">
            {expanded &&
              options.map((option, index) => (
                <li
                  key={option.kind === 'medication' ? option.medication.id : 'free-text'}
                  id={optionId(index)}
                  role="option"
                  aria-selected={index === active}
                  aria-label={
                    option.kind === 'medication' ? option.medication.name : FREE_TEXT_OPTION
                  }
                  className={[
                    'rx-combobox__option',
                    index === active ? 'rx-combobox__option--active' : '',
                    option.kind === 'free-text' ? 'rx-combobox__option--free' : '',
                  ].join(' ')}
                  // Keep the focus in the input while a pointer picks an option.
                  onMouseDown={(event) => event.preventDefault()}
                  onClick={() => choose(option)}
                >
                  {option.kind === 'medication' ? (
                    <>
                      <span className="rx-combobox__name">
                        {option.medication.name}
                        {option.medication.controlled && (
                          <>
                            {' '}
                            <Badge tone="warning">Schedule {option.medication.controlled}</Badge>
                          </>
                        )}
                      </span>
                      <span className="rx-combobox__details">{details(option.medication)}</span>
                    </>
                  ) : (
                    <>
                      <span className="rx-combobox__name">{FREE_TEXT_OPTION}</span>
                      <span className="rx-combobox__details">
                        {typed ? `Prescribe “${typed}” by name: not checked for interactions` : ''}
                      </span>
                    </>
                  )}
                </li>
              ))}
          </ul>
        </div>
      </div>
      <p className="sr-only" role="status" aria-live="polite">
        {statusText}
      </p>
      {error && (
        <p className="field__error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
