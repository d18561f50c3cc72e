-- Nothing here: the shared server's 0004 adds the function that appends to the
-- audit chain there. The local file's writers are serialised by BEGIN
-- IMMEDIATE and its entries hashed by the workstation. Kept so both backends'
-- schema versions stay in step.
SELECT 1;
