import { describe, expect, it } from 'vitest';
import {
  asPaymentStatus,
  billItems,
  billLineProblems,
  billTotal,
  cardDigits,
  cardPayload,
  cardProblems,
  formatBalances,
  formatCardNumber,
  formatCvc,
  formatExpiry,
  fromCents,
  hasBillProblems,
  holdCountdown,
  isCardPayable,
  isOpenStatus,
  luhnValid,
  outstandingBalances,
  PAYMENT_STATUS,
  paymentCardStatus,
  payPath,
  refundableRest,
  safeBack,
  sumMoney,
  TEST_CARDS,
  timeLeftText,
  toCents,
  viewerMayPay,
  wasPaid,
} from './format';

const usd = (amount: string) => ({ amount, currency: 'USD' });

describe('money', () => {
  it('converts between amounts and cents without floating point drift', () => {
    expect(toCents('35.00')).toBe(3500);
    expect(toCents('35.5')).toBe(3550);
    expect(toCents('0.07')).toBe(7);
    expect(toCents('12')).toBe(1200);
    expect(toCents('-1.00')).toBeNull();
    expect(toCents('abc')).toBeNull();
    expect(fromCents(3500)).toBe('35.00');
    expect(fromCents(7)).toBe('0.07');
    expect(fromCents(0)).toBe('0.00');
  });

  it('adds amounts exactly', () => {
    expect(sumMoney(['0.10', '0.20'], 'USD')).toEqual(usd('0.30'));
    expect(sumMoney(['40.00', '12.50', 'oops'], 'EUR')).toEqual({
      amount: '52.50',
      currency: 'EUR',
    });
  });

  it('refunds what is left, never below zero', () => {
    expect(refundableRest({ amount: usd('35.00'), amount_refunded: usd('10.00') })).toEqual(
      usd('25.00'),
    );
    expect(refundableRest({ amount: usd('35.00'), amount_refunded: usd('0.00') })).toEqual(
      usd('35.00'),
    );
    expect(refundableRest({ amount: usd('35.00'), amount_refunded: usd('40.00') })).toEqual(
      usd('0.00'),
    );
  });

  it('shows outstanding balances per currency, without zeros', () => {
    const outstanding = [usd('35.00'), { amount: '0.00', currency: 'EUR' }, usd('0')];
    expect(outstandingBalances(outstanding)).toEqual([usd('35.00')]);
    expect(formatBalances([])).toBe('');
    expect(formatBalances(outstanding)).toContain('35.00');
    const two = formatBalances([usd('35.00'), { amount: '12.00', currency: 'EUR' }]);
    expect(two).toMatch(/35\.00.* and .*12\.00/);
  });
});

