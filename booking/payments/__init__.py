"""Payments (DESIGN §7): bills for bookings and staff charges, a gateway interface with the
dev gateway (the embedded default) and Stripe, webhooks, refunds and receipts."""
