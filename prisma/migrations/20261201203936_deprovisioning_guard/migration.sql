-- AlterEnum
ALTER TYPE "AppUserSyncState" ADD VALUE 'HELD';

-- AlterEnum
ALTER TYPE "ProvisioningJobState" ADD VALUE 'HELD';

-- AlterTable
ALTER TABLE "App" ADD COLUMN     "guardMaxCount" INTEGER DEFAULT 500,
ADD COLUMN     "guardMaxPercent" INTEGER DEFAULT 20,
ADD COLUMN     "guardWindowMinutes" INTEGER NOT NULL DEFAULT 60;

-- CreateIndex
CREATE INDEX "ProvisioningJob_appId_type_created_idx" ON "ProvisioningJob"("appId", "type", "created");
