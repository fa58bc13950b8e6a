-- CreateEnum
CREATE TYPE "ProvisioningOperation" AS ENUM ('CREATE', 'LINK', 'UPDATE', 'DEACTIVATE', 'REACTIVATE', 'PASSWORD', 'IMPORT');

-- CreateEnum
CREATE TYPE "ProvisioningAttemptOutcome" AS ENUM ('SUCCEEDED', 'RETRY_SCHEDULED', 'FAILED');

-- AlterEnum
ALTER TYPE "ProvisioningJobType" ADD VALUE 'PASSWORD';

-- AlterTable
ALTER TABLE "App" ADD COLUMN     "provisioningPaused" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "provisioningRateLimitedUntil" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "ProvisioningJob" ADD COLUMN     "secret" TEXT;

-- CreateTable
CREATE TABLE "ProvisioningAttempt" (
    "id" BIGSERIAL NOT NULL,
    "appUserId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "operation" "ProvisioningOperation" NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "httpStatus" INTEGER,
    "durationMs" INTEGER NOT NULL,
    "outcome" "ProvisioningAttemptOutcome" NOT NULL,
    "detail" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProvisioningAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ProvisioningAttempt_appUserId_id_idx" ON "ProvisioningAttempt"("appUserId", "id");

-- CreateIndex
CREATE INDEX "ProvisioningJob_appId_state_idx" ON "ProvisioningJob"("appId", "state");

-- AddForeignKey
ALTER TABLE "ProvisioningAttempt" ADD CONSTRAINT "ProvisioningAttempt_appUserId_fkey" FOREIGN KEY ("appUserId") REFERENCES "AppUser"("id") ON DELETE CASCADE ON UPDATE CASCADE;
