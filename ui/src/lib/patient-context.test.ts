import { describe, expect, it } from "vitest";
import { PatientContext, bannerFor } from "./patient-context.svelte";

const patient = {
  id: 7,
  nhs_number: "9434765919",
  nhs_number_flag: null,
  display_name: "SMITH, John (Mr)",
  date_of_birth: "1945-07-14",
  sex: "Male",
  deceased_date: null,
  mrn: null,
  address: null,
  postcode: null,
  gp_practice_code: null,
  gp_practice_name: null,
};

describe("patient banner", () => {
  it("shows the CUI banner fields", () => {
    const banner = bannerFor(patient, new Date(2026, 10, 25));
    expect(banner).toEqual({
      id: 7,
      name: "SMITH, John (Mr)",
      born: "14-Jul-1945 (81y)",
      sex: "Male",
      nhsNumber: "943 476 5919",
      nhsNumberFlag: null,
      died: null,
    });
  });
  it("puts the warning where the number would be for a patient kept by hospital number", () => {
    const flag = "No valid NHS number (received 9990000108, which fails the check): hospital no. RXX55";
    const banner = bannerFor({ ...patient, nhs_number: null, nhs_number_flag: flag }, new Date(2026, 10, 25));
    expect(banner.nhsNumber).toBeNull();
    expect(banner.nhsNumberFlag).toBe(flag);
  });
  it("marks a deceased patient and counts age to the date of death", () => {
    const banner = bannerFor({ ...patient, deceased_date: "2015-07-13" }, new Date(2026, 10, 25));
    expect(banner.died).toBe("Died 13-Jul-2015");
    expect(banner.born).toBe("14-Jul-1945 (69y)");
  });
});

describe("patient context", () => {
  it("drops an answer asked for before the session changed", () => {
    const context = new PatientContext();
    const asked = context.ticket();
    context.clear(); // a lock, a sign-out or another user's card while the answer was on its way
    expect(context.open(patient, asked)).toBe(false);
    expect(context.patient).toBeNull();
  });
  it("opens an answer from the same session", () => {
    const context = new PatientContext();
    expect(context.open(patient, context.ticket())).toBe(true);
    expect(context.patient?.name).toBe("SMITH, John (Mr)");
  });
});
