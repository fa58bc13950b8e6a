-- CreateTable
CREATE TABLE "CounterDelta" (
    "id" BIGSERIAL NOT NULL,
    "counter" TEXT NOT NULL,
    "parent" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "delta" BIGINT NOT NULL,

    CONSTRAINT "CounterDelta_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CounterDelta_counter_parent_value_idx" ON "CounterDelta"("counter", "parent", "value");

-- Counters kept by the database itself (store/counters.ts): every statement that inserts, updates
-- or deletes rows of a counted table appends, in its own transaction, one delta row per
-- (counter, parent, value) it changed. Triggers rather than calls in the rows modules, so that no
-- writer (a bulk import, a cascade, a rule written later) can forget them. Statement-level with
-- transition tables: a 100,000-row insert adds one row per key, not 100,000.
-- Arguments: the counter's name, then SQL expressions over the counted row for its parent and value.
CREATE FUNCTION "countDeltas"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent text := TG_ARGV[1];
  value text := TG_ARGV[2];
  changes text;
BEGIN
  changes := CASE TG_OP
    WHEN 'INSERT' THEN format('SELECT %s AS parent, %s AS value, 1 AS delta FROM new_rows', parent, value)
    WHEN 'DELETE' THEN format('SELECT %s AS parent, %s AS value, -1 AS delta FROM old_rows', parent, value)
    ELSE format('SELECT %1$s AS parent, %2$s AS value, 1 AS delta FROM new_rows
                 UNION ALL SELECT %1$s, %2$s, -1 FROM old_rows', parent, value)
  END;
  EXECUTE format('INSERT INTO "CounterDelta" (counter, parent, value, delta)
                  SELECT $1, parent, value, sum(delta) FROM (%s) changed
                  GROUP BY parent, value HAVING sum(delta) <> 0', changes)
    USING TG_ARGV[0];
  RETURN NULL;
END
$$;

-- Users per status.
CREATE TRIGGER "userStatusOnInsert" AFTER INSERT ON "User" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('user.status', '''''', 'status::text');
CREATE TRIGGER "userStatusOnUpdate" AFTER UPDATE ON "User" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('user.status', '''''', 'status::text');
CREATE TRIGGER "userStatusOnDelete" AFTER DELETE ON "User" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('user.status', '''''', 'status::text');

-- App users per app and status.
CREATE TRIGGER "appUserStatusOnInsert" AFTER INSERT ON "AppUser" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.status', '"appId"', 'status::text');
CREATE TRIGGER "appUserStatusOnUpdate" AFTER UPDATE ON "AppUser" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.status', '"appId"', 'status::text');
CREATE TRIGGER "appUserStatusOnDelete" AFTER DELETE ON "AppUser" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.status', '"appId"', 'status::text');

-- App users per app and sync state.
CREATE TRIGGER "appUserSyncStateOnInsert" AFTER INSERT ON "AppUser" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.syncState', '"appId"', '"syncState"::text');
CREATE TRIGGER "appUserSyncStateOnUpdate" AFTER UPDATE ON "AppUser" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.syncState', '"appId"', '"syncState"::text');
CREATE TRIGGER "appUserSyncStateOnDelete" AFTER DELETE ON "AppUser" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('appUser.syncState', '"appId"', '"syncState"::text');

-- Members per group.
CREATE TRIGGER "groupMembersOnInsert" AFTER INSERT ON "GroupMembership" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('group.members', '"groupId"', '''''');
CREATE TRIGGER "groupMembersOnUpdate" AFTER UPDATE ON "GroupMembership" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('group.members', '"groupId"', '''''');
CREATE TRIGGER "groupMembersOnDelete" AFTER DELETE ON "GroupMembership" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "countDeltas"('group.members', '"groupId"', '''''');

-- What exists already is counted once.
INSERT INTO "CounterDelta" (counter, parent, value, delta)
  SELECT 'user.status', '', status::text, count(*) FROM "User" GROUP BY status;
INSERT INTO "CounterDelta" (counter, parent, value, delta)
  SELECT 'appUser.status', "appId", status::text, count(*) FROM "AppUser" GROUP BY "appId", status;
INSERT INTO "CounterDelta" (counter, parent, value, delta)
  SELECT 'appUser.syncState', "appId", "syncState"::text, count(*) FROM "AppUser" GROUP BY "appId", "syncState";
INSERT INTO "CounterDelta" (counter, parent, value, delta)
  SELECT 'group.members', "groupId", '', count(*) FROM "GroupMembership" GROUP BY "groupId";
