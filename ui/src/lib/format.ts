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

/**
 * Reads a date as clinicians type it: `14-Jul-1945`, `14 Jul 1945`, `14/07/1945`
 * (day first, never the US order) or `1945-07-14`. Returns the ISO date, or
 * null when the text is not a real calendar date.
 */
export function parseDate(text: string): string | null {
  const trimmed = text.trim();
  let day: number, month: number, year: number;
  let match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trimmed);
  if (match) {
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})[-\s]([A-Za-z]{3})[-\s](\d{4})$/.exec(trimmed))) {
    const index = MONTHS.findIndex((m) => m.toLowerCase() === match![2]!.toLowerCase());
    if (index < 0) return null;
    [day, month, year] = [Number(match[1]), index + 1, Number(match[3])];
  } else if ((match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(trimmed))) {
    [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    return null;
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? `${year}-${pad2(month)}-${pad2(day)}` : null;
}

/** A registered GP practice: `Riverside Surgery (Y01234)`, its ODS code alone when no name is held. */
export function formatGpPractice(code: string | null | undefined, name: string | null | undefined): string {
  if (!code) return "Not recorded";
  return name ? `${name} (${code})` : code;
}
