-- AlterTable: whether the password must be changed at the next sign-in (expirePassword), kept across lockout.
ALTER TABLE "User" ADD COLUMN "passwordExpired" BOOLEAN NOT NULL DEFAULT false;
UPDATE "User" SET "passwordExpired" = true WHERE status = 'PASSWORD_EXPIRED';
