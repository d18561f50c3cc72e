// The one patient in context. Every patient screen reads the banner from here,
// and signing out or locking clears it so no patient data outlives a session.

import type { PatientView } from "./bindings";
import { formatAge, formatDate, formatNhsNumber } from "./format";

export interface PatientInContext {
  id: number;
  /** Already formatted for display by lib/format.ts. */
  name: string;
  born: string;
  sex: string;
  /** `943 476 5919`, or null for a patient kept by hospital number. */
  nhsNumber: string | null;
  /** Why there is no valid NHS number, shown in the banner in its place. */
  nhsNumberFlag: string | null;
  /** `Died 01-Jan-2025`, or null while alive. */
  died: string | null;
}

/** The banner's view of a patient, in CUI formats. Age runs to the date of death. */
export function bannerFor(patient: PatientView, today: Date): PatientInContext {
  const ageAt = patient.deceased_date ? new Date(`${patient.deceased_date}T12:00:00`) : today;
  return {
    id: patient.id,
    name: patient.display_name,
    born: `${formatDate(patient.date_of_birth)} (${formatAge(patient.date_of_birth, ageAt)})`,
    sex: patient.sex,
    nhsNumber: patient.nhs_number ? formatNhsNumber(patient.nhs_number) : null,
    nhsNumberFlag: patient.nhs_number_flag,
    died: patient.deceased_date ? `Died ${formatDate(patient.deceased_date)}` : null,
  };
}

/** Proof of which session a request was made in; see `PatientContext.ticket`. */
export type ContextTicket = number;

export class PatientContext {
  patient = $state<PatientInContext | null>(null);
  /** Moves on at every clear, so an answer asked for before a clear is dropped. */
  private generation = 0;

  /** Take before asking Rust for a patient; pass to `open` with the answer. */
  ticket(): ContextTicket {
    return this.generation;
  }

  /** Whether an answer asked for with `ticket` still belongs on screen. */
  current(ticket: ContextTicket): boolean {
    return ticket === this.generation;
  }

  /** Puts the patient in the banner, unless the session changed while the answer was on its way. */
  open(patient: PatientView, ticket: ContextTicket): boolean {
    if (!this.current(ticket)) return false;
    this.patient = bannerFor(patient, new Date());
    return true;
  }

  clear() {
    this.generation += 1;
    this.patient = null;
  }
}

export const patientContext = new PatientContext();
