// Words for the SACT screens: states, signers and acts as a clinician reads them.

import type { CycleView, SignerView } from "./bindings";
import { formatDateTime } from "./format";

/** `prescribed` → `Prescribed`. */
export function stateLabel(state: string): string {
  return state.charAt(0).toUpperCase() + state.slice(1);
}

/** `Verified by PHARMACY, Percy (Mr), GPhC 2000002, Mon 30-Nov-2026 14:05`. */
export function signedLine(act: SignerView): string {
  const what = act.act.replace(/ v\d+$/, "");
  const registration = act.registration ? `, ${act.registration}` : "";
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} by ${act.name}${registration}, ${formatDateTime(new Date(act.signed_at))}`;
}

/** One line of doses: `rituximab 675 mg · doxorubicin 90 mg …`. */
export function doseLine(cycle: CycleView): string {
  return cycle.drugs.map((d) => `${d.drug} ${d.dose} ${d.unit}`).join(" · ");
}

/**
 * The acts on a cycle in a few lines: each prescribing, verification, release
 * and other act in full, and the administrations summed up by who gave and
 * who witnessed them (each is still signed and listed on the print).
 */
export function signerSummary(acts: SignerView[]): string[] {
  const given = acts.filter((a) => a.act.startsWith("given "));
  const witnessed = acts.filter((a) => a.act.startsWith("witnessed "));
  const lines = acts.filter((a) => !given.includes(a) && !witnessed.includes(a)).map(signedLine);
  if (given.length > 0) {
    const names = (list: SignerView[]) => [...new Set(list.map((a) => a.name))].join(", ");
    lines.push(`Given (${given.length}) by ${names(given)}, witnessed by ${names(witnessed)}`);
  }
  return lines;
}