describe('statuses', () => {
  it('labels every payment status', () => {
    expect(PAYMENT_STATUS.pending).toEqual({ label: 'Due', tone: 'warning' });
    expect(PAYMENT_STATUS.failed).toEqual({ label: 'Payment failed', tone: 'danger' });
    expect(PAYMENT_STATUS.paid).toEqual({ label: 'Paid', tone: 'success' });
    expect(PAYMENT_STATUS.partially_refunded.label).toBe('Partially refunded');
    expect(PAYMENT_STATUS.refunded.label).toBe('Refunded');
    expect(PAYMENT_STATUS.expired.label).toBe('Expired');
    expect(PAYMENT_STATUS.cancelled.label).toBe('Cancelled');
    expect(Object.keys(PAYMENT_STATUS)).toHaveLength(8);
  });

  it('reads a status from an untyped payload', () => {
    expect(asPaymentStatus('requires_action')).toBe('requires_action');
    expect(asPaymentStatus('settled')).toBeNull();
    expect(asPaymentStatus(3)).toBeNull();
  });

  it('knows which statuses are open and which were paid', () => {
    expect(['pending', 'requires_action', 'failed'].every((s) => isOpenStatus(s as never))).toBe(
      true,
    );
    expect(isOpenStatus('paid')).toBe(false);
    expect(isOpenStatus('expired')).toBe(false);
    expect(wasPaid('refunded')).toBe(true);
    expect(wasPaid('partially_refunded')).toBe(true);
    expect(wasPaid('pending')).toBe(false);
  });

  it('maps the chat card state and payload status to its badge', () => {
    expect(paymentCardStatus('open', 'pending').label).toBe('Due');
    expect(paymentCardStatus('open', 'requires_action').label).toBe('Due');
    expect(paymentCardStatus('completed', 'paid')).toEqual({ label: 'Paid', tone: 'success' });
    expect(paymentCardStatus('failed', 'failed')).toEqual({
      label: 'Payment failed',
      tone: 'danger',
    });
    expect(paymentCardStatus('expired', 'expired').label).toBe('Expired');
    expect(paymentCardStatus('cancelled', 'cancelled').label).toBe('Cancelled');
    // A refund keeps the state "completed": the payload's status wins.
    expect(paymentCardStatus('completed', 'refunded').label).toBe('Refunded');
    expect(paymentCardStatus('completed', 'partially_refunded').label).toBe('Partially refunded');
    // No state (older message): from the payload.
    expect(paymentCardStatus(undefined, 'paid').label).toBe('Paid');
    expect(paymentCardStatus(undefined, null).label).toBe('Due');
  });

  it('shows an unpaid card whose hold ran out as expired before the server says so', () => {
    expect(paymentCardStatus('open', 'pending', true)).toEqual({
      label: 'Expired',
      tone: 'neutral',
    });
    expect(paymentCardStatus('failed', 'failed', true).label).toBe('Expired');
    // Paid (or refunded) in time: the hold no longer matters.
    expect(paymentCardStatus('completed', 'paid', true).label).toBe('Paid');
    expect(paymentCardStatus('completed', 'refunded', true).label).toBe('Refunded');
  });

  it('lets the patient or who acts for them pay, not the staff who see the bill', () => {
    const bill = { can_pay: true, patient: 'maria' };
    expect(viewerMayPay(bill, { id: 'maria', staff: false })).toBe(true);
    expect(viewerMayPay(bill, { id: 'joao', staff: false, actingFor: 'maria' })).toBe(true);
    expect(viewerMayPay(bill, { id: 'dr-ana', staff: true })).toBe(false);
    expect(viewerMayPay(bill, { id: 'dr-ana', staff: true, actingFor: 'maria' })).toBe(true);
    expect(viewerMayPay({ can_pay: true, patient: 'dr-ana' }, { id: 'dr-ana', staff: true })).toBe(
      true,
    );
    expect(viewerMayPay({ ...bill, can_pay: false }, { id: 'maria', staff: false })).toBe(false);
  });

  it('offers Pay on open and declined cards only', () => {
    expect(isCardPayable('open', 'pending')).toBe(true);
    expect(isCardPayable('open', 'requires_action')).toBe(true);
    expect(isCardPayable('failed', 'failed')).toBe(true);
    expect(isCardPayable('open', null)).toBe(true);
    expect(isCardPayable('completed', 'paid')).toBe(false);
    expect(isCardPayable('completed', 'refunded')).toBe(false);
    expect(isCardPayable('expired', 'expired')).toBe(false);
    expect(isCardPayable('cancelled', 'cancelled')).toBe(false);
    // The payload says it is done even if the state lags behind.
    expect(isCardPayable('open', 'paid')).toBe(false);
  });
});

describe('hold countdown', () => {
  const due = '2026-03-12T10:32:00Z';
  const at = (iso: string) => Date.parse(iso);

  it('says until when and how long is left', () => {
    expect(holdCountdown(due, at('2026-03-12T10:20:00Z'), 'UTC')).toEqual({
      text: 'Held for you until 10:32 — 12 min left',
      lapsed: false,
      msLeft: 12 * 60_000,
    });
    expect(holdCountdown(due, at('2026-03-12T10:20:30Z'), 'UTC')?.text).toBe(
      'Held for you until 10:32 — 12 min left',
    );
    expect(holdCountdown(due, at('2026-03-12T10:20:00Z'), 'UTC', 'Maria Lopez')?.text).toBe(
      'Held for Maria Lopez until 10:32 — 12 min left',
    );
  });

  it('shows the time in the viewer zone', () => {
    expect(holdCountdown(due, at('2026-03-12T10:00:00Z'), 'Europe/Lisbon')?.text).toContain(
      'until 10:32',
    );
    expect(holdCountdown(due, at('2026-03-12T10:00:00Z'), 'America/New_York')?.text).toContain(
      'until 06:32',
    );
  });

  it('ends at the due time', () => {
    expect(holdCountdown(due, at('2026-03-12T10:32:00Z'), 'UTC')).toEqual({
      text: 'The hold ended at 10:32',
      lapsed: true,
      msLeft: 0,
    });
    expect(holdCountdown(null, Date.now(), 'UTC')).toBeNull();
    expect(holdCountdown('not a date', Date.now(), 'UTC')).toBeNull();
  });

  it('words the time left', () => {
    expect(timeLeftText(20_000)).toBe('less than a minute left');
    expect(timeLeftText(60_000)).toBe('1 min left');
    expect(timeLeftText(61_000)).toBe('2 min left');
    expect(timeLeftText(60 * 60_000)).toBe('1 h left');
    expect(timeLeftText(65 * 60_000)).toBe('1 h 5 min left');
  });
});

