import { describe, expect, it } from "vitest";
import {
  formatAge,
  formatDate,
  formatDateTime,
  formatGpPractice,
  formatNhsNumber,
  formatPersonName,
  parseDate,
} from "./format";

describe("NHS number", () => {
  it("is shown 3-3-4 with single spaces", () => {
    expect(formatNhsNumber("9434765919")).toBe("943 476 5919");
  });
  it("accepts a number that is already spaced", () => {
    expect(formatNhsNumber("943 476 5919")).toBe("943 476 5919");
  });
  it("refuses anything but ten digits", () => {
    expect(() => formatNhsNumber("943476591")).toThrow();
    expect(() => formatNhsNumber("94347659190")).toThrow();
    expect(() => formatNhsNumber("943-476-5919")).toThrow();
  });
});

describe("person name", () => {
  it("puts the family name in capitals, then given name and title", () => {
    expect(formatPersonName("Smith", "John", "Mr")).toBe("SMITH, John (Mr)");
  });
  it("keeps hyphenated family names whole", () => {
    expect(formatPersonName("Evans-West", "Jonathan", "Sir")).toBe("EVANS-WEST, Jonathan (Sir)");
  });
  it("leaves out the brackets when there is no title", () => {
    expect(formatPersonName("Smith", "John")).toBe("SMITH, John");
  });
});

describe("dates and times", () => {
  it("shows a date as DD-Mmm-YYYY", () => {
    expect(formatDate("2009-01-05")).toBe("05-Jan-2009");
    expect(formatDate("1945-07-14")).toBe("14-Jul-1945");
  });
  it("says Not recorded for a missing date, never a question mark", () => {
    expect(formatDate(null)).toBe("Not recorded");
  });
  it("shows a moment with weekday and 24-hour time", () => {
    expect(formatDateTime(new Date(2009, 0, 5, 9, 43, 22))).toBe("Mon 05-Jan-2009 09:43");
    expect(formatDateTime(new Date(2026, 10, 25, 0, 0))).toBe("Wed 25-Nov-2026 00:00");
  });
  it("counts age in whole years, changing on the birthday", () => {
    expect(formatAge("1945-07-14", new Date(2026, 6, 13))).toBe("80y");
    expect(formatAge("1945-07-14", new Date(2026, 6, 14))).toBe("81y");
  });
});

describe("typed dates", () => {
  it("reads the CUI format, day-first slashes and ISO", () => {
    expect(parseDate("14-Jul-1945")).toBe("1945-07-14");
    expect(parseDate("14 jul 1945")).toBe("1945-07-14");
    expect(parseDate("14/07/1945")).toBe("1945-07-14");
    expect(parseDate("1945-07-14")).toBe("1945-07-14");
  });
  it("reads slashes day first, never in the US order", () => {
    expect(parseDate("05/01/2009")).toBe("2009-01-05");
    expect(parseDate("01/13/2009")).toBeNull();
  });
  it("refuses dates that do not exist", () => {
    expect(parseDate("31-Feb-2000")).toBeNull();
    expect(parseDate("yesterday")).toBeNull();
  });
});

describe("GP practice", () => {
  it("shows the name with its ODS code, the code alone, or says none is recorded", () => {
    expect(formatGpPractice("Y01234", "Riverside Surgery")).toBe("Riverside Surgery (Y01234)");
    expect(formatGpPractice("Y01234", null)).toBe("Y01234");
    expect(formatGpPractice(null, null)).toBe("Not recorded");
  });
});
