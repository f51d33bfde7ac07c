import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useParams } from 'react-router-dom';
import { createQueryClient } from './api/queryClient';
import { CenterPage } from './features/admin/CenterPage';
import { StaffAcceptPage } from './features/admin/StaffAcceptPage';
import { ConfirmEmailPage } from './features/auth/ConfirmEmailPage';
import { ForgotPasswordPage } from './features/auth/ForgotPasswordPage';
import { LoginPage } from './features/auth/LoginPage';
import { RegisterPage } from './features/auth/RegisterPage';
import { useMe } from './features/auth/session';
import { ResetPasswordPage } from './features/auth/ResetPasswordPage';
import { DoctorProfilePage } from './features/doctor/DoctorProfilePage';
import { AcceptGrantPage } from './features/family/AcceptGrantPage';
import { FamilyPage } from './features/family/FamilyPage';
import { HomePage } from './features/home/HomePage';
import { NotFoundPage } from './features/NotFoundPage';
import { ProfilePage } from './features/profile/ProfilePage';
import { SecurityPage } from './features/security/SecurityPage';
import { AppLayout } from './layout/AppLayout';
import { PublicLayout } from './layout/PublicLayout';
import { RequireAuth, RequireRole } from './layout/RequireAuth';
import { LoadingState } from './components';
import { hasRole, isStaff } from './lib/roles';

// Booking and schedule pages load on first use (their own chunks).
const DoctorSearchPage = lazy(() =>
  import('./features/directory/DoctorSearchPage').then((m) => ({ default: m.DoctorSearchPage })),
);
const DoctorPage = lazy(() =>
  import('./features/directory/DoctorPage').then((m) => ({ default: m.DoctorPage })),
);
const AppointmentsPage = lazy(() =>
  import('./features/booking/AppointmentsPage').then((m) => ({ default: m.AppointmentsPage })),
);
const SchedulePage = lazy(() =>
  import('./features/schedule/SchedulePage').then((m) => ({ default: m.SchedulePage })),
);
const DoctorWeekPage = lazy(() =>
  import('./features/schedule/DoctorWeekPage').then((m) => ({ default: m.DoctorWeekPage })),
);

// Chat pages (their own chunk; the socket itself lives in the layout).
const InboxPage = lazy(() =>
  import('./features/chat/InboxPage').then((m) => ({ default: m.InboxPage })),
);
const ConversationPage = lazy(() =>
  import('./features/chat/ConversationPage').then((m) => ({ default: m.ConversationPage })),
);

// Bills and checkout (their own chunk; Stripe.js loads only when the Stripe gateway is used).
const PaymentsPage = lazy(() =>
  import('./features/payments/PaymentsPage').then((m) => ({ default: m.PaymentsPage })),
);
const CheckoutPage = lazy(() =>
  import('./features/payments/CheckoutPage').then((m) => ({ default: m.CheckoutPage })),
);

// Notifications: settings, the delivery log, staff follow-ups and the one-tap link landing page.
const NotificationSettingsPage = lazy(() =>
  import('./features/notifications/NotificationSettingsPage').then((m) => ({
    default: m.NotificationSettingsPage,
  })),
);
const DeliveryLogPage = lazy(() =>
  import('./features/notifications/DeliveryLogPage').then((m) => ({ default: m.DeliveryLogPage })),
);
const StaffAppointmentsPage = lazy(() =>
  import('./features/notifications/UnconfirmedAppointments').then((m) => ({
    default: m.StaffAppointmentsPage,
  })),
);
const LinkLandingPage = lazy(() =>
  import('./features/notifications/LinkLandingPage').then((m) => ({ default: m.LinkLandingPage })),
);

// Prescriptions: writing and signing, the list and one prescription, the pharmacy, verifying.
const PrescribePage = lazy(() =>
  import('./features/prescriptions/PrescribePage').then((m) => ({ default: m.PrescribePage })),
);
const PrescriptionsPage = lazy(() =>
  import('./features/prescriptions/PrescriptionsPage').then((m) => ({
    default: m.PrescriptionsPage,
  })),
);
const PrescriptionDetailPage = lazy(() =>
  import('./features/prescriptions/PrescriptionDetailPage').then((m) => ({
    default: m.PrescriptionDetailPage,
  })),
);
const PharmacySettingsPage = lazy(() =>
  import('./features/prescriptions/PharmacySettingsPage').then((m) => ({
    default: m.PharmacySettingsPage,
  })),
);
const VerifyPage = lazy(() =>
  import('./features/prescriptions/VerifyPage').then((m) => ({ default: m.VerifyPage })),
);
const PharmacyInboxPage = lazy(() =>
  import('./features/prescriptions/VerifyPage').then((m) => ({ default: m.PharmacyInboxPage })),
);

