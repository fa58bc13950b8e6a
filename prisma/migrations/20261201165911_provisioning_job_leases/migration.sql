-- AlterTable
ALTER TABLE "ProvisioningJob" ADD COLUMN     "leaseExpiresAt" TIMESTAMP(3),
ADD COLUMN     "leasedBy" TEXT;