describe('links', () => {
  it('builds the checkout path with a readable back link', () => {
    expect(payPath('p1')).toBe('/pay/p1');
    expect(payPath('p1', '/messages/c-9')).toBe('/pay/p1?back=/messages/c-9');
    expect(payPath('p1', '/payments')).toBe('/pay/p1?back=/payments');
    expect(new URL(payPath('p1', '/a b?x=1&y'), 'https://x.test').searchParams.get('back')).toBe(
      '/a b?x=1&y',
    );
  });

  it('only goes back to same-site paths', () => {
    expect(safeBack('/messages/c-9')).toBe('/messages/c-9');
    expect(safeBack(null)).toBe('/payments');
    expect(safeBack('https://evil.test/')).toBe('/payments');
    expect(safeBack('//evil.test')).toBe('/payments');
  });
});

describe('card form', () => {
  const future = new Date(2026, 2, 12);

  it('normalises the card number', () => {
    expect(cardDigits('4242 4242-4242 4242')).toBe('4242424242424242');
    expect(formatCardNumber('4242424242424242')).toBe('4242 4242 4242 4242');
    expect(formatCardNumber('4242 42')).toBe('4242 42');
    expect(formatCardNumber('4242')).toBe('4242');
    expect(formatCardNumber('12345678901234567890123')).toBe('1234 5678 9012 3456 789');
    expect(formatCardNumber('')).toBe('');
  });

  it('normalises the expiry to MM/YY', () => {
    expect(formatExpiry('1')).toBe('1');
    expect(formatExpiry('12')).toBe('12');
    expect(formatExpiry('123')).toBe('12/3');
    expect(formatExpiry('1230')).toBe('12/30');
    expect(formatExpiry('12/30')).toBe('12/30');
    expect(formatExpiry('12 / 30')).toBe('12/30');
    expect(formatExpiry('4')).toBe('04');
    expect(formatExpiry('1/30')).toBe('01/30');
    expect(formatExpiry('12/2030')).toBe('12/30');
    expect(formatExpiry('12/')).toBe('12');
    expect(formatCvc('12a34 5')).toBe('1234');
  });

  it('checks the Luhn digit; every test card passes', () => {
    for (const card of TEST_CARDS) expect(luhnValid(cardDigits(card.number))).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('lists the three dev test cards', () => {
    expect(TEST_CARDS.map((c) => c.number)).toEqual([
      '4242 4242 4242 4242',
      '4000 0000 0000 0002',
      '4000 0025 0000 3155',
    ]);
  });

  it('finds what is wrong before sending', () => {
    const good = { card_number: '4242 4242 4242 4242', expiry: '12/30', cvc: '123', name: 'A B' };
    expect(cardProblems(good, future)).toEqual({});
    expect(cardProblems({ card_number: '', expiry: '', cvc: '', name: ' ' }, future)).toEqual({
      card_number: 'Enter the card number.',
      expiry: 'Enter the expiry date.',
      cvc: 'Enter the 3 or 4 digits on the back.',
      name: 'Enter the name on the card.',
    });
    expect(cardProblems({ ...good, card_number: '4242 4242 4242 4241' }, future).card_number).toBe(
      'Check the card number.',
    );
    expect(cardProblems({ ...good, expiry: '13/30' }, future).expiry).toMatch(/MM\/YY/);
    expect(cardProblems({ ...good, expiry: '02/26' }, future).expiry).toBe(
      'This card has expired.',
    );
    // The current month is still valid.
    expect(cardProblems({ ...good, expiry: '03/26' }, future)).toEqual({});
  });

  it('sends the digits only, trimmed', () => {
    expect(
      cardPayload({
        card_number: '4000 0000 0000 0002',
        expiry: ' 12/30 ',
        cvc: '123 ',
        name: ' Ana Silva ',
      }),
    ).toEqual({ card_number: '4000000000000002', expiry: '12/30', cvc: '123', name: 'Ana Silva' });
  });
});

describe('bill form', () => {
  it('needs a description and an amount above zero on every line', () => {
    const problems = billLineProblems([
      { description: 'Consultation', amount: '40' },
      { description: ' ', amount: '0' },
      { description: 'Lab', amount: '12.345' },
      { description: 'X', amount: '' },
    ]);
    expect(problems[0]).toEqual({});
    expect(problems[1]).toEqual({
      description: 'Describe what this line is for.',
      amount: 'The amount must be more than zero.',
    });
    expect(problems[2]?.amount).toMatch(/35\.50/);
    expect(problems[3]?.amount).toBe('Enter the amount.');
    expect(hasBillProblems(problems)).toBe(true);
    expect(hasBillProblems([{}, {}])).toBe(false);
  });

  it('sends two-decimal amounts and totals the lines', () => {
    const lines = [
      { description: ' Consultation ', amount: '40' },
      { description: 'Lab test', amount: '12,5' },
    ];
    expect(billItems(lines)).toEqual([
      { description: 'Consultation', amount: '40.00' },
      { description: 'Lab test', amount: '12.50' },
    ]);
    expect(billTotal(lines, 'GBP')).toEqual({ amount: '52.50', currency: 'GBP' });
    expect(billTotal([{ description: '', amount: 'x' }], 'USD')).toEqual(usd('0.00'));
  });
});