// The video consult (its own chunk: WebRTC, the device check and the chat beside the call).
const ConsultPage = lazy(() =>
  import('./features/consult/ConsultPage').then((m) => ({ default: m.ConsultPage })),
);

/** Old links (the offline-message email) point at /chat/<id>. */
function ChatRedirect() {
  const { id = '' } = useParams();
  return <Navigate to={id ? `/messages/${id}` : '/messages'} replace />;
}

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<LoadingState />}>{children}</Suspense>;
}

/** Patients see their appointments; clinic staff see the ones needing attention. */
function AppointmentsRoute() {
  const { data: me } = useMe();
  if (isStaff(me) && !hasRole(me, 'patient')) {
    return (
      <Lazy>
        <StaffAppointmentsPage />
      </Lazy>
    );
  }
  return (
    <RequireRole role="patient">
      <Lazy>
        <AppointmentsPage />
      </Lazy>
    </RequireRole>
  );
}

/** Providers and routes only. */
export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Routes>
          <Route element={<PublicLayout />}>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/confirm-email" element={<ConfirmEmailPage />} />
            <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route path="/staff/accept" element={<StaffAcceptPage />} />
            {/* Pharmacists check a printed prescription, or open what was sent to them. */}
            <Route
              path="/verify"
              element={
                <Lazy>
                  <VerifyPage />
                </Lazy>
              }
            />
            <Route
              path="/pharmacy/rx/:token"
              element={
                <Lazy>
                  <PharmacyInboxPage />
                </Lazy>
              }
            />
            {/* One-tap links from reminders: they work signed out. */}
            <Route
              path="/r/:token"
              element={
                <Lazy>
                  <LinkLandingPage />
                </Lazy>
              }
            />
          </Route>
          <Route
            element={
              <RequireAuth>
                <AppLayout />
              </RequireAuth>
            }
          >
            <Route index element={<HomePage />} />
            <Route path="/profile" element={<ProfilePage />} />
            <Route path="/security" element={<SecurityPage />} />
            <Route
              path="/family"
              element={
                <RequireRole role="patient">
                  <FamilyPage />
                </RequireRole>
              }
            />
            <Route path="/family/accept" element={<AcceptGrantPage />} />
            <Route
              path="/center"
              element={
                <RequireRole role="center_admin">
                  <CenterPage />
                </RequireRole>
              }
            />
            <Route
              path="/center/notifications"
              element={
                <RequireRole role="center_admin">
                  <Lazy>
                    <DeliveryLogPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/settings/notifications"
              element={
                <Lazy>
                  <NotificationSettingsPage />
                </Lazy>
              }
            />
            <Route
              path="/doctor-profile"
              element={
                <RequireRole role="doctor">
                  <DoctorProfilePage />
                </RequireRole>
              }
            />
            <Route
              path="/doctors"
              element={
                <Lazy>
                  <DoctorSearchPage />
                </Lazy>
              }
            />
            <Route
              path="/doctors/:id"
              element={
                <Lazy>
                  <DoctorPage />
                </Lazy>
              }
            />
            <Route path="/appointments" element={<AppointmentsRoute />} />
            <Route
              path="/schedule"
              element={
                <RequireRole role={['center_admin', 'doctor']}>
                  <Lazy>
                    <SchedulePage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/week"
              element={
                <RequireRole role={['doctor', 'center_admin']}>
                  <Lazy>
                    <DoctorWeekPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/messages"
              element={
                <Lazy>
                  <InboxPage />
                </Lazy>
              }
            />
            <Route
              path="/messages/:id"
              element={
                <Lazy>
                  <ConversationPage />
                </Lazy>
              }
            />
            <Route
              path="/payments"
              element={
                <RequireRole role={['patient', 'doctor', 'nurse', 'center_admin']}>
                  <Lazy>
                    <PaymentsPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/pay/:paymentId"
              element={
                <Lazy>
                  <CheckoutPage />
                </Lazy>
              }
            />
            <Route
              path="/prescribe"
              element={
                <RequireRole role="doctor">
                  <Lazy>
                    <PrescribePage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/prescriptions"
              element={
                <RequireRole role={['patient', 'doctor']}>
                  <Lazy>
                    <PrescriptionsPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/prescriptions/:id"
              element={
                <RequireRole role={['patient', 'doctor']}>
                  <Lazy>
                    <PrescriptionDetailPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/settings/pharmacy"
              element={
                <RequireRole role="patient">
                  <Lazy>
                    <PharmacySettingsPage />
                  </Lazy>
                </RequireRole>
              }
            />
            <Route
              path="/consult/:id"
              element={
                <Lazy>
                  <ConsultPage />
                </Lazy>
              }
            />
            <Route path="/chat/:id" element={<ChatRedirect />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
