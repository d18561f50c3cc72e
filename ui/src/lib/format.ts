// Display formats from the NHS Common User Interface (CUI) guidance. Every
// screen formats names, dates, times and NHS numbers through this module, and
// never through the user's regional settings.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `943 476 5919`: ten digits shown 3-3-4 with single spaces. */
export function formatNhsNumber(digits: string): string {
  const compact = digits.replace(/\s/g, "");
  if (!/^\d{10}$/.test(compact)) throw new Error("An NHS number has exactly ten digits");
  return `${compact.slice(0, 3)} ${compact.slice(3, 6)} ${compact.slice(6)}`;
}

/** `SMITH, John (Mr)`: family name in capitals, given name, then title. */
export function formatPersonName(family: string, given: string, title?: string | null): string {
  const name = `${family.toUpperCase()}, ${given}`;
  return title ? `${name} (${title})` : name;
}

/** `05-Jan-2009` from an ISO calendar date `2009-01-05`, read as written (no time zone shift). */
export function formatDate(isoDate: string | null | undefined): string {
  if (!isoDate) return "Not recorded";
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) throw new Error(`Not an ISO date: ${isoDate}`);
  const [, year, month, day] = match;
  return `${day}-${MONTHS[Number(month) - 1]}-${year}`;
}

/** `Tue 05-Jan-2009 09:43`: the CUI short date with weekday and 24-hour time, in local time. */
export function formatDateTime(moment: Date): string {
  const date = `${pad2(moment.getDate())}-${MONTHS[moment.getMonth()]}-${moment.getFullYear()}`;
  return `${WEEKDAYS[moment.getDay()]} ${date} ${pad2(moment.getHours())}:${pad2(moment.getMinutes())}`;
}

/** Whole years between a date of birth and today, as the banner shows them: `81y`. */
export function formatAge(isoDateOfBirth: string, today: Date): string {
  const [year, month, day] = isoDateOfBirth.split("-").map(Number) as [number, number, number];
  let years = today.getFullYear() - year;
  const beforeBirthday =
    today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day);
  if (beforeBirthday) years -= 1;
  return `${years}y`;
}
