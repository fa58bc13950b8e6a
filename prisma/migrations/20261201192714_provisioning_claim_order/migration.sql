-- DropIndex
DROP INDEX "ProvisioningJob_state_runAfter_idx";

-- CreateIndex
CREATE INDEX "ProvisioningJob_state_runAfter_id_idx" ON "ProvisioningJob"("state", "runAfter", "id");
