// Putting a patient in the banner from any screen: the read is Rust's (audited,
// session-checked), and the banner changes only if the session is unchanged.
// A screen showing one patient's details opens that patient first, so the
// banner never names someone else.

import { commands } from "./bindings";
import { patientContext } from "./patient-context.svelte";
import { session } from "./session.svelte";

/** Opens patient `id` into the banner; false if it was refused or the session moved on. */
export async function openInBanner(id: number): Promise<boolean> {
  if (patientContext.patient?.id === id) return true;
  const asked = patientContext.ticket();
  const answer = await commands.openPatient(id);
  if (answer.status === "error") {
    session.noticeRefusal(answer.error);
    return false;
  }
  return patientContext.open(answer.data, asked);
}
