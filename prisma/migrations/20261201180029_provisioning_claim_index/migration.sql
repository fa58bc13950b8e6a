-- CreateIndex
CREATE INDEX "ProvisioningJob_unfinished_idx" ON "ProvisioningJob"("runAfter", "id") WHERE (state IN ('QUEUED', 'RUNNING'));
