-- A patient the PAS sends with an NHS number that fails its check is kept by
-- hospital number: the NHS number may now be absent (never without a hospital
-- number), and the number received is kept beside it to be shown and corrected.
ALTER TABLE patients ALTER COLUMN nhs_number DROP NOT NULL;
ALTER TABLE patients ADD COLUMN nhs_number_failing_check TEXT;
ALTER TABLE patients ADD CONSTRAINT patients_kept_by_some_number CHECK (nhs_number IS NOT NULL OR mrn IS NOT NULL);
ALTER TABLE patients ADD CONSTRAINT patients_one_nhs_number
    CHECK (nhs_number IS NULL OR nhs_number_failing_check IS NULL);
