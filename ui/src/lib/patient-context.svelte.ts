// The one patient in context. Every patient screen reads the banner from here,
// and signing out or locking clears it so no patient data outlives a session.

export interface PatientInContext {
  /** Already formatted for display by lib/format.ts. */
  name: string;
  born: string;
  sex: string;
  nhsNumber: string;
  deceased: boolean;
}

class PatientContext {
  patient = $state<PatientInContext | null>(null);

  clear() {
    this.patient = null;
  }
}

export const patientContext = new PatientContext();
